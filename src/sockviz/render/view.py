"""The terminal view: each timeline entry as rich renderables.

Renderables are built here and yielded; printing is the console sink's job
(``render/console.py``), and the width always comes from the console.
User data (payloads, names from the wire) only ever enters as ``Text``, never
as markup, so a capture cannot inject styles or control sequences. Every word
comes from the phrasebook (``core/phrases.py``), in the language it speaks.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from rich.console import RenderableType
from rich.measure import Measurement
from rich.rule import Rule
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from sockviz.core import phrases
from sockviz.core.phrases import Direction, Step
from sockviz.core.text import endpoint, flag_names, preview, tcp_options
from sockviz.core.timeline import CallEnded, CallStarted, Entry, Note, PacketShown, Summary

# Readable on a white projector background as on a dark terminal. No colour
# reads well on every palette (xterm's green and cyan on white, its blue on
# black, Tango's magenta on its dark background: contrast under 3:1), so the
# words are in the terminal's own colour, which reads on any background, set
# apart by bold and italics; colour only marks short things that say
# themselves anyway (an arrow, a protocol's name, a payload in quotes), and red
# the errors. Never yellow (pale on white) nor white (invisible on it).
ARROW_STYLE = {Direction.OUT: "cyan", Direction.IN: "magenta", None: ""}
PROTO_STYLE = {
    "TCP": "bold",
    "UDP": "bold green",
    "DNS": "bold cyan",
    "ICMP": "bold red",
    "ICMPv6": "bold red",
    "ARP": "bold",
}
GUTTER_STYLE = "bright_black"
LESSON_STYLE = ""  # the call's lesson: a sentence, in the terminal's colour
PAYLOAD_STYLE = "green"
TIME_STYLE = ""  # the Δt column: read, not glanced at
OWNER_STYLE = "dim"  # which call a packet is for, when several run
NARROWEST = 12  # cells a wrapped body needs at the least beside its head

# Rich wraps lines at any Unicode space, the no-break ones too; French puts one
# before ':' and ';' (U+00A0, U+202F). While a text is laid out they stand in
# as private-use characters of the same width, and come back in its segments.
_NO_BREAK = "\u00a0\u202f"
_GLUE = str.maketrans("\u00a0\u202f", "\ue000\ue001")
_UNGLUE = str.maketrans("\ue000\ue001", "\u00a0\u202f")


def _has_no_break(*texts: Text) -> bool:
    return any(c in t.plain for t in texts for c in _NO_BREAK)


def _glued(text: Text) -> Text:
    copy = text.copy()
    copy.plain = copy.plain.translate(_GLUE)
    return copy


def _unglued(segments) -> Iterator[Segment]:
    for segment in segments:
        if segment.text and ("\ue000" in segment.text or "\ue001" in segment.text):
            yield Segment(segment.text.translate(_UNGLUE), segment.style, segment.control)
        else:
            yield segment


class Glued:
    """A ``Text`` laid out without breaking a line at its no-break spaces."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console, options):
        yield from _unglued(console.render(_glued(self.text), options))

    def __rich_measure__(self, console, options):
        return Measurement.get(console, options, _glued(self.text))


def said(text: Text) -> RenderableType:
    """``text`` as it should be laid out: ``Glued`` when it holds no-break spaces."""
    return Glued(text) if _has_no_break(text) else text


