"""The logging of a process started by ``consult dev``: imported before the
app exists (by consult/cli.py's main), so it imports nothing of Consult."""

import logging
import sys

CHILD_FLAG = "CONSULT_DEV_CHILD"


class _ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno < logging.WARNING:
            return message
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        return f"{record.levelname} {record.name}: {message}"


def _console_worthy(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.name.startswith("consult.mail")


def configure_child_logging() -> None:
    """In a process started by ``consult dev``: every record to stdout (its
    log file), and to stderr (the console) the warnings, the errors and the
    one-line summary of each email. Before create_app, whose basicConfig then
    leaves this alone."""
    full = logging.StreamHandler(sys.stdout)
    full.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(_ConsoleFormatter())
    console.addFilter(_console_worthy)
    root = logging.getLogger()
    root.addHandler(full)
    root.addHandler(console)
    root.setLevel(logging.INFO)
