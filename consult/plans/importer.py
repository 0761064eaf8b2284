"""Read a plan document into a tree: title, preamble, sections, items, bullets,
footnotes and closing lines.

The input is what facilitators really have: text pasted from PDFs and word
processors, or Markdown. PDF text carries page-break artefacts (a line that
starts in lower case continues the previous block, hyphenated words split
across lines, stray ``**`` emphasis markers); they are repaired here, and
every repair is reported as a warning for the preview. No word of the input
is ever dropped.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from .parsed import SUPERSCRIPTS, ImportWarning, ParsedNode, ParsedPlan, assign_refs

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

    def line(kind, text, label="", style="", level=1):
        return Line(number, kind, clean_inline(text), label, style, level, indent, blank_before)

    if match := MD_HEADING.match(stripped):
        text, level = clean_inline(match.group(2)), len(match.group(1))
        if labelled := re.match(r"^([A-Z]|[IVXL]{2,6}|\d{1,3})[.)]\s+(\S.*)$", text):
            return line("heading", labelled.group(2), labelled.group(1), "md", level)
        return line("heading", text, "", "md", level)
    if match := FOOTNOTE.match(stripped):
        if match.group(1):
            return line("footnote", match.group(2), match.group(1))
        return line("footnote", match.group(4), match.group(3))
    if match := NUMBERED.match(stripped):
        rest = clean_inline(match.group(2))
        if is_all_caps(rest) and len(rest) <= 150:
            return line("heading", rest, match.group(1), "caps")
        return line("item", rest, match.group(1), "numbered")
    if match := LETTERED_ITEM.match(stripped):
        label, rest = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
        return line("item", rest, label, "lettered")
    if (match := LETTERED_HEADING.match(stripped)) and is_all_caps(clean_inline(match.group(2))):
        style = "roman" if ROMAN.match(match.group(1)) else "lettered"
        return line("heading", match.group(2), match.group(1), style)
    if match := BULLET.match(expanded):
        result = line("bullet", match.group(3))
        result.indent = len(match.group(1)) + (4 if match.group(2) in "◦○" else 0)
        return result
    text = clean_inline(stripped)
    if is_all_caps(text) and not text.endswith((",", ";")):
        return line("heading", text, "", "caps")
    if CLOSING.match(text):
        return line("closing", text)
    return line("text", text)


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
        if line.kind == "text" and previous is not None:
            target = None
            if not blank and previous.kind in {"text", "item", "bullet", "footnote", "heading"}:
                # A wrapped line of the same block (Markdown's lazy continuation);
                # headings only continue with another capitalised line.
                if previous.kind != "heading" or is_all_caps(line.text):
                    target = previous
            elif starts_as_continuation(line.text):
                # A page break split the block: join it back, skipping a footnote
                # that was printed at the bottom of the page in between.
                if (
                    previous.kind == "footnote"
                    and main_flow is not None
                    and not (main_flow.text.endswith(tuple(_TERMINAL)))
                ):
                    target = main_flow
                elif previous.kind in {"text", "item", "bullet", "footnote"}:
                    target = previous
                if target is not None:
                    warnings.append(ImportWarning(number, "joined"))
            if target is not None:
                target.text = _join(target.text, line.text, number, warnings)
                target.joined.append(number)
                blank = False
                continue
        if (
            line.kind == "heading"
            and previous is not None
            and previous.kind == "heading"
            and (not blank and previous.style == line.style == "caps" and not line.label)
        ):
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


# --- the tree ---------------------------------------------------------------


def _closing_lines(blocks: list[Line]) -> None:
    """A place/date line counts as closing only at the end of the document."""
    trailing = True
    for block in reversed(blocks):
        if block.kind == "footnote":
            continue
        if block.kind == "closing" and trailing:
            continue
        trailing = False
        if block.kind == "closing":
            block.kind = "text"


def _title(blocks: list[Line]) -> tuple[str | None, list[Line]]:
    if not blocks:
        return None, blocks
    first = blocks[0]
    if first.kind == "heading" and first.style == "md" and first.level == 1:
        return first.text, blocks[1:]
    if first.kind == "heading" and first.style == "caps" and not first.label:
        return first.text, blocks[1:]
    if (
        first.kind == "text"
        and len(first.text) <= 200
        and not first.text.endswith(tuple(".;,:"))
        and len(blocks) > 1
    ):
        return first.text, blocks[1:]
    return None, blocks


def _headings_by_shape(blocks: list[Line], warnings: list[ImportWarning]) -> None:
    """In a document without explicit headings, a short standalone line that
    introduces a list reads as a section heading."""
    if any(b.kind == "heading" for b in blocks):
        return
    for index, block in enumerate(blocks[:-1]):
        following = blocks[index + 1]
        if (
            block.kind == "text"
            and len(block.text) <= 80
            and block.text[:1].isupper()
            and not block.text.endswith(tuple(".;,"))
            and following.kind in {"bullet", "item"}
            and (index == 0 or block.blank_before)
        ):
            block.kind, block.style = "heading", "shape"
            warnings.append(ImportWarning(block.number, "heading_by_shape"))


def parse(text: str, fallback_title: str | None = None) -> ParsedPlan:
    """Parse a plan document; see the module docstring."""
    blocks, warnings = read_blocks(text)
    _closing_lines(blocks)
    title, blocks = _title(blocks)
    if title is None:
        warnings.append(ImportWarning(0, "no_title"))
        title = fallback_title
    _headings_by_shape(blocks, warnings)
    roots = _build_tree(blocks, warnings)
    _flag_continuations(roots, warnings)
    plan = ParsedPlan(
        title, roots, sorted(warnings, key=lambda w: w.line), normalise(text).split("\n")
    )
    assign_refs(plan, warnings)
    plan.warnings = sorted(warnings, key=lambda w: w.line)
    return plan


def _heading_level(block: Line, md_base: int, has_section: bool, roman_mode: bool) -> int:
    if block.style == "md":
        return max(1, block.level - md_base + 1)
    if block.style == "lettered" and not (roman_mode and block.label in "IVX"):
        return 2 if has_section else 1
    return 1


def _build_tree(blocks: list[Line], warnings: list[ImportWarning]) -> list[ParsedNode]:
    md_levels = [b.level for b in blocks if b.kind == "heading" and b.style == "md"]
    md_base = min(md_levels) if md_levels else 1
    roman_mode = any(b.kind == "heading" and b.style == "roman" for b in blocks)
    roots: list[ParsedNode] = []
    footnotes: list[ParsedNode] = []
    closings: list[ParsedNode] = []
    sections: list[ParsedNode] = []  # the open heading at each level
    last_item: ParsedNode | None = None
    bullets: list[tuple[int, ParsedNode]] = []  # (indent, node) of the open bullet list

    def container() -> list[ParsedNode]:
        return sections[-1].children if sections else roots

    for block in blocks:
        if block.kind == "footnote":
            footnotes.append(
                ParsedNode(
                    "footnote", block.text, block.label, line=block.number, joined=block.joined
                )
            )
            continue
        if block.kind == "closing":
            closings.append(ParsedNode("closing", block.text, line=block.number))
            continue
        if block.kind == "heading":
            level = _heading_level(block, md_base, bool(sections), roman_mode)
            node = ParsedNode("section", block.text, block.label, level, block.number)
            node.joined = block.joined
            while sections and sections[-1].level >= level:
                sections.pop()
            container().append(node)
            sections.append(node)
            last_item, bullets = None, []
            continue
        if block.kind == "item":
            node = ParsedNode(
                "item", block.text, block.label, line=block.number, joined=block.joined
            )
            if block.style == "lettered" and last_item is not None and last_item.number.isdigit():
                last_item.children.append(node)
            else:
                container().append(node)
                last_item = node
            bullets = []
            continue
        if block.kind == "bullet":
            node = ParsedNode("bullet", block.text, line=block.number, joined=block.joined)
            while bullets and bullets[-1][0] > block.indent:
                bullets.pop()
            if bullets and bullets[-1][0] == block.indent:
                bullets.pop()
            if bullets:
                bullets[-1][1].children.append(node)
            else:
                (last_item.children if last_item is not None else container()).append(node)
            bullets.append((block.indent, node))
            continue
        node = ParsedNode("paragraph", block.text, line=block.number, joined=block.joined)
        container().append(node)
        last_item, bullets = None, []
    return roots + closings + footnotes


def _flag_continuations(nodes: list[ParsedNode], warnings: list[ImportWarning]) -> None:
    """A paragraph between item n and item n+1 of one list is most often the end
    of item n, cut off by a page break where the next page began with a capital
    letter; it is kept as read, flagged, and the preview offers to join it."""
    for index, node in enumerate(nodes):
        _flag_continuations(node.children, warnings)
        if node.kind != "paragraph" or index == 0 or index + 1 >= len(nodes):
            continue
        before, after = nodes[index - 1], nodes[index + 1]
        if (
            before.kind == after.kind == "item"
            and before.number.isdigit()
            and after.number.isdigit()
            and int(after.number) == int(before.number) + 1
        ):
            params = {"previous": before.number, "next": after.number}
            warnings.append(ImportWarning(node.line, "continuation", params, fix="join"))
