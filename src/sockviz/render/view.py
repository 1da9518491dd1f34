"""The terminal view: each timeline entry as rich renderables.

Renderables are built here and yielded; printing is the console sink's job
(``render/console.py``), and the width always comes from the console.
User data (payloads, names from the wire) only ever enters as ``Text``, never
as markup, so a capture cannot inject styles or control sequences. Every word
comes from the phrasebook (``core/phrases.py``), in the language it speaks.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import RenderableType
from rich.measure import Measurement
from rich.padding import Padding
from rich.rule import Rule
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from sockviz.core import phrases
from sockviz.core.phrases import Direction
from sockviz.core.text import endpoint, flag_names, preview, tcp_options
from sockviz.core.timeline import CallEnded, CallStarted, Entry, Note, PacketShown, Summary

ARROW_STYLE = {Direction.OUT: "cyan", Direction.IN: "magenta", None: "white"}
PROTO_STYLE = {
    "TCP": "bold blue",
    "UDP": "bold green",
    "DNS": "bold yellow",
    "ICMP": "bold red",
    "ICMPv6": "bold red",
    "ARP": "bold bright_black",
}
INDENT = 4  # where packet lines start under a call

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
    """What the view remembers between entries: the time origin and open call."""

    def __init__(self, *, foreign: bool = False) -> None:
        self.origin: float | None = None
        self.in_call = False
        self.foreign = foreign  # a capture from elsewhere: show conversation headers
        self.packets_in_call = 0


def packet_fields(e: PacketShown) -> Text:
    """The packet's header fields, compactly: flags, numbers, options, payload."""
    d = e.packet.decoded
    t = Text()
    if d.tcp_flags is not None:
        t.append(f"[{flag_names(d.tcp_flags)}]", style="bold")
        if e.dns is not None:
            # DNS over TCP (RFC 7766): the message, not its raw bytes.
            t.append(f" seq={e.rel_seq} ack={e.rel_ack}  ")
            t.append_text(_dns_text(e.dns, d))
            return t
        if e.rel_seq is not None:
            t.append(f" seq={e.rel_seq}")
            if "S" in d.tcp_flags and d.seq is not None:
                # The numbers are relative to the ISN, shown once, on the SYN (issue 14).
                t.append(" " + phrases.relative_to_isn(d.seq), style="dim")
        if e.rel_ack is not None:
            t.append(f" ack={e.rel_ack}")
        if e.window is not None:
            t.append(f" win={e.window}")
        opts = tcp_options(d.tcp_options) if d.tcp_options else ""
        if opts and "S" in d.tcp_flags:
            t.append(f"  {opts}", style="dim")
        if d.payload_len:
            t.append("  " + phrases.payload_length(d.payload_len), style="bold")
    elif e.dns is not None:
        return _dns_text(e.dns, d)
    elif d.proto == "ARP":
        if d.arp_op == 2:
            t.append(phrases.arp_is_at(d.src, d.arp_sha))
        else:
            t.append(phrases.arp_who_has(d.dst, d.src))
        return t
    elif d.frag_offset is not None:
        t.append(f"fragment id {d.ip_id} offset {d.frag_offset}{' MF' if d.more_fragments else ''}")
        if d.frag_offset == 0 and d.sport is not None and d.tcp_flags is None:
            # The first fragment holds the UDP header too: 8 bytes of its IP payload.
            t.append("  " + phrases.first_fragment_length(d.payload_len), style="bold")
        else:
            t.append("  " + phrases.payload_length(d.payload_len), style="bold")
    elif d.sport is not None:
        t.append(f"{endpoint(d.src, d.sport)} > {endpoint(d.dst, d.dport)}")
        t.append("  " + phrases.payload_length(d.payload_len), style="bold")
    elif d.icmp_type is not None:
        name = phrases.icmp_name(d.icmp_type, d.icmp_code, v6=d.proto == "ICMPv6")
        if name:
            t.append(name, style="bold")
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
        return t
    else:
        t.append(e.summary)
        return t
    if d.payload and (d.tcp_flags is None or d.payload_len):
        t.append("  ")
        t.append(repr_payload(d.payload), style="green")
    return t


