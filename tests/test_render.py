"""The terminal view, on a fixed-width colourless console, against golden text.

Regenerate after a deliberate change with: SOCKVIZ_UPDATE_GOLDEN=1 pytest tests/test_render.py
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from scenarios import SCENARIOS, feed
from sockviz.render.console import ConsoleSink

GOLDEN = Path(__file__).parent / "golden"


def render(name: str, width: int = 100) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, no_color=True, color_system=None, force_terminal=False,
                      highlight=False, emoji=False)
    sink = ConsoleSink(console)
    for entry in feed(SCENARIOS[name]().events):
        sink.handle(entry)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_view_matches_golden(name):
    text = render(name)
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("SOCKVIZ_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("width", [60, 80, 160])
def test_no_line_is_wider_than_the_console(width):
    text = render("tcp_exchange", width)
    assert max(len(line) for line in text.splitlines()) <= width


def test_payload_cannot_inject_terminal_codes_or_markup():
    from sockviz.core.text import preview

    assert preview(b"\x1b[31m[bold]x\x00") == "\\x1b[31m[bold]x\\x00"