class ViewState:
    """What the view remembers between entries: the time origin, the open call, the last packet."""

    def __init__(self, *, foreign: bool = False) -> None:
        self.origin: float | None = None
        self.in_call = False
        self.foreign = foreign  # a capture from elsewhere: show conversation headers
        self.packets_in_call = 0
        self.last_time: float | None = None  # the previous packet's, for its successor's Δt
        self.running: dict[int, object] = {}  # the calls started and not ended, by id
        self.last_call_line: tuple[int, bool] | None = None  # (call id, a start?) last shown

    def call_started(self, call) -> None:
        self.running[call.id] = call
        self.in_call = True
        self.packets_in_call = 0
        self.last_call_line = (call.id, True)

    def call_ended(self, call) -> bool:
        """Forget ``call``; True when its end line must name it: another call's line came
        between its start and its end (calls that overlap, in threads, or one inside
        another), so a bare ``└ → …`` would read as the end of the other."""
        named = self.last_call_line is not None and self.last_call_line != (call.id, True)
        self.running.pop(call.id, None)
        self.in_call = bool(self.running)
        self.last_call_line = (call.id, False)
        return named

    def owner(self, e: PacketShown) -> str | None:
        """The call a packet was captured for, said on its line when several calls run
        and the call line above it is another's ('for recv() · fd 8'), else None."""
        if e.call_id is None or len(self.running) < 2 or self.last_call_line == (e.call_id, True):
            return None
        call = self.running.get(e.call_id)
        return None if call is None else phrases.packet_for(call.name, call.socket)

    def since_last(self, t: float) -> float:
        """Seconds since the previous packet (the first: since the run began); then ``t`` is it."""
        before = self.last_time if self.last_time is not None else self.origin
        self.last_time = t
        return t - before if before is not None else 0.0


def packet_fields(e: PacketShown, *, compact: bool = False, endpoints: bool = False) -> Text:
    """The packet's header fields: flags, numbers, options, payload.

    The one writer of a packet's line, for both layouts. ``compact`` (the
    projector's layout, ``render/compact.py``) leaves out what a projected
    line has no room for (the window, the SYN's options, a DNS message's
    endpoints and question again) and writes a segment's payload as the
    byte range it carries (RFC 9293 §3.4: seq numbers its first byte);
    ``endpoints`` starts the line with its addresses and ports (the first
    packet of a conversation). The payload's preview, last, is
    ``payload_preview``'s: the compact layout fits it to the room left.
    """
    main, _payload = packet_parts(e, compact=compact, endpoints=endpoints)
    if _payload is not None:
        main.append("  ")
        main.append(repr_payload(_payload), style=PAYLOAD_STYLE)
    return main