def _dns_text(info: dict, d) -> Text:
    t = Text()
    t.append(f"id 0x{info.get('id', 0):04x} ", style="dim")
    if info.get("qr") == "response":
        t.append(phrases.dns_answer(info), style="bold")
        t.append("  " + phrases.dns_for(phrases.dns_question(info)), style="dim")
    else:
        t.append(phrases.dns_question(info), style="bold")
    t.append(f"  {endpoint(d.src, d.sport)} > {endpoint(d.dst, d.dport)}", style="dim")
    return t


def repr_payload(data: bytes, limit: int = 40) -> str:
    return '"' + preview(data, limit) + '"'


def render_entry(entry: Entry, state: ViewState) -> Iterator[RenderableType]:
    if isinstance(entry, CallStarted):
        state.in_call = True
        state.packets_in_call = 0
        if state.origin is None:
            state.origin = entry.call.start
        else:
            yield Text("")
        head = Text()
        head.append("▶ ", style="bold")
        head.append(entry.call.text, style="bold")
        call = entry.call
        if call.source is not None:  # a traced program's call: its line, socket, thread
            head.append("   " + phrases.call_place(call.source[0], call.source[1], call.socket,
                                                   call.thread), style="dim")
        yield head
    elif isinstance(entry, PacketShown):
        yield from _packet(entry, state)
    elif isinstance(entry, CallEnded):
        yield from _call_end(entry, state)
    elif isinstance(entry, Note):
        yield Padding(said(Text(entry.text, style="italic")), (0, 0, 0, 2), expand=False)
    elif isinstance(entry, Summary):
        yield from _summary(entry)


def _packet(e: PacketShown, state: ViewState) -> Iterator[RenderableType]:
    p, d = e.packet, e.packet.decoded
    if state.origin is None:
        state.origin = p.time
    if state.foreign and e.new_conversation and e.conversation is not None:
        head = e.summary.split(" [")[0].split(" len=")[0]
        yield said(Text(phrases.conversation_head(e.conversation, head), style="bold underline"))
    arrows = phrases.arrows()
    arrow = arrows.get(e.direction) or arrows[None]
    style = ARROW_STYLE.get(e.direction, "white")
    bar = "  │ " if state.in_call else "  · "
    prefix = Text(bar, style="bright_black")
    prefix.append(f"#{p.index:<5}", style="dim")
    prefix.append(f"{p.time - state.origin:10.6f} ", style="dim")
    prefix.append(arrow + " ", style=style)
    prefix.append(f"{d.proto:<7}", style=PROTO_STYLE.get(d.proto, "bold"))
    fields = packet_fields(e)
    if d.error:
        fields.append(f"  ({d.error})", style="red")
    explain = Text(e.explain, style="italic")
    if e.context:
        explain.append(" — " + e.context, style="italic dim")
    changes = state_changes_text(e)
    yield PacketRows(prefix, fields, Text(bar, style="bright_black"), explain,
                     None if changes is None else Text(changes, style="cyan"))
    if state.in_call:
        state.packets_in_call += 1


def state_changes_text(e: PacketShown) -> str | None:
    """'you: SYN-SENT → ESTABLISHED · 192.0.2.2:3001: LISTEN → SYN-RECEIVED', or None.

    The ends a segment moved (RFC 9293 §3.3.2), the sender first: "you" for
    the side sockviz plays (the packet's direction says which end it is), the
    other by its address and port.
    """
    if not e.tcp_changes:
        return None
    d = e.packet.decoded
    names = {"src": endpoint(d.src, d.sport), "dst": endpoint(d.dst, d.dport)}
    if e.direction == "out":
        names["src"] = phrases.state_owner_you()
    elif e.direction == "in":
        names["dst"] = phrases.state_owner_you()
    return " · ".join(phrases.state_change(names[who], path) for who, path in e.tcp_changes)


