"""Comment threads: posting, replies, mentions, edits, deletion, flags and moderation.

Every operation takes the acting user (``None`` is the system: the CLI, the
demo loader, jobs) and checks what that user may do, so the web pages, the API
and the workers share the same rules. Reading a page of a thread costs a fixed
number of SQL statements, however long the thread.
"""

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..audit.services import record
from ..config import LOCALES
from ..database import utcnow
from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..forums import services as forums
from ..forums.models import Forum, Membership
from ..notifications.services import notify
from ..plans.models import Plan, PlanNode, PlanVersion
from ..richtext import clean_source, render_markdown
from .models import (
    ALIGNMENTS,
    MAX_BODY_LENGTH,
    MAX_DEPTH,
    MAX_REASON_LENGTH,
    TARGET_TYPES,
    Comment,
    CommentFlag,
    CommentRevision,
)

ALIGNMENT_LABELS = {
    "in_favour": _l("In favour"),
    "against": _l("Against"),
    "neutral": _l("Neutral"),
}
# Top-level comments per page (each with all its replies). Twenty keep a long
# thread's page light to build and to read; "Load more comments" brings the
# next twenty in place, and a link to any comment opens its page (page_of).
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_MENTIONS = 20
MAX_FLAG_REASON_LENGTH = 500

TARGET_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# @[Display Name] or @Word; not inside e-mail addresses (ana@example.org).
MENTION_RE = re.compile(r"(?<![\w@.])@(?:\[([^\[\]\n]{1,200})\]|(\w(?:[\w'\u2019.-]{0,58}\w)?))")


# --- access -------------------------------------------------------------------


def can_read(actor, forum: Forum) -> bool:
    """Whoever may see the forum may read its comments (as they may read its plans)."""
    return forums.can_view(actor, forum)


def _participant(actor, forum: Forum, membership: Membership | None = None) -> bool:
    if actor is None:
        return True
    membership = membership or forums.membership_of(actor, forum)
    return membership is not None and membership.role != "observer"


def require_participant(actor, forum: Forum) -> None:
    if _participant(actor, forum):
        return
    if forums.membership_of(actor, forum) is not None:
        raise PermissionDenied(_("Observers can read the comments but cannot write them."))
    raise PermissionDenied(_("Only members of the forum can comment."))


def _same_user(actor, user_id: int | None) -> bool:
    return user_id is not None and getattr(actor, "id", None) == user_id


# --- targets ------------------------------------------------------------------


@dataclass
class Target:
    """What a thread is about, resolved and checked against the forum."""

    type: str
    key: str
    forum: Forum
    plan: Plan | None
    title: str = ""
    ref: str = ""
    text: str = ""
    # None when members may comment; otherwise why they may not (translated).
    closed_reason: str | None = None
    # Amendment drafts are readable by their author only.
    readable_by: int | None = None
    obj: object = None

    @property
    def plan_id(self) -> int | None:
        return self.plan.id if self.plan is not None else None


def _closed_plan_reason(plan: Plan) -> str | None:
    """Why the calendar (consultation phase or plan switch) does not allow comments."""
    from ..consultations.services import closed_reason

    return closed_reason(plan, "comment")


def _node_target(forum: Forum, plan: Plan | None, key: str) -> Target:
    if plan is None or plan.forum_id != forum.id:
        raise NotFound()
    current = db.session.scalar(
        select(PlanNode).where(PlanNode.version_id == plan.current_version_id, PlanNode.key == key)
    )
    node = current or db.session.scalar(
        select(PlanNode)
        .join(PlanVersion, PlanVersion.id == PlanNode.version_id)
        .where(PlanVersion.plan_id == plan.id, PlanNode.key == key)
        .order_by(PlanVersion.number.desc())
        .limit(1)
    )
    if node is None:
        raise NotFound(_("There is no such item in this plan."))
    closed = _closed_plan_reason(plan)
    if closed is None and current is None:
        closed = _("Comments are closed: this item is no longer in the current version.")
    return Target(
        "node",
        key,
        forum,
        plan,
        title=plan.title,
        ref=node.ref,
        text=node.text,
        closed_reason=closed,
        obj=node,
    )