def packet_parts(e: PacketShown, *, compact: bool = False,
                 endpoints: bool = False) -> tuple[Text, bytes | None]:
    """``packet_fields`` in two parts: the fields, and the payload to preview after them (or None)."""
    d = e.packet.decoded
    t = Text()
    if endpoints and d.sport is not None and (compact or d.tcp_flags is not None):
        # UDP and DNS lines of the full layout say their endpoints anyway.
        t.append(f"{endpoint(d.src, d.sport)} > {endpoint(d.dst, d.dport)} ")
    if d.tcp_flags is not None:
        t.append(f"[{flag_names(d.tcp_flags)}]", style="bold")
        if e.dns is not None:
            # DNS over TCP (RFC 7766): the message, not its raw bytes.
            t.append(f" seq={e.rel_seq} ack={e.rel_ack}  ")
            t.append_text(_dns_text(e.dns, d, compact=compact))
            return t, None
        if e.rel_seq is not None:
            t.append(f" seq={e.rel_seq}")
            if "S" in d.tcp_flags and d.seq is not None and not compact:
                # The numbers are relative to the ISN, shown once, on the SYN (issue 14);
                # the compact layout's one line leaves it to the SYN's meaning.
                t.append(" " + phrases.relative_to_isn(d.seq), style="dim")
        if e.rel_ack is not None:
            t.append(f" ack={e.rel_ack}")
        if compact:
            if e.step == Step.ZERO_WINDOW:
                t.append(" win=0", style="bold")
            if d.payload_len and e.rel_seq is not None:
                t.append(" " + phrases.byte_range(e.rel_seq, d.payload_len), style="bold")
            elif d.payload_len:
                t.append("  " + phrases.payload_length(d.payload_len), style="bold")
            return t, d.payload if d.payload and d.payload_len else None
        if e.window is not None:
            t.append(f" win={e.window}")
        opts = tcp_options(d.tcp_options) if d.tcp_options else ""
        if opts and "S" in d.tcp_flags:
            t.append(f"  {opts}", style="dim")
        if d.payload_len:
            t.append("  " + phrases.payload_length(d.payload_len), style="bold")
    elif e.dns is not None:
        t.append_text(_dns_text(e.dns, d, compact=compact))
        return t, None
    elif d.proto == "ARP":
        if d.arp_op == 2:
            t.append(phrases.arp_is_at(d.src, d.arp_sha))
        else:
            t.append(phrases.arp_who_has(d.dst, d.src))
        return t, None
    elif d.frag_offset is not None:
        t.append(f"fragment id {d.ip_id} offset {d.frag_offset}{' MF' if d.more_fragments else ''}")
        if d.frag_offset == 0 and d.sport is not None and d.tcp_flags is None:
            # The first fragment holds the UDP header too: 8 bytes of its IP payload.
            t.append("  " + phrases.first_fragment_length(d.payload_len), style="bold")
        else:
            t.append("  " + phrases.payload_length(d.payload_len), style="bold")
    elif d.sport is not None:
        if not compact:
            t.append(f"{endpoint(d.src, d.sport)} > {endpoint(d.dst, d.dport)}  ")
        t.append(phrases.payload_length(d.payload_len), style="bold")
    elif d.icmp_type is not None:
        name = phrases.icmp_name(d.icmp_type, d.icmp_code, v6=d.proto == "ICMPv6")
        if name:
            t.append(name, style="bold")
            if not compact:  # the meaning says them where they teach (port unreachable)
                t.append(f" (type {d.icmp_type} code {d.icmp_code})", style="dim")
        else:
            t.append(f"type {d.icmp_type} code {d.icmp_code}")
        if d.nd_target:
            if d.icmp_type == 135:
                t.append(phrases.ndp_who_has(d.nd_target))
            elif d.icmp_type == 136:
                t.append(phrases.ndp_is_at(d.nd_target, d.eth_src or "?"))
            else:
                t.append(f" target {d.nd_target}")
        if d.quoted is not None:
            q = d.quoted
            t.append("  " + phrases.quoted_packet(q.proto, endpoint(q.src, q.sport),
                                                  endpoint(q.dst, q.dport)), style="dim")
        return t, None
    else:
        t.append(e.summary)
        return t, None
    if d.payload and (d.tcp_flags is None or d.payload_len):
        return t, d.payload
    return t, None


def _dns_text(info: dict, d, *, compact: bool = False) -> Text:
    t = Text()
    if not compact:  # the compact lines tell an answer from the records it holds
        t.append(f"id 0x{info.get('id', 0):04x} ", style="dim")
    if info.get("qr") == "response":
        t.append(phrases.dns_answer(info), style="bold")
        if not compact:  # the query is on the line above
            t.append("  " + phrases.dns_for(phrases.dns_question(info)), style="dim")
    else:
        t.append(phrases.dns_question(info), style="bold")
    if not compact:
        t.append(f"  {endpoint(d.src, d.sport)} > {endpoint(d.dst, d.dport)}", style="dim")
    return t


def repr_payload(data: bytes, limit: int = 40) -> str:
    return '"' + preview(data, limit) + '"'


CALL_MARK = Text("▶ ", style="bold")
# A bytes literal in a call's text (the recorder writes reprs: escapes stay escapes).
_BYTES_LITERAL = re.compile(r"b'(?:[^'\\]|\\.)*'" r'|b"(?:[^"\\]|\\.)*"')
SHOWN_LITERAL = 48  # characters of a longer bytes argument the call's line keeps


