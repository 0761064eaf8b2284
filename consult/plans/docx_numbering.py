"""Word's automatic numbering (``word/numbering.xml``), for
:mod:`consult.plans.docx_reader`: the list definitions with their levels and
overrides, which list a paragraph belongs to (directly or through its style),
and the next label of a list as the importer writes it (``1.``, ``a)``,
``A.``, ``i)``, ``I.`` or ``-``), counted as Word counts."""

from dataclasses import dataclass, field

from lxml import etree

from .docx_package import WordXml, to_int
from .docx_styles import Styles

ROMAN_DIGITS = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)


@dataclass
class Level:
    fmt: str = "decimal"
    start: int = 1


def _letters(number: int) -> str:
    """1 → a, 26 → z, 27 → aa (as Word counts)."""
    if number < 1:
        return str(number)
    return chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)


def _roman(number: int) -> str:
    if not 0 < number < 4000:
        return str(number)
    result = ""
    for value, digits in ROMAN_DIGITS:
        while number >= value:
            result += digits
            number -= value
    return result


def label(fmt: str, number: int) -> str:
    """The label of the ``number``th entry of a level in Word's format ``fmt``."""
    if fmt == "bullet":
        return "-"
    if fmt == "none":
        return ""
    if fmt == "lowerLetter":
        return f"{_letters(number)})"
    if fmt == "upperLetter":
        return f"{_letters(number).upper()}."
    if fmt == "lowerRoman":
        return f"{_roman(number).lower()})"
    if fmt == "upperRoman":
        return f"{_roman(number)}."
    return f"{number}."


@dataclass
class Numbering(WordXml):
    """The document's lists, and the counters of the ones read so far."""

    styles: Styles
    abstract: dict[str, dict[int, Level]] = field(default_factory=dict)
    style_links: dict[str, str] = field(default_factory=dict)  # abstractNum → style id
    nums: dict[str, tuple[str, dict[int, Level]]] = field(default_factory=dict)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)

    # reading the definitions

    def load(self, root: etree._Element | None) -> None:
        if root is None:
            return
        for element in root.iter(self.q("abstractNum")):
            self._load_abstract(element)
        for element in root.iter(self.q("num")):
            self._load_num(element)

    def _read_level(self, lvl: etree._Element) -> tuple[int, Level]:
        level = Level(
            fmt=self.val(lvl.find(self.q("numFmt"))) or "decimal",
            start=to_int(self.val(lvl.find(self.q("start"))), 1),
        )
        lvl_text = lvl.find(self.q("lvlText"))
        if lvl_text is not None and not self.val(lvl_text) and level.fmt != "bullet":
            level.fmt = "none"
        return to_int(self.val(lvl, "ilvl"), 0), level

    def _load_abstract(self, element: etree._Element) -> None:
        abstract_id = self.val(element, "abstractNumId")
        if abstract_id is None:
            return
        self.abstract[abstract_id] = dict(
            self._read_level(lvl) for lvl in element.findall(self.q("lvl"))
        )
        if link := self.val(element.find(self.q("numStyleLink"))):
            self.style_links[abstract_id] = link

    def _load_num(self, element: etree._Element) -> None:
        num_id = self.val(element, "numId")
        abstract_id = self.val(element.find(self.q("abstractNumId")))
        if num_id is None or abstract_id is None:
            return
        overrides: dict[int, Level] = {}
        for override in element.findall(self.q("lvlOverride")):
            ilvl = to_int(self.val(override, "ilvl"), 0)
            if (level := self._override(override)) is not None:
                overrides[ilvl] = level
        self.nums[num_id] = (abstract_id, overrides)

    def _override(self, override: etree._Element) -> Level | None:
        """A level redefined for one list, or only a new start (``fmt`` empty)."""
        start = to_int(self.val(override.find(self.q("startOverride"))))
        if (lvl := override.find(self.q("lvl"))) is not None:
            level = self._read_level(lvl)[1]
            if start is not None:
                level.start = start
            return level
        if start is not None:
            return Level(fmt="", start=start)
        return None

    # using them

    def level(self, num_id: str, ilvl: int, depth: int = 0) -> Level | None:
        if num_id not in self.nums or depth > 5:
            return None
        abstract_id, overrides = self.nums[num_id]
        levels = self.abstract.get(abstract_id, {})
        if not levels and abstract_id in self.style_links:
            levels = self._style_levels(abstract_id, num_id, ilvl, depth)
        base = levels.get(ilvl)
        override = overrides.get(ilvl)
        if override is None:
            return base
        if not override.fmt:  # only a new start
            return Level(base.fmt if base else "decimal", override.start)
        return override

    def _style_levels(self, abstract_id: str, num_id: str, ilvl: int, depth: int):
        """A list style: its numbering lives in the num the style points at."""
        style = self.styles.get(self.style_links[abstract_id])
        if style is not None and style.num_id and style.num_id != num_id:
            base = self.level(style.num_id, ilvl, depth + 1)
            return {ilvl: base} if base else {}
        return {}

    def numbering_of(self, ppr: etree._Element | None, style_id: str | None):
        """(numId, ilvl) of a paragraph, or None."""
        num_id: str | None = None
        ilvl: int | None = None
        if ppr is not None and (numpr := ppr.find(self.q("numPr"))) is not None:
            num_id = self.val(numpr.find(self.q("numId")))
            ilvl = to_int(self.val(numpr.find(self.q("ilvl"))))
        for _chain_id, style in self.styles.chain(style_id):
            if num_id is None and style.num_id is not None:
                num_id = style.num_id
            if ilvl is None and style.ilvl is not None:
                ilvl = style.ilvl
        if num_id is None or num_id == "0":
            return None
        return num_id, ilvl or 0

    def next_label(self, num_id: str, ilvl: int) -> str:
        level = self.level(num_id, ilvl)
        if level is None:
            return ""
        counters = self.counters.setdefault(num_id, {})
        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else level.start
        for deeper in [key for key in counters if key > ilvl]:
            del counters[deeper]
        return label(level.fmt, counters[ilvl])
