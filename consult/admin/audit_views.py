"""The audit log of a forum, for its facilitators and administrators (and
platform administrators): a page and a CSV file of the same filtered rows."""

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import InvalidInput
from ..forums import permissions as forum_permissions
from ..forums import services as forums
from ..timezones import reader_zone
from . import audit_labels, audit_log, audit_targets
from .forms import AuditFilterForm

bp = Blueprint("audit_log", __name__)

LOG = "/forums/<slug>/manage/audit"


def _filters(forum):
    """The form read from the query string, and the filters it gives (None when
    a value is not valid: the page says which)."""
    form = AuditFilterForm(formdata=request.args)
    form.person.choices = [(0, _("Anyone"))] + [
        (person.id, person.display_name) for person in audit_log.actor_choices(current_user, forum)
    ]
    form.action.choices = [("", _("Any kind"))] + [
        (key, audit_labels.action_label(key)) for key in audit_log.action_choices(forum)
    ]
    if not form.validate():
        return form, None
    return form, audit_log.AuditFilters(
        actor_id=form.person.data or None,
        action=form.action.data or "",
        since=form.since.data,
        until=form.until.data,
    )


def _arguments(filters) -> dict:
    pairs = (
        ("person", filters.actor_id or ""),
        ("action", filters.action),
        ("since", filters.since.isoformat() if filters.since else ""),
        ("until", filters.until.isoformat() if filters.until else ""),
    )
    return {key: value for key, value in pairs if value}


def _page_arg() -> int:
    value = request.args.get("page", "1")
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        abort(400)
    return max(int(value), 1)


@bp.get(LOG)
@login_required
def page(slug):
    forum = forums.get_forum_for(current_user, slug)
    forum_permissions.require_manage(current_user, forum)
    number = _page_arg()
    form, filters = _filters(forum)
    if filters is None:
        return render_template("admin/audit_log.html", forum=forum, form=form, page=None), 400
    result = audit_log.events_page(current_user, forum, filters, reader_zone(), page=number)
    return render_template(
        "admin/audit_log.html",
        forum=forum,
        form=form,
        page=result,
        arguments=_arguments(filters),
        people=audit_log.actors_of(result.items),
        targets=audit_targets.targets(forum, result.items),
        action_label=audit_labels.action_label,
        object_label=audit_labels.object_label,
        max_export=audit_log.MAX_EXPORT_ROWS,
    )


@bp.get(LOG + ".csv")
@login_required
def export(slug):
    forum = forums.get_forum_for(current_user, slug)
    forum_permissions.require_manage(current_user, forum)
    _form, filters = _filters(forum)
    if filters is None:
        raise InvalidInput(" ".join(str(e) for errors in _form.errors.values() for e in errors))
    events = audit_log.events_for_export(current_user, forum, filters, reader_zone())
    # The byte order mark lets spreadsheets read the accents as UTF-8.
    body = "\ufeff" + audit_log.events_csv(events)
    response = Response(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{forum.slug}-audit-log.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
