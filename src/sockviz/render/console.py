"""The live terminal renderer: prints what ``view.render_entry`` yields.

A long transfer would drown the terminal (and a person) in identical lines:
after ``BULK_SHOWN`` data and ACK segments in a row of one conversation, the
rest of the run is not printed one by one but counted (``BulkRun``): on a
terminal a status line follows it live (progress, segments, ACKs,
throughput, the window), and when the run ends one line sums it up. Every
packet is still in the capture file and in ``--json``.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.text import Text

from sockviz.core import phrases
from sockviz.core.phrases import Step
from sockviz.core.timeline import Entry, PacketShown
from sockviz.render.view import GUTTER_STYLE, Hanging, ViewState, render_entry, said

BULK_STEPS = frozenset((Step.DATA, Step.ACK, Step.DATA_RETRANSMIT, Step.ZERO_WINDOW))
BULK_SHOWN = 8  # segments of a run shown one by one before it is summed up


class BulkRun:
    """What a collapsed run of data and ACK segments carried."""

    def __init__(self, conversation: int, first: PacketShown) -> None:
        self.conversation = conversation
        self.first_time = self.last_time = first.packet.time
        self.segments = 0
        self.payload = 0
        self.acks = 0
        self.retransmissions = 0
        self.zero_windows = 0
        self.windows: dict[str | None, list[int]] = {}  # direction -> [first, min, max, last]
        self.by_dir: dict[str | None, int] = {}  # payload bytes by direction

    def add(self, e: PacketShown) -> None:
        self.last_time = e.packet.time
        n = e.packet.decoded.payload_len
        if e.step == Step.ACK:
            self.acks += 1
        elif e.step == Step.ZERO_WINDOW:
            self.zero_windows += 1
        else:
            self.segments += 1
            self.payload += n
            self.by_dir[e.direction] = self.by_dir.get(e.direction, 0) + n
            if e.step == Step.DATA_RETRANSMIT:
                self.retransmissions += 1
        if e.window is not None:
            w = self.windows.get(e.direction)
            if w is None:
                self.windows[e.direction] = [e.window, e.window, e.window, e.window]
            else:
                w[1] = min(w[1], e.window)
                w[2] = max(w[2], e.window)
                w[3] = e.window

    @property
    def packets(self) -> int:
        return self.segments + self.acks + self.zero_windows

    def rate(self) -> str:
        span = self.last_time - self.first_time
        if span <= 0:
            return ""
        return f" · {phrases.size(self.payload / span)}/s"

    def window_words(self) -> str:
        parts = []
        size = phrases.size
        for direction, (first, low, high, last) in self.windows.items():
            who = phrases.window_owner(direction)
            if first == last == low == high:
                parts.append(phrases.window_stayed(who, size(first)))
            else:
                parts.append(phrases.window_moved(who, size(first), size(last), size(low),
                                                  size(high)))
        return phrases.joined(parts)

    def status(self) -> Text:
        t = Text()  # (a Text's own style would be the whole line's)
        t.append("  ⋮ ", style=GUTTER_STYLE)
        t.append(phrases.transfer_in_progress(), style="bold")
        t.append(phrases.transfer_so_far(phrases.size(self.payload), self.segments, self.acks))
        if self.retransmissions:
            t.append(phrases.retransmitted(self.retransmissions), style="red")
        t.append(self.rate(), style="bold")
        words = self.window_words()
        if words:
            t.append(f" · {words}", style="dim")
        return t

    def summary(self) -> Text:
        t = Text()  # (a Text's own style would be the whole line's)
        t.append("⋮ ", style=GUTTER_STYLE)
        t.append(phrases.summed_up(self.packets), style="bold")
        t.append(phrases.transfer_carried(self.segments, self.payload, self.acks))
        if self.retransmissions:
            t.append(phrases.transfer_retransmissions(self.retransmissions), style="red")
        if self.zero_windows:
            t.append(phrases.transfer_zero_windows(self.zero_windows), style="red")
        t.append(phrases.transfer_span(self.last_time - self.first_time, self.rate()))
        words = self.window_words()
        if words:
            t.append(phrases.then(words))
        t.append(phrases.every_packet_kept(), style="dim")
        return t


class ConsoleSink:
    def __init__(self, console: Console, *, foreign: bool = False,
                 layout: str | None = None) -> None:
        from sockviz.render import compact

        self.console = console
        self.compact = compact.wants_compact(layout, console.width)
        if self.compact:
            self.state: ViewState = compact.CompactState(foreign=foreign)
            self._render = compact.render_entry
        else:
            self.state = ViewState(foreign=foreign)
            self._render = render_entry
        self._streak: tuple[int | None, int] = (None, 0)  # conversation, bulk segments in a row
        self._run: BulkRun | None = None
        self._live = None
        self._shown_at = 0.0

    def handle(self, entry: Entry) -> None:
        if type(entry) is PacketShown and self._bulk(entry):
            return
        if self._run is not None:
            self._end_run()
        for renderable in self._render(entry, self.state):
            self.console.print(renderable, highlight=False, soft_wrap=False)

    def _bulk(self, e: PacketShown) -> bool:
        """Count ``e`` into a collapsed run instead of printing it; False to print it."""
        conv, count = self._streak
        if e.step not in BULK_STEPS or e.conversation is None:
            self._streak = (None, 0)
            return False
        count = count + 1 if conv == e.conversation else 1
        self._streak = (e.conversation, count)
        run = self._run
        if run is not None and run.conversation != e.conversation:
            self._end_run()
            run = None
        if count <= BULK_SHOWN:
            return False
        if run is None:
            run = self._run = BulkRun(e.conversation, e)
            if self.state.in_call:
                self.state.packets_in_call += 1
            if self.console.is_terminal:
                from rich.live import Live

                self._live = Live(said(run.status()), console=self.console, transient=True,
                                  auto_refresh=False)
                self._live.start()
        run.add(e)
        self.state.last_time = e.packet.time  # the next packet's Δt is since this one
        if self._live is not None:
            now = time.monotonic()
            if now - self._shown_at > 0.2:
                self._shown_at = now
                self._live.update(said(run.status()), refresh=True)
        return True

    def _end_run(self) -> None:
        run, self._run = self._run, None
        self._streak = (None, 0)
        if self._live is not None:
            self._live.stop()
            self._live = None
        if run is not None:
            indent = Text("" if self.compact else "  ")
            self.console.print(Hanging(indent, run.summary()), highlight=False, soft_wrap=False)

    def close(self) -> None:
        if self._run is not None:
            self._end_run()
