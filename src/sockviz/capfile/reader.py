"""Stream the frames of a pcap or pcapng capture file.

Pure stdlib and root-free (its sentences come from the phrasebook, pure too).
The reader never loads a file whole: it reads big chunks and slices records
out of them, so its memory stays bounded by the largest block it accepts
(16 MiB), whatever the size of the file.

Robustness comes first: capture files found in the wild (and in tcpdump's test
suite) are truncated, fuzzed or simply damaged.  Iterating a reader never
raises for anything inside the file; it yields every packet it can read and,
when it has to stop before the end, leaves one sentence in ``problem`` saying
where and why.  Only a file that is not a capture at all raises
(``NotACapture``), and only from ``open_capture``.

Formats:

- classic pcap (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/),
  both byte orders, microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d)
  magics, and Alexey Kuznetzov's modified format (0xa1b2cd34, 8 more bytes per
  record header);
- pcapng (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/):
  section header (both byte orders, several sections), interface description
  (if_name, if_tsresol, if_tsoffset), enhanced, simple and obsolete packet
  blocks; every other block type is skipped.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import starmap
from typing import IO, NamedTuple

from sockviz.core import phrases

__all__ = [
    "CaptureReader",
    "Frame",
    "Interface",
    "NotACapture",
    "Record",
    "open_capture",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Frame:
    """One captured packet as stored in the file, undecoded."""

    time: float  # seconds since the epoch (a float keeps only ~0.2 µs today)
    data: bytes  # captured bytes
    wirelen: int  # original length on the wire (never less than len(data))
    linktype: int  # LINKTYPE_* value (1 = Ethernet, 113 = Linux cooked, ...)
    iface: str  # pcapng if_name, else '' (classic pcap)
    iface_id: int  # pcapng interface id within its section, 0 for classic pcap
    direction: str | None  # 'in', 'out' or None (unknown)
    comments: tuple[str, ...] = ()  # pcapng opt_comment options of the packet block
    index: int  # 1-based position of the packet in the file
    # Exact integer nanoseconds since the epoch: ``time`` cannot hold them
    # (a double has a 2**-22 s step at today's epoch); from a file, always
    # within a signed 64-bit integer (_NS_MIN, _NS_MAX).  None in the
    # constructor means "derive it from ``time``".
    time_ns: int | None = None
    # Where ``data`` starts in the file (-1: unknown), to read it again there.
    offset: int = field(default=-1, compare=False)

    def __post_init__(self) -> None:
        if self.time_ns is None:
            object.__setattr__(self, "time_ns", round(self.time * 1e9))


class _FastFrame:
    """Builds a ``Frame`` about four times faster than its generated ``__init__``.

    A frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__`` (~1.5 µs for ten fields); this class has the very
    same slots in the same order, assigns them plainly, then turns the instance
    into a ``Frame``.  CPython allows the ``__class__`` assignment because both
    layouts are identical (same base, same ``__slots__``); the result is an
    ordinary, immutable ``Frame``.  ``_new_frame`` falls back to the normal
    constructor should an interpreter refuse.  Measured (CPython 3.11, issue
    11): 0.16 µs a Frame, against 1.0 µs through the dataclass's ``__init__``.
    """

    __slots__ = Frame.__slots__

    def __init__(
        self, time, data, wirelen, linktype, iface, iface_id, direction, comments, index, time_ns,
        offset=-1,
    ):
        self.time = time
        self.data = data
        self.wirelen = wirelen
        self.linktype = linktype
        self.iface = iface
        self.iface_id = iface_id
        self.direction = direction
        self.comments = comments
        self.index = index
        self.time_ns = time_ns
        self.offset = offset
        self.__class__ = Frame


def _slow_new_frame(
    time, data, wirelen, linktype, iface, iface_id, direction, comments, index, time_ns,
    offset=-1,
):
    return Frame(
        time=time,
        data=data,
        wirelen=wirelen,
        linktype=linktype,
        iface=iface,
        iface_id=iface_id,
        direction=direction,
        comments=comments,
        index=index,
        time_ns=time_ns,
        offset=offset,
    )


def _pick_frame_factory():
    try:
        probe = _FastFrame(0.0, b"", 0, 0, "", 0, None, (), 1, 0)
    except TypeError:  # pragma: no cover - only on an interpreter without the layout rule
        return _slow_new_frame
    if type(probe) is not Frame or probe != _slow_new_frame(0.0, b"", 0, 0, "", 0, None, (), 1, 0):
        return _slow_new_frame  # pragma: no cover
    return _FastFrame


_new_frame = _pick_frame_factory()

class Record(NamedTuple):
    """A frame as the reader yields it to a replay (``records``): ``Frame``'s fields, a tuple.

    Unpacked by position on the replay's hot path, so made with
    ``tuple.__new__`` (a fifth of the generated constructor's cost).
    """

    time: float
    data: bytes
    wirelen: int
    linktype: int
    iface: str
    iface_id: int
    direction: str | None
    comments: tuple[str, ...]
    index: int
    time_ns: int
    offset: int


_new_record = tuple.__new__



@dataclass(frozen=True, slots=True)
class Interface:
    """What the file says about one capture interface."""

    name: str  # pcapng if_name, '' when absent and for classic pcap
    linktype: int
    snaplen: int  # 0 means "no limit" in pcapng
    description: str = ""


class NotACapture(Exception):
    """The file is neither pcap nor pcapng; the message is one plain sentence."""


# --- limits -------------------------------------------------------------------

# libpcap refuses records longer than the largest snapshot length of the link
# type (pcap-common.c max_snaplen_for_dlt): 256 KiB except for a few link types
# that carry whole messages.  A longer record means a damaged file.
_MAX_CAPLEN = 262144
_MAX_CAPLEN_FOR = {231: 128 * 1024 * 1024, 249: 1024 * 1024, 279: 8 * 1024 * 1024}
# Largest pcapng block we load (libpcap's default maximum block size too).
_MAX_BLOCK = 16 * 1024 * 1024
_CHUNK = 1024 * 1024
# A frame's ``time_ns`` fits a signed 64-bit integer (years 1677 to 2262), as
# Linux's ktime and the replay's packed records expect.  pcapng's 64-bit
# timestamps in coarse units (if_tsresol) or shifted by if_tsoffset can leave
# that range: only a damaged interface description or block does so.
_NS_MIN = -(1 << 63)
_NS_MAX = (1 << 63) - 1

# --- classic pcap -------------------------------------------------------------

_PCAP_MAGICS = {
    # magic as read little-endian: (byte order, nanoseconds, header size)
    0xA1B2C3D4: ("<", False, 16),
    0xA1B23C4D: ("<", True, 16),
    0xA1B2CD34: ("<", False, 24),
    0xD4C3B2A1: (">", False, 16),
    0x4D3CB2A1: (">", True, 16),
    0x34CDB2A1: (">", False, 24),
}
# Kuznetzov records carry the sockaddr_ll packet type: PACKET_OUTGOING is 4,
# the others (host, broadcast, multicast, otherhost) were received.
_KUZ_DIRECTION = {0: "in", 1: "in", 2: "in", 3: "in", 4: "out"}

# --- pcapng -------------------------------------------------------------------

_SHB = 0x0A0D0D0A
_IDB = 0x00000001
_PB = 0x00000002  # obsolete Packet Block
_SPB = 0x00000003
_EPB = 0x00000006
_BOM = 0x1A2B3C4D
# Smallest total length of each block type we interpret (header, fixed fields,
# trailer); any block must have at least 12.
_MIN_LEN = {_SHB: 28, _IDB: 20, _PB: 32, _SPB: 16, _EPB: 32}
_DIRECTION = (None, "in", "out", None)  # epb_flags bits 0-1 (pcapng 4.3.1)
_OPT_COMMENT = 1


class _Endian:
    """Precompiled structs for one byte order."""

    def __init__(self, order: str) -> None:
        self.order = order
        self.u16 = struct.Struct(order + "H").unpack_from
        self.u32 = struct.Struct(order + "I").unpack_from
        self.i64 = struct.Struct(order + "q").unpack_from
        self.opt = struct.Struct(order + "HH").unpack_from
        self.block = struct.Struct(order + "II").unpack_from
        self.shb = struct.Struct(order + "IHHq").unpack_from  # BOM, major, minor, length
        self.idb = struct.Struct(order + "HHI").unpack_from  # linktype, reserved, snaplen
        # EPB after the block header: iface, ts high, ts low, caplen, origlen
        self.epb = struct.Struct(order + "IIIII").unpack_from
        # PB after the block header: iface(16), drops(16), ts high, ts low, caplen, origlen
        self.pb = struct.Struct(order + "HHIIII").unpack_from
        self.pcap_header = struct.Struct(order + "HHiIII").unpack_from
        self.pcap_record = struct.Struct(order + "IIII").unpack_from


_ENDIANS = {"<": _Endian("<"), ">": _Endian(">")}


def _describe_start(head: bytes) -> str:
    """A short, readable picture of a file's first bytes for an error message."""
    known = {b"\x89PNG": "png", b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"\xff\xd8\xff": "jpeg",
             b"%PDF": "pdf", b"\x7fELF": "elf"}
    for magic, kind in known.items():
        if head.startswith(magic):
            return phrases.file_looks_like(kind)
    sample = head[:16]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable():
        return phrases.file_starts_with(text)
    return phrases.file_starts_with_bytes(" ".join(f"{b:02x}" for b in sample[:8]))


def _hex(btype: int) -> str:
    return f"0x{btype:08x}"


class CaptureReader:
    """Frames of one capture file, streamed; use ``open_capture`` to make one.

    Attributes, updated while iterating:

    - ``format``: 'pcap' or 'pcapng';
    - ``shb_comments``: comments of the section header blocks seen so far;
    - ``interfaces``: ``Interface`` entries of the current section (a new pcapng
      section starts a new list, as interface ids restart); classic pcap has one;
    - ``problem``: None while all is well and when the file ended cleanly, else
      one sentence saying where and why reading stopped early;
    - ``bytes_read`` and ``size``: progress, updated at least every 1 MiB.

    Iterating twice continues where the first iteration stopped.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fsdecode(path)
        self.format = ""
        self.shb_comments: list[str] = []
        self.interfaces: list[Interface] = []
        self.problem: str | None = None
        self.bytes_read = 0
        self._file: IO[bytes] | None = open(path, "rb", buffering=_CHUNK)  # noqa: SIM115
        try:
            st = os.fstat(self._file.fileno())
            self.size = st.st_size
            self._buf = self._file.read(_CHUNK)
            self._base = 0  # file offset of self._buf[0]
            # One generator of Records (``records``); iterating the reader makes a
            # Frame of each.
            self._records = self._start()
            self._frames = starmap(_new_frame, self._records)
        except BaseException:
            self.close()
            raise

    # --- public ---------------------------------------------------------------

    def __iter__(self) -> Iterator[Frame]:
        return self._frames

    def records(self) -> Iterator[Record]:
        """The frames as ``Record`` tuples, from the very same position as iterating the reader.

        A replay takes these, which cost less than a ``Frame`` each.
        """
        return self._records

    def read_at(self, offset: int, size: int) -> bytes:
        """``size`` bytes of the file from ``offset`` (a frame's ``offset``), wherever reading is."""
        if self._file is None:
            with open(self.path, "rb") as f:
                return os.pread(f.fileno(), size, offset)
        return os.pread(self._file.fileno(), size, offset)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<CaptureReader {self.path!r} format={self.format!r} problem={self.problem!r}>"

    # --- buffer ---------------------------------------------------------------

    def _refill(self, buf: bytes, pos: int, need: int) -> bytes:
        """Return the unread part of ``buf`` (from ``pos``) grown to ``need`` bytes.

        Shorter only at the end of the file.  The caller resets its position to 0.
        """
        self._base += pos
        parts = [buf[pos:]]
        have = len(parts[0])
        f = self._file
        while have < need and f is not None:
            chunk = f.read(max(_CHUNK, need - have))
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        self.bytes_read = self._base
        return b"".join(parts)

    def _finish(self, problem: str | None) -> None:
        self.problem = problem
        self.close()

    # --- dispatch -------------------------------------------------------------

    def _start(self) -> Iterator[Record]:
        head = self._buf
        if not head:
            raise NotACapture(phrases.file_empty(self.path))
        if len(head) < 4:
            raise NotACapture(phrases.file_too_short(self.path, len(head)))
        magic = struct.unpack_from("<I", head)[0]
        if magic == _SHB:
            self.format = "pcapng"
            return self._pcapng_frames()
        if magic in _PCAP_MAGICS:
            self.format = "pcap"
            return self._pcap_frames(*_PCAP_MAGICS[magic])
        raise NotACapture(phrases.not_a_capture(self.path, _describe_start(head)))

    # --- classic pcap ---------------------------------------------------------

    def _pcap_frames(self, order: str, nano: bool, hlen: int) -> Iterator[Record]:
        # The file header is read at once, so ``interfaces`` is known before
        # the first frame; the records are read by a generator.
        e = _ENDIANS[order]
        buf = self._buf
        self._buf = b""
        if len(buf) < 24:
            self.bytes_read = len(buf)
            self._finish(phrases.pcap_header_truncated(len(buf)))
            return iter(())
        _major, _minor, _zone, _sigfigs, snaplen, linktype = e.pcap_header(buf, 4)
        # The upper bits hold FCS information (pcap draft 2.8); the link type is
        # the low 16 bits, as libpcap's LT_LINKTYPE().
        linktype &= 0xFFFF
        self.interfaces = [Interface("", linktype, snaplen)]
        return self._pcap_records(buf, e, linktype, nano, hlen)

    def _pcap_records(
        self, buf: bytes, e: _Endian, linktype: int, nano: bool, hlen: int
    ) -> Iterator[Record]:
        max_caplen = _MAX_CAPLEN_FOR.get(linktype, _MAX_CAPLEN)
        kuz = hlen == 24
        frac_ns = 1 if nano else 1000
        unpack = e.pcap_record
        no_comments = ()
        index = 0
        pos = 24
        n = len(buf)
        while True:
            # Hot loop: one unpack, one slice, one Frame per record.
            while pos + hlen <= n:
                sec, frac, caplen, wirelen = unpack(buf, pos)
                if caplen > max_caplen:
                    self._finish(phrases.record_too_long(self._base + pos, index + 1, caplen,
                                                         max_caplen))
                    return
                start = pos + hlen
                end = start + caplen
                if end > n:
                    break
                index += 1
                ns = sec * 1_000_000_000 + frac * frac_ns
                yield _new_record(Record, (
                    ns / 1e9,
                    buf[start:end],
                    wirelen if wirelen >= caplen else caplen,
                    linktype,
                    "",
                    0,
                    _KUZ_DIRECTION.get(buf[pos + 22]) if kuz else None,
                    no_comments,
                    index,
                    ns,
                    self._base + start,
                ))
                pos = end
            need = hlen if pos + hlen > n else hlen + caplen
            buf = self._refill(buf, pos, max(need, _CHUNK))
            pos = 0
            n = len(buf)
            if n >= need:
                continue
            if n == 0:
                self._finish(None)
            elif n < hlen:
                self._finish(phrases.record_header_truncated(index + 1, self._base, n, hlen))
            else:
                self._finish(phrases.packet_block_truncated(index + 1, self._base, caplen,
                                                            n - hlen))
            self.bytes_read = self._base + n
            return

    # --- pcapng ---------------------------------------------------------------

    def _pcapng_frames(self) -> Iterator[Record]:
        buf = self._buf
        self._buf = b""
        pos = 0
        n = len(buf)
        index = 0
        e = _ENDIANS["<"]
        # Per interface of the current section: (name, linktype, ts multiplier,
        # ts divisor, offset in ns, max caplen, snaplen)
        ifaces: list[tuple[str, int, int, int, int, int, int]] = []
        prev_ns = 0
        while True:
            if pos + 12 > n:
                buf = self._refill(buf, pos, 12)
                pos = 0
                n = len(buf)
                if n < 12:
                    self.bytes_read = self._base + n
                    if n == 0:
                        self._finish(None)
                    else:
                        self._finish(phrases.stray_bytes(self._base, n))
                    return
            at = self._base + pos
            btype, blen = e.block(buf, pos)
            if btype == _SHB:
                # The byte-order mark decides how to read this section, its own
                # length included (pcapng 4.1).
                bom = struct.unpack_from("<I", buf, pos + 8)[0]
                if bom == _BOM:
                    e = _ENDIANS["<"]
                elif bom == 0x4D3C2B1A:
                    e = _ENDIANS[">"]
                else:
                    self._finish(phrases.bad_byte_order_mark(at, _hex(bom)))
                    return
                blen = e.u32(buf, pos + 4)[0]
            if blen < _MIN_LEN.get(btype, 12) or blen % 4:
                self._finish(phrases.impossible_block_length(at, _hex(btype), blen))
                return
            if blen > _MAX_BLOCK:
                self._finish(phrases.block_too_big(at, _hex(btype), blen, _MAX_BLOCK))
                return
            if pos + blen > n:
                buf = self._refill(buf, pos, blen)
                pos = 0
                n = len(buf)
                if n < blen:
                    self.bytes_read = self._base + n
                    if btype in (_EPB, _SPB, _PB):
                        self._finish(phrases.packet_block_truncated(index + 1, at, blen, n))
                    else:
                        self._finish(phrases.block_truncated(_hex(btype), at, blen, n))
                    return
            end = pos + blen
            if e.u32(buf, end - 4)[0] != blen:
                self._finish(phrases.block_lengths_differ(at, _hex(btype), blen,
                                                          e.u32(buf, end - 4)[0]))
                return

            if btype in (_EPB, _PB):
                # The obsolete packet block (type 2) is an enhanced one with a
                # drops count after the interface id (pcapng appendix A).
                if btype == _EPB:
                    iface_id, ts_hi, ts_lo, caplen, wirelen = e.epb(buf, pos + 8)
                else:
                    iface_id, _drops, ts_hi, ts_lo, caplen, wirelen = e.pb(buf, pos + 8)
                data_end = pos + 28 + caplen
                opt_start = data_end + (-caplen & 3)
                if iface_id >= len(ifaces):
                    self._finish(self._bad_iface(at, index + 1, iface_id, len(ifaces)))
                    return
                name, linktype, mul, div, off, max_caplen, _snap = ifaces[iface_id]
                if caplen > max_caplen or opt_start > end - 4:
                    self._finish(self._bad_caplen(at, index + 1, caplen, max_caplen, blen - 32))
                    return
                direction = None
                comments: tuple[str, ...] = ()
                if opt_start < end - 4:
                    direction, comments = _packet_options(buf, opt_start, end - 4, e)
                ns = ((ts_hi << 32) | ts_lo) * mul // div + off
                if ns > _NS_MAX or ns < _NS_MIN:
                    self._finish(self._bad_time(at, index + 1, ns))
                    return
                index += 1
                prev_ns = ns
                yield _new_record(Record, (
                    ns / 1e9,
                    buf[pos + 28 : data_end],
                    wirelen if wirelen >= caplen else caplen,
                    linktype,
                    name,
                    iface_id,
                    direction,
                    comments,
                    index,
                    ns,
                    at + 28,
                ))
            elif btype == _SPB:
                if not ifaces:
                    self._finish(self._bad_iface(at, index + 1, 0, 0))
                    return
                name, linktype, _mul, _div, _off, max_caplen, snaplen = ifaces[0]
                wirelen = e.u32(buf, pos + 8)[0]
                # The captured length is not stored: it is the original length
                # cut to the snapshot length and to the block (pcapng 4.4).
                caplen = min(wirelen, blen - 16)
                if snaplen:
                    caplen = min(caplen, snaplen)
                if caplen > max_caplen:
                    self._finish(self._bad_caplen(at, index + 1, caplen, max_caplen, blen - 16))
                    return
                index += 1
                # A simple packet block has no timestamp.  We give it the previous
                # packet's time (0 before any), so relative times and a timeline
                # stay monotonic instead of jumping back to 1970.
                yield _new_record(Record, (
                    prev_ns / 1e9,
                    buf[pos + 12 : pos + 12 + caplen],
                    max(wirelen, caplen),
                    linktype,
                    name,
                    0,
                    None,
                    (),
                    index,
                    prev_ns,
                    at + 12,
                ))
            elif btype == _IDB:
                ifaces.append(self._interface(buf, pos, end, e))
            elif btype == _SHB:
                _bom, major, minor, _section_len = e.shb(buf, pos + 8)
                if major != 1:
                    self._finish(phrases.unknown_pcapng_version(at, major, minor))
                    return
                ifaces = []
                self.interfaces = []
                for code, value in _options(buf, pos + 24, end - 4, e):
                    if code == _OPT_COMMENT:
                        self.shb_comments.append(_text(value))
            # Any other block (name resolution, statistics, decryption secrets,
            # custom, journal export, unknown) is skipped.
            pos = end

    def _interface(
        self, buf: bytes, pos: int, end: int, e: _Endian
    ) -> tuple[str, int, int, int, int, int, int]:
        linktype, _reserved, snaplen = e.idb(buf, pos + 8)
        name = description = ""
        mul, div, off = 1000, 1, 0  # default resolution: microseconds
        for code, value in _options(buf, pos + 16, end - 4, e):
            if code == 2:  # if_name
                name = _text(value)
            elif code == 3:  # if_description
                description = _text(value)
            elif code == 9 and value:  # if_tsresol (pcapng 4.2)
                r = value[0]
                if r & 0x80:  # a negative power of 2
                    mul, div = 1_000_000_000, 1 << (r & 0x7F)
                elif r <= 9:
                    mul, div = 10 ** (9 - r), 1
                else:
                    mul, div = 1, 10 ** (r - 9)
            elif code == 14 and len(value) >= 8:  # if_tsoffset, in seconds
                off = e.i64(value)[0] * 1_000_000_000
        self.interfaces.append(Interface(name, linktype, snaplen, description))
        max_caplen = _MAX_CAPLEN_FOR.get(linktype, _MAX_CAPLEN)
        return (name, linktype, mul, div, off, max_caplen, snaplen)

    @staticmethod
    def _bad_iface(at: int, packet: int, iface_id: int, count: int) -> str:
        return phrases.unknown_interface(at, packet, iface_id, count)

    @staticmethod
    def _bad_time(at: int, packet: int, ns: int) -> str:
        return phrases.impossible_timestamp(at, packet, late=ns > 0)

    @staticmethod
    def _bad_caplen(at: int, packet: int, caplen: int, max_caplen: int, room: int) -> str:
        if caplen > max_caplen:
            return phrases.record_too_long(at, packet, caplen, max_caplen)
        return phrases.no_room_for_packet(at, packet, caplen, room)


def _text(value: bytes) -> str:
    # Strings are UTF-8 (pcapng 3.5); some writers add a NUL terminator.
    return value.decode("utf-8", "replace").rstrip("\x00")


def _options(buf: bytes, pos: int, end: int, e: _Endian) -> Iterator[tuple[int, bytes]]:
    """Options between pos and end (pcapng 3.5); a malformed tail is ignored."""
    opt = e.opt
    while pos + 4 <= end:
        code, length = opt(buf, pos)
        if code == 0:  # opt_endofopt
            return
        start = pos + 4
        stop = start + length
        if stop > end:
            return
        yield code, buf[start:stop]
        pos = stop + (-length & 3)


def _packet_options(
    buf: bytes, pos: int, end: int, e: _Endian
) -> tuple[str | None, tuple[str, ...]]:
    direction = None
    comments = []
    for code, value in _options(buf, pos, end, e):
        if code == _OPT_COMMENT:
            comments.append(_text(value))
        elif code == 2 and len(value) >= 4:  # epb_flags / pack_flags
            direction = _DIRECTION[e.u32(value)[0] & 3]
    return direction, tuple(comments)


def open_capture(path: str | os.PathLike[str]) -> CaptureReader:
    """Open a pcap or pcapng file for streaming; usable as a context manager.

    Raises NotACapture for a file that is neither; FileNotFoundError,
    PermissionError and IsADirectoryError propagate unchanged.
    """
    return CaptureReader(path)