def _amendment_target(forum: Forum, plan: Plan | None, key: str) -> Target:
    from ..amendments.models import OPEN_STATUSES, Amendment

    valid = key.isascii() and key.isdigit() and len(key) < 10
    amendment = db.session.get(Amendment, int(key)) if valid else None
    if amendment is None or amendment.forum_id != forum.id:
        raise NotFound()
    if plan is not None and amendment.plan_id != plan.id:
        raise NotFound()
    plan = plan or db.session.get(Plan, amendment.plan_id)
    closed = _closed_plan_reason(plan)
    if closed is None and amendment.status not in OPEN_STATUSES:
        closed = _("Comments are closed: this amendment is no longer under discussion.")
    return Target(
        "amendment",
        key,
        forum,
        plan,
        title=plan.title,
        ref=amendment.label,
        text=amendment.proposed_text,
        closed_reason=closed,
        obj=amendment,
        readable_by=amendment.author_id if amendment.status == "draft" else None,
    )


# Other features add theirs with ``register_target`` (consultations, when they exist).
_RESOLVERS: dict[str, Callable[[Forum, Plan | None, str], Target]] = {
    "node": _node_target,
    "amendment": _amendment_target,
}


def register_target(target_type: str, resolver: Callable[[Forum, Plan | None, str], Target]):
    """Let a feature say which of its objects can be discussed, and when."""
    if target_type not in TARGET_TYPES:
        raise ValueError(f"unknown comment target {target_type!r}")
    _RESOLVERS[target_type] = resolver


def resolve_target(actor, forum: Forum, plan: Plan | None, target_type, target_key) -> Target:
    """The target if it exists in this forum and ``actor`` may read it (else 404)."""
    if target_type not in TARGET_TYPES:
        raise InvalidInput(_("Unknown kind of discussion."))
    if not isinstance(target_key, str) or not TARGET_KEY_RE.match(target_key):
        raise NotFound()
    resolver = _RESOLVERS.get(target_type)
    if resolver is None:
        raise NotFound()
    target = resolver(forum, plan, target_key)
    if target.readable_by is not None and not _same_user(actor, target.readable_by):
        raise NotFound()
    return target


def _target_condition(target_type: str, plan_id: int | None, target_key: str):
    plan_condition = Comment.plan_id.is_(None) if plan_id is None else Comment.plan_id == plan_id
    return (
        (Comment.target_type == target_type) & plan_condition & (Comment.target_key == target_key)
    )


# --- reading one comment ----------------------------------------------------------


def get_comment(forum: Forum, comment_id) -> Comment:
    comment = db.session.get(Comment, comment_id) if isinstance(comment_id, int) else None
    if comment is None or comment.forum_id != forum.id:
        raise NotFound()
    return comment


def comment_for(actor, forum: Forum, comment_id) -> tuple[Comment, "Target"]:
    """A comment of ``forum`` whose thread ``actor`` may read, with its target
    (the same 404 otherwise)."""
    if not can_read(actor, forum):
        raise NotFound()
    comment = get_comment(forum, comment_id)
    return comment, target_of(actor, comment)


def _forum_of(comment: Comment) -> Forum:
    return db.session.get(Forum, comment.forum_id)


def target_of(actor, comment: Comment) -> Target:
    plan = db.session.get(Plan, comment.plan_id) if comment.plan_id is not None else None
    return resolve_target(actor, _forum_of(comment), plan, comment.target_type, comment.target_key)


# --- cleaning input ---------------------------------------------------------------


def clean_body(body) -> str:
    """The stored form of a comment's Markdown, or InvalidInput with the reason."""
    if not isinstance(body, str):
        body = ""
    if "\x00" in body:
        raise InvalidInput(
            _("The text contains a NUL character, which cannot be saved. Please remove it.")
        )
    body = clean_source(body).strip("\n").rstrip()
    if not body.strip():
        raise InvalidInput(_("Please write your comment."))
    if len(body) > MAX_BODY_LENGTH:
        raise InvalidInput(
            _(
                "A comment can have at most %(max)d characters; this one has %(length)d.",
                max=MAX_BODY_LENGTH,
                length=len(body),
            )
        )
    return body


def _clean_reason(reason, *, required: bool, limit: int = MAX_REASON_LENGTH) -> str:
    if isinstance(reason, str) and "\x00" in reason:
        raise InvalidInput(
            _("The text contains a NUL character, which cannot be saved. Please remove it.")
        )
    reason = clean_source(reason if isinstance(reason, str) else "").strip()
    if required and not reason:
        raise InvalidInput(_("Please give a reason."))
    if len(reason) > limit:
        raise InvalidInput(_("The reason can have at most %(max)d characters.", max=limit))
    return reason


