"""A plan's short name ("PA-2026"): with an amendment's number and item it makes
the amendment's identifier across the forum ("PA-2026 E2 · 4.1"), so two plans
that both have an E1 are told apart in lists, notifications, emails and exports.

It is unique within its forum, written in capitals, digits and hyphens, and
short (it precedes every amendment's number). One is suggested from the title
when a plan is imported; a facilitator may change it in the plan's settings.
"""

import re
import unicodedata

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..errors import InvalidInput
from ..extensions import db
from .models import SHORT_NAME_MAX, Plan

SHORT_NAME_MIN = 2
_VALID = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")
_WORD = re.compile(r"[A-Za-z0-9]+")
# Words that do not give an initial (es, pt, en), so "Plan de Acción" is "PA".
_MINOR_WORDS = frozenset(
    (
        *("a", "al", "and", "com", "con", "da", "das", "de", "del", "do", "dos", "e"),
        *("el", "em", "en", "for", "in", "la", "las", "los", "na", "nas", "no", "nos"),
        *("o", "of", "on", "os", "para", "por", "the", "to", "um", "uma", "un", "una", "y"),
    )
)


class ShortNameRefused(InvalidInput):
    """The short name typed is not one a plan can have (the form shows why
    next to the field)."""


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def suggest(title: str) -> str:
    """A short name from a title: the initials of its words and its first year
    (or number), e.g. "Plan de Acción 2026-2030" → "PA-2026"."""
    words = _WORD.findall(_ascii(title))
    named = [w for w in words if w[0].isalpha() and w.casefold() not in _MINOR_WORDS]
    initials = "".join(w[0] for w in named)[:4].upper()
    numbers = [w for w in words if w.isdigit()]
    number = next((n for n in numbers if len(n) == 4), numbers[0] if numbers else "")[:6]
    if len(initials) < SHORT_NAME_MIN and not number:
        initials = (named[0][:4] if named else "PLAN").upper()
    name = "-".join(part for part in (initials, number) if part)
    return name if len(name) >= SHORT_NAME_MIN else "PLAN"


def first_free(wanted: str, taken: set[str]) -> str:
    """``wanted``, or with the first suffix ("-2", "-3"…) no plan has."""
    if wanted not in taken:
        return wanted
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = wanted[: SHORT_NAME_MAX - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        number += 1


def taken_in(forum_id: int, *, except_plan: Plan | None = None) -> set[str]:
    """The short names the forum's plans have (one query)."""
    query = select(Plan.short_name).where(Plan.forum_id == forum_id)
    if except_plan is not None and except_plan.id is not None:
        query = query.where(Plan.id != except_plan.id)
    return set(db.session.scalars(query))


def suggest_for(forum_id: int, title: str) -> str:
    """A short name for a new plan of the forum: from its title, free in the forum."""
    return first_free(suggest(title), taken_in(forum_id))


def normalised(text: str | None) -> str:
    """What a facilitator typed as a short name, checked: capitals, digits and
    single hyphens, 2 to 16 characters. Raises ``ShortNameRefused`` (a 400)."""
    name = (text or "").strip().upper()
    if not name:
        raise ShortNameRefused(_("Give the plan a short name, such as PA-2026."))
    if not SHORT_NAME_MIN <= len(name) <= SHORT_NAME_MAX:
        raise ShortNameRefused(
            _(
                "The short name must have between %(min)d and %(max)d characters.",
                min=SHORT_NAME_MIN,
                max=SHORT_NAME_MAX,
            )
        )
    if not _VALID.fullmatch(name):
        raise ShortNameRefused(
            _(
                "The short name may only have letters without accents, digits and "
                "hyphens between them, such as PA-2026."
            )
        )
    return name


def rename(plan: Plan, text: str | None) -> str:
    """Give ``plan`` the short name typed, unless another plan of the forum has it."""
    name = normalised(text)
    if name == plan.short_name:
        return name
    clash = db.session.scalar(
        select(func.count())
        .select_from(Plan)
        .where(Plan.forum_id == plan.forum_id, Plan.short_name == name, Plan.id != plan.id)
    )
    if clash:
        raise ShortNameRefused(
            _("Another plan of this forum is already called %(name)s.", name=name)
        )
    plan.short_name = name
    return name