def short_call_text(text: str) -> str:
    """``text`` with each long bytes argument cut, and its size said:
    ``sendall(b'<!DOCTYPE HTML>\\n<html lang="en">…' (630 bytes))``.

    The call's line is where the eye follows the program; a 630-byte page
    would fill twenty lines. The record (``--json``, the capture's comment)
    keeps the text whole; the packets' lines show the bytes again.
    """
    if len(text) <= SHOWN_LITERAL:
        return text

    def cut(m: re.Match) -> str:
        literal = m.group(0)
        if len(literal) <= SHOWN_LITERAL:
            return literal
        try:
            size = len(ast.literal_eval(literal))
        except (ValueError, SyntaxError):  # not a whole literal: leave it
            return literal
        head = literal[: SHOWN_LITERAL - 2]
        if "\\" in head[-3:]:  # do not end inside an escape (\x0a, \n)
            head = head[: head.rindex("\\", len(head) - 3)]
        return f"{head}…{literal[1]} ({phrases.n_bytes(size)})"

    return _BYTES_LITERAL.sub(cut, text)


def call_head(call) -> Text:
    """What follows ``▶``: ``connect(('192.0.2.2', 3001))`` and, for a traced program's call,
    its place."""
    head = Text()
    head.append(short_call_text(call.text), style="bold")
    if call.source is not None:  # a traced program's call: its line, socket, thread
        head.append("   " + phrases.call_place(call.source[0], call.source[1], call.socket,
                                               call.thread, call.cell), style="dim")
    return head


def call_result(c, *, named: bool = False) -> Text:
    """``→ None  (172 µs)``, or the exception the call raised; ``named``: after the call's
    name, ``connect() → None  (172 µs)``, for an end that does not follow its start."""
    t = Text()
    if named:
        t.append(f"{c.name}() ", style="bold")
    if c.error:
        t.append(c.error, style="bold red")
    else:
        t.append("→ ", style="bold")
        t.append(c.result_text if c.result_text is not None else "None", style="bold")
    t.append(f"  ({phrases.duration(c.duration)})", style="dim")
    return t


def render_entry(entry: Entry, state: ViewState) -> Iterator[RenderableType]:
    if isinstance(entry, CallStarted):
        state.call_started(entry.call)
        if state.origin is None:
            state.origin = entry.call.start
        else:
            yield Text("")
        yield Hanging(CALL_MARK, call_head(entry.call))
    elif isinstance(entry, PacketShown):
        yield from _packet(entry, state)
    elif isinstance(entry, CallEnded):
        yield from _call_end(entry, state)
    elif isinstance(entry, Note):
        yield Hanging(Text("  "), Text(entry.text, style="italic"))
    elif isinstance(entry, Summary):
        yield from summary_lines(entry)


def _packet(e: PacketShown, state: ViewState) -> Iterator[RenderableType]:
    p, d = e.packet, e.packet.decoded
    if state.origin is None:
        state.origin = p.time
    head_shown = state.foreign and e.new_conversation and e.conversation is not None
    if head_shown:
        head = e.summary.split(" [")[0].split(" len=")[0]
        yield Hanging(Text(), Text(phrases.conversation_head(e.conversation, head),
                                   style="bold underline"))
    arrows = phrases.arrows()
    arrow = arrows.get(e.direction) or arrows[None]
    style = ARROW_STYLE.get(e.direction, "")
    bar = "  │ " if state.in_call else "  · "
    prefix = Text()
    prefix.append(bar, style=GUTTER_STYLE)
    prefix.append(f"#{p.index:<5}", style="dim")
    prefix.append(f"{p.time - state.origin:10.6f} ", style="dim")
    prefix.append(f"{phrases.delta(state.since_last(p.time)):>9} ", style=TIME_STYLE)
    prefix.append(arrow + " ", style=style)
    prefix.append(f"{d.proto:<7}", style=PROTO_STYLE.get(d.proto, "bold"))
    fields = packet_fields(e, endpoints=e.new_conversation and not head_shown)
    line_ends(fields, e, state)
    explain = Text(e.explain, style="italic")
    if e.context:
        explain.append(" — " + e.context, style="italic")
    changes = state_changes_text(e)
    yield PacketRows(prefix, fields, Text(bar, style=GUTTER_STYLE), explain,
                     None if changes is None else Text(changes))
    if state.in_call:
        state.packets_in_call += 1


