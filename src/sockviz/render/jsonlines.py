"""The ``--json`` renderer: one object per line, in time order.

A call's record (with its result) is known only when it ends; its packets
are held until then so that the call line comes first, as in time order of
the call's start.
"""

from __future__ import annotations

import json
from typing import TextIO

from sockviz.core.jsonmodel import call_json, note_json, packet_json, summary_json
from sockviz.core.timeline import CallEnded, CallStarted, Entry, Note, PacketShown, Summary


class JsonLinesSink:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._held: list[dict] | None = None

    def handle(self, entry: Entry) -> None:
        if isinstance(entry, CallStarted):
            self._held = []
        elif isinstance(entry, PacketShown):
            self._emit(packet_json(entry))
        elif isinstance(entry, CallEnded):
            held, self._held = self._held or [], None
            self._write(call_json(entry))
            for record in held:
                self._write(record)
        elif isinstance(entry, Note):
            self._emit(note_json(entry))
        elif isinstance(entry, Summary):
            self._write(summary_json(entry))

    def _emit(self, record: dict) -> None:
        if self._held is not None:
            self._held.append(record)
        else:
            self._write(record)

    def _write(self, record: dict) -> None:
        self.stream.write(json.dumps(record, ensure_ascii=False, default=repr) + "\n")

    def close(self) -> None:
        if self._held:
            for record in self._held:
                self._write(record)
            self._held = None
        self.stream.flush()
