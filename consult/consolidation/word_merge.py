"""Word-level three-way merging of one text: pure functions, no database.

Every amendment is turned into *edits* of the text it was written against
(character ranges of that text and their replacement, found with the word
diff). Edits of different amendments to the same text merge when they touch
different words; edits that touch the same words (or insert at the same place)
are a conflict and are never guessed. An amendment written against an older
text is carried over to the current text the same way (a three-way merge with
the older text as the common base).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from ..diffing import DELETE, EQUAL, INSERT, word_diff


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


def edits(base: str, changed: str) -> list[Edit]:
    """What turns ``base`` into ``changed``, as non-overlapping edits of ``base``."""
    found: list[Edit] = []
    position = 0
    pending: Edit | None = None
    for op, text in word_diff(base, changed):
        if op == EQUAL:
            if pending is not None:
                found.append(pending)
                pending = None
            position += len(text)
        elif op == DELETE:
            start = pending.start if pending else position
            position += len(text)
            pending = Edit(start, position, pending.text if pending else "")
        elif op == INSERT:
            pending = Edit(
                pending.start if pending else position,
                pending.end if pending else position,
                (pending.text if pending else "") + text,
            )
    if pending is not None:
        found.append(pending)
    return found


def _clash(a: Edit, b: Edit) -> bool:
    if a == b:
        return False  # the same change twice is one change
    if a.start == a.end and b.start == b.end:
        return a.start == b.start  # two insertions at the same place: which first?
    if a.start == a.end:
        return b.start < a.start < b.end
    if b.start == b.end:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def merge(base: str, variants: Sequence[str]) -> str | None:
    """One text with every variant's changes to ``base``, or None when two of them
    change the same words."""
    all_edits: list[Edit] = []
    for variant in variants:
        for edit in edits(base, variant):
            if any(_clash(edit, other) for other in all_edits):
                return None
            if edit not in all_edits:
                all_edits.append(edit)
    text = base
    for edit in sorted(all_edits, key=lambda e: (e.start, e.end), reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def carry_over(original: str, proposed: str, current: str) -> str | None:
    """``proposed`` (written against ``original``) carried over to ``current``: the
    amendment's own change applied to the text as it is now, or None if the text
    changed at the words the amendment changes."""
    if original == current:
        return proposed
    return merge(original, [proposed, current])