def line_ends(fields: Text, e: PacketShown, state: ViewState) -> None:
    """What ends a packet's line in both layouts: what could not be decoded, and the call
    it was captured for when another call's line is above it."""
    error = e.packet.decoded.error
    if error:
        fields.append(f"  ({error})", style="red")
    owner = state.owner(e)
    if owner is not None:
        fields.append(f"  {owner}", style=OWNER_STYLE)


def state_changes_text(e: PacketShown) -> str | None:
    """'the server: LISTEN → SYN-RECEIVED · you: SYN-SENT → ESTABLISHED', or None.

    The ends a segment moved (RFC 9293 §3.3.2), the sender first: "you" for
    the side sockviz plays (the packet's direction says which end it is), the
    other by its role (the client sent the first SYN), else its address and port.
    """
    if not e.tcp_changes:
        return None
    d = e.packet.decoded
    ours = {"out": "src", "in": "dst"}.get(e.direction or "")
    addresses = {"src": endpoint(d.src, d.sport), "dst": endpoint(d.dst, d.dport)}
    said = []
    for end, path, role in e.tcp_changes:
        who = phrases.your_end() if end == ours else phrases.end_name(role) or addresses[end]
        said.append(phrases.state_change(who, path))
    return " · ".join(said)


def hanging_lines(console, head: Text, body: Text, width: int, cont: Text | None = None,
                  column: int = 0) -> list[Text]:
    """``head`` then ``body``, the body wrapped to the room the head leaves, each wrapped
    line under the first one after ``cont`` (the gutter, or spaces): a hanging indent.
    The body starts at ``column`` at the least (past the head and ``cont``).

    No line ends in spaces, and none is wider than ``width`` (words longer than the
    room are folded, as rich folds them). The no-break spaces French puts before
    ':' and ';' are not broken at (rich breaks at any Unicode space: see ``Glued``).
    """
    cont = head if cont is None else cont
    left = max(head.cell_len, cont.cell_len, column)
    if left + NARROWEST > width and cont.cell_len + NARROWEST <= width and head.cell_len:
        # No room beside the head: it goes on with the body, after the gutter.
        rest = Text()  # (a Text's own style would spread to the body appended to it)
        rest.append_text(head[cont.cell_len:] if head.plain.startswith(cont.plain) else head)
        if rest.plain.strip():
            rest.append(" ")
            rest.append_text(body)
            body = rest
        return hanging_lines(console, head if head.cell_len <= cont.cell_len else cont, body,
                             width, cont)
    room = max(1, width - left)
    glued = _has_no_break(body)
    laid = _glued(body) if glued else body
    if laid.cell_len <= room and "\n" not in laid.plain and "\t" not in laid.plain:
        pieces = [laid]
    else:
        pieces = list(laid.wrap(console, room, overflow="fold"))
    lines = []
    for i, piece in enumerate(pieces):
        if glued:
            piece.plain = piece.plain.translate(_UNGLUE)
        start = head if i == 0 else cont
        line = Text()
        line.append_text(start)  # its style for its own cells only, not for the line's
        if piece.plain.strip():
            line.append(" " * (left - start.cell_len))
            line.append_text(piece)
        line.rstrip()
        lines.append(line)
    return lines


def joined_lines(lines: list[Text]) -> Text:
    """Lines as one ``Text`` printed as it is: no wrapping again, no padding."""
    out = Text(end="\n", no_wrap=True, overflow="ignore")
    for i, line in enumerate(lines):
        if i:
            out.append("\n")
        out.append_text(line)
    return out


class Hanging:
    """``head`` and ``body`` laid out by ``hanging_lines`` at the console's width."""

    def __init__(self, head: Text, body: Text, cont: Text | None = None) -> None:
        self.head, self.body = head, body
        self.cont = cont if cont is not None else Text(" " * head.cell_len)

    def __rich_console__(self, console, options):
        yield joined_lines(hanging_lines(console, self.head, self.body, options.max_width,
                                         self.cont))

    def __rich_measure__(self, console, options):
        return Measurement.get(console, options, Text.assemble(self.head, self.body))


