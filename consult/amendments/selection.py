"""Words selected in an item (issue 14): "Comment on this" and "Amend this".

static/js/selection.js offers both when the reader selects words of one
item, and only when the page offers commenting or amending (asked here of
the same predicates the services enforce). It leads to the item's comment
form with ``quote`` and ``lines`` (the new comment starts with the quote) or
to the amendment form with ``quote`` (the words highlighted). Both forms take
the parameters from anyone's address bar: what is too long, is not text, is
not in the item or names lines outside it is left out, with a notice.
"""

import re
from dataclasses import dataclass, field

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from ..comments.permissions import write_refusal
from ..consultations.permissions import calendar_refusal
from ..plans import services as plans
from .blueprint import bp
from .permissions import amend_refusal
from .plan_settings import section_assignments

MAX_QUOTE = 600  # characters of the selection carried in the address
_LINES = re.compile(r"^(\d{1,6})(?:[-\u2013](\d{1,6}))?$")  # 12, 12-13 or 12\u201313
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Offer:
    """What the toolbar offers on a page: nothing unless the page offers it."""

    comment: bool = False
    amend: bool = False
    # Items the reader may not amend (their section is a working group's).
    refused_keys: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return self.comment or self.amend


@bp.app_template_global("selection_offer")
def plan_offer(plan) -> Offer:
    """The plan page's offer for the reader (current_user), from the rules of
    commenting and amending; a few statements more per working group that
    holds a section of the plan."""
    if not getattr(current_user, "is_authenticated", False):
        return Offer()
    comment = write_refusal(current_user, plan.forum) is None
    comment = comment and calendar_refusal(plan, "comment") is None
    amend = amend_refusal(current_user, plan, None, {}) is None
    refused: list[str] = []
    assignments = section_assignments(plan) if amend else {}
    if assignments:
        nodes = {n.key: n for n in plans.version_nodes(plans.get_version(plan))}
        # The rule asked once per working group (of one of its sections), then
        # said of every item of the sections that group holds.
        one_section = {group: key for key, group in assignments.items() if key in nodes}
        refused_groups = {
            group
            for group, key in one_section.items()
            if amend_refusal(current_user, plan, key, nodes) is not None
        }
        refused = [
            key
            for key in nodes
            if assignments.get(_holding_section(key, nodes, assignments)) in refused_groups
        ]
    return Offer(comment=comment, amend=amend, refused_keys=refused)


@bp.app_template_global("item_selection_offer")
def item_offer(thread, amend_refused, node) -> Offer:
    """The item page's offer: what its comment form and its amendment links offer."""
    comment = thread is not None and bool(thread.allowed.post)
    return Offer(comment=comment, amend=amend_refused is None and node.kind != "section")


def _holding_section(key, nodes, assignments) -> str | None:
    """The nearest enclosing section a working group holds (as section_group_id)."""
    node = nodes.get(key)
    while node is not None:
        if node.kind == "section" and node.key in assignments:
            return node.key
        node = nodes.get(node.parent_key)
    return None


@dataclass(frozen=True)
class Quote:
    """The selection carried to a form, once checked."""

    text: str = ""
    first_line: int | None = None
    last_line: int | None = None
    start: int | None = None  # where it is in the item's original text
    end: int | None = None
    notices: tuple[str, ...] = ()

    @property
    def lines_label(self) -> str:
        if self.first_line is None:
            return ""
        if self.first_line == self.last_line:
            return _("(line %(number)d)", number=self.first_line)
        return _(
            "(lines %(first)d–%(last)d)",  # noqa: RUF001 (the typographic range dash)
            first=self.first_line,
            last=self.last_line,
        )

    @property
    def comment_start(self) -> str:
        """The new comment's first words: the quote as Markdown, then its lines."""
        if not self.text:
            return ""
        start = "> " + self.text + "\n"
        if self.lines_label:
            start += "\n" + self.lines_label + "\n"
        return start + "\n"

    def highlighted(self, text: str) -> Markup | None:
        """The item's text with the quoted words marked."""
        if self.start is None:
            return None
        return Markup("{}<mark>{}</mark>{}").format(
            escape(text[: self.start]),
            escape(text[self.start : self.end]),
            escape(text[self.end :]),
        )


def find(quote: str, text: str) -> tuple[int, int] | None:
    """Where ``quote`` is in ``text``, whatever the spaces and line breaks between words."""
    words = quote.split()
    if not words:
        return None
    found = re.search(r"\s*".join(re.escape(word) for word in words), text)
    return (found.start(), found.end()) if found else None


def from_request(texts: list[str], first_line: int = 0, last_line: int = 0) -> Quote:
    """The ``quote`` and ``lines`` of the request, checked against the item:
    ``texts`` the item's original first, then what the reader read (a
    translation); lines from ``first_line`` to ``last_line``."""
    raw = request.args.get("quote", "")
    lines = request.args.get("lines", "")
    if not raw and not lines:
        return Quote()
    notices = []
    text = ""
    if len(raw) > MAX_QUOTE or "\x00" in raw:
        notices.append(
            _("The selected words were too long to quote; the form starts without them.")
        )
    else:
        text = " ".join(_CONTROL.sub(" ", raw).split())
        if text and not any(find(text, candidate) for candidate in texts if candidate):
            notices.append(
                _("The selected words are not in this item; the form starts without them.")
            )
            text = ""
    first = last = None
    if text and lines:
        first, last = _line_range(lines, first_line, last_line)
        if first is None:
            notices.append(_("The selected lines are not in this item; they are not quoted."))
    position = find(text, texts[0]) if text and texts and texts[0] else None
    start, end = position if position else (None, None)
    return Quote(text, first, last, start, end, tuple(notices))


def _line_range(value: str, first_line: int, last_line: int):
    found = _LINES.match(value)
    if not found:
        return None, None
    first = int(found.group(1))
    last = int(found.group(2) or first)
    if not first_line <= first <= last <= last_line:
        return None, None
    return first, last
