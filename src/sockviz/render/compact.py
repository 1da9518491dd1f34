"""The compact layout, for a projector or a narrow terminal (issue 16).

One line per packet: the gutter (``│`` inside a call, ``·`` outside), the
packet's number, the time since the previous packet (so a round trip reads
off the SYN/ACK's line), its direction, protocol and fields (the full
layout's words: ``view.packet_parts``, with the endpoints on the first
packet of a conversation and a segment's payload as the byte range it
carries). The meaning goes on the next line only where it adds something:

- a step's meaning is said the first time the step is seen in that
  direction, not again: the second connection's handshake is read from its
  flags, and a SYN sent again from its flags and its Δt (1 s, 2 s, 4 s: the
  backoff is in the column);
- a data segment's meaning ("14 bytes of your data") says what its line
  says: never;
- why a packet came outside any call (its context) is said once per reason.

Wrapped lines keep the gutter, no line ends in spaces, and the first line
is a legend. Chosen with ``--compact``, and by default on a console under
``COMPACT_BELOW`` columns (``--full`` keeps the full layout there).
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import RenderableType
from rich.text import Text

from sockviz.core import phrases
from sockviz.core.phrases import Step
from sockviz.core.timeline import CallEnded, CallStarted, Entry, Note, PacketShown, Summary
from sockviz.render.view import (
    ARROW_STYLE,
    CALL_MARK,
    GUTTER_STYLE,
    LESSON_STYLE,
    PAYLOAD_STYLE,
    PROTO_STYLE,
    TIME_STYLE,
    Hanging,
    ViewState,
    call_head,
    call_result,
    hanging_lines,
    joined_lines,
    line_ends,
    packet_parts,
    repr_payload,
    state_changes_text,
    summary_lines,
)

COMPACT_BELOW = 100  # columns: a narrower console gets the compact layout by default
MEANING_INDENT = 6  # where a packet's meaning and its wrapped lines start
PREVIEW_MIN = 6  # payload characters worth showing at a line's end

# The meaning only repeats what the line says.
SAID_BY_THE_LINE = frozenset((Step.DATA, Step.OTHER))


def wants_compact(layout: str | None, width: int) -> bool:
    """``layout`` is 'compact', 'full' or None (chosen by the console's width)."""
    if layout is None:
        return width < COMPACT_BELOW
    return layout == "compact"


def entries_view(entries, width: int, layout: str | None = None, *,
                 legend: bool = True) -> Iterator[RenderableType]:
    """Entries as a viewing command shows them at ``width``: compact under COMPACT_BELOW
    columns unless ``layout`` ('compact', 'full') says otherwise. For ``trace()`` and a
    notebook cell, whose entries are all there when they are shown; ``legend``: the
    compact layout's legend line first."""
    if wants_compact(layout, width):
        state: ViewState = CompactState()
        state.legend_shown = not legend
        render = render_entry
    else:
        from sockviz.render.view import render_entry as render
        state = ViewState()
    for entry in entries:
        yield from render(entry, state)


class CompactState(ViewState):
    """What the compact layout remembers: besides the view's, what it has said."""

    def __init__(self, *, foreign: bool = False) -> None:
        super().__init__(foreign=foreign)
        self.legend_shown = False
        self.said: set = set()  # meanings, contexts and lessons already said


def render_entry(entry: Entry, state: CompactState) -> Iterator[RenderableType]:
    if not state.legend_shown and not isinstance(entry, Summary):  # nothing shown: no legend
        state.legend_shown = True
        yield Hanging(Text(), Text(phrases.compact_legend()))
    if isinstance(entry, CallStarted):
        state.call_started(entry.call)
        if state.origin is None:
            state.origin = entry.call.start
        yield Hanging(CALL_MARK, call_head(entry.call))
    elif isinstance(entry, PacketShown):
        yield CompactPacket(entry, state)
    elif isinstance(entry, CallEnded):
        named = state.call_ended(entry.call)
        yield Hanging(Text("└ ", style=GUTTER_STYLE), call_result(entry.call, named=named))
        if entry.lesson and _first_time(state, ("lesson", entry.lesson)):
            yield Hanging(Text("  "), Text(entry.lesson, style=LESSON_STYLE))
    elif isinstance(entry, Note):
        yield Hanging(Text("  "), Text(entry.text, style="italic"))
    elif isinstance(entry, Summary):
        yield from summary_lines(entry)


def _first_time(state: CompactState, key) -> bool:
    if key in state.said:
        return False
    state.said.add(key)
    return True


class CompactPacket:
    """One packet's lines, laid out at the console's width when printed.

    What the packet changes in the state (the time of the last packet, what
    has been said) is taken now, in the timeline's order; only the layout
    waits for the width.
    """

    def __init__(self, e: PacketShown, state: CompactState) -> None:
        p, d = e.packet, e.packet.decoded
        if state.origin is None:
            state.origin = p.time
        self.gutter = Text()
        self.gutter.append("│ " if state.in_call else "· ", style=GUTTER_STYLE)
        prefix = self.gutter.copy()
        prefix.append(f"#{p.index:<4}", style="dim")
        prefix.append(f"{phrases.delta(state.since_last(p.time)):>9} ", style=TIME_STYLE)
        arrow = (phrases.arrows().get(e.direction) or "·")[0]
        prefix.append(arrow + " ", style=ARROW_STYLE.get(e.direction, ""))
        prefix.append(f"{d.proto:<4} ", style=PROTO_STYLE.get(d.proto, "bold"))
        self.prefix = prefix
        self.fields, self.payload = packet_parts(e, compact=True, endpoints=e.new_conversation)
        line_ends(self.fields, e, state)
        self.states = state_change_line(e)
        self.meaning = meaning_line(e, state)
        if state.in_call:
            state.packets_in_call += 1

    def lines(self, console, width: int) -> list[Text]:
        fields = self.fields
        if self.payload is not None:
            fields = fields.copy()
            room = width - self.prefix.cell_len - fields.cell_len - 4  # two spaces, two quotes
            if room >= PREVIEW_MIN:
                fields.append("  ")
                fields.append(_fitted_preview(self.payload, room), style=PAYLOAD_STYLE)
        # Wrapped fields hang under the fields; the meaning starts further left, for room.
        out = hanging_lines(console, self.prefix, fields, width, self.gutter)
        cont = self.gutter + Text(" " * (MEANING_INDENT - self.gutter.cell_len))
        for extra in (self.states, self.meaning):
            if extra is not None:
                out += hanging_lines(console, cont, extra, width)
        return out

    def __rich_console__(self, console, options):
        yield joined_lines(self.lines(console, options.max_width))

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(self.prefix.cell_len + 1, options.max_width)


def _fitted_preview(payload: bytes, room: int) -> str:
    """The payload's preview in at most ``room`` cells (and its quotes)."""
    limit = min(40, room)
    text = repr_payload(payload, limit)
    while len(text) > room + 2 and limit > 1:
        limit -= max(1, len(text) - room - 2)
        text = repr_payload(payload, max(1, limit))
    return text


def meaning_line(e: PacketShown, state: CompactState) -> Text | None:
    """The packet's meaning, where it adds something to its line (see the module's rules)."""
    t = Text()
    if e.step not in SAID_BY_THE_LINE and _first_time(state, ("step", e.step, e.direction)):
        t.append(e.explain, style="italic")
    if e.context and _first_time(state, ("context", e.context)):
        if t:
            t.append(" — ", style="italic")
        t.append(e.context, style="italic")
    return t if t else None


def state_change_line(e: PacketShown) -> Text | None:
    """Where a segment changes an end's TCP state, the line that says so, else None.

    The full layout's words (``view.state_changes_text``): each end the segment
    moved (RFC 9293 §3.3.2), this host's as "you", the other by its address.
    """
    text = state_changes_text(e)
    return None if text is None else Text(text, style="bold")
