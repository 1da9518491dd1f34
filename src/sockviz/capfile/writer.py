"""Write pcapng files that Wireshark and tshark open, one flushed block at a time.

The writer is used live, and the process may be stopped by Ctrl-C at any time,
so the file must be valid after every block: each block is built whole in
memory, written with a single ``write`` and flushed.  A reader sees at most a
cut last block, which pcapng readers (ours, libpcap, wiretap) report as
truncation after showing every earlier packet.

Block layouts follow draft-ietf-opsawg-pcapng (section numbers below).  The
file is little-endian; readers learn that from the byte-order mark.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from typing import IO

__all__ = ["PcapngWriter"]

_SHB = 0x0A0D0D0A
_IDB = 0x00000001
_EPB = 0x00000006
_BOM = 0x1A2B3C4D

# Option codes (pcapng 3.5, 4.1, 4.2, 4.3)
_OPT_ENDOFOPT = 0
_OPT_COMMENT = 1
_SHB_USERAPPL = 4
_IF_NAME = 2
_IF_TSRESOL = 9
_EPB_FLAGS = 2

# epb_flags bits 0-1: inbound 1, outbound 2 (pcapng 4.3.1)
_DIRECTION_FLAGS = {"in": 1, "out": 2}

_u32 = struct.Struct("<I").pack
_block_head = struct.Struct("<II").pack
_opt_head = struct.Struct("<HH").pack
_shb_body = struct.Struct("<IHHq").pack  # BOM, major, minor, section length
_idb_body = struct.Struct("<HHI").pack  # linktype, reserved, snaplen
_epb_body = struct.Struct("<IIIII").pack  # iface, ts high, ts low, caplen, origlen


def _pad(n: int) -> bytes:
    return b"\x00" * (-n & 3)


def _option(code: int, value: bytes) -> bytes:
    # The length excludes the padding to 32 bits (pcapng 3.5).
    if len(value) > 0xFFFF:
        raise ValueError(f"option {code} is {len(value)} bytes long; at most 65535 fit")
    return _opt_head(code, len(value)) + value + _pad(len(value))


def _options(options: list[bytes]) -> bytes:
    # No options at all is valid and shorter; otherwise end with opt_endofopt.
    if not options:
        return b""
    return b"".join(options) + _opt_head(_OPT_ENDOFOPT, 0)


def _block(btype: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return _block_head(btype, length) + body + _u32(length)


class PcapngWriter:
    """A pcapng file written as a stream of flushed blocks.

    ``path_or_fileobj`` is a path (created or truncated, closed by ``close``) or
    a binary file object opened for writing (left open by ``close``).  The
    section header goes out at once.
    """

    def __init__(
        self,
        path_or_fileobj: str | os.PathLike[str] | IO[bytes],
        *,
        application: str = "sockviz",
        shb_comments: Sequence[str] = (),
    ) -> None:
        if isinstance(path_or_fileobj, str | bytes | os.PathLike):
            self._file: IO[bytes] = open(path_or_fileobj, "wb")  # noqa: SIM115
            self._owns_file = True
        else:
            self._file = path_or_fileobj
            self._owns_file = False
        self._closed = False
        self._snaplens: list[int] = []
        options = [_option(_OPT_COMMENT, c.encode()) for c in shb_comments]
        if application:
            options.append(_option(_SHB_USERAPPL, application.encode()))
        # Section length -1: not known in advance (pcapng 4.1).
        try:
            self._write(_block(_SHB, _shb_body(_BOM, 1, 0, -1) + _options(options)))
        except BaseException:
            self.close()
            raise

    def add_interface(self, name: str, linktype: int, snaplen: int = 262144) -> int:
        """Describe an interface (if_tsresol 9: nanoseconds) and return its id."""
        options = [
            _option(_IF_NAME, name.encode()),
            _option(_IF_TSRESOL, bytes([9])),
        ]
        self._write(_block(_IDB, _idb_body(linktype, 0, snaplen) + _options(options)))
        self._snaplens.append(snaplen)
        return len(self._snaplens) - 1

    def write_packet(
        self,
        iface_id: int,
        time_ns: int,
        data: bytes,
        wirelen: int | None = None,
        *,
        direction: str | None = None,
        comments: Sequence[str] = (),
    ) -> None:
        """Write one enhanced packet block; ``time_ns`` is nanoseconds since the epoch."""
        if not 0 <= iface_id < len(self._snaplens):
            raise ValueError(
                f"interface {iface_id} was not added (there are {len(self._snaplens)})"
            )
        if not 0 <= time_ns < 1 << 64:
            raise ValueError(f"time_ns {time_ns} does not fit a pcapng timestamp")
        caplen = len(data)
        if wirelen is None:
            wirelen = caplen
        elif wirelen < caplen:
            raise ValueError(f"wirelen {wirelen} is less than the {caplen} bytes captured")
        options = [_option(_OPT_COMMENT, c.encode()) for c in comments]
        if direction is not None:
            try:
                flags = _DIRECTION_FLAGS[direction]
            except KeyError:
                raise ValueError(
                    f"direction must be 'in', 'out' or None, not {direction!r}"
                ) from None
            options.append(_option(_EPB_FLAGS, _u32(flags)))
        body = (
            _epb_body(iface_id, time_ns >> 32, time_ns & 0xFFFFFFFF, caplen, wirelen)
            + bytes(data)
            + _pad(caplen)
            + _options(options)
        )
        self._write(_block(_EPB, body))

    def _write(self, block: bytes) -> None:
        if self._closed:
            raise ValueError("write to a closed PcapngWriter")
        # One write, then flush: the file on disk always ends on a block
        # boundary, except for a write cut short by a signal or a full disk.
        self._file.write(block)
        self._file.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._owns_file:
            self._file.close()
        else:
            self._file.flush()

    def __enter__(self) -> PcapngWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
