from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..database import Base, UTCDateTime, check_in, created_at, intpk

SCOPES = ("read", "write")  # "write" includes "read"


class ApiToken(Base):
    """A personal access token of a member, for the API. Only its SHA-256 is
    kept: the token itself is shown once, when it is created."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(check_in("scope", SCOPES), name="scope"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so a member can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(10), default="read")
    created_at: Mapped[created_at]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def can_write(self) -> bool:
        return self.scope == "write"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RateWindow(Base):
    """Requests counted in one fixed window (a minute) for one client key: a
    token, a signed-in member, or the address of an anonymous client."""

    __tablename__ = "api_rate_windows"
    __table_args__ = (UniqueConstraint("key", "window_start"),)

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(80))
    # Seconds since the epoch at which the window began.
    window_start: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)
