"""Where the fixed top-level folders (templates, translations, migrations) live.

In a checkout (and an editable install) they sit next to the ``consult``
package; a regular install copies them to ``<prefix>/share/consult``.
"""

import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parent
_INSTALLED = Path(sys.prefix) / "share" / "consult"


def project_dir(name: str) -> Path:
    """Return the folder ``name`` from the checkout, or from the installed share."""
    for root in (_CHECKOUT, _INSTALLED):
        candidate = root / name
        if candidate.is_dir():
            return candidate
    return _CHECKOUT / name


def instance_dir() -> Path:
    return (
        _CHECKOUT / "instance"
        if (_CHECKOUT / "pyproject.toml").exists()
        else Path.cwd() / "instance"
    )