class PacketRows:
    """A packet's rows: its prefix and fields, its meaning under the fields, and the TCP
    state changes it caused (``states``), if any.

    Each row is laid out by ``hanging_lines``: wrapped lines hang under the
    packet's fields and keep the gutter (``│`` inside a call, ``·`` outside),
    so a call's block stays whole, and no line ends in spaces. The width
    always comes from the console (``options.max_width``).
    """

    def __init__(self, prefix: Text, fields: Text, bar: Text, explain: Text,
                 states: Text | None = None) -> None:
        self.prefix, self.fields, self.bar, self.explain = prefix, fields, bar, explain
        self.states = states  # a third row: the TCP state changes the segment caused

    def lines(self, console, width: int) -> list[Text]:
        column = self.prefix.cell_len
        return [*hanging_lines(console, self.prefix, self.fields, width, self.bar),
                *hanging_lines(console, self.bar, self.explain, width, self.bar, column),
                *(hanging_lines(console, self.bar, self.states, width, self.bar, column)
                  if self.states is not None else ())]

    def __rich_console__(self, console, options):
        yield joined_lines(self.lines(console, options.max_width))

    def __rich_measure__(self, console, options):
        left = max(self.prefix.cell_len, self.bar.cell_len)
        right = max(self.fields.cell_len, self.explain.cell_len)
        return Measurement(left + 1, left + right).with_maximum(options.max_width)


def _call_end(e: CallEnded, state: ViewState) -> Iterator[RenderableType]:
    named = state.call_ended(e.call)
    # A long result (getaddrinfo's list) wraps under itself, not at column 0.
    yield Hanging(Text("  └ ", style=GUTTER_STYLE), call_result(e.call, named=named))
    if e.lesson:
        yield Hanging(Text("    "), Text(e.lesson, style=LESSON_STYLE))


def summary_lines(s: Summary) -> Iterator[RenderableType]:
    """The run's last lines: counts, where the capture went, the conversations' table."""
    yield Text("")
    yield Rule(style=GUTTER_STYLE)
    t = Text()
    t.append(phrases.packets_count(s.packets), style="bold")
    if s.calls:
        t.append(" · " + phrases.calls_count(s.calls))
    if s.kernel_drops is not None:
        t.append(" · ")
        t.append(phrases.kernel_drops(s.kernel_drops),
                 style="bold red" if s.kernel_drops else "green")
    if s.ignored:
        t.append(" · " + phrases.unrelated(s.ignored), style="dim")
    if s.first_time is not None and s.last_time is not None:
        t.append(f" · {phrases.duration(s.last_time - s.first_time)}", style="dim")
    yield Hanging(Text(), t)
    if s.capture:
        yield Hanging(Text(), Text(phrases.saved_to(s.capture), style="dim"))
    if s.problem:
        yield Hanging(Text(), Text(s.problem, style="bold red"))
    if len(s.conversations) > 1:
        table = Table(box=None, show_header=True, header_style="bold", padding=(0, 1))
        table.add_column("#")
        for col in ("proto", "endpoint A", "endpoint B", "packets", "state"):
            table.add_column(phrases.column(col))
        for c in s.conversations:
            state = phrases.tcp_state(c) if c["proto"] == "TCP" else ""
            table.add_row(str(c["number"]), c["proto"], c["a"], c["b"], str(c["packets"]), state)
        yield Trimmed(table)


class Trimmed:
    """A renderable whose lines do not end in spaces (a table pads its last column)."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console, options):
        for line in console.render_lines(self.renderable, options, pad=False):
            while line and not line[-1].control and not line[-1].text.rstrip():
                line.pop()
            if line and not line[-1].control:
                last = line[-1]
                line[-1] = Segment(last.text.rstrip(), last.style, last.control)
            yield from line
            yield Segment.line()

    def __rich_measure__(self, console, options):
        return Measurement.get(console, options, self.renderable)
