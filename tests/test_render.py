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


def render(name: str, width: int = 100, layout: str = "full") -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, no_color=True, color_system=None, force_terminal=False,
                      highlight=False, emoji=False)
    sink = ConsoleSink(console, layout=layout)
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


def test_json_keeps_every_packet_when_calls_overlap():
    """Two threads' calls overlap (a send() and a reader's recv_into()): no line is lost,
    and each call's line still comes before the packets captured during it."""
    import io
    import json

    from scenarios import feed, tcp_exchange
    from sockviz.core.events import Call
    from sockviz.core.timeline import CallEnded, CallStarted, Summary
    from sockviz.render.jsonlines import JsonLinesSink

    packets = [e for e in feed(tcp_exchange().events) if type(e).__name__ == "PacketShown"]
    a = Call(id=1, name="send", text="send()", start=1.0, end=2.0)
    b = Call(id=2, name="recv_into", text="recv_into()", start=1.5, end=3.0)
    out = io.StringIO()
    sink = JsonLinesSink(out)
    sink.handle(CallStarted(call=a))
    sink.handle(packets[0])
    sink.handle(CallStarted(call=b))
    sink.handle(packets[1])
    sink.handle(CallEnded(call=a, packets=2))
    sink.handle(packets[2])
    sink.handle(CallEnded(call=b, packets=2))
    sink.handle(Summary(packets=3, calls=2, kernel_drops=0))
    sink.close()
    kinds = [(r["type"], r.get("name") or r.get("index"))
             for r in map(json.loads, out.getvalue().splitlines())]
    assert [k for k in kinds if k[0] == "packet"] == [("packet", p.packet.index) for p in packets[:3]]
    assert kinds.index(("call", "send")) < kinds.index(("packet", packets[0].packet.index))


def test_json_summary_comes_last_when_a_call_never_ended():
    """``resolve --timeout``: glibc's getaddrinfo() cannot be interrupted, so the run ends
    with the call open. The packets captured during it, held for its line, come out
    before the summary, which is the last line (the README's order)."""
    import io
    import json

    from scenarios import feed, tcp_exchange
    from sockviz.core.events import Call
    from sockviz.core.timeline import CallStarted, Note, Summary
    from sockviz.render.jsonlines import JsonLinesSink

    packets = [e for e in feed(tcp_exchange().events) if type(e).__name__ == "PacketShown"]
    call = Call(id=1, name="getaddrinfo", text="getaddrinfo('chat.sockviz.test', None)",
                start=1.0)
    out = io.StringIO()
    sink = JsonLinesSink(out)
    sink.handle(CallStarted(call=call))
    sink.handle(packets[0])
    sink.handle(packets[1])
    sink.handle(Note(time=2.5, text="no answer within 1.5 s"))
    sink.handle(Summary(packets=2, calls=0, kernel_drops=0))
    sink.close()
    kinds = [r["type"] for r in map(json.loads, out.getvalue().splitlines())]
    assert kinds == ["packet", "packet", "note", "summary"]
