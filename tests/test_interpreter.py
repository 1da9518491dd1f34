"""Whatever starts Python starts the interpreter sockviz runs in (``sys.executable``).

``python3`` on PATH is another interpreter on a fresh machine, one without
sockviz: a server started that way dies with "No module named 'sockviz'".
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.glob("src/sockviz/**/*.py"), *ROOT.glob("tests/*.py"),
                  *ROOT.glob("benchmarks/*.py")])
PYTHONS = {"python", "python3"}


def _argv_heads(tree: ast.AST):
    """First elements of list/tuple literals: the program of an argv."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
            head = node.elts[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                yield node.lineno, head.value


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_argv_starts_the_python_on_path(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    bad = [line for line, head in _argv_heads(tree) if head.split("/")[-1] in PYTHONS]
    assert bad == [], f"{path.name}: use sys.executable, not python3 from PATH (lines {bad})"