# --- mentions ----------------------------------------------------------------------


def _squash(name: str) -> str:
    return "".join(name.split()).casefold()


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %"


def mentioned_users(forum: Forum, body: str) -> list[User]:
    """Members named in ``body`` as ``@[Display Name]`` or ``@Word``.

    ``@Word`` names the member whose display name without spaces is Word
    (ignoring case), or else the only member whose first name is Word.
    Unknown or ambiguous first names mention nobody. One query.
    """
    names, words = set(), set()
    for match in MENTION_RE.finditer(body or ""):
        full, word = match.groups()
        if full and full.strip():
            names.add(" ".join(full.split()).casefold())
        elif word:
            words.add(word.casefold())
        if len(names) + len(words) >= MAX_MENTIONS:
            break
    if not names and not words:
        return []
    display = func.lower(User.display_name)
    conditions = [display == name for name in names]
    for word in words:
        conditions += [
            func.lower(func.replace(User.display_name, " ", "")) == word,
            display.like(_like_prefix(word), escape="\\"),
            display == word,
        ]
    candidates = list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.forum_id == forum.id, User.active.is_(True), or_(*conditions))
            .order_by(User.id)
        )
    )
    found: dict[int, User] = {}
    for user in candidates:
        if " ".join(user.display_name.split()).casefold() in names:
            found[user.id] = user
    for word in words:
        exact = [user for user in candidates if _squash(user.display_name) == word]
        if not exact:
            first = [
                user
                for user in candidates
                if user.display_name.split() and user.display_name.split()[0].casefold() == word
            ]
            exact = first if len(first) == 1 else []
        for user in exact:
            found[user.id] = user
    return list(found.values())


def _notification_data(comment: Comment) -> dict:
    return {
        "target_type": comment.target_type,
        "target_key": comment.target_key,
        "plan_id": comment.plan_id,
        "comment_id": comment.id,
    }


# --- writing ---------------------------------------------------------------------


def post_comment(
    actor,
    forum: Forum,
    *,
    plan: Plan | None,
    target_type: str,
    target_key: str,
    body: str,
    alignment: str = "neutral",
    parent: Comment | None = None,
    language: str | None = None,
    form_token: str | None = None,
) -> Comment:
    """A new comment, or a reply to ``parent``. With ``form_token``, the same
    form sent twice returns the comment it already made.

    Replies nest at most MAX_DEPTH levels below the top-level comment; a reply
    to a comment at that depth joins it at the same depth, under the same
    parent, and its author is still notified as the one replied to.
    """
    require_participant(actor, forum)
    form_token = (form_token or "")[:64] or None
    if form_token and (earlier := _by_form_token(actor, form_token)) is not None:
        return earlier
    target = resolve_target(actor, forum, plan, target_type, target_key)
    if target.closed_reason:
        raise Conflict(target.closed_reason)
    body = clean_body(body)
    if alignment not in ALIGNMENTS:
        raise InvalidInput(_("Choose in favour, against or neutral."))
    replied_to, parent_id, root_id, depth = parent, None, None, 0
    if parent is not None:
        if parent.forum_id != forum.id:
            raise NotFound()
        same_target = (parent.target_type, parent.plan_id, parent.target_key) == (
            target.type,
            target.plan_id,
            target.key,
        )
        if not same_target:
            raise InvalidInput(_("A reply must be in the same discussion as its comment."))
        if parent.is_deleted or parent.is_hidden:
            raise Conflict(_("This comment can no longer be answered."))
        attach_to = parent
        while attach_to.depth >= MAX_DEPTH:
            attach_to = db.session.get(Comment, attach_to.parent_id)
        parent_id = attach_to.id
        root_id = attach_to.root_id or attach_to.id
        depth = attach_to.depth + 1
    if language not in LOCALES:
        language = getattr(actor, "locale", None)
    if language not in LOCALES:
        language = forum.default_locale
    comment = Comment(
        forum_id=forum.id,
        plan_id=target.plan_id,
        target_type=target.type,
        target_key=target.key,
        parent_id=parent_id,
        root_id=root_id,
        depth=depth,
        author_id=getattr(actor, "id", None),
        body=body,
        alignment=alignment,
        language=language,
        flag_count=0,
        form_token=form_token,
    )
    savepoint = db.session.begin_nested()
    db.session.add(comment)
    try:
        db.session.flush()
    except IntegrityError:  # the same form, twice at once: the first one wins
        savepoint.rollback()
        earlier = _by_form_token(actor, form_token) if form_token else None
        if earlier is None:
            raise
        return earlier
    savepoint.commit()
    data = _notification_data(comment)
    notified: set[int] = set()
    if replied_to is not None and replied_to.author_id is not None:
        sent = notify(
            replied_to.author_id,
            "comment_reply",
            comment,
            forum=forum,
            actor=actor,
            replied_to_id=replied_to.id,
            **data,
        )
        if sent is not None:
            notified.add(replied_to.author_id)
    _notify_mentions(actor, forum, comment, mentioned_users(forum, body), skip=notified)
    return comment


