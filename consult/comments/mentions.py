"""Mentions in comments (``@[Display Name]`` or ``@Word``) and the
notifications a new comment sends."""

import re

from sqlalchemy import func, or_, select

from ..accounts.models import User
from ..extensions import db
from ..forums.models import Forum, Membership
from ..notifications.services import notify
from .models import Comment

MAX_MENTIONS = 20
# @[Display Name] or @Word; not inside e-mail addresses (ana@example.org).
MENTION_RE = re.compile(r"(?<![\w@.])@(?:\[([^\[\]\n]{1,200})\]|(\w(?:[\w'\u2019.-]{0,58}\w)?))")


def _squash(name: str) -> str:
    return "".join(name.split()).casefold()


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %"


def _named(body: str) -> tuple[set[str], set[str]]:
    """The full names and single words mentioned in ``body``, folded."""
    names, words = set(), set()
    for match in MENTION_RE.finditer(body or ""):
        full, word = match.groups()
        if full and full.strip():
            names.add(" ".join(full.split()).casefold())
        elif word:
            words.add(word.casefold())
        if len(names) + len(words) >= MAX_MENTIONS:
            break
    return names, words


def _candidates(forum: Forum, names: set[str], words: set[str]) -> list[User]:
    display = func.lower(User.display_name)
    conditions = [display == name for name in names]
    for word in words:
        conditions += [
            func.lower(func.replace(User.display_name, " ", "")) == word,
            display.like(_like_prefix(word), escape="\\"),
            display == word,
        ]
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.forum_id == forum.id, User.active.is_(True), or_(*conditions))
            .order_by(User.id)
        )
    )


def _named_by_word(candidates: list[User], word: str) -> list[User]:
    exact = [user for user in candidates if _squash(user.display_name) == word]
    if exact:
        return exact
    first = [
        user
        for user in candidates
        if user.display_name.split() and user.display_name.split()[0].casefold() == word
    ]
    return first if len(first) == 1 else []


def mentioned_users(forum: Forum, body: str) -> list[User]:
    """Members named in ``body`` as ``@[Display Name]`` or ``@Word``.

    ``@Word`` names the member whose display name without spaces is Word
    (ignoring case), or else the only member whose first name is Word.
    Unknown or ambiguous first names mention nobody. One query.
    """
    names, words = _named(body)
    if not names and not words:
        return []
    candidates = _candidates(forum, names, words)
    found: dict[int, User] = {}
    for user in candidates:
        if " ".join(user.display_name.split()).casefold() in names:
            found[user.id] = user
    for word in words:
        for user in _named_by_word(candidates, word):
            found[user.id] = user
    return list(found.values())


def notification_data(comment: Comment) -> dict:
    return {
        "target_type": comment.target_type,
        "target_key": comment.target_key,
        "plan_id": comment.plan_id,
        "comment_id": comment.id,
    }


def notify_mentions(actor, forum: Forum, comment: Comment, users: list[User], skip=()) -> None:
    for user in users:
        if user.id not in skip:
            notify(
                user.id, "mention", comment, forum=forum, actor=actor, **notification_data(comment)
            )
