"""A forum's time zone is its newest consultation's (one that names a zone
other than UTC): the queries ``consult/timezones.py`` asks, registered when the
app is made (``consult/app.py``)."""

from sqlalchemy import select

from ..extensions import db
from ..forums.models import Forum, Membership
from ..timezones import ForumZoneFinders
from .models import Consultation


def zone_of_forum(forum_id: int) -> str | None:
    return db.session.scalar(
        select(Consultation.timezone)
        .where(Consultation.forum_id == forum_id, Consultation.timezone != "UTC")
        .order_by(Consultation.created_at.desc(), Consultation.id.desc())
        .limit(1)
    )


def zone_of_forum_slug(slug: str) -> str | None:
    return db.session.scalar(
        select(Consultation.timezone)
        .join(Forum, Forum.id == Consultation.forum_id)
        .where(Forum.slug == slug, Consultation.timezone != "UTC")
        .order_by(Consultation.created_at.desc(), Consultation.id.desc())
        .limit(1)
    )


def zone_of_members_forums(user_id: int) -> str | None:
    """The zone of the newest consultation of any of the member's forums."""
    return db.session.scalar(
        select(Consultation.timezone)
        .join(Membership, Membership.forum_id == Consultation.forum_id)
        .where(Membership.user_id == user_id, Consultation.timezone != "UTC")
        .order_by(Consultation.created_at.desc(), Consultation.id.desc())
        .limit(1)
    )


FORUM_ZONES = ForumZoneFinders(
    by_forum_id=zone_of_forum,
    by_forum_slug=zone_of_forum_slug,
    by_member=zone_of_members_forums,
)