def _by_form_token(actor, form_token: str) -> Comment | None:
    return db.session.scalar(
        select(Comment).where(
            Comment.author_id == getattr(actor, "id", None), Comment.form_token == form_token
        )
    )


def _notify_mentions(actor, forum: Forum, comment: Comment, users: list[User], skip=()) -> None:
    for user in users:
        if user.id not in skip:
            notify(
                user.id, "mention", comment, forum=forum, actor=actor, **_notification_data(comment)
            )


def require_author(actor, comment: Comment, message: str) -> None:
    if not _same_user(actor, comment.author_id):
        raise PermissionDenied(message)


def edit_comment(actor, comment: Comment, body: str, alignment: str | None = None) -> Comment:
    """Change a comment's text (its author only), keeping the previous text."""
    require_author(actor, comment, _("Only its author can edit a comment."))
    forum = _forum_of(comment)
    require_participant(actor, forum)
    if comment.is_deleted:
        raise Conflict(_("This comment was deleted."))
    if comment.is_hidden:
        raise Conflict(_("This comment was hidden by the moderators and cannot be edited."))
    target = target_of(actor, comment)
    if target.closed_reason:
        raise Conflict(target.closed_reason)
    body = clean_body(body)
    if alignment is not None and alignment not in ALIGNMENTS:
        raise InvalidInput(_("Choose in favour, against or neutral."))
    if body == comment.body and alignment in (None, comment.alignment):
        return comment
    previous = comment.body
    now = utcnow()
    if body != previous:
        db.session.add(
            CommentRevision(comment_id=comment.id, body=previous, edited_at=now, editor_id=actor.id)
        )
        comment.body = body
    comment.alignment = alignment or comment.alignment
    comment.edited_at = now
    before = {user.id for user in mentioned_users(forum, previous)}
    newly = [user for user in mentioned_users(forum, body) if user.id not in before]
    _notify_mentions(actor, forum, comment, newly)
    return comment


def delete_comment(actor, comment: Comment) -> None:
    """The author withdraws a comment: its text and earlier versions are erased,
    a tombstone keeps its place so that the replies still make sense."""
    require_author(actor, comment, _("Only its author can delete a comment."))
    if comment.is_deleted:
        return
    db.session.execute(
        CommentRevision.__table__.delete().where(CommentRevision.comment_id == comment.id)
    )
    comment.body = ""
    comment.deleted_at = utcnow()
    record("comment.deleted", comment, actor=actor, forum=_forum_of(comment))


def require_member(actor, forum: Forum) -> None:
    """Any member, observers included, may report a comment."""
    if actor is None or forums.membership_of(actor, forum) is None:
        raise PermissionDenied(_("Only members of the forum can report comments."))


