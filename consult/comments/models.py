import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..config import LOCALES
from ..database import Base, LabelledEnumString, UTCDateTime, check_in, created_at, intpk
from ..labels import LabelledEnum

TARGET_TYPES = ("node", "amendment", "consultation")


class Alignment(LabelledEnum):
    """The position a comment takes on its target."""

    IN_FAVOUR = "in_favour", _l("In favour")
    AGAINST = "against", _l("Against")
    NEUTRAL = "neutral", _l("Neutral")


class CommentState(enum.StrEnum):
    """How a comment stands for its readers (not stored: from its columns)."""

    VISIBLE = "visible"
    HIDDEN = "hidden"
    DELETED = "deleted"

    @property
    def is_visible(self) -> bool:
        return self is CommentState.VISIBLE

    @property
    def is_hidden(self) -> bool:
        return self is CommentState.HIDDEN

    @property
    def is_deleted(self) -> bool:
        return self is CommentState.DELETED


ALIGNMENTS = tuple(Alignment)
# Replies nest this many levels below a top-level comment (depth 0); a reply to
# a comment at the deepest level becomes its sibling (see services.post_comment).
MAX_DEPTH = 3
MAX_BODY_LENGTH = 20_000
MAX_REASON_LENGTH = 1_000


class Comment(Base):
    """One comment of a thread on a target: a plan node (by its stable key, so
    the thread follows the item from version to version), an amendment or a
    consultation (by id). Comments are never removed: an author's deletion
    leaves a tombstone (the replies stay), moderators hide with a reason."""

    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint(check_in("target_type", TARGET_TYPES), name="target_type"),
        CheckConstraint(check_in("alignment", ALIGNMENTS), name="alignment"),
        CheckConstraint(check_in("language", LOCALES), name="language"),
        CheckConstraint(f"depth >= 0 AND depth <= {MAX_DEPTH}", name="depth"),
        CheckConstraint("flag_count >= 0", name="flag_count_not_negative"),
        CheckConstraint(
            "(parent_id IS NULL AND root_id IS NULL AND depth = 0)"
            " OR (parent_id IS NOT NULL AND root_id IS NOT NULL AND depth > 0)",
            name="thread_shape",
        ),
        CheckConstraint("(hidden_at IS NULL) = (hidden_reason IS NULL)", name="hidden_with_reason"),
        UniqueConstraint("author_id", "form_token"),
        # Who took part in a plan's discussion (the consultation dashboard).
        Index("ix_comments_plan_author", "plan_id", "author_id"),
        Index(
            "ix_comments_target",
            "target_type",
            "plan_id",
            "target_key",
            "parent_id",
            "created_at",
        ),
    )

    id: Mapped[intpk]
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), index=True
    )
    target_type: Mapped[str] = mapped_column(String(20))
    # A node's stable key, or the amendment's / consultation's id as text.
    target_key: Mapped[str] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    # The top-level comment of the thread (NULL for top-level comments), so a
    # page of threads is read with one query whatever their depth.
    root_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    depth: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(Text)  # Markdown source; "" once deleted
    alignment: Mapped[Alignment] = mapped_column(
        LabelledEnumString(Alignment, 10), default=Alignment.NEUTRAL
    )
    language: Mapped[str] = mapped_column(String(5), default="es")
    created_at: Mapped[created_at]
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    flag_count: Mapped[int] = mapped_column(Integer, default=0)
    # The one-time token of the form that posted it: the same form sent twice
    # (a double click, a retry after a network error) makes one comment.
    form_token: Mapped[str | None] = mapped_column(String(64))

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def state(self) -> CommentState:
        if self.is_deleted:
            return CommentState.DELETED
        return CommentState.HIDDEN if self.is_hidden else CommentState.VISIBLE


class CommentRevision(Base):
    """A comment's body before an edit (the edit history)."""

    __tablename__ = "comment_revisions"

    id: Mapped[intpk]
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    # When this body was replaced by the next one, and by whom.
    edited_at: Mapped[created_at]
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    editor: Mapped[User | None] = relationship()


class CommentFlag(Base):
    """A member reporting a comment to the moderators; one per member and comment."""

    __tablename__ = "comment_flags"
    __table_args__ = (UniqueConstraint("comment_id", "user_id"),)

    id: Mapped[intpk]
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created_at]
