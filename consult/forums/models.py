import re
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..config import LOCALES
from ..database import Base, LabelledEnumString, UTCDateTime, check_in, created_at, intpk, str200
from ..labels import LabelledEnum

# The short names of forums and working groups, as they appear in URLs.
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def is_slug(value) -> bool:
    """Shaped like a slug (checked before querying: PostgreSQL rejects NUL bytes)."""
    return isinstance(value, str) and len(value) <= 60 and SLUG_RE.match(value) is not None


class Role(LabelledEnum):
    """A member's role in a forum."""

    MEMBER = "member", _l("Member")
    FACILITATOR = "facilitator", _l("Facilitator")
    ADMIN = "admin", _l("Administrator")
    OBSERVER = "observer", _l("Observer")

    @property
    def manages(self) -> bool:
        """Facilitators and administrators run the forum."""
        return self in (Role.FACILITATOR, Role.ADMIN)


class GroupRole(LabelledEnum):
    """A member's role in a working group."""

    MEMBER = "member", _l("Member")
    FACILITATOR = "facilitator", _l("Facilitator")


ROLES = tuple(Role)
MANAGING_ROLES = (Role.FACILITATOR, Role.ADMIN)
GROUP_ROLES = tuple(GroupRole)


# Characters per numbered line that a forum may choose for its plans; the
# plan page sizes its text column for each (app.css, .ll-N).
LINE_LENGTHS = (60, 66, 72, 80, 90, 100)
DEFAULT_LINE_LENGTH = 80


class Forum(Base):
    """A network of coalitions that runs consultations (the tenant)."""

    __tablename__ = "forums"
    __table_args__ = (
        CheckConstraint(check_in("default_locale", LOCALES), name="default_locale"),
        CheckConstraint("line_length BETWEEN 40 AND 120", name="line_length"),
    )

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str200]
    description: Mapped[str] = mapped_column(Text, default="")
    default_locale: Mapped[str] = mapped_column(String(5), default="es")
    # Public forums can be read by anyone; private ones only by their members.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    # Characters per numbered line of its plans (consult/plans/layout.py).
    line_length: Mapped[int] = mapped_column(Integer, default=80, server_default="80")
    # Set when the forum is archived: read-only, still where it was (admin/forum_archiving.py).
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    coalitions: Mapped[list["Coalition"]] = relationship(
        back_populates="forum", order_by="Coalition.name", lazy="raise_on_sql"
    )
    working_groups: Mapped[list["WorkingGroup"]] = relationship(
        back_populates="forum", order_by="WorkingGroup.name", lazy="raise_on_sql"
    )


class Coalition(Base):
    """A member organisation of a forum, e.g. a national coalition."""

    __tablename__ = "coalitions"
    __table_args__ = (UniqueConstraint("forum_id", "name"),)

    id: Mapped[intpk]
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    name: Mapped[str200]
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[created_at]

    forum: Mapped[Forum] = relationship(back_populates="coalitions")


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("forum_id", "user_id"),
        CheckConstraint(check_in("role", ROLES), name="role"),
        CheckConstraint("vote_weight >= 0", name="vote_weight_not_negative"),
    )

    id: Mapped[intpk]
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(LabelledEnumString(Role, 20), default=Role.MEMBER)
    coalition_id: Mapped[int | None] = mapped_column(
        ForeignKey("coalitions.id", ondelete="SET NULL"), index=True
    )
    is_delegate: Mapped[bool] = mapped_column(Boolean, default=False)
    # Translators write the plan's text in the forum's other languages.
    is_translator: Mapped[bool] = mapped_column(Boolean, default=False)
    vote_weight: Mapped[Decimal] = mapped_column(Numeric(8, 3), default=Decimal(1))
    created_at: Mapped[created_at]

    forum: Mapped[Forum] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship(back_populates="memberships")
    coalition: Mapped[Coalition | None] = relationship()

    @property
    def can_manage(self) -> bool:
        return self.role in MANAGING_ROLES


class WorkingGroup(Base):
    """A thematic axis of a forum; sections of plans are assigned to groups."""

    __tablename__ = "working_groups"
    __table_args__ = (UniqueConstraint("forum_id", "slug"),)

    id: Mapped[intpk]
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(60))
    name: Mapped[str200]
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created_at]

    forum: Mapped[Forum] = relationship(back_populates="working_groups")


class WorkingGroupMember(Base):
    __tablename__ = "working_group_members"
    __table_args__ = (
        UniqueConstraint("working_group_id", "user_id"),
        CheckConstraint(check_in("role", GROUP_ROLES), name="role"),
    )

    id: Mapped[intpk]
    working_group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[GroupRole] = mapped_column(
        LabelledEnumString(GroupRole, 20), default=GroupRole.MEMBER
    )
    created_at: Mapped[created_at]

    working_group: Mapped[WorkingGroup] = relationship()
    user: Mapped[User] = relationship()

    @property
    def is_facilitator(self) -> bool:
        return self.role == GroupRole.FACILITATOR


class Invitation(Base):
    """An invitation to activate an account created by a facilitator (single
    invite or CSV import). The emailed link carries a signed, expiring token
    naming this row; once accepted or revoked the link does nothing."""

    __tablename__ = "invitations"

    id: Mapped[intpk]
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    forum: Mapped[Forum] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
