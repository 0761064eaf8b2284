"""The source of a plan import read line by line, for :mod:`.importer`:
the text cleaned up (Unicode, line ends, stray emphasis), what each line is
(heading, item, bullet, footnote, closing line or text), and the lines grouped
into blocks, repairing what page breaks did to them (a block cut in two, a word
hyphenated across lines, a footnote printed in between); each repair is a
warning for the preview.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from .parsed import SUPERSCRIPTS, ImportWarning

MAX_TEXT_LENGTH = 2_000_000

_MONTHS = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|"
    "diciembre|janeiro|fevereiro|março|marco|maio|junho|julho|setembro|outubro|novembro|"
    "dezembro|january|february|march|april|may|june|july|august|september|october|november|"
    "december"
)

MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
NUMBERED = re.compile(
    r"^(?:[-–•*]\s*)?(?:\*\*)?(\d{1,3})(?:\.(?!\d)|\))(?:\*\*)?\s*(?:[-–]\s+)?(?=\S)(.*)$"
)
LETTERED_ITEM = re.compile(
    r"^(?:[-–•*]\s*)?\(?([a-z]|[ivx]{2,4})\)\s+(?=\S)(.*)$|^([a-z])\.\s+(?=\S)(.*)$"
)
LETTERED_HEADING = re.compile(r"^([A-Z]|[IVXL]{1,5})[.)]\s+(?=\S)(.*)$")
BULLET = re.compile(r"^([ \t]*)([-–—•·▪◦●○*])\s+(?=\S)(.*)$")
FOOTNOTE = re.compile(rf"^([{SUPERSCRIPTS}]+)\s+(?=\S)(.*)$|^\[\^?(\d{{1,3}})\]:?\s+(?=\S)(.*)$")
DATE = (
    rf"(?:\d{{1,2}}\s*(?:º|°|o)?\.?\s*(?:de\s+)?(?:{_MONTHS})\.?\s*(?:de\s+|del\s+|,\s*)?\d{{4}}"
    rf"|(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)
CLOSING = re.compile(rf"^[^\W\d_][^,\n]{{0,80}},\s*{DATE}\.?$", re.IGNORECASE)
PAGE_NUMBER = re.compile(r"^(?:[-–]\s*)?\d{1,4}(?:\s*[-–])?$|^(?:página|pagina|page)\s+\d+", re.I)
CONTINUATION_START = re.compile(r"^[,;:)\]»”’.]")
_TERMINAL = '.!?:;”"»)'

# --- text clean-up --------------------------------------------------------


def normalise(text: str) -> str:
    """NFC; Unix line ends; no control, zero-width or bidi-override characters."""
    text = unicodedata.normalize("NFC", text[:MAX_TEXT_LENGTH])
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\n\t" or category not in {"Cc", "Cf", "Cs", "Co"}:
            kept.append(ch)
    return "".join(kept)


def clean_inline(text: str) -> str:
    """Remove stray emphasis markers and squeeze spaces."""
    text = text.replace("**", "")
    return re.sub(r"[ \t]+", " ", text).strip()


def words(text: str) -> list[str]:
    """The words of a text, for checking that nothing was lost."""
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFC", text).casefold())


# --- line classification --------------------------------------------------


def is_all_caps(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 3 and all(ch.isupper() for ch in letters) and len(text) <= 200


@dataclass
class Line:
    number: int
    kind: str  # heading, item, bullet, footnote, closing, text
    text: str
    label: str = ""
    style: str = ""  # headings: md, caps, lettered, roman; items: numbered, lettered
    level: int = 1  # Markdown heading level
    indent: int = 0
    blank_before: bool = False
    joined: list[int] = field(default_factory=list)  # later source lines read into it


ROMAN = re.compile(r"^[IVXL]{2,6}$")


def classify(number: int, raw: str, blank_before: bool) -> Line:
    """What one non-blank line of the source is."""
    expanded = raw.expandtabs(4)
    stripped = expanded.strip()
    indent = len(expanded) - len(expanded.lstrip())
    for read in _LABELLED_SHAPES:
        if (shape := read(stripped)) is not None:
            return _line(number, indent, blank_before, *shape)
    if match := BULLET.match(expanded):
        line = _line(number, indent, blank_before, "bullet", match.group(3))
        line.indent = len(match.group(1)) + (4 if match.group(2) in "◦○" else 0)
        return line
    return _line(number, indent, blank_before, *_unlabelled(stripped))


def _line(number, indent, blank_before, kind, text, label="", style="", level=1) -> Line:
    return Line(number, kind, clean_inline(text), label, style, level, indent, blank_before)


# Each reads one shape of line: (kind, text, label, style, level), or None when
# the line does not have that shape.


def _markdown_heading(stripped: str) -> tuple | None:
    if not (match := MD_HEADING.match(stripped)):
        return None
    text, level = clean_inline(match.group(2)), len(match.group(1))
    if labelled := re.match(r"^([A-Z]|[IVXL]{2,6}|\d{1,3})[.)]\s+(\S.*)$", text):
        return "heading", labelled.group(2), labelled.group(1), "md", level
    return "heading", text, "", "md", level


def _footnote(stripped: str) -> tuple | None:
    if not (match := FOOTNOTE.match(stripped)):
        return None
    if match.group(1):
        return "footnote", match.group(2), match.group(1)
    return "footnote", match.group(4), match.group(3)


def _numbered(stripped: str) -> tuple | None:
    if not (match := NUMBERED.match(stripped)):
        return None
    rest = clean_inline(match.group(2))
    if is_all_caps(rest) and len(rest) <= 150:
        return "heading", rest, match.group(1), "caps"
    return "item", rest, match.group(1), "numbered"


def _lettered_item(stripped: str) -> tuple | None:
    if not (match := LETTERED_ITEM.match(stripped)):
        return None
    label, rest = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    return "item", rest, label, "lettered"


def _lettered_heading(stripped: str) -> tuple | None:
    match = LETTERED_HEADING.match(stripped)
    if not match or not is_all_caps(clean_inline(match.group(2))):
        return None
    style = "roman" if ROMAN.match(match.group(1)) else "lettered"
    return "heading", match.group(2), match.group(1), style


_LABELLED_SHAPES = (_markdown_heading, _footnote, _numbered, _lettered_item, _lettered_heading)


def _unlabelled(stripped: str) -> tuple:
    text = clean_inline(stripped)
    if is_all_caps(text) and not text.endswith((",", ";")):
        return "heading", text, "", "caps"
    if CLOSING.match(text):
        return "closing", text
    return "text", text


# --- blocks: lines joined into paragraphs, items, bullets ------------------


def starts_as_continuation(text: str) -> bool:
    first = text[:1]
    return first.islower() or bool(CONTINUATION_START.match(text))


def _join(previous: str, addition: str, line_number: int, warnings: list) -> str:
    if re.search(r"[^\W\d_]-$", previous) and addition[:1].islower():
        first, second = words(previous[:-1])[-1], words(addition)[0]
        head = re.search(r"\S*$", previous[:-1]).group(0)
        tail = re.match(r"\S*", addition).group(0)
        warnings.append(
            ImportWarning(
                line_number, "dehyphenated", {"word": head + tail, "first": first, "second": second}
            )
        )
        return previous[:-1] + addition
    return f"{previous} {addition}".strip()


def read_blocks(text: str) -> tuple[list[Line], list[ImportWarning]]:
    """Group the source lines into blocks, repairing page-break artefacts."""
    warnings: list[ImportWarning] = []
    blocks: list[Line] = []
    blank = True
    main_flow: Line | None = None  # the last paragraph, item or bullet
    for number, raw in enumerate(normalise(text).split("\n"), start=1):
        if not raw.strip():
            blank = True
            continue
        line = classify(number, raw, blank)
        previous = blocks[-1] if blocks else None
        target, repaired = _continued_block(line, previous, blank, main_flow)
        if repaired:
            warnings.append(ImportWarning(number, "joined"))
        if target is not None:
            target.text = _join(target.text, line.text, number, warnings)
            target.joined.append(number)
            blank = False
            continue
        if _continues_caps_heading(line, previous, blank):
            previous.text = f"{previous.text} {line.text}"
            previous.joined.append(number)
            continue
        if line.kind == "text" and PAGE_NUMBER.match(line.text):
            warnings.append(ImportWarning(number, "page_number"))
        blocks.append(line)
        if line.kind in {"text", "item", "bullet"}:
            main_flow = line
        blank = False
    return blocks, warnings


def _continued_block(
    line: Line, previous: Line | None, blank: bool, main_flow: Line | None
) -> tuple[Line | None, bool]:
    """The block a text line continues (None when it starts one of its own), and
    whether that repairs a page break."""
    if line.kind != "text" or previous is None:
        return None, False
    if not blank and previous.kind in {"text", "item", "bullet", "footnote", "heading"}:
        # A wrapped line of the same block (Markdown's lazy continuation);
        # headings only continue with another capitalised line.
        if previous.kind != "heading" or is_all_caps(line.text):
            return previous, False
        return None, False
    if not starts_as_continuation(line.text):
        return None, False
    # A page break split the block: join it back, skipping a footnote that was
    # printed at the bottom of the page in between.
    if (
        previous.kind == "footnote"
        and main_flow is not None
        and not (main_flow.text.endswith(tuple(_TERMINAL)))
    ):
        return main_flow, True
    if previous.kind in {"text", "item", "bullet", "footnote"}:
        return previous, True
    return None, False


def _continues_caps_heading(line: Line, previous: Line | None, blank: bool) -> bool:
    """A capitalised heading wrapped onto the next line, without a label of its own."""
    return (
        line.kind == "heading"
        and previous is not None
        and previous.kind == "heading"
        and (not blank and previous.style == line.style == "caps" and not line.label)
    )
