"""CSV import of members: each row in its own savepoint, so a bad row never
aborts the good ones, and every row gets a line in the report."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, IntegrityError

from ..accounts import services as accounts
from ..config import LOCALES
from ..errors import InvalidInput, ServiceError
from ..extensions import db
from ..i18n import country_choices
from ..uploads import ImportReport, RowResult, decode_text, read_csv
from . import services
from .groups import list_groups
from .invitations import invite
from .models import Forum, WorkingGroup
from .permissions import membership_of, require_manage_open

COLUMNS = ("name", "email", "coalition", "country", "language", "groups")
REQUIRED = ("name", "email")
MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024

# Headers people write in the other two languages are understood too.
HEADER_ALIASES = {
    "nombre": "name",
    "nome": "name",
    "correo": "email",
    "correo electrónico": "email",
    "e-mail": "email",
    "mail": "email",
    "coalición": "coalition",
    "coalicion": "coalition",
    "coalizão": "coalition",
    "coalizao": "coalition",
    "país": "country",
    "pais": "country",
    "idioma": "language",
    "lengua": "language",
    "lang": "language",
    "grupos": "groups",
    "grupos de trabajo": "groups",
    "grupos de trabalho": "groups",
}


class RowError(Exception):
    pass


def _canonical_header(name: str) -> str:
    key = accounts.clean_text(name or "").lower()
    return HEADER_ALIASES.get(key, key)


def _resolve_country(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if len(value) == 2 and value.upper() in dict(country_choices("en")):
        return value.upper()
    folded = value.casefold()
    for locale in LOCALES:
        for code, name in country_choices(locale):
            if name.casefold() == folded:
                return code
    raise RowError(_("Unknown country “%(value)s”.", value=value))


def _row_groups(row: dict, groups: dict[str, WorkingGroup]) -> list[WorkingGroup]:
    wanted = []
    for label in filter(
        None, (part.strip() for part in (row.get("groups") or "").replace("|", ";").split(";"))
    ):
        group = groups.get(label.casefold())
        if group is None:
            raise RowError(_("Unknown working group “%(value)s”.", value=label))
        wanted.append(group)
    return wanted


def _import_row(
    actor, forum: Forum, row: dict, groups: dict[str, WorkingGroup], report: ImportReport
) -> str:
    name = accounts.clean_text(row.get("name"))
    raw_email = accounts.clean_text(row.get("email"))
    if not raw_email:
        raise RowError(_("The email address is missing."))
    try:
        email = validate_email(raw_email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise RowError(_("“%(value)s” is not a valid email address.", value=raw_email)) from None
    if not name:
        raise RowError(_("The name is missing."))
    if len(name) > 200:
        raise RowError(_("The name is too long (at most 200 characters)."))
    country = _resolve_country(row.get("country") or "")
    language = (row.get("language") or "").strip().lower()[:2] or forum.default_locale
    if language not in LOCALES:
        raise RowError(
            _("Unknown language “%(value)s” (use es, en or pt).", value=row.get("language"))
        )
    wanted_groups = _row_groups(row, groups)
    coalition = None
    if coalition_name := accounts.clean_text(row.get("coalition")):
        coalition = services.find_coalition(forum, coalition_name)
        if coalition is None:
            coalition = services.save_coalition(actor, forum, coalition_name, country)
            report.new_coalitions.append(coalition.name)
    user = accounts.find_user_by_email(email)
    if user is not None and membership_of(user, forum) is not None:
        raise RowError(_("%(email)s is already a member of this forum.", email=email))
    invite(
        actor,
        forum,
        email=email,
        display_name=name,
        coalition=coalition,
        country=country,
        locale=language,
        groups=wanted_groups,
    )
    return _("Invited.") if user is None else _("Existing account added to the forum.")


def import_members(actor, forum: Forum, data: bytes) -> ImportReport:
    """Import members from CSV bytes. The caller commits."""
    require_manage_open(actor, forum)
    report = ImportReport()
    if len(data) > MAX_BYTES:
        report.error = _("The file is too large (at most 2 MB).")
        return report
    try:
        table = read_csv(decode_text(data), max_rows=MAX_ROWS, header=_canonical_header)
    except InvalidInput as error:
        report.error = error.message
        return report
    headers = table.headers
    missing = [column for column in REQUIRED if column not in headers]
    if missing:
        report.error = _(
            "The file must have a header row with the columns %(columns)s; missing: %(missing)s.",
            columns=", ".join(COLUMNS),
            missing=", ".join(missing),
        )
        return report
    listed = [group for group, _count in list_groups(forum)]
    # Names win over slugs: group "Genero" is never mistaken for the slug of "Género".
    groups = {group.slug: group for group in listed}
    groups.update({group.name.casefold(): group for group in listed})
    seen: set[str] = set()
    for index, (line, row) in enumerate(table.rows):
        if index >= MAX_ROWS:
            report.error = _("Only the first %(count)d rows were read.", count=MAX_ROWS)
            break
        email_cell = accounts.clean_text(row.get("email"))[:254]
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        if email_cell.lower() in seen:
            report.rows.append(
                RowResult(
                    line, email_cell, False, _("This email address appears twice in the file.")
                )
            )
            continue
        savepoint = db.session.begin_nested()
        coalitions_before = len(report.new_coalitions)
        try:
            message = _import_row(actor, forum, row, groups, report)
        except (RowError, ServiceError, DataError, IntegrityError) as error:
            savepoint.rollback()
            del report.new_coalitions[coalitions_before:]
            reason = (
                str(error)
                if isinstance(error, RowError | ServiceError)
                else _(
                    "This row could not be saved; check the lengths and characters of its cells."
                )
            )
            report.rows.append(RowResult(line, email_cell, False, reason))
            continue
        savepoint.commit()
        seen.add(email_cell.lower())
        report.rows.append(RowResult(line, email_cell, True, message))
    return report
