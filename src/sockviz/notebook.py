"""``%load_ext sockviz``: every following cell shows its socket calls and their packets.

IPython's extension convention: ``load_ipython_extension(ip)`` registers
``pre_run_cell`` and ``post_run_cell`` callbacks. The capture lives across
cells (one capture file for the whole session), so the course's one call per
cell works: a packet that arrives between two cells (the server's reply
before the ``recv()`` cell runs) is shown at the top of the next cell's
output, with when it arrived. Nothing runs on the kernel's event loop: the
capture is a process of its own and its reader a thread.

``%sockviz off`` / ``%sockviz on`` pause and resume the view; ``%sockviz
--save PATH`` / ``--no-save`` choose the capture file (a new capture starts);
``%sockviz --lang fr|en`` the language.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shlex
import time

from sockviz.core import phrases
from sockviz.core.timeline import CallEnded, CallStarted, Entry, Note, PacketShown, Summary

FLUSH_TIMEOUT = 0.6  # s: how long a cell's end waits for its last packets


class CellSink:
    """Keeps the timeline's entries until a cell's output shows them."""

    def __init__(self) -> None:
        self.pending: list[Entry] = []

    def handle(self, entry: Entry) -> None:
        if not isinstance(entry, Summary):
            self.pending.append(entry)

    def take(self) -> list[Entry]:
        taken, self.pending = self.pending, []
        return taken

    def close(self) -> None:
        pass


class NotebookTracer:
    def __init__(self, ip) -> None:
        self.ip = ip
        self.enabled = True
        self.save: str | bool | None = None  # None: the default path
        self.layout: str | None = None  # 'compact', 'full'; None: by the output's width
        self.legend_shown = False  # the compact layout's legend, in the first cell only
        self.tracing = None
        self.cells: CellSink | None = None
        self.cell_start = 0.0
        self.cell: int | None = None
        self.problem: str | None = None
        self.capture: str | None = None
        self.offset = 0
        self.loaded_at = getattr(ip, "execution_count", None)  # inside the %load_ext cell

    # -- the capture
    def start(self) -> None:
        from sockviz.sources.live import CaptureFailed, CaptureNotPermitted, have_capture_rights
        from sockviz.tracing.session import Tracing, open_sniffer

        if not have_capture_rights():
            self.problem = phrases.notebook_needs_rights()
            return
        try:
            sniffer, frames = open_sniffer()
        except CaptureNotPermitted:
            self.problem = phrases.notebook_needs_rights()
            return
        except CaptureFailed as exc:
            self.problem = phrases.notebook_capture_failed(str(exc))
            return
        self.problem = None
        self.cells = CellSink()
        sinks: list = [self.cells]
        self.capture = self._path()
        if self.capture:
            from sockviz import __version__
            from sockviz.render.capture_file import CaptureFileSink

            os.makedirs(os.path.dirname(os.path.abspath(self.capture)), exist_ok=True)
            sinks.append(CaptureFileSink(self.capture, {
                "version": __version__, "command": "notebook", "title": "sockviz notebook",
                "role": "client"}))
        self.tracing = Tracing(sniffer=sniffer, frames=frames, sinks=sinks,
                               capture_path=self.capture, cell=lambda: self.cell)
        self.tracing.start()
        import atexit

        atexit.register(self.stop)  # the kernel shuts down: the capture file is completed

    def stop(self) -> None:
        if self.tracing is not None:
            self.tracing.stop()
            self.tracing = None

    def _path(self) -> str | None:
        if self.save is False:
            return None
        if isinstance(self.save, str):
            return self.save
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        return os.path.join("captures", f"notebook-{stamp}.pcapng")

    # -- cells
    def pre_run_cell(self, info=None) -> None:
        self.cell_start = time.time()
        count = getattr(self.ip, "execution_count", None)
        # The shell's counter is the cell's number in IPython, one ahead under some
        # ipykernel versions: the offset is learnt from the cell that loaded us.
        self.cell = None if count is None else count - self.offset

    def post_run_cell(self, result=None) -> None:
        number = getattr(result, "execution_count", None)
        if self.loaded_at is not None and number is not None:
            self.offset, self.loaded_at = self.loaded_at - number, None
        if self.problem is not None:
            self._show_text(self.problem)
            self.problem = None  # said once
            return
        if self.tracing is None or self.cells is None:
            return
        self.tracing.wait_for_packets(time.time(), FLUSH_TIMEOUT)
        entries = self.cells.take()
        if not self.enabled or not entries:
            return
        self._show(entries)

    def _show(self, entries: list[Entry]) -> None:
        before = [e for e in entries if _time(e) is not None and _time(e) < self.cell_start
                  and not isinstance(e, (CallStarted, CallEnded))]
        during = [e for e in entries if e not in before]
        from sockviz.render.compact import wants_compact
        from sockviz.render.notebook import NOTEBOOK_WIDTH, to_html

        view = CellView(before, during, self.cell_start, layout=self.layout,
                        legend=not self.legend_shown)
        self.legend_shown |= wants_compact(self.layout, NOTEBOOK_WIDTH)  # shown in this one
        try:
            from IPython.display import HTML, display

            display(HTML(to_html(view)))
        except ImportError:  # pragma: no cover - outside IPython
            print(view)

    def _show_text(self, text: str) -> None:
        print(text)

    # -- the magic
    def magic(self, line: str) -> None:
        words = shlex.split(line)
        if not words:
            print(phrases.notebook_state(self.enabled, self.capture))
            return
        restart = False
        i = 0
        while i < len(words):
            word = words[i]
            if word == "on":
                self.enabled = True
            elif word == "off":
                self.enabled = False
            elif word == "--no-save":
                self.save, restart = False, True
            elif word == "--save" and i + 1 < len(words):
                i += 1
                self.save, restart = words[i], True
            elif word in ("--compact", "--full"):
                self.layout = word[2:]
            elif word == "--lang" and i + 1 < len(words):
                i += 1
                _set_language(words[i])
            else:
                print(phrases.notebook_unknown_word(word))
                return
            i += 1
        if restart:
            self.stop()
            self.start()


def _set_language(lang: str) -> None:
    try:
        from sockviz.core.phrases import set_language
    except ImportError:  # pragma: no cover - the phrasebook is there in a release
        return
    set_language(lang)


def _time(entry: Entry) -> float | None:
    if isinstance(entry, PacketShown):
        return entry.packet.time
    if isinstance(entry, Note):
        return entry.time
    if isinstance(entry, (CallStarted, CallEnded)):
        return entry.call.start
    return None


class CellView:
    """One cell's output: what arrived between cells, then the cell's own calls."""

    def __init__(self, before: list[Entry], during: list[Entry], cell_start: float, *,
                 layout: str | None = None, legend: bool = True) -> None:
        self.before, self.during, self.cell_start = before, during, cell_start
        self.layout, self.legend = layout, legend

    def __rich_console__(self, console, options):
        """As the terminal shows a run at this width: compact in a notebook's 80 columns."""
        from rich.text import Text

        from sockviz.render.compact import entries_view

        width, legend = options.max_width, self.legend
        if self.before:
            ago = phrases.duration(self.cell_start - min(_time(e) for e in self.before))
            yield Text(phrases.between_cells(ago), style="italic")
            yield from entries_view(self.before, width, self.layout, legend=legend)
            legend = False
        yield from entries_view(self.during, width, self.layout, legend=legend)


_tracer: NotebookTracer | None = None


def load(ip) -> None:
    global _tracer
    if _tracer is not None:
        return
    from sockviz.core import phrases

    phrases.language_from_locale_unless_chosen()  # a French kernel's locale: French
    _tracer = NotebookTracer(ip)
    _tracer.start()
    ip.events.register("pre_run_cell", _tracer.pre_run_cell)
    ip.events.register("post_run_cell", _tracer.post_run_cell)
    ip.register_magic_function(_tracer.magic, magic_kind="line", magic_name="sockviz")
    if _tracer.problem is not None:
        print(_tracer.problem)
        _tracer.problem = None


def unload(ip) -> None:
    global _tracer
    if _tracer is None:
        return
    for event, fn in (("pre_run_cell", _tracer.pre_run_cell),
                      ("post_run_cell", _tracer.post_run_cell)):
        with contextlib.suppress(ValueError):
            ip.events.unregister(event, fn)
    _tracer.stop()
    _tracer = None
