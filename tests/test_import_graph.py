"""No import circle through the lab, the replay, the commands or the sources (issue 11).

Every ``import`` in a module counts, those inside functions too (they run
when it is called), but not those under ``if TYPE_CHECKING:`` (never run).
A circle makes either module impossible to understand, or load, alone:
``lab/netns.py`` once held the service thread the DNS and chat servers ran
on while it imported them to start them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGES = ("sockviz.lab", "sockviz.replay", "sockviz.commands", "sockviz.sources")


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def _is_module(name: str) -> bool:
    base = SRC / name.replace(".", "/")
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = {f"{node.module}.{alias.name}" for alias in node.names}
            modules = {name for name in names if _is_module(name)}
            found |= modules  # ``from pkg import mod``: the module mod
            if modules != names:  # ``from mod import name``: the module itself
                found.add(node.module)
    return {name for name in found if name.startswith("sockviz") and _is_module(name)}


GRAPH = {_module_name(p): _imports(p) for p in SRC.rglob("*.py")}


def _reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for name in GRAPH.get(todo.pop(), ()):
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m.startswith(PACKAGES)))
def test_no_import_circle_through(module):
    circles = sorted(m for m in GRAPH[module] if m != module and module in _reachable(m))
    assert circles == [], f"{module} imports {circles}, which import it back"


def test_the_graph_sees_a_lazy_import():
    # The check would pass on anything if function-level imports were missed.
    assert "sockviz.lab.services" in GRAPH["sockviz.lab.dnsserver"]
    assert "sockviz.lab.dnsserver" in GRAPH["sockviz.lab.netns"]
