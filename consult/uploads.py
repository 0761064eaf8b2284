"""Reading uploaded text files as people produce them."""

import csv
import io
from dataclasses import dataclass, field

from flask import flash
from flask_babel import gettext as _

from .errors import InvalidInput


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 / Latin-1 as spreadsheets and
    older word processors write it."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def check_size(data: bytes, limit: int) -> None:
    if len(data) > limit:
        raise InvalidInput(
            _("The file is too large (at most %(size)d MB).", size=max(1, limit // (1024 * 1024)))
        )


@dataclass
class CsvTable:
    """A CSV file read whole: its header and its rows, each with the number of
    the row's first physical line, as a spreadsheet numbers it."""

    headers: list[str]
    rows: list[tuple[int, dict]]


def read_csv(text: str, *, max_rows: int, header=lambda name: name) -> CsvTable:
    """Read a CSV file whose separator (comma, semicolon or tab) is guessed.

    Reads at most ``max_rows + 1`` rows (so the caller can say the rest was
    left out); rows are keyed by ``header(name)`` of each column. A cell over
    the csv module's field limit, or a quote never closed, is an InvalidInput
    naming the line, never an exception.
    """
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    rows: list[tuple[int, dict]] = []
    try:
        headers = [header(name) for name in reader.fieldnames or []]
        reader.fieldnames = headers
        for row in reader:
            newlines = sum(v.count("\n") for v in row.values() if isinstance(v, str))
            rows.append((reader.line_num - newlines, row))
            if len(rows) > max_rows:
                break
    except csv.Error:
        raise InvalidInput(
            _(
                "Line %(line)d of the file cannot be read: a cell is longer than %(limit)d "
                "characters, or a quotation mark is never closed.",
                line=max(reader.line_num, 1),
                limit=csv.field_size_limit(),
            )
        ) from None
    return CsvTable(headers, rows)


@dataclass
class RowResult:
    """One line of an import report: what the row was about and what happened."""

    line: int
    subject: str
    ok: bool
    message: str


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    error: str | None = None
    new_coalitions: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return sum(1 for row in self.rows if row.ok)

    @property
    def rejected(self) -> int:
        return sum(1 for row in self.rows if not row.ok)


def flash_report(report: ImportReport) -> None:
    """The one-line summary of an import, shown above its report."""
    if report.error is None:
        flash(
            _(
                "%(imported)d imported, %(rejected)d rejected.",
                imported=report.imported,
                rejected=report.rejected,
            ),
            "warning" if report.rejected else "success",
        )
