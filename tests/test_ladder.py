"""The ladder (issue 16): the timeline as a sequence diagram, in a terminal, an SVG, a page.

The shipped captures go through the replay's own path (``sockviz.replay.replay``,
its correlator and its sinks) into a list of entries; the ladder of each is
compared with golden text on a fixed-width, colourless console. Regenerate
after a deliberate change with: SOCKVIZ_UPDATE_GOLDEN=1 pytest tests/test_ladder.py
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from scenarios import CollectSink
from sockviz.core.events import Call
from sockviz.core.timeline import CallEnded, CallStarted, Note, PacketShown
from sockviz.render.ladder import Ladder, LadderSink, build_sections, packet_label, to_html, to_svg

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "captures"
GOLDEN = Path(__file__).parent / "golden" / "ladder"
SHIPPED = ["tcp", "udp", "tcp-refused", "getaddrinfo"]
WIDTHS = [80, 120]
SVG = "{http://www.w3.org/2000/svg}"
SERVER = ("192.0.2.2", 3001)  # conversation 2 of tcp.pcapng


@functools.cache
def _replayed(name: str) -> tuple:
    """The timeline of a shipped capture, as ``sockviz replay`` makes it for its sinks."""
    from sockviz.capfile.reader import open_capture
    from sockviz.environment import Environment
    from sockviz.replay import replay

    sink = CollectSink()
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), width=100, color=False)
    with open_capture(CAPTURES / f"{name}.pcapng") as reader:
        status = replay(reader, env, view=False, sinks=[sink])
    assert status == 0
    return tuple(sink.entries)


def entries_of(name: str) -> list:
    return list(_replayed(name))


def ends(name: str, conversation: int) -> tuple[str, str]:
    """'192.0.2.1:41316' and '192.0.2.2:3001': a conversation's ends as its first packet has them
    (ports change with each run that made the capture)."""
    p = next(e for e in packets(entries_of(name)) if e.conversation == conversation).packet.decoded
    return f"{p.src}:{p.sport}", f"{p.dst}:{p.dport}"


def console(width: int) -> Console:
    return Console(width=width, no_color=True, color_system=None, force_terminal=False,
                   highlight=False, emoji=False, file=io.StringIO())


def draw(entries, width: int = 80, **kw) -> str:
    c = console(width)
    c.print(Ladder(entries, **kw))
    return c.file.getvalue()


def packets(entries) -> list[PacketShown]:
    return [e for e in entries if isinstance(e, PacketShown)]


# -- the terminal --------------------------------------------------------------

@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", SHIPPED)
def test_terminal_ladder_matches_golden(name, width):
    text = draw(entries_of(name), width)
    path = GOLDEN / f"{name}-{width}.txt"
    if os.environ.get("SOCKVIZ_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("meanings", [False, True], ids=["plain", "meanings"])
@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
@pytest.mark.parametrize("name", [*SHIPPED, "tcp6", "udp-unreachable", "getnameinfo"])
def test_no_line_is_wider_than_the_console_nor_ends_in_spaces(name, width, meanings):
    text = draw(entries_of(name), width, meanings=meanings)
    for line in text.splitlines():
        assert len(line) <= width, line
        assert line == line.rstrip(), repr(line)


@pytest.mark.parametrize("name", [*SHIPPED, "tcp6", "udp-unreachable", "getnameinfo"])
def test_every_packet_is_one_arrow_between_the_lifelines(name):
    entries = entries_of(name)
    text = draw(entries, 120)
    heads = text.count("▶") + text.count("◀") - 2  # the legend has one of each
    assert heads == len(packets(entries))


def test_the_tcp_ladder_reads_as_the_course_figure():
    text = draw(entries_of("tcp"), 80)
    lines = text.splitlines()
    # The calls at the left edge, with result and duration.
    assert any(line.startswith("connect() → None (") for line in lines)
    assert any(line.startswith("send() → 14 (") for line in lines)
    # Flags and relative numbers on the arrows, out to the right, in to the left.
    syn = next(line for line in lines if "SYN seq=0" in line)
    assert "──▶│" in syn and "◀" not in syn
    synack = next(line for line in lines if "SYN,ACK seq=0 ack=1" in line)
    assert "│◀──" in synack
    assert "PSH,ACK 1:15 (14 B)" in text
    # The connect() call's bracket spans its packets on the same rows: the ARP its first
    # packet needed (the DNS query's, which comes first), then the handshake.
    tcp = next(i for i, line in enumerate(lines) if line.startswith("conversation 2"))
    start = next(i for i, line in enumerate(lines) if line.startswith("connect()") and i > tcp)
    assert "ARP who has 192.0.2.2?" in lines[start] and "┐" in lines[start]
    syn = next(i for i, line in enumerate(lines) if "SYN seq=0" in line)
    assert syn > start
    ack = next(i for i, line in enumerate(lines) if "ACK seq=1 ack=1 " in line)
    assert "┘" in lines[ack + 1] and "ESTABLISHED" in lines[ack + 1]  # the server's new state
    # Δt at the right edge, the peer's address over its column.
    assert lines[syn + 2].rstrip().endswith("µs")  # the SYN/ACK, under the SYN's state
    assert "192.0.2.2:3001" in text and ends("tcp", 2)[0] in text


def test_packets_outside_any_call_are_drawn_where_they_fall():
    text = draw(entries_of("tcp"), 80)
    lines = text.splitlines()
    send_end = next(i for i, line in enumerate(lines) if "┘" in line and "ack=15" in line)
    recv = next(i for i, line in enumerate(lines) if line.startswith("recv()"))
    between = lines[send_end + 1:recv]
    assert any("PSH,ACK 1:15" in line and "◀" in line for line in between)  # the echo
    assert all(line.startswith(" ") for line in between)  # no call beside them


def test_each_conversation_has_its_heading_and_the_dns_server_its_column():
    text = draw(entries_of("tcp"), 80)
    dns, tcp = ends("tcp", 1), ends("tcp", 2)
    assert f"conversation 1 · DNS over UDP · {dns[0]} ⇄ 192.0.2.2:53" in text
    assert f"conversation 2 · TCP · {tcp[0]} ⇄ 192.0.2.2:3001" in text
    assert "DNS server" in text
    # connect() resolved the name itself: the DNS conversation comes first, the call's
    # label beside its DNS messages, then again in its own conversation.
    first = next(line for line in text.splitlines() if "DNS A chat.sockviz.test?" in line)
    assert first.startswith("connect() → None") and "┐" in first
    assert text.count("connect() → None") == 2
    assert text.index("conversation 2") < text.rindex("connect()")
    # The ARP exchange before the first DNS query goes with the call it came during.
    assert text.index("conversation 2") < text.index("ARP who has 192.0.2.2?")


def test_a_name_resolved_inside_connect_has_its_bracket_over_the_dns_messages():
    """connect(('chat.sockviz.test', 3001)): CPython resolves the name inside the call, so
    its DNS messages are connect()'s and drawn as getaddrinfo()'s are: the call's label at
    the left edge of the DNS conversation, its bracket over them (in the SVG too)."""
    from sockviz.render.ladder import plan_rows

    for name, call in (("tcp", "connect"), ("udp", "sendto")):
        dns, own = build_sections(entries_of(name))[:2]
        assert dns.proto.startswith("DNS") and not own.proto.startswith("DNS")
        rows = plan_rows(dns, left_width=26, right_width=0, gap_width=40)
        arrows = [r for r in rows if r.kind == "arrow"]
        assert arrows and all(r.left_call is not None and r.left_call.name == call for r in arrows)
        assert [r.left_bracket for r in arrows] == ["top", *["mid"] * (len(arrows) - 2), "bottom"]
        assert "".join(t for t, _ in rows[0].left).startswith(f"{call}()")
        # Counted once in the page's words, though drawn twice.
        starts = [i for s in build_sections(entries_of(name)) for i in s.items
                  if type(i).__name__ == "CallMark" and i.edge == "start" and not i.again]
        assert len(starts) == len({i.call.id for i in starts})
    planned = sum(1 for s in build_sections(entries_of("tcp"))
                  for r in plan_rows(s, left_width=26, right_width=0, gap_width=40)
                  if r.left_bracket in ("top", "single"))
    assert planned == 4  # connect() twice (DNS, TCP), send(), close()
    assert to_svg(entries_of("tcp")).count('class="bracket"') == planned


def test_one_conversation_alone():
    entries = entries_of("tcp")
    text = draw(entries, 80, conversation=2)
    assert "conversation 2" in text and "conversation 1" not in text
    assert "DNS A" not in text and "DNS server" not in text
    assert "socket() →" in text and "close() →" in text  # calls without packets stay with it
    assert "no conversation 7 in this trace" in draw(entries, 80, conversation=7)


def test_meanings_beside_the_arrows():
    text = draw(entries_of("tcp"), 120, meanings=True)
    assert "you acknowledge the server's SYN" in text
    assert "you acknowledge the server's SYN" not in draw(entries_of("tcp"), 120)


def test_a_failed_call_shows_its_exception():
    text = draw(entries_of("tcp-refused"), 120)
    assert "connect() ✗ ConnectionRefusedError" in text
    assert "RST,ACK seq=0 ack=1" in text


def test_notes_are_shown_dimly_or_left_out():
    entries = entries_of("udp")
    send = next(i for i, e in enumerate(entries) if isinstance(e, CallEnded)
                and e.call.name == "sendto")
    note = Note(time=entries[send].call.end, text="the datagram left at once")
    with_note = [*entries[:send + 1], note, *entries[send + 1:]]
    assert "the datagram left at once" in draw(with_note, 80)
    assert "the datagram left at once" not in draw(with_note, 80, notes=False)


def test_labels_of_the_arrows():
    labels = {e.step: packet_label(e) for e in packets(entries_of("tcp"))}
    assert labels["syn"][0] == "SYN seq=0"
    assert labels["synack"][0] == "SYN,ACK seq=0 ack=1"
    assert labels["data"][0] == "PSH,ACK 1:15 (14 B)"
    assert labels["data"][1] == '"Test en classe"'
    assert labels["dns-query"][0] == "DNS A chat.sockviz.test?"
    assert labels["dns-response"][0] == "DNS A 192.0.2.2"
    udp = {e.step: packet_label(e) for e in packets(entries_of("udp-unreachable"))}
    assert udp["port-unreachable"][0] == "ICMP port unreachable"


# -- both ends' calls, TCP states: hand-built entries ---------------------------

def _when(e) -> float:
    if isinstance(e, PacketShown):
        return e.packet.time
    if isinstance(e, CallStarted):
        return e.call.start
    if isinstance(e, CallEnded):
        return e.call.end
    return e.time


def _merged(entries: list, extra: list) -> list:
    """``extra`` put among ``entries`` in time order (each after what came at the same time)."""
    out = list(entries)
    for e in extra:
        t = _when(e)
        at = next((i for i, x in enumerate(out) if not isinstance(x, CallStarted | CallEnded
                                                                   | PacketShown | Note)
                   or _when(x) > t), len(out))
        out.insert(at, e)
    return out


def _server_call(ident: int, name: str, start: float, end: float, result: str, **kw):
    call = Call(id=ident, name=name, text=f"{name}()", start=start, transport="TCP", **kw)
    done = dataclasses.replace(call, end=end, result_text=result)
    return [CallStarted(call=call), CallEnded(call=done, packets=0)]


def both_sides() -> list:
    """tcp.pcapng's conversation 2 with the server's calls, as a trace of both ends has them."""
    entries = entries_of("tcp")
    tcp = [e for e in packets(entries) if e.conversation == 2]
    syn, _, hs_ack, data, _, echo, _, fin, fin2, _ = tcp
    t = {name: e.packet.time for name, e in
         (("syn", syn), ("ack", hs_ack), ("data", data), ("echo", echo), ("fin", fin),
          ("fin2", fin2))}
    address, port = ends("tcp", 2)[0].rsplit(":", 1)
    client = (address, int(port))
    local = {"local": SERVER, "peer": client}
    extra = [
        *_server_call(101, "listen", t["syn"] - 0.2, t["syn"] - 0.19, "None",
                      local=("0.0.0.0", 3001)),
        *_server_call(102, "accept", t["ack"] + 1e-6, t["ack"] + 2e-6,
                      f"(<socket fd=4>, {client!r})", **local),
        *_server_call(103, "recv", t["data"] + 1e-6, t["data"] + 2e-6, "b'Test en classe'", **local),
        *_server_call(104, "sendall", t["echo"] - 1e-6, t["echo"] + 1e-6, "None", **local),
        *_server_call(105, "close", t["fin2"] - 1e-6, t["fin2"] + 1e-6, "None", **local),
    ]
    return _merged(entries, extra)


def test_the_other_ends_calls_go_to_the_right_edge():
    entries = both_sides()
    (tcp,) = [s for s in build_sections(entries) if s.number == 2]
    sides = {i.call.id: i.side for i in tcp.items if hasattr(i, "side")}
    assert {k for k, side in sides.items() if side == "right"} == {101, 102, 103, 104, 105}
    assert {k for k, side in sides.items() if side == "left"} == {1, 2, 3, 4, 5, 6}  # the client's
    for width in (40, 60):
        for line in draw(entries, width).splitlines():
            assert len(line) <= width and line == line.rstrip()
    for width in (80, 120):
        text = draw(entries, width, conversation=2)
        for line in text.splitlines():
            assert len(line) <= width and line == line.rstrip()
        lines = text.splitlines()
        accept = next(line for line in lines if "accept()" in line)
        # right of the server's lifeline, the client's column empty on that row
        assert accept.index("accept()") > accept.rindex("│") - 3
        assert not accept.startswith("accept")
        sendall = next(i for i, line in enumerate(lines) if "sendall()" in line)
        assert any("PSH,ACK 1:15" in line and "◀" in line for line in lines[sendall:sendall + 2])
        assert any(line.startswith("connect()") for line in lines)
    svg = ET.fromstring(to_svg(entries, conversation=2))
    right_calls = [t for t in svg.iter(f"{SVG}text") if "right" in (t.get("class") or "")]
    assert {"".join(t.itertext()).split("()")[0].split("\n")[-1] for t in right_calls} >= {
        "accept", "recv", "sendall", "close", "listen"}


def test_tcp_states_beside_each_column_where_they_change():
    # The correlator's states (core/tcpstates.py, RFC 9293 §3.3.2), each shown where it changes.
    entries = entries_of("tcp")
    text = draw(entries, 80, conversation=2)
    lines = text.splitlines()
    syn = next(i for i, line in enumerate(lines) if "SYN seq=0" in line)
    # After the SYN the client is SYN-SENT; the server is not known until it answers.
    assert "SYN-SENT" in lines[syn + 1] and "SYN-RECEIVED" not in lines[syn + 1]
    synack = next(i for i, line in enumerate(lines) if "SYN,ACK" in line)
    state = lines[synack + 1]
    assert state.index("ESTABLISHED") < state.index("SYN-RECEIVED")  # the client's on the left
    ack = synack + 2
    assert "ACK seq=1 ack=1" in lines[ack] and "ESTABLISHED" in lines[ack + 1].split("│")[-2]
    assert text.count("ESTABLISHED") == 2  # once per end, where it changed
    fin = next(i for i, line in enumerate(lines) if "FIN,ACK seq=15 ack=15" in line)
    assert "FIN-WAIT-1" in lines[fin + 1] and "CLOSE-WAIT" in lines[fin + 1]
    assert "LAST-ACK" in lines[fin + 3] and "TIME-WAIT" in lines[fin + 3]
    assert "CLOSED" in lines[fin + 5] and "TIME-WAIT" not in lines[fin + 5]
    for width in (40, 60, 120):
        for line in draw(entries, width).splitlines():
            assert len(line) <= width and line == line.rstrip()
    svg = ET.fromstring(to_svg(entries))
    states = ["".join(g.itertext()) for g in svg.iter(f"{SVG}g") if g.get("class") == "state"]
    assert states[:3] == ["SYN-SENT", "ESTABLISHED", "SYN-RECEIVED"]
    assert "TIME-WAIT" in states


def test_no_states_without_the_field():
    entries = [dataclasses.replace(e, tcp_states=None) if isinstance(e, PacketShown) else e
               for e in entries_of("tcp")]
    text = draw(entries, 80)
    assert "ESTABLISHED" not in text and "SYN-SENT" not in text


# -- SVG and HTML ------------------------------------------------------------

def _svg_root(text: str) -> ET.Element:
    assert text.startswith("<?xml")
    return ET.fromstring(text.encode("utf-8"))


@pytest.mark.parametrize("name", [*SHIPPED, "tcp6", "udp-unreachable", "getnameinfo"])
def test_the_svg_is_xml_with_one_arrow_per_packet_and_every_call_and_flag(name):
    entries = entries_of(name)
    root = _svg_root(to_svg(entries))
    assert root.tag == f"{SVG}svg"
    arrows = [e for e in root.iter() if "arrow" in (e.get("class") or "").split()]
    assert len(arrows) == len(packets(entries))
    assert all(a.tag in (f"{SVG}line", f"{SVG}path") and a.get("marker-end") for a in arrows)
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    for e in entries:
        if isinstance(e, CallStarted):
            assert f"{e.call.name}()" in texts
    for p in packets(entries):
        assert packet_label(p)[0].split(" ")[0] in texts
    # Standalone: no external resource, generic font families only.
    raw = to_svg(entries)
    assert "href=\"http" not in raw and "url(http" not in raw and "@import" not in raw
    families = {e.get("font-family") for e in root.iter() if e.get("font-family")}
    assert families <= {"monospace", "sans-serif"}


def test_the_svg_with_meanings_and_a_title():
    root = _svg_root(to_svg(entries_of("tcp"), meanings=True, title="TCP <client> & server"))
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "TCP <client> & server" in texts
    assert "three-way handshake is complete" in texts


def test_the_html_page_is_standalone_xml_with_the_svg_a_title_and_a_legend():
    page = to_html(entries_of("udp"), title="UDP lesson")
    root = ET.fromstring(page.encode("utf-8"))
    ns = "{http://www.w3.org/1999/xhtml}"
    assert root.tag == f"{ns}html"
    assert root.find(f"{ns}head/{ns}title").text == "UDP lesson"
    assert root.find(f".//{SVG}svg") is not None
    assert "How to read it" in "".join(root.itertext())
    assert "http://" not in page.replace("http://www.w3.org/", "")
    assert "<script" not in page and "<link" not in page


def test_the_sink_collects_prints_on_close_and_shows_in_a_notebook():
    c = console(80)
    sink = LadderSink(c)
    for e in entries_of("tcp-refused"):
        sink.handle(e)
    assert c.file.getvalue() == ""  # nothing until the end
    sink.close()
    assert c.file.getvalue() == draw(entries_of("tcp-refused"), 80)
    html = sink._repr_html_()
    assert "<svg" in html and "connect()" in html
    ET.fromstring(sink._repr_svg_())
    other = console(80)
    other.print(sink)  # the sink is a renderable too
    assert other.file.getvalue() == c.file.getvalue()


def test_the_sink_keeps_a_bounded_number_of_packets():
    sink = LadderSink(max_packets=5)
    for e in entries_of("tcp"):
        sink.handle(e)
    assert len(packets(sink.entries)) == 5
    text = draw(sink.entries, 80)
    c = console(80)
    c.print(sink)
    assert "9 more packets not drawn" in c.file.getvalue()
    assert "more packets" not in text


def test_nothing_to_draw():
    assert "nothing to draw" in draw([], 80)
    ET.fromstring(to_svg([]).encode())


def test_names_from_the_wire_cannot_put_control_codes_on_the_terminal():
    query = next(e for e in packets(entries_of("tcp")) if e.step == "dns-query")
    evil = dataclasses.replace(query, dns={"qr": "query", "questions": [
        {"name": "a\x1b[31m[bold]x.test", "type": "A"}]})
    label, _ = packet_label(evil)
    assert "\x1b" not in label and "[bold]x.test" in label
    assert "\x1b" not in draw([evil], 100)
