"""The pcapng renderer: every shown packet, with the API calls as comments.

A call's start is written as a comment on the first packet after it began,
its end (with the full record) on the first packet after it ended, so that
Wireshark shows each call where it happened and ``sockviz replay`` restores
it at the right place. One packet is held back, so that calls ending after
the last packet still have a packet to sit on; a run with no packet at all
keeps its calls in the section header. Every block is flushed as written:
after Ctrl-C the file is complete up to its last packet.
"""

from __future__ import annotations

import os

from sockviz.capfile.writer import PcapngWriter
from sockviz.core.callcomment import encode_call, encode_meta, encode_note, encode_start
from sockviz.core.events import Packet
from sockviz.core.timeline import CallEnded, CallStarted, Entry, Note, PacketShown


class CaptureFileSink:
    def __init__(self, path: str, meta: dict) -> None:
        self.path = path
        self.meta = meta
        self._writer: PcapngWriter | None = None
        self._ifaces: dict[tuple[str, int], int] = {}
        self._held: tuple[Packet, str | None, list[str]] | None = None
        self._pending: list[str] = []
        self.written = 0

    def handle(self, entry: Entry) -> None:
        if isinstance(entry, PacketShown):
            if self._held is not None:
                self._write(*self._held)
            self._held = (entry.packet, entry.direction if entry.packet.direction else None,
                          self._pending)
            self._pending = []
        elif isinstance(entry, CallStarted):
            self._pending.append(encode_start(entry.call))
        elif isinstance(entry, CallEnded):
            self._pending.append(encode_call(entry.call))
        elif isinstance(entry, Note) and entry.saved:
            self._pending.append(encode_note(entry.time, entry.text))

    def close(self) -> None:
        if self._held is not None:
            packet, direction, comments = self._held
            self._write(packet, direction, comments + self._pending)
            self._held, self._pending = None, []
        if self._writer is None:
            self._open(extra=self._pending)
            self._pending = []
        self._writer.close()

    def _open(self, extra: list[str] = ()) -> None:
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self._writer = PcapngWriter(
            self.path,
            application=f"sockviz {self.meta.get('version', '')}".strip(),
            shb_comments=[encode_meta(self.meta), *extra],
        )

    def _write(self, packet: Packet, direction: str | None, comments: list[str]) -> None:
        if self._writer is None:
            self._open()
        key = (packet.iface, packet.linktype)
        iface_id = self._ifaces.get(key)
        if iface_id is None:
            iface_id = self._ifaces[key] = self._writer.add_interface(packet.iface, packet.linktype)
        time_ns = packet.time_ns or round(packet.time * 1e9)
        self._writer.write_packet(iface_id, time_ns, packet.data, packet.wirelen,
                                  direction=direction, comments=comments)
        self.written += 1
