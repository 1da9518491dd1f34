"""The ``--json`` renderer: one object per line, in time order.

A call's record (with its result) is known only when it ends; its packets
are held until then so that the call line comes first, as in time order of
the call's start. A call may last long (a 50 MB ``sendall()`` is 100,000
packets): past ``HOLD_IN_MEMORY`` bytes the held lines go to a temporary
file, so memory stays bounded.

Each line is exactly ``json.dumps(record, ensure_ascii=False, default=repr)``;
packet records, one per packet, go through ``jsonmodel.packet_line``, which
writes the same bytes several times faster. A replay (``batch=True``) writes
lines in blocks; a live run writes each line as it comes.
"""

from __future__ import annotations

import codecs
import os
import shutil
import tempfile
from typing import TextIO

from sockviz.core.jsonmodel import (
    ELLIPSIS_MARK,
    call_json,
    encode,
    note_json,
    packet_line,
    summary_json,
)
from sockviz.core.timeline import CallEnded, CallStarted, Entry, Note, PacketShown, Summary

BATCH = 512  # lines per write when batching
HOLD_IN_MEMORY = 8 << 20  # characters of held lines kept in memory


class JsonLinesSink:
    def __init__(self, stream: TextIO, *, batch: bool = False) -> None:
        self.stream = stream
        self._held: list[str] | None = None
        self._open = 0  # calls started and not yet ended: nested, or in other threads
        self._held_size = 0
        self._spill: TextIO | None = None
        self._lines: list[str] = []
        self._batch = BATCH if batch else 1
        # Blocks of a replay go to the UTF-8 byte stream under a text stdout:
        # encoded while still ASCII, the marks replaced in the bytes (see _emit).
        self._raw = _utf8_buffer(stream) if batch else None

    def handle(self, entry: Entry) -> None:
        if type(entry) is PacketShown:  # nearly every entry: tested first
            self._put(packet_line(entry))
        elif isinstance(entry, CallStarted):
            # Lines are held from the first open call until the last one ends: a
            # call's line still comes before the packets captured during it.
            if self._held is None:
                self._held = []
            self._open += 1
        elif isinstance(entry, CallEnded):
            self._write(encode(call_json(entry)))
            self._open = max(0, self._open - 1)
            if self._open == 0:
                self._release()
        elif isinstance(entry, Note):
            self._put(encode(note_json(entry)))
        elif isinstance(entry, Summary):
            if self._held is not None:  # a call that never ended (resolve --timeout)
                self._release()
            self._write(encode(summary_json(entry)))

    def packet_texts(self, lines: list[str]) -> None:
        """Packet lines already encoded (the replay's fast path), held or written as ``handle``."""
        if self._held is not None:
            for line in lines:
                self._hold(line.replace(ELLIPSIS_MARK, "…"))
            return
        self._lines.extend(lines)
        self._emit_when_full()

    def _put(self, line: str) -> None:
        """Held while a call is open (its line comes first), else written."""
        if self._held is not None:
            self._hold(line)
        else:
            self._write(line)

    def _hold(self, line: str) -> None:
        held = self._held
        held.append(line)
        self._held_size += len(line)
        if self._held_size > HOLD_IN_MEMORY:
            if self._spill is None:
                self._spill = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed in _release
            held.append("")
            self._spill.write("\n".join(held))
            held.clear()
            self._held_size = 0

    def _release(self) -> None:
        """The held lines, in order, after the call's own line."""
        held, self._held = self._held or [], None
        self._held_size = 0
        if self._spill is not None:
            self.flush()
            self._spill.seek(0)
            shutil.copyfileobj(self._spill, self.stream, 1 << 20)
            self._spill.close()
            self._spill = None
        for line in held:
            self._write(line)

    def _write(self, line: str) -> None:
        self._lines.append(line)
        self._emit_when_full()

    def _emit_when_full(self) -> None:
        lines = self._lines
        if len(lines) >= self._batch:
            lines.append("")
            self._emit(lines)
            lines.clear()

    def _emit(self, lines: list[str]) -> None:
        """A block of lines (the last one empty) to the stream, each ELLIPSIS_MARK as '…'."""
        text = "\n".join(lines)
        raw = self._raw
        if raw is None:
            self.stream.write(text.replace(ELLIPSIS_MARK, "…"))
            return
        self.stream.flush()  # whatever went through the text layer comes first
        if text.isascii():  # nearly always: encoded as one copy
            data = text.encode("ascii")
        else:
            # One line with a '×' or a '§' makes the whole block wide text, which
            # encodes a character at a time: the lines are encoded one by one.
            errors = self.stream.errors
            data = b"\n".join([line.encode("utf-8", errors) for line in lines])
        raw.write(data.replace(_MARK, _ELLIPSIS))

    def flush(self) -> None:
        if self._lines:
            self._lines.append("")
            self._emit(self._lines)
            self._lines.clear()
        self.stream.flush()

    def close(self) -> None:
        if self._held is not None:
            self._release()
        self.flush()


_MARK = ELLIPSIS_MARK.encode()
_ELLIPSIS = "…".encode()


def _utf8_buffer(stream: TextIO):
    """The byte stream under ``stream`` when writing to it directly gives the same bytes."""
    raw = getattr(stream, "buffer", None)
    try:
        utf8 = codecs.lookup(stream.encoding).name == "utf-8"
    except (AttributeError, TypeError, LookupError):
        return None
    if raw is None or not utf8 or os.linesep != "\n" or getattr(stream, "line_buffering", True):
        return None
    return raw
