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

from sockviz.core.timeline import Entry, PacketShown
from sockviz.render.view import ViewState, render_entry

BULK_STEPS = frozenset(("data", "ack", "data-retransmit", "zero-window"))
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
        if e.step == "ack":
            self.acks += 1
        elif e.step == "zero-window":
            self.zero_windows += 1
        else:
            self.segments += 1
            self.payload += n
            self.by_dir[e.direction] = self.by_dir.get(e.direction, 0) + n
            if e.step == "data-retransmit":
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
        return f" · {_size(self.payload / span)}/s"

    def window_words(self) -> str:
        parts = []
        for direction, (first, low, high, last) in self.windows.items():
            who = {"out": "your window", "in": "the peer's window"}.get(direction, "window")
            if first == last == low == high:
                parts.append(f"{who} stayed at {_size(first)}")
            else:
                parts.append(f"{who} {_size(first)} → {_size(last)} "
                             f"(between {_size(low)} and {_size(high)})")
        return "; ".join(parts)

    def status(self) -> Text:
        t = Text("  ⋮ ", style="bright_black")
        t.append("transfer in progress: ", style="bold")
        t.append(f"{_size(self.payload)} in {self.segments:,} segments, {self.acks:,} ACKs")
        if self.retransmissions:
            t.append(f", {self.retransmissions:,} retransmitted", style="yellow")
        t.append(self.rate(), style="bold")
        words = self.window_words()
        if words:
            t.append(f" · {words}", style="dim")
        return t

    def summary(self) -> Text:
        t = Text("⋮ ", style="bright_black")
        t.append(f"{self.packets:,} more packets summed up: ", style="bold")
        t.append(f"{self.segments:,} data segments carrying {self.payload:,} bytes, "
                 f"{self.acks:,} ACKs")
        if self.retransmissions:
            t.append(f", {self.retransmissions:,} retransmissions", style="yellow")
        if self.zero_windows:
            t.append(f", {self.zero_windows:,} zero windows", style="yellow")
        span = self.last_time - self.first_time
        t.append(f", in {span:.3f} s{self.rate()}")
        words = self.window_words()
        if words:
            t.append(f"; {words}")
        t.append(" (every packet is in the capture file and in --json)", style="dim")
        return t


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


class ConsoleSink:
    def __init__(self, console: Console, *, foreign: bool = False) -> None:
        self.console = console
        self.state = ViewState(foreign=foreign)
        self._streak: tuple[int | None, int] = (None, 0)  # conversation, bulk segments in a row
        self._run: BulkRun | None = None
        self._live = None
        self._shown_at = 0.0

    def handle(self, entry: Entry) -> None:
        if type(entry) is PacketShown and self._bulk(entry):
            return
        if self._run is not None:
            self._end_run()
        for renderable in render_entry(entry, self.state):
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

                self._live = Live(run.status(), console=self.console, transient=True,
                                  auto_refresh=False)
                self._live.start()
        run.add(e)
        if self._live is not None:
            now = time.monotonic()
            if now - self._shown_at > 0.2:
                self._shown_at = now
                self._live.update(run.status(), refresh=True)
        return True

    def _end_run(self) -> None:
        run, self._run = self._run, None
        self._streak = (None, 0)
        if self._live is not None:
            self._live.stop()
            self._live = None
        if run is not None:
            from rich.padding import Padding

            self.console.print(Padding(run.summary(), (0, 0, 0, 2)), highlight=False,
                               soft_wrap=False)

    def close(self) -> None:
        if self._run is not None:
            self._end_run()
