"""Reading uploaded text files as people produce them."""

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
