"""Reading a thread: one page of top-level comments with all their replies,
each with what its reader may do (``comments.permissions``).

Reading a page costs a fixed number of SQL statements, however long the
thread: the count, the page's top-level ids, every comment of those threads
with its author, their earlier versions, the reader's flags and the counts.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from .. import pagecache, richtext
from ..errors import NotFound
from ..extensions import db
from ..forums.models import Forum
from ..forums.permissions import can_view, membership_of
from ..pagination import paginate
from ..plans.models import Plan
from ..richtext import render_markdown
from .models import MAX_DEPTH, Alignment, Comment, CommentFlag, CommentRevision, CommentState
from .permissions import CommentAllowed, ThreadAllowed, comment_allowed, thread_allowed
from .queries import counts_for
from .targets import Target, resolve_target, target_condition

# Top-level comments per page (each with all its replies). Twenty keep a long
# thread's page light to build and to read; "Load more comments" brings the
# next twenty in place, and a link to any comment opens its page (page_of).
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


@dataclass
class RevisionEntry:
    revision: CommentRevision
    rendered: Markup | None = None  # set by ``thread`` from the page cache

    @property
    def body_html(self) -> Markup:
        if self.rendered is None:
            self.rendered = render_markdown(self.revision.body)
        return self.rendered


@dataclass
class CommentEntry:
    """A comment as one reader sees it, with its replies and what they may do."""

    comment: Comment
    state: CommentState
    show_body: bool
    allowed: CommentAllowed = field(default_factory=CommentAllowed)
    flagged: bool = False
    replies: list["CommentEntry"] = field(default_factory=list)
    history: list[RevisionEntry] = field(default_factory=list)
    rendered: Markup | None = None  # set by ``thread`` from the page cache

    @property
    def body_html(self) -> Markup:
        if not self.show_body:
            return Markup("")
        if self.rendered is None:
            self.rendered = render_markdown(self.comment.body)
        return self.rendered

    @property
    def offers_actions(self) -> bool:
        """Anything to offer on this card (a member reports a comment once)."""
        a = self.allowed
        flag = a.flag and not self.flagged
        return a.reply or a.edit or a.delete or flag or a.hide or a.restore


@dataclass
class ThreadPage:
    target: Target
    entries: list[CommentEntry]
    pagination: Pagination  # of the top-level comments
    counts: dict
    allowed: ThreadAllowed
    is_member: bool
    max_depth: int = MAX_DEPTH

    @property
    def page(self) -> int:
        return self.pagination.page

    @property
    def pages(self) -> int:
        return max(1, self.pagination.pages)

    @property
    def per_page(self) -> int:
        return self.pagination.per_page

    @property
    def total(self) -> int:
        return self.pagination.total

    @property
    def can_post(self) -> bool:
        return self.allowed.post

    @property
    def signed_in(self) -> bool:
        return self.allowed.signed_in

    @property
    def alignments(self) -> list[Alignment]:
        return list(Alignment)

    @property
    def default_alignment(self) -> Alignment:
        return Alignment.NEUTRAL

    @property
    def forum(self) -> Forum:
        return self.target.forum

    @property
    def closed_reason(self) -> str | None:
        return self.target.closed_reason


def page_of(comment: Comment, per_page: int = DEFAULT_PER_PAGE) -> int:
    """The page of its thread on which ``comment`` is shown."""
    root_id = comment.root_id or comment.id
    root = db.session.get(Comment, root_id)
    before = db.session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(
            target_condition(root.target_type, root.plan_id, root.target_key),
            Comment.parent_id.is_(None),
            or_(
                Comment.created_at < root.created_at,
                (Comment.created_at == root.created_at) & (Comment.id < root.id),
            ),
        )
    )
    return before // per_page + 1


def thread(
    actor,
    forum: Forum,
    plan: Plan | None,
    target_type: str,
    target_key: str,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> ThreadPage:
    """One page of top-level comments (oldest first) with all their replies."""
    membership = membership_of(actor, forum)
    if not can_view(actor, forum, membership):
        raise NotFound()
    target = resolve_target(actor, forum, plan, target_type, target_key)
    top_level = target_condition(target.type, target.plan_id, target.key)
    top_level &= Comment.parent_id.is_(None)
    pagination = paginate(
        select(Comment.id).where(top_level).order_by(Comment.created_at, Comment.id),
        page=page,
        per_page=per_page,
        max_per_page=MAX_PER_PAGE,
    )
    allowed = thread_allowed(actor, target, membership)
    entries = []
    if pagination.items:
        entries = _entries(actor, target, membership, allowed, list(pagination.items))
        _render_bodies(entries)
    return ThreadPage(
        target=target,
        entries=entries,
        pagination=pagination,
        counts=counts_for(target.type, target.plan, target.key),
        allowed=allowed,
        is_member=membership is not None,
    )


def _entries(actor, target: Target, membership, allowed: ThreadAllowed, ids: list[int]):
    in_page = or_(Comment.id.in_(ids), Comment.root_id.in_(ids))
    comments = list(
        db.session.scalars(
            select(Comment)
            .options(joinedload(Comment.author), joinedload(Comment.hidden_by))
            .where(in_page)
            .order_by(Comment.created_at, Comment.id)
        )
    )
    revisions: dict[int, list[RevisionEntry]] = defaultdict(list)
    for revision in db.session.scalars(
        select(CommentRevision)
        .options(joinedload(CommentRevision.editor))
        .join(Comment, Comment.id == CommentRevision.comment_id)
        .where(in_page)
        .order_by(CommentRevision.edited_at.desc(), CommentRevision.id.desc())
    ):
        revisions[revision.comment_id].append(RevisionEntry(revision))
    flagged: set[int] = set()
    if membership is not None:
        flagged = set(
            db.session.scalars(
                select(CommentFlag.comment_id)
                .join(Comment, Comment.id == CommentFlag.comment_id)
                .where(CommentFlag.user_id == actor.id, in_page)
            )
        )
    by_id: dict[int, CommentEntry] = {}
    for comment in comments:
        state = comment.state
        show = state.is_visible or (state.is_hidden and allowed.moderate)
        by_id[comment.id] = CommentEntry(
            comment=comment,
            state=state,
            show_body=show,
            allowed=comment_allowed(actor, comment, target, membership, allowed),
            flagged=comment.id in flagged,
            history=revisions.get(comment.id, []) if show else [],
        )
    for comment in comments:
        if comment.parent_id is not None and comment.parent_id in by_id:
            by_id[comment.parent_id].replies.append(by_id[comment.id])
    return [by_id[comment_id] for comment_id in ids if comment_id in by_id]


def _render_bodies(entries: list[CommentEntry]) -> None:
    """The HTML of every body this reader is shown, from the page cache.

    A comment's Markdown is rendered once per text (and version of the
    renderer), not on every view: the key is a digest of the text itself, so
    an edit, which changes the text, is rendered anew. One query for the
    entries this process does not already have in memory."""
    shown: list[CommentEntry | RevisionEntry] = []
    sources: list[tuple[str, str]] = []
    pending = list(entries)
    while pending:
        entry = pending.pop()
        pending.extend(entry.replies)
        if entry.show_body and entry.comment.body:
            shown.append(entry)
            sources.append((f"comment:{entry.comment.id}", entry.comment.body))
        for revision in entry.history:
            if revision.revision.body:
                shown.append(revision)
                sources.append((f"comment-revision:{revision.revision.id}", revision.revision.body))
    rendered = cached_markdown(sources)
    for item, html in zip(shown, rendered, strict=True):
        item.rendered = html


def cached_markdown(sources: list[tuple[str, str]]) -> list[Markup]:
    """``render_markdown`` of each ``(scope, text)``, kept in the page cache
    under a digest of the text and of the renderer's code."""
    revision = pagecache.source_revision(richtext.__file__)
    keys = [pagecache.make_key("markdown", revision, text) for _scope, text in sources]
    found = pagecache.fetch_many(
        {
            key: (scope, lambda text=text: str(render_markdown(text)))
            for key, (scope, text) in zip(keys, sources, strict=True)
        }
    )
    return [Markup(found[key]) for key in keys]  # noqa: S704 (sanitised by render_markdown)