class PacketRows:
    """A packet's two rows: its prefix and fields, then its meaning under the fields.

    Laid out as a two-column grid, which gives wrapped lines a hanging indent
    under the packet's fields. A grid costs about 0.4 ms to lay out, so when
    both rows fit the console's width unwrapped (most packets on a wide
    terminal) the same lines are written directly: each cell padded with
    spaces to its column's width, as the grid pads them. The width always
    comes from the console (``options.max_width``).
    """

    def __init__(self, prefix: Text, fields: Text, bar: Text, explain: Text,
                 states: Text | None = None) -> None:
        self.prefix, self.fields, self.bar, self.explain = prefix, fields, bar, explain
        self.states = states  # a third row: the TCP state changes the segment caused

    def _cells(self) -> tuple[tuple[Text, Text], ...]:
        cells = ((self.prefix, self.fields), (self.bar, self.explain))
        return cells if self.states is None else (*cells, (self.bar, self.states))

    def _grid(self) -> Table:
        grid = Table.grid(padding=0)
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        for head, cell in self._cells():
            grid.add_row(head, cell)
        return grid

    def __rich_console__(self, console, options):
        prefix, fields, bar, explain = self.prefix, self.fields, self.bar, self.explain
        states = self.states
        if _has_no_break(fields, explain) or (states is not None and _has_no_break(states)):
            glued = PacketRows(prefix, _glued(fields), bar, _glued(explain),
                               None if states is None else _glued(states))
            yield from _unglued(console.render(glued, options))
            return
        cells = self._cells()
        width = options.max_width
        left = max(prefix.cell_len, bar.cell_len)
        right = max(cell.cell_len for _, cell in cells)
        if left + right > width:
            # As the grid does: the fields' column gets what the prefix leaves,
            # and each cell is wrapped there (rich's own wrapping, folding
            # words longer than the column).
            right = width - left
        if right < 1 or any("\n" in cell.plain or "\t" in cell.plain for _, cell in cells):
            yield self._grid()
            return
        rows = Text(end="\n", no_wrap=True, overflow="ignore")
        blank = " " * left
        for number, (head, cell) in enumerate(cells):
            if cell.cell_len <= right:
                lines = [cell]
            else:
                lines = cell.wrap(console, right, justify="left", overflow="fold")
            for i, line in enumerate(lines):
                if i == 0:
                    rows.append_text(head)
                    rows.append(" " * (left - head.cell_len))
                else:
                    rows.append("\n" + blank)
                rows.append_text(line)
                rows.append(" " * (right - line.cell_len))
            if number < len(cells) - 1:
                rows.append("\n")
        yield rows

    def __rich_measure__(self, console, options):
        return self._grid().__rich_measure__(console, options)


def _call_end(e: CallEnded, state: ViewState) -> Iterator[RenderableType]:
    state.in_call = False
    c = e.call
    t = Text()
    if c.error:
        t.append(c.error, style="bold red")
    else:
        t.append("→ ", style="bold")
        t.append(c.result_text if c.result_text is not None else "None", style="bold green")
    t.append(f"  ({phrases.duration(c.duration)})", style="dim")
    # A long result (getaddrinfo's list) wraps under itself, not at column 0.
    grid = Table.grid(padding=0)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    grid.add_row(Text("  └ ", style="bright_black"), t)
    yield grid
    if e.lesson:
        yield Padding(said(Text(e.lesson, style="yellow")), (0, 0, 0, 4), expand=False)


def _summary(s: Summary) -> Iterator[RenderableType]:
    yield Text("")
    yield Rule(style="bright_black")
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
    yield said(t)
    if s.capture:
        yield said(Text(phrases.saved_to(s.capture), style="dim"))
    if s.problem:
        yield said(Text(s.problem, style="bold red"))
    if len(s.conversations) > 1:
        table = Table(box=None, show_header=True, header_style="bold", padding=(0, 1))
        table.add_column("#")
        for col in ("proto", "endpoint A", "endpoint B", "packets", "state"):
            table.add_column(phrases.column(col))
        for c in s.conversations:
            state = phrases.tcp_state(c) if c["proto"] == "TCP" else ""
            table.add_row(str(c["number"]), c["proto"], c["a"], c["b"], str(c["packets"]), state)
        yield table
