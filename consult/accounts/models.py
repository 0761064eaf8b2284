from datetime import datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..config import LOCALES
from ..database import Base, UTCDateTime, check_in, created_at, intpk, str200
from ..labels import LabelledEnum


class Frequency(LabelledEnum):
    """How often a member is told by email: the account's preference, and each
    topic's (``notifications.preferences``)."""

    IMMEDIATELY = "immediately", _l("Immediately"), _l("Immediately, one email per event")
    DAILY = "daily", _l("Daily digest"), _l("Once a day, as a digest")
    WEEKLY = "weekly", _l("Weekly digest"), _l("Once a week, as a digest")
    NEVER = "never", _l("Never"), _l("Never (only in Consult)")


NOTIFICATION_PREFERENCES = tuple(member.value for member in Frequency)


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(check_in("locale", LOCALES), name="locale"),
        CheckConstraint(
            check_in("notification_preference", NOTIFICATION_PREFERENCES),
            name="notification_preference",
        ),
        CheckConstraint("digest_hour >= 0 AND digest_hour <= 23", name="digest_hour"),
    )

    id: Mapped[intpk]
    # Stored normalised (trimmed, lower case), so the unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # Read through ``display_name``: a deleted account's name is "Former member"
    # in the reader's language (the column then holds an empty string).
    stored_name: Mapped[str200] = mapped_column("display_name")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default="es")
    country: Mapped[str | None] = mapped_column(String(2))
    notification_preference: Mapped[str] = mapped_column(String(20), default="immediately")
    # When the member's next digest is due (daily/weekly), or a last digest of
    # what was waiting after a change of preference; NULL: none planned.
    next_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # The member's time zone (an IANA name); NULL: not chosen yet, dates are
    # shown in their forum's zone (see consult/timezones.py).
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The local hour (0-23, in ``timezone``) of their digest; NULL: the platform's.
    digest_hour: Mapped[int | None] = mapped_column(SmallInteger)
    # The secret of their personal calendar feed's address; NULL: none made yet.
    calendar_key: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[created_at]
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the member deleted their account (see accounts/lifecycle.py): the row
    # stays, without personal data, so their contributions keep an author.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Two-step sign-in (accounts/two_step.py): the TOTP secret (base32), set
    # while enrolling and kept once confirmed; when it was confirmed (NULL: off);
    # the last time step accepted, so a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    memberships = relationship("Membership", back_populates="user", lazy="raise_on_sql")

    # Set by the session loader: which server-side session this request runs in.
    session_token = None

    @hybrid_property
    def display_name(self) -> str:
        if self.deleted_at is not None:
            return gettext("Former member")
        return self.stored_name

    @display_name.inplace.setter
    def _display_name_setter(self, value: str) -> None:
        self.stored_name = value

    @display_name.inplace.expression
    @classmethod
    def _display_name_expression(cls):
        return cls.stored_name

    @property
    def has_two_step(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def get_id(self) -> str | None:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserSession(Base):
    """A signed-in browser. Flask's cookie only carries this row's token, so
    signing out, changing the password or deactivating an account ends the
    session on the server, not only in the browser."""

    __tablename__ = "user_sessions"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class AuthAttempt(Base):
    """Failed sign-ins and reset requests, keyed by the normalised email and the
    client they came from: the remote address, or ``device:<id>`` for a browser
    with a known-device cookie. Sign-in delays apply per (email, client), so a
    stranger slows only themselves; never per address alone, since a whole
    assembly may share one venue address."""

    __tablename__ = "auth_attempts"
    __table_args__ = (
        CheckConstraint(check_in("kind", ("sign_in_failure", "reset_request")), name="kind"),
        Index("ix_auth_attempts_kind_key_at", "kind", "key", "created_at"),
        Index("ix_auth_attempts_kind_client_at", "kind", "client", "created_at"),
    )

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(254))
    client: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[created_at]


class RecoveryCode(Base):
    """A single-use code that stands in for a two-step code (a lost phone).
    Only its SHA-256 is kept: the member saw the code once."""

    __tablename__ = "recovery_codes"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[created_at]
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PlatformSetting(Base):
    """A setting of the whole platform, changed by its administrators
    (``two_step_required``: facilitators and administrators must use two-step sign-in)."""

    __tablename__ = "platform_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
