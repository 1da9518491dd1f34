"""``sockviz.trace()``: trace a block of a Python program, for scripts and graders.

    import sockviz
    with sockviz.trace() as t:
        s = socket.create_connection(("chat.sockviz.test", 3001))
        ...
    t.records   # the --json records, as dicts
    print(t)    # the view (in a terminal; in a notebook the object shows itself)

The capture needs root or CAP_NET_RAW (``sudo python ...``, or ``sudo sockviz
lab run -- python ...`` in the lab, where the program runs as you with that
capability alone).
"""

from __future__ import annotations

import datetime
import os
import sys

from sockviz.core import phrases
from sockviz.core.timeline import Entry


class CaptureNotPermitted(PermissionError):
    """Tracing needs the right to capture; the message says how to get it."""


class Trace:
    """A traced block: its records once it ends, and its view."""

    def __init__(self, *, save: str | bool | None = None, view: bool | None = None,
                 stream=None) -> None:
        self._save = save
        self._view = view
        self._stream = stream
        self._tracing = None
        self._records_sink = None
        self.capture: str | None = None

    # -- the block
    def __enter__(self) -> Trace:
        from sockviz.sources.live import CaptureNotPermitted as NoRights
        from sockviz.sources.live import have_capture_rights
        from sockviz.tracing.session import RecordsSink, Tracing, WaitForView, open_sniffer

        phrases.language_from_locale_unless_chosen()
        if not have_capture_rights():
            raise CaptureNotPermitted(phrases.trace_needs_rights())
        try:
            sniffer, frames = open_sniffer()
        except NoRights:
            raise CaptureNotPermitted(phrases.trace_needs_rights()) from None
        self._records_sink = RecordsSink()
        sinks: list = [self._records_sink]
        stream = self._stream or sys.stdout
        live = self._view if self._view is not None else _isatty(stream)
        if live:
            from rich.console import Console

            from sockviz.render.console import ConsoleSink

            sinks.append(ConsoleSink(Console(file=stream, highlight=False, emoji=False)))
        self.capture = self._capture_path()
        if self.capture:
            from sockviz import __version__
            from sockviz.render.capture_file import CaptureFileSink

            os.makedirs(os.path.dirname(os.path.abspath(self.capture)), exist_ok=True)
            sinks.append(CaptureFileSink(self.capture, {"version": __version__, "command": "trace",
                                                        "title": "sockviz.trace()",
                                                        "role": "client"}))
        self._tracing = Tracing(sniffer=sniffer, frames=frames, sinks=sinks,
                                capture_path=self.capture, wait=WaitForView() if live else None)
        self._tracing.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._tracing is not None:
            self._tracing.stop()

    def _capture_path(self) -> str | None:
        if self._save is False:
            return None
        if isinstance(self._save, str):
            return self._save
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        return os.path.join("captures", f"trace-{stamp}.pcapng")

    # -- what it recorded
    @property
    def records(self) -> list[dict]:
        return self._records_sink.records if self._records_sink else []

    @property
    def entries(self) -> list[Entry]:
        return self._records_sink.entries if self._records_sink else []

    @property
    def calls(self) -> list[dict]:
        return [r for r in self.records if r["type"] == "call"]

    @property
    def packets(self) -> list[dict]:
        return [r for r in self.records if r["type"] == "packet"]

    def packets_of(self, call: dict) -> list[dict]:
        """The packets captured during ``call`` (one of :attr:`calls`)."""
        return [p for p in self.packets if p["call_id"] == call["id"]]

    # -- shown
    def __rich_console__(self, console, options):
        """As the viewing commands show a run at this width (compact under 100 columns)."""
        from sockviz.render.compact import entries_view

        yield from entries_view(self.entries, options.max_width)

    def __str__(self) -> str:
        from sockviz.render.notebook import to_text

        return to_text(self)

    def _repr_html_(self) -> str:
        from sockviz.render.notebook import to_html

        return to_html(self)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def trace(*, save: str | bool | None = None, view: bool | None = None, stream=None) -> Trace:
    """Trace the socket calls of a block (``with sockviz.trace() as t:``).

    ``save``: a pcapng path, False for none (default ``./captures/trace-TIME.pcapng``);
    ``view``: show the calls and packets live (default: when ``stream``, stdout by
    default, is a terminal).
    """
    return Trace(save=save, view=view, stream=stream)
