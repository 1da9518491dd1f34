"""The terminal view, on a fixed-width colourless console, against golden text.

Regenerate after a deliberate change with: SOCKVIZ_UPDATE_GOLDEN=1 pytest tests/test_render.py
"""

from __future__ import annotations

import dataclasses
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


def _overlapping_calls():
    """send() and, in another thread, recv_into() start; send() ends first, then recv_into();
    then connect() alone."""
    from sockviz.core.events import Call
    from sockviz.core.timeline import CallEnded, CallStarted

    a = Call(id=1, name="send", text="send(b'x')", start=1.0)
    b = Call(id=2, name="recv_into", text="recv_into(<8192 bytes>)", start=1.5)
    c = Call(id=3, name="connect", text="connect(('192.0.2.2', 3001))", start=4.0)
    ended = {k.id: dataclasses.replace(k, end=k.start + 1, result_text=r)
             for k, r in ((a, "1"), (b, "118"), (c, None))}
    return [CallStarted(call=a), CallStarted(call=b), CallEnded(call=ended[1], packets=0),
            CallEnded(call=ended[2], packets=0), CallStarted(call=c),
            CallEnded(call=ended[3], packets=0)]


@pytest.mark.parametrize("layout", ["compact", "full"])
def test_an_end_that_does_not_follow_its_start_names_its_call(layout):
    """With calls that overlap (threads, a call inside a call), a bare '└ → 1' would read as
    the end of the call shown last; such an end names its call. An end right after its
    own start stays bare."""
    import io

    from rich.console import Console

    from sockviz.render.console import ConsoleSink

    out = io.StringIO()
    sink = ConsoleSink(Console(file=out, width=100, color_system=None), layout=layout)
    for entry in _overlapping_calls():
        sink.handle(entry)
    ends = [line.strip() for line in out.getvalue().splitlines() if "└" in line]
    assert ends[0].startswith("└ send() → 1")
    assert ends[1].startswith("└ recv_into() → 118")
    assert ends[2].startswith("└ → None")


def test_a_long_bytes_argument_is_cut_on_the_calls_line_and_its_size_said():
    """A 630-byte page sent by sendall() would fill twenty lines under '▶'; the line keeps
    its start and says its size, and an address after it stays whole."""
    from sockviz.render.view import SHOWN_LITERAL, short_call_text

    page = b'<!DOCTYPE HTML>\n<html lang="en">\n' + b"<li>x</li>\n" * 54
    text = short_call_text(f"sendto({page!r}, ('192.0.2.2', 3001))")
    assert text.endswith(f"…' ({len(page)} bytes), ('192.0.2.2', 3001))")
    assert len(text) < SHOWN_LITERAL + 45  # the literal cut, its size, the address
    assert short_call_text("send(b'Test en classe')") == "send(b'Test en classe')"
    # never cut inside an escape: the kept part is still a readable start of a literal
    escaped = short_call_text(f"send({bytes(range(40))!r})")
    assert escaped.split("…")[0][-1] != "\\" and "\\x" not in escaped.split("…")[0][-3:]
