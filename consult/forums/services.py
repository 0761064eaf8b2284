"""Forums: finding them, creating them, their settings and coalitions.

Every operation takes the acting user and checks what that user may do here
(the rules are in ``forums.permissions``), so the same rules hold for the web
pages, the CLI and the API. An actor of ``None`` is the system itself (the
CLI, the demo loader, jobs); web views always pass ``current_user``.
Memberships, working groups and invitations have their own modules.
"""

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from ..accounts import services as accounts
from ..audit.services import record
from ..config import LOCALES
from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from .groups import list_groups
from .memberships import add_member, membership_by_email
from .models import LINE_LENGTHS, SLUG_RE, Coalition, Forum, Membership, is_slug
from .permissions import (
    archived_refusal,
    can_manage,
    can_view,
    create_forum_refusal,
    membership_of,
    require,
    require_manage,
    require_manage_open,
    settings_refusal,
)

# Thin aliases, only because consult/votes and consult/amendments (changed by
# others now) still call them as ``forums.services.<name>``: remove once they
# import forums.permissions, forums.groups and forums.memberships.
_STILL_IMPORTED_FROM_HERE = (
    can_manage,
    list_groups,
    membership_by_email,
    membership_of,
    require_manage,
)


def get_forum_for(user, slug: str) -> Forum:
    """The forum if ``user`` may see it; the same 404 when it does not exist."""
    forum = db.session.scalar(select(Forum).where(Forum.slug == slug)) if is_slug(slug) else None
    if forum is None or not can_view(user, forum):
        raise NotFound()
    return forum


def forums_visible_to(user) -> list[Forum]:
    query = select(Forum).order_by(Forum.name)
    if not getattr(user, "is_admin", False):
        condition = Forum.is_public.is_(True)
        if getattr(user, "is_authenticated", False):
            mine = select(Membership.forum_id).where(Membership.user_id == user.id)
            condition = or_(condition, Forum.id.in_(mine))
        query = query.where(condition)
    return list(db.session.scalars(query))


# --- forums -----------------------------------------------------------------


def _check_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or len(slug) > 60:
        raise InvalidInput(
            _("The short name may only contain lower-case letters, digits and hyphens.")
        )
    return slug


def create_forum(
    actor,
    slug: str,
    name: str,
    *,
    description: str = "",
    default_locale: str = "es",
    is_public: bool = False,
) -> Forum:
    """A new forum. Only platform administrators (or the CLI, with no actor)."""
    require(create_forum_refusal(actor))
    slug = _check_slug(slug)
    name = accounts.clean_text(name)
    if not name:
        raise InvalidInput(_("Please give the forum a name."))
    if default_locale not in LOCALES:
        raise InvalidInput(_("Unknown language."))
    if db.session.scalar(select(Forum.id).where(Forum.slug == slug)):
        raise Conflict(_("A forum with this short name already exists."))
    forum = Forum(
        slug=slug,
        name=name[:200],
        description=accounts.clean_text(description),
        default_locale=default_locale,
        is_public=is_public,
    )
    db.session.add(forum)
    db.session.flush()
    record("forum.created", forum, actor=actor, forum=forum)
    if actor is not None:
        # Whoever creates a forum administers it, so it never starts without one.
        add_member(None, forum, actor, role="admin")
    return forum


def ensure_forum(slug: str, name: str) -> tuple[Forum, bool]:
    """The forum with this slug, created if missing (for the CLI; idempotent)."""
    forum = db.session.scalar(select(Forum).where(Forum.slug == _check_slug(slug)))
    if forum is not None:
        return forum, False
    return create_forum(None, slug, name), True


def update_forum(
    actor,
    forum: Forum,
    *,
    name: str,
    description: str,
    default_locale: str,
    is_public: bool,
    line_length: int | None = None,
) -> None:
    """Save the forum's settings; ``line_length`` None keeps the one it has."""
    require(settings_refusal(actor, forum))
    require(archived_refusal(forum))
    if line_length is not None and line_length not in LINE_LENGTHS:
        raise InvalidInput(_("Choose one of the line lengths offered."))
    name = accounts.clean_text(name)
    if not name:
        raise InvalidInput(_("Please give the forum a name."))
    if default_locale not in LOCALES:
        raise InvalidInput(_("Unknown language."))
    forum.name, forum.description = name[:200], accounts.clean_text(description)
    forum.default_locale, forum.is_public = default_locale, is_public
    if line_length is not None:
        forum.line_length = line_length
    record("forum.updated", forum, actor=actor, forum=forum)


# --- coalitions -------------------------------------------------------------


def list_coalitions(forum: Forum) -> list[Coalition]:
    return list(
        db.session.scalars(
            select(Coalition).where(Coalition.forum_id == forum.id).order_by(Coalition.name)
        )
    )


def get_coalition(forum: Forum, coalition_id) -> Coalition:
    coalition = db.session.get(Coalition, coalition_id) if isinstance(coalition_id, int) else None
    if coalition is None or coalition.forum_id != forum.id:
        raise NotFound()
    return coalition


def find_coalition(forum: Forum, name: str) -> Coalition | None:
    return db.session.scalar(
        select(Coalition).where(
            Coalition.forum_id == forum.id, func.lower(Coalition.name) == name.strip().lower()
        )
    )


def save_coalition(
    actor, forum: Forum, name: str, country: str | None, coalition: Coalition | None = None
) -> Coalition:
    require_manage_open(actor, forum)
    name = accounts.clean_text(name)[:200]
    if not name:
        raise InvalidInput(_("Please give the coalition a name."))
    same_name = find_coalition(forum, name)
    if same_name is not None and same_name is not coalition:
        raise Conflict(_("This forum already has a coalition with this name."))
    if coalition is None:
        coalition = Coalition(forum_id=forum.id, name=name, country=country or None)
        db.session.add(coalition)
        db.session.flush()
        record("coalition.created", coalition, actor=actor, forum=forum, name=name)
    else:
        coalition.name, coalition.country = name, country or None
        record("coalition.updated", coalition, actor=actor, forum=forum, name=name)
    return coalition