def flag_comment(actor, comment: Comment, reason: str = "") -> CommentFlag:
    """A member reports a comment to the moderators (once per member)."""
    forum = _forum_of(comment)
    require_member(actor, forum)
    if _same_user(actor, comment.author_id):
        raise InvalidInput(_("You cannot report your own comment."))
    if comment.is_deleted:
        raise Conflict(_("This comment was deleted."))
    reason = _clean_reason(reason, required=False, limit=MAX_FLAG_REASON_LENGTH)
    already = db.session.scalar(
        select(CommentFlag.id).where(
            CommentFlag.comment_id == comment.id, CommentFlag.user_id == actor.id
        )
    )
    if already is not None:
        raise Conflict(_("You have already reported this comment."))
    flag = CommentFlag(comment_id=comment.id, user_id=actor.id, reason=reason)
    try:
        with db.session.begin_nested():  # the unique constraint decides a race
            db.session.add(flag)
    except IntegrityError:
        raise Conflict(_("You have already reported this comment.")) from None
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(flag_count=Comment.flag_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(comment, ["flag_count"])
    return flag


def hide_comment(actor, comment: Comment, reason: str) -> None:
    """Moderators hide a comment, with a reason; it is kept and can be restored."""
    forum = _forum_of(comment)
    forums.require_manage(actor, forum)
    reason = _clean_reason(reason, required=True)
    if comment.is_deleted:
        raise Conflict(_("This comment was deleted."))
    if comment.is_hidden:
        raise Conflict(_("This comment is already hidden."))
    comment.hidden_at = utcnow()
    comment.hidden_reason = reason
    comment.hidden_by_id = getattr(actor, "id", None)
    record(
        "comment.hidden",
        comment,
        actor=actor,
        forum=forum,
        reason=reason,
        flag_count=comment.flag_count,
    )


def restore_comment(actor, comment: Comment, reason: str = "") -> None:
    """Moderators show a hidden comment again."""
    forum = _forum_of(comment)
    forums.require_manage(actor, forum)
    reason = _clean_reason(reason, required=False)
    if not comment.is_hidden:
        raise Conflict(_("This comment is not hidden."))
    previous = comment.hidden_reason
    comment.hidden_at = comment.hidden_reason = comment.hidden_by_id = None
    record(
        "comment.restored", comment, actor=actor, forum=forum, reason=reason, hidden_reason=previous
    )


# --- reading threads ------------------------------------------------------------


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
    state: str  # "visible", "hidden" or "deleted"
    show_body: bool
    can_reply: bool = False
    can_edit: bool = False
    can_delete: bool = False
    can_flag: bool = False
    can_moderate: bool = False
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
    def alignment_label(self) -> str:
        return str(ALIGNMENT_LABELS[self.comment.alignment])


@dataclass
class ThreadPage:
    target: Target
    entries: list[CommentEntry]
    page: int
    per_page: int
    total: int  # top-level comments, for the pages
    counts: dict
    can_post: bool
    is_member: bool
    is_moderator: bool
    signed_in: bool
    alignment_labels: dict = field(default_factory=lambda: dict(ALIGNMENT_LABELS))
    max_depth: int = MAX_DEPTH

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def forum(self) -> Forum:
        return self.target.forum

    @property
    def closed_reason(self) -> str | None:
        return self.target.closed_reason


def _empty_counts() -> dict:
    return {"total": 0, **dict.fromkeys(ALIGNMENTS, 0)}


def _visible():
    return Comment.deleted_at.is_(None) & Comment.hidden_at.is_(None)


def counts(plan: Plan) -> dict[str, dict]:
    """For every node of ``plan`` with comments: ``{"total": n, "in_favour": …,
    "against": …, "neutral": …}`` (shown comments only). One grouped query;
    nodes without comments are absent (use ``.get(key, EMPTY_COUNTS)``)."""
    rows = db.session.execute(
        select(Comment.target_key, Comment.alignment, func.count())
        .where(Comment.target_type == "node", Comment.plan_id == plan.id, _visible())
        .group_by(Comment.target_key, Comment.alignment)
    )
    result: dict[str, dict] = defaultdict(_empty_counts)
    for key, alignment, number in rows:
        result[key][alignment] = number
        result[key]["total"] += number
    return dict(result)


EMPTY_COUNTS = _empty_counts()


def counts_subquery(target_type: str, plan_id: int):
    """Shown comments per target of one plan, as a subquery ``(target_key, n)``
    that lists can join to show or sort by how discussed each entry is."""
    return (
        select(Comment.target_key, func.count().label("n"))
        .where(Comment.target_type == target_type, Comment.plan_id == plan_id, _visible())
        .group_by(Comment.target_key)
        .subquery()
    )


def counts_for(target_type: str, plan: Plan | None, target_key: str) -> dict:
    """Shown comments on one target, in total and by alignment (one query)."""
    rows = db.session.execute(
        select(Comment.alignment, func.count())
        .where(_target_condition(target_type, getattr(plan, "id", None), target_key), _visible())
        .group_by(Comment.alignment)
    )
    result = _empty_counts()
    for alignment, number in rows:
        result[alignment] = number
        result["total"] += number
    return result


def page_of(comment: Comment, per_page: int = DEFAULT_PER_PAGE) -> int:
    """The page of its thread on which ``comment`` is shown."""
    root_id = comment.root_id or comment.id
    root = db.session.get(Comment, root_id)
    before = db.session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(
            _target_condition(root.target_type, root.plan_id, root.target_key),
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
    """One page of top-level comments (oldest first) with all their replies.

    A fixed number of statements whatever the thread's size: the count, the
    page's top-level ids, every comment of those threads with its author, their
    earlier versions, the reader's flags and the alignment counts.
    """
    membership = forums.membership_of(actor, forum)
    if not forums.can_view(actor, forum, membership):
        raise NotFound()
    target = resolve_target(actor, forum, plan, target_type, target_key)
    per_page = min(max(int(per_page), 1), MAX_PER_PAGE)
    condition = _target_condition(target.type, target.plan_id, target.key)
    top_level = condition & Comment.parent_id.is_(None)
    total = db.session.scalar(select(func.count()).select_from(Comment).where(top_level))
    pages = max(1, -(-total // per_page))
    page = min(max(int(page), 1), pages)
    ids = list(
        db.session.scalars(
            select(Comment.id)
            .where(top_level)
            .order_by(Comment.created_at, Comment.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    signed_in = bool(getattr(actor, "is_authenticated", False))
    is_moderator = signed_in and forums.can_manage(actor, forum, membership)
    is_member = membership is not None
    can_post = target.closed_reason is None and signed_in and _participant(actor, forum, membership)
    entries: list[CommentEntry] = []
    if ids:
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
        if is_member:
            flagged = set(
                db.session.scalars(
                    select(CommentFlag.comment_id)
                    .join(Comment, Comment.id == CommentFlag.comment_id)
                    .where(CommentFlag.user_id == actor.id, in_page)
                )
            )
        entries = _build_tree(
            comments,
            revisions,
            flagged,
            actor=actor,
            can_post=can_post,
            is_member=is_member,
            is_moderator=is_moderator,
            participant=_participant(actor, forum, membership) if signed_in else False,
            top_level_order=ids,
        )
        _render_bodies(entries)
    return ThreadPage(
        target=target,
        entries=entries,
        page=page,
        per_page=per_page,
        total=total,
        counts=counts_for(target.type, target.plan, target.key),
        can_post=can_post,
        is_member=is_member,
        is_moderator=is_moderator,
        signed_in=signed_in,
    )


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
    from .. import pagecache, richtext

    revision = pagecache.source_revision(richtext.__file__)
    keys = [pagecache.make_key("markdown", revision, text) for _scope, text in sources]
    found = pagecache.fetch_many(
        {
            key: (scope, lambda text=text: str(render_markdown(text)))
            for key, (scope, text) in zip(keys, sources, strict=True)
        }
    )
    return [Markup(found[key]) for key in keys]  # noqa: S704 (sanitised by render_markdown)


def _build_tree(
    comments,
    revisions,
    flagged,
    *,
    actor,
    can_post,
    is_member,
    is_moderator,
    participant,
    top_level_order,
) -> list[CommentEntry]:
    by_id: dict[int, CommentEntry] = {}
    for comment in comments:
        if comment.is_deleted:
            state, show = "deleted", False
        elif comment.is_hidden:
            state, show = "hidden", is_moderator
        else:
            state, show = "visible", True
        own = _same_user(actor, comment.author_id)
        by_id[comment.id] = CommentEntry(
            comment=comment,
            state=state,
            show_body=show,
            can_reply=can_post and state == "visible",
            can_edit=own and participant and can_post and state == "visible",
            can_delete=own and state != "deleted",
            can_flag=is_member and not own and state == "visible",
            can_moderate=is_moderator and state != "deleted",
            flagged=comment.id in flagged,
            history=revisions.get(comment.id, []) if show else [],
        )
    for comment in comments:
        if comment.parent_id is not None and comment.parent_id in by_id:
            by_id[comment.parent_id].replies.append(by_id[comment.id])
    return [by_id[comment_id] for comment_id in top_level_order if comment_id in by_id]
