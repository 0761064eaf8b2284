"""CSV that spreadsheets open safely: every download of Consult (the audit
log, the dashboard, votes, open data) writes its cells through ``safe_cell``."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
