"""The ``--json`` renderer: one object per line, in time order.

A call's record (with its result) is known only when it ends; its packets
are held until then so that the call line comes first, as in time order of
the call's start.

Each line is exactly ``json.dumps(record, ensure_ascii=False, default=repr)``;
packet records, one per packet, go through ``jsonmodel.packet_line``, which
writes the same bytes several times faster. A replay (``batch=True``) writes
lines in blocks; a live run writes each line as it comes.
"""

from __future__ import annotations

from typing import TextIO

from sockviz.core.jsonmodel import call_json, encode, note_json, packet_line, summary_json
from sockviz.core.timeline import CallEnded, CallStarted, Entry, Note, PacketShown, Summary

BATCH = 512  # lines per write when batching


class JsonLinesSink:
    def __init__(self, stream: TextIO, *, batch: bool = False) -> None:
        self.stream = stream
        self._held: list[str] | None = None
        self._lines: list[str] = []
        self._batch = BATCH if batch else 1

    def handle(self, entry: Entry) -> None:
        if type(entry) is PacketShown:  # nearly every entry: tested first
            line = packet_line(entry)
            if self._held is not None:
                self._held.append(line)
            else:
                self._write(line)
        elif isinstance(entry, CallStarted):
            self._held = []
        elif isinstance(entry, CallEnded):
            held, self._held = self._held or [], None
            self._write(encode(call_json(entry)))
            for line in held:
                self._write(line)
        elif isinstance(entry, Note):
            line = encode(note_json(entry))
            if self._held is not None:
                self._held.append(line)
            else:
                self._write(line)
        elif isinstance(entry, Summary):
            self._write(encode(summary_json(entry)))

    def _write(self, line: str) -> None:
        lines = self._lines
        lines.append(line)
        if len(lines) >= self._batch:
            lines.append("")
            self.stream.write("\n".join(lines))
            lines.clear()

    def flush(self) -> None:
        if self._lines:
            self._lines.append("")
            self.stream.write("\n".join(self._lines))
            self._lines.clear()
        self.stream.flush()

    def close(self) -> None:
        if self._held:
            for line in self._held:
                self._write(line)
            self._held = None
        self.flush()
