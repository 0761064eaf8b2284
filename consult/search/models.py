from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from ..config import LOCALES
from ..database import Base, UTCDateTime, check_in, intpk, utcnow
from . import schema

KINDS = ("node", "amendment", "comment")


class SearchDocument(Base):
    """One findable thing: an item of a plan's current version, an amendment or
    a shown comment, with what the search needs to filter it without joins.

    Kept up to date on write (see ``search.index``). On PostgreSQL
    ``search_vector`` holds the weighted ``tsvector`` (title A, body B) in the
    text-search configuration of the document's language; on SQLite it stays
    empty and the FTS5 table ``search_fts`` (external content: this table)
    indexes ``title`` and ``body`` through triggers (see ``search.schema``).
    """

    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        CheckConstraint(check_in("kind", KINDS), name="kind"),
        CheckConstraint(check_in("language", LOCALES), name="language"),
        Index("ix_search_documents_plan_key", "plan_id", "target_key"),
        Index("ix_search_documents_vector", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(10))
    # PlanNode.id (of the plan's current version), Amendment.id or Comment.id.
    object_id: Mapped[int] = mapped_column(Integer)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    # The group in charge of the section the document is about (None: no group).
    working_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL"), index=True
    )
    # The stable key of the item concerned (the node's, the amended item's, the
    # commented item's), so a new version or section assignment finds them.
    target_key: Mapped[str | None] = mapped_column(String(40))
    ref: Mapped[str] = mapped_column(String(60), default="")
    label: Mapped[str] = mapped_column(String(20), default="")
    # Amendments: their status (the search's status filter).
    status: Mapped[str | None] = mapped_column(String(12))
    language: Mapped[str] = mapped_column(String(5), default="es")
    # Set when only one person may find it (a draft and the comments on it).
    reader_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR().with_variant(Text(), "sqlite"))


event.listen(SearchDocument.__table__, "after_create", schema.after_create)
event.listen(SearchDocument.__table__, "before_drop", schema.before_drop)
