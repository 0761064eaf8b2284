"""The codebase stays one a newcomer can hold in their head (issue 17): modules
of one responsibility, short functions. ruff checks the complexity (C901 at
10, pyproject.toml); this checks the sizes."""

import ast
from pathlib import Path

CONSULT = Path(__file__).resolve().parent.parent / "consult"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# Data rather than code, named with why (README, "Layout").
LONG_MODULES = {"api/openapi.py": "the OpenAPI document, written as data"}


def modules():
    return sorted(CONSULT.rglob("*.py"))


def test_no_module_is_over_400_lines_except_data():
    long = {
        str(path.relative_to(CONSULT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in modules()
    }
    over = {name: n for name, n in long.items() if n > MAX_MODULE_LINES}
    assert set(over) <= set(LONG_MODULES), over


def test_no_function_is_over_60_lines():
    over = []
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    over.append(f"{path.relative_to(CONSULT)}:{node.lineno} {node.name} ({length})")
    assert not over, over
