"""What every format of a download shows: the title, "Version N" and the date,
and each node as printed — its reference, its numbered lines, its place in the
tree."""

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_date
from flask_babel import gettext as _

from ...config import DEFAULT_LOCALE
from ..layout import NumberedNode, cited_ref, display_text, line_length, number_lines

LIST_KINDS = ("item", "bullet")

# Characters XML 1.0 does not allow (the importer already removes them; an
# export must never fail on text written some other way).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class PrintedLine:
    number: int
    text: str


@dataclass
class Block:
    """One node as printed: its lines and its place in the tree."""

    node: object
    lines: list[PrintedLine]
    section_level: int  # 1 for a top-level section (sections only)
    list_level: int  # how many items or bullets it sits under

    @property
    def kind(self) -> str:
        return self.node.kind

    @property
    def ref(self) -> str:
        """The reference printed (sections and items, as on the page); other
        paragraphs are cited by their lines."""
        return clean(cited_ref(self.node))

    @property
    def anchor_ref(self) -> str:
        """The node's own reference, printed nowhere, kept in the anchors."""
        return clean(self.node.ref or "")

    @property
    def text(self) -> str:
        return clean(display_text(self.node))


@dataclass
class Export:
    title: str
    language: str
    version_label: str
    date: str
    iso_date: str
    body: list[Block]
    footnotes: list[Block]

    @classmethod
    def build(cls, plan, version, nodes) -> "Export":
        nodes = list(nodes)
        section_levels, list_levels = levels(nodes)
        body, footnotes = [], []
        for numbered in number_lines(nodes, line_length(plan.forum)):
            node = numbered.node
            block = Block(
                node,
                printed_lines_of(numbered),
                section_levels.get(node.key, 0),
                list_levels.get(node.key, 0),
            )
            (footnotes if node.kind == "footnote" else body).append(block)
        created = version.created_at
        return cls(
            title=clean(version.title or plan.title or ""),
            language=plan.language or DEFAULT_LOCALE,
            version_label=_("Version %(number)d", number=int(version.number)),
            date=format_date(created, "long") if created else "",
            iso_date=created.date().isoformat() if isinstance(created, datetime) else "",
            body=body,
            footnotes=footnotes,
        )

    @property
    def footnotes_label(self) -> str:
        return _("Footnotes")

    def page_label(self) -> list[tuple[str, str]]:
        """ "Page X of Y" in the interface language, as (kind, text) pieces:
        ``("text", "Page ")``, ``("page", "")``, ``("text", " of ")``, ``("pages", "")``,
        so that each format puts its own page counters where the words say."""
        label = _("Page %(page)s of %(pages)s", page="\x00page\x00", pages="\x00pages\x00")
        pieces = []
        for part in re.split(r"\x00(pages?)\x00", label):
            if part in ("page", "pages"):
                pieces.append((part, ""))
            elif part:
                pieces.append(("text", part))
        return pieces


def clean(text: str) -> str:
    return NOT_XML.sub("", text)


def printed_lines_of(numbered: NumberedNode) -> list[PrintedLine]:
    return [PrintedLine(number, clean(text)) for number, text in numbered.lines]


def levels(nodes) -> tuple[dict[str, int], dict[str, int]]:
    """For every node: the sections it is in (itself included) and the items or
    bullets it is under. Each node is visited once (parents are memoised)."""
    by_key = {node.key: node for node in nodes}
    sections: dict[str, int] = {}
    lists: dict[str, int] = {}
    for node in nodes:
        chain, seen, current = [], set(), node
        while current is not None and current.key not in sections and current.key not in seen:
            seen.add(current.key)
            chain.append(current)
            current = by_key.get(current.parent_key) if current.parent_key else None
        for member in reversed(chain):
            parent = by_key.get(member.parent_key) if member.parent_key else None
            if parent is None or parent.key not in sections:  # a root (or a broken cycle)
                parent_sections, parent_list = 0, -1
            else:
                parent_sections = sections[parent.key]
                parent_list = lists[parent.key] if parent.kind in LIST_KINDS else -1
            sections[member.key] = parent_sections + (member.kind == "section")
            lists[member.key] = parent_list + 1
    return sections, lists
