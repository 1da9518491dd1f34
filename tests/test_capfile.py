"""Capture files: the streaming pcap/pcapng reader and the pcapng writer.

Root-free.  Files are built by hand with struct where the writer cannot make
them (classic pcap, big-endian pcapng, damaged blocks).  The corpus test reads
every capture of tcpdump's test suite in ../shared/corpus/tcpdump-tests and
compares packet counts with tcpdump's.
"""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import signal
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from sockviz.capfile.reader import Frame, Interface, NotACapture, open_capture
from sockviz.capfile.writer import PcapngWriter

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "tcpdump-tests"
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.pcap*")) if CORPUS.is_dir() else []

T0 = 1_700_000_000_123_456_789  # ns since the epoch, with every digit significant


# --- helpers ----------------------------------------------------------------------


def read_all(path: Path) -> tuple[list[Frame], str | None]:
    with open_capture(path) as reader:
        frames = list(reader)
        return frames, reader.problem


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging) if the body runs longer than ``seconds``."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pcap_file(
    records: list[tuple[int, int, bytes, int]],
    *,
    order: str = "<",
    magic: int = 0xA1B2C3D4,
    linktype: int = 1,
    snaplen: int = 65535,
    extra: bytes = b"",
) -> bytes:
    """A classic pcap: records are (seconds, fraction, data, wirelen)."""
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for sec, frac, data, wirelen in records:
        out.append(struct.pack(order + "IIII", sec, frac, len(data), wirelen) + extra + data)
    return b"".join(out)


class Ng:
    """Hand-made pcapng blocks in either byte order."""

    def __init__(self, order: str = "<") -> None:
        self.o = order

    def opt(self, code: int, value: bytes) -> bytes:
        return struct.pack(self.o + "HH", code, len(value)) + value + b"\0" * (-len(value) & 3)

    def opts(self, *options: bytes) -> bytes:
        return b"".join(options) + struct.pack(self.o + "HH", 0, 0) if options else b""

    def block(self, btype: int, body: bytes) -> bytes:
        length = 12 + len(body)
        return struct.pack(self.o + "II", btype, length) + body + struct.pack(self.o + "I", length)

    def shb(self, *options: bytes, major: int = 1) -> bytes:
        body = struct.pack(self.o + "IHHq", 0x1A2B3C4D, major, 0, -1)
        return self.block(0x0A0D0D0A, body + self.opts(*options))

    def idb(self, linktype: int = 1, *options: bytes, snaplen: int = 0) -> bytes:
        return self.block(
            1, struct.pack(self.o + "HHI", linktype, 0, snaplen) + self.opts(*options)
        )

    def epb(self, iface: int, ts: int, data: bytes, wirelen: int | None = None, *options: bytes):
        wirelen = len(data) if wirelen is None else wirelen
        head = struct.pack(self.o + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), wirelen)
        pad = b"\0" * (-len(data) & 3)
        return self.block(6, head + data + pad + self.opts(*options))

    def spb(self, wirelen: int, data: bytes) -> bytes:
        return self.block(3, struct.pack(self.o + "I", wirelen) + data + b"\0" * (-len(data) & 3))

    def pb(self, iface: int, ts: int, data: bytes, *options: bytes) -> bytes:
        head = struct.pack(self.o + "HHIIII", iface, 0, ts >> 32, ts & 0xFFFFFFFF, len(data), 99)
        return self.block(2, head + data + b"\0" * (-len(data) & 3) + self.opts(*options))


def write(tmp_path: Path, content: bytes, name: str = "capture") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def sample_pcapng(target) -> list[dict]:
    """Write a pcapng with three interfaces and varied packets; return what went in."""
    packets = [
        dict(iface=0, time_ns=T0, data=b"\x00" * 14 + b"SYN", direction="out", comments=()),
        dict(
            iface=1,
            time_ns=T0 + 1,
            data=b"\x45" + bytes(range(40)),
            wirelen=1500,
            direction="in",
            comments=("connect() -> SYN", "élan\nsecond line ✓"),
        ),
        dict(iface=2, time_ns=T0 + 999_999_999, data=b"", direction=None, comments=("",)),
        dict(iface=0, time_ns=1, data=b"abc", direction=None, comments=()),
    ]
    with PcapngWriter(target, shb_comments=["run of 2024", "Zeile 1\nZeile 2 ü"]) as writer:
        assert writer.add_interface("lo", 1) == 0
        assert writer.add_interface("any", 113, snaplen=65535) == 1
        assert writer.add_interface("tun0", 101) == 2
        for p in packets:
            writer.write_packet(
                p["iface"],
                p["time_ns"],
                p["data"],
                p.get("wirelen"),
                direction=p["direction"],
                comments=p["comments"],
            )
    return packets


def block_ends(content: bytes) -> list[int]:
    """Offsets where each pcapng block of a little-endian file ends."""
    ends, pos = [], 0
    while pos < len(content):
        pos += struct.unpack_from("<I", content, pos + 4)[0]
        ends.append(pos)
    return ends


# --- writer -> reader round trip ---------------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "rt.pcapng"
    packets = sample_pcapng(path)
    linktypes = {0: 1, 1: 113, 2: 101}
    names = {0: "lo", 1: "any", 2: "tun0"}
    with open_capture(path) as reader:
        frames = list(reader)
        assert reader.format == "pcapng"
        assert reader.problem is None
        assert reader.shb_comments == ["run of 2024", "Zeile 1\nZeile 2 ü"]
        assert reader.interfaces == [
            Interface("lo", 1, 262144),
            Interface("any", 113, 65535),
            Interface("tun0", 101, 262144),
        ]
        assert reader.bytes_read == reader.size == path.stat().st_size
    assert len(frames) == len(packets)
    for i, (frame, p) in enumerate(zip(frames, packets, strict=True), start=1):
        assert frame.index == i
        assert frame.time_ns == p["time_ns"]  # to the nanosecond
        assert frame.time == p["time_ns"] / 1e9
        assert frame.data == p["data"]
        assert frame.wirelen == p.get("wirelen", len(p["data"]))
        assert frame.iface_id == p["iface"]
        assert frame.iface == names[p["iface"]]
        assert frame.linktype == linktypes[p["iface"]]
        assert frame.direction == p["direction"]
        assert frame.comments == p["comments"]


def test_writer_to_file_object_leaves_it_open() -> None:
    buf = io.BytesIO()
    sample_pcapng(buf)
    assert not buf.closed
    assert buf.getvalue()[:4] == b"\x0a\x0d\x0d\x0a"


def test_file_is_valid_after_every_block(tmp_path: Path) -> None:
    # The writer is used live: whatever has been written so far reads cleanly.
    path = tmp_path / "live.pcapng"
    writer = PcapngWriter(path)
    assert read_all(path) == ([], None)
    iface = writer.add_interface("eth0", 1)
    for n in range(1, 4):
        writer.write_packet(iface, T0 + n, bytes([n]) * n, comments=[f"#{n}"])
        frames, problem = read_all(path)
        assert problem is None
        assert [f.data for f in frames] == [bytes([k]) * k for k in range(1, n + 1)]
    writer.close()
    writer.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        writer.write_packet(iface, T0, b"x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(iface_id=1), "interface 1 was not added"),
        (dict(direction="sideways"), "direction must be"),
        (dict(wirelen=2), "wirelen 2 is less"),
        (dict(time_ns=-1), "does not fit"),
    ],
)
def test_writer_rejects_bad_packets(tmp_path: Path, kwargs: dict, message: str) -> None:
    with PcapngWriter(tmp_path / "bad.pcapng") as writer:
        writer.add_interface("eth0", 1)
        args = dict(iface_id=0, time_ns=T0, data=b"abc") | kwargs
        with pytest.raises(ValueError, match=message):
            writer.write_packet(**args)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_reads_written_file(tmp_path: Path) -> None:
    path = tmp_path / "for-tshark.pcapng"
    packets = sample_pcapng(path)
    # As root tshark only warns ("could be dangerous") on stderr.
    result = subprocess.run(
        [
            "tshark",
            "-r",
            str(path),
            "-T",
            "fields",
            "-e",
            "frame.comment",
            "-e",
            "frame.time_epoch",
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.decode("utf-8").splitlines()
    assert len(lines) == len(packets)
    for line, p in zip(lines, packets, strict=True):
        comment_field, epoch = line.split("\t")
        assert Decimal(epoch) == Decimal(p["time_ns"]) / 10**9
        for comment in p["comments"]:
            # tshark joins comments with ',' and escapes a newline as '\n'.
            assert comment.replace("\n", "\\n") in comment_field


# --- truncation ----------------------------------------------------------------------


def assert_prefix_read(tmp_path: Path, content: bytes, cut: int, full: list[Frame], ends) -> None:
    path = write(tmp_path, content[:cut], f"cut{cut}")
    if cut < 4:
        with pytest.raises(NotACapture):
            open_capture(path)
        return
    with deadline(5):
        frames, problem = read_all(path)
    assert frames == full[: len(frames)]
    if cut in ends:
        assert problem is None, cut
        # The first blocks are headers (SHB, IDBs); the rest hold one packet each.
        headers = len(ends) - len(full)
        assert len(frames) == max(0, ends.index(cut) + 1 - headers)
    else:
        assert problem is not None and problem.startswith("The file is truncated"), (cut, problem)


@pytest.fixture
def written(tmp_path: Path) -> tuple[bytes, list[Frame], list[int]]:
    path = tmp_path / "full.pcapng"
    sample_pcapng(path)
    full, problem = read_all(path)
    assert problem is None
    content = path.read_bytes()
    return content, full, block_ends(content)


@pytest.mark.parametrize("where", ["empty", "magic", "shb", "header", "mid-packet", "last-byte"])
def test_truncated_pcapng_examples(tmp_path: Path, written, where: str) -> None:
    content, full, ends = written
    cut = {
        "empty": 0,
        "magic": 3,
        "shb": ends[0] - 1,
        "header": ends[4] + 7,  # inside the first packet's block header
        "mid-packet": ends[5] + 30,
        "last-byte": len(content) - 1,
    }[where]
    assert_prefix_read(tmp_path, content, cut, full, ends)


def test_truncated_pcapng_at_every_offset(tmp_path: Path, written) -> None:
    content, full, ends = written
    for cut in range(len(content) + 1):
        assert_prefix_read(tmp_path, content, cut, full, ends)


def test_truncated_pcap_at_every_offset(tmp_path: Path) -> None:
    records = [(1_600_000_000 + i, i, bytes(range(i * 7)), i * 7) for i in range(5)]
    content = pcap_file(records)
    full, problem = read_all(write(tmp_path, content))
    assert problem is None and len(full) == 5
    ends = [24]
    for _, _, data, _ in records:
        ends.append(ends[-1] + 16 + len(data))
    for cut in range(len(content) + 1):
        path = write(tmp_path, content[:cut], f"cut{cut}")
        if cut < 4:
            with pytest.raises(NotACapture):
                open_capture(path)
            continue
        frames, problem = read_all(path)
        assert frames == full[: len(frames)]
        if cut in ends:
            assert problem is None and len(frames) == ends.index(cut)
        else:
            assert problem is not None and problem.startswith("The file is truncated")


def test_truncated_record_problem_sentence(tmp_path: Path) -> None:
    content = pcap_file([(1, 0, b"a" * 100, 100), (2, 0, b"b" * 1514, 1514)])
    frames, problem = read_all(write(tmp_path, content[:-1314]))
    assert len(frames) == 1
    assert problem == (
        "The file is truncated: packet 2 at byte 140 claims 1514 bytes but only 200 remain."
    )


# --- not a capture -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("notes.txt", b"hello, this is text\n", "it starts with 'hello, this is t'"),
        ("empty.pcap", b"", "is empty (0 bytes)"),
        ("image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "it looks like a PNG image"),
        ("capture.pcap.gz", b"\x1f\x8b\x08\x00", "gzip-compressed"),
        ("short.bin", b"\xd4\xc3", "is too short (2 bytes)"),
        ("random.bin", bytes(range(250, 256)) + bytes(10), "it starts with bytes fa fb fc"),
    ],
)
def test_not_a_capture(tmp_path: Path, name: str, content: bytes, says: str) -> None:
    path = write(tmp_path, content, name)
    with pytest.raises(NotACapture) as info:
        open_capture(path)
    message = str(info.value)
    assert says in message
    assert message.startswith(str(path))
    assert message.endswith(".") and "\n" not in message


def test_os_errors_propagate(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_capture(tmp_path / "missing.pcap")
    with pytest.raises(IsADirectoryError):
        open_capture(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may read any file")
def test_permission_error_propagates(tmp_path: Path) -> None:
    path = write(tmp_path, pcap_file([]))
    path.chmod(0)
    with pytest.raises(PermissionError):
        open_capture(path)


# --- classic pcap by hand ----------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "magic", "frac", "ns"),
    [
        ("<", 0xA1B2C3D4, 123456, 123_456_000),  # little-endian, microseconds
        (">", 0xA1B2C3D4, 123456, 123_456_000),  # big-endian, microseconds
        ("<", 0xA1B23C4D, 123456789, 123_456_789),  # little-endian, nanoseconds
        (">", 0xA1B23C4D, 999999999, 999_999_999),  # big-endian, nanoseconds
    ],
)
def test_pcap_orders_and_resolutions(
    tmp_path: Path, order: str, magic: int, frac: int, ns: int
) -> None:
    records = [(1_700_000_000, frac, b"\x01\x02\x03", 60), (1_700_000_001, 0, b"", 0)]
    # The top bits of the link type field carry FCS information, not the type.
    content = pcap_file(records, order=order, magic=magic, linktype=0x30000000 | 113)
    with open_capture(write(tmp_path, content)) as reader:
        assert reader.interfaces == [Interface("", 113, 65535)]
        frames = list(reader)
        assert reader.problem is None
    assert frames[0] == Frame(
        time=1_700_000_000 + ns / 1e9,
        time_ns=1_700_000_000 * 10**9 + ns,
        data=b"\x01\x02\x03",
        wirelen=60,
        linktype=113,
        iface="",
        iface_id=0,
        direction=None,
        index=1,
    )
    assert frames[1].time_ns == 1_700_000_001 * 10**9 and frames[1].index == 2


def test_pcap_kuznetzov(tmp_path: Path) -> None:
    # Modified pcap: ifindex (4), protocol (2), pkt_type (1), pad (1) per record.
    out = pcap_file([(5, 7, b"out", 3)], magic=0xA1B2CD34, extra=struct.pack("<IHBB", 2, 8, 4, 0))
    both = out + struct.pack("<IIII", 6, 0, 2, 2) + struct.pack("<IHBB", 2, 8, 0, 0) + b"in"
    frames, problem = read_all(write(tmp_path, both))
    assert problem is None
    assert [(f.data, f.direction, f.time_ns) for f in frames] == [
        (b"out", "out", 5_000_007_000),
        (b"in", "in", 6_000_000_000),
    ]


def test_pcap_caplen_above_wirelen_is_tolerated(tmp_path: Path) -> None:
    frames, problem = read_all(write(tmp_path, pcap_file([(1, 0, b"x" * 64, 34)])))
    assert problem is None
    assert frames[0].wirelen == 64 and len(frames[0].data) == 64


def test_pcap_absurd_caplen_stops(tmp_path: Path) -> None:
    content = pcap_file([(1, 0, b"ok", 2)]) + struct.pack("<IIII", 2, 0, 0x7FFFFFFF, 60)
    content += b"\0" * 100
    frames, problem = read_all(write(tmp_path, content))
    assert [f.data for f in frames] == [b"ok"]
    assert problem == (
        "Stopped at byte 42: packet 2 claims 2147483647 captured bytes, more than the "
        "262144 a record may hold, so the file is damaged from there on."
    )


def test_pcap_streams_in_bounded_chunks(tmp_path: Path) -> None:
    data = b"z" * 1000
    content = pcap_file([(i, 0, data, 1000) for i in range(5000)])  # ~5 MiB
    path = write(tmp_path, content)
    with open_capture(path) as reader:
        seen = []
        for frame in reader:
            if frame.index % 500 == 0:
                seen.append(reader.bytes_read)
        assert reader.bytes_read == reader.size == len(content)
    # Progress grows while reading instead of jumping to the end at once.
    assert seen == sorted(seen) and seen[0] < len(content) // 2 < seen[-1]


# --- pcapng by hand ------------------------------------------------------------------


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_blocks(tmp_path: Path, order: str) -> None:
    ng = Ng(order)
    content = b"".join(
        [
            ng.shb(ng.opt(1, b"first section"), ng.opt(4, b"handmade")),
            # if_tsresol 2**-10 s, if_tsoffset 100 s
            ng.idb(
                1,
                ng.opt(2, b"eth0"),
                ng.opt(9, bytes([0x8A])),
                ng.opt(14, struct.pack(order + "q", 100)),
            ),
            ng.idb(101, ng.opt(2, b"raw\0"), ng.opt(9, bytes([3])), snaplen=4),  # milliseconds
            ng.block(4, b"\0" * 8),  # name resolution block: skipped
            ng.epb(0, 1024 + 512, b"half", 4, ng.opt(2, struct.pack(order + "I", 2))),
            ng.block(0x40000BAD, b"PEN!custom data!"),  # custom block: skipped
            ng.epb(1, 1500, b"ms", None, ng.opt(1, "multi\nline ☃".encode()), ng.opt(1, b"two")),
            ng.spb(10, b"0123"),  # simple packet: interface 0's time is unknown
            ng.block(5, b"\0" * 12),  # interface statistics: skipped
            ng.pb(1, 2500, b"old", ng.opt(2, struct.pack(order + "I", 1))),
            # A new section resets the interfaces: id 0 is now a different one.
            ng.shb(ng.opt(1, b"second section")),
            ng.idb(113, ng.opt(2, b"any")),
            ng.epb(0, 7_000_000, b"sll"),
        ]
    )
    with open_capture(write(tmp_path, content)) as reader:
        frames = list(reader)
        assert reader.problem is None
        assert reader.shb_comments == ["first section", "second section"]
        assert reader.interfaces == [Interface("any", 113, 0)]
    got = [(f.index, f.iface, f.iface_id, f.linktype, f.data, f.wirelen, f.time_ns) for f in frames]
    assert got == [
        (1, "eth0", 0, 1, b"half", 4, 101_500_000_000),
        (2, "raw", 1, 101, b"ms", 2, 1_500_000_000),
        (3, "eth0", 0, 1, b"0123", 10, 1_500_000_000),  # previous packet's time
        (4, "raw", 1, 101, b"old", 99, 2_500_000_000),
        (5, "any", 0, 113, b"sll", 3, 7_000_000_000),
    ]
    assert [f.direction for f in frames] == ["out", None, None, "in", None]
    assert frames[1].comments == ("multi\nline ☃", "two")


def test_simple_packet_block_respects_snaplen(tmp_path: Path) -> None:
    ng = Ng()
    content = ng.shb() + ng.idb(1, snaplen=3) + ng.spb(60, b"abcdefgh")
    frames, problem = read_all(write(tmp_path, content))
    assert problem is None
    assert (frames[0].data, frames[0].wirelen, frames[0].time_ns) == (b"abc", 60, 0)


_ng = Ng()
_HEAD = _ng.shb() + _ng.idb(1)  # 28 + 20 bytes
_OK = _ng.epb(0, 1, b"ok")  # 36 bytes, so a damaged block starts at byte 84


@pytest.mark.parametrize(
    ("tail", "problem"),
    [
        (
            struct.pack("<II", 6, 12) + b"\0" * 20,
            "Stopped at byte 84: block type 0x00000006 has an impossible length 12.",
        ),
        (
            struct.pack("<II", 0x99, 8) + b"\0" * 20,
            "Stopped at byte 84: block type 0x00000099 has an impossible length 8.",
        ),
        (
            struct.pack("<II", 0x99, 14) + b"\0" * 20,
            "Stopped at byte 84: block type 0x00000099 has an impossible length 14.",
        ),
        (
            struct.pack("<II", 0x99, 1 << 30) + b"\0" * 20,
            "Stopped at byte 84: block type 0x00000099 claims 1073741824 bytes, more than "
            "the 16777216 this reader accepts for one block.",
        ),
        (
            struct.pack("<II", 0x99, 400) + b"\0" * 20,
            "The file is truncated: block type 0x00000099 at byte 84 claims 400 bytes but "
            "only 28 remain.",
        ),
        (
            _ng.epb(0, 1, b"ok")[:-4] + struct.pack("<I", 40),
            "Stopped at byte 84: block type 0x00000006 says 36 bytes at its start but 40 at "
            "its end.",
        ),
        (
            _ng.epb(3, 1, b"ok"),
            "Stopped at byte 84: packet 2 refers to interface 3, but only 1 interface was "
            "described before it.",
        ),
        (
            _ng.block(6, struct.pack("<IIIII", 0, 0, 0, 400, 400) + b"\0" * 8),
            "Stopped at byte 84: packet 2 claims 400 captured bytes but its block has room "
            "for only 8.",
        ),
        (
            _ng.shb()[:8] + b"\xde\xad\xbe\xef" + _ng.shb()[12:],
            "Stopped at byte 84: the section header has an invalid byte-order mark 0xefbeadde.",
        ),
        (
            _ng.shb(major=2),
            "Stopped at byte 84: the section header declares pcapng version 2.0, which this "
            "reader does not understand.",
        ),
        (
            b"\0" * 5,
            "The file is truncated: it ends at byte 84 with 5 stray bytes, too few for a block.",
        ),
    ],
    ids=[
        "shorter-than-its-type",
        "shorter-than-12",
        "not-a-multiple-of-4",
        "huge",
        "past-the-end",
        "trailer-mismatch",
        "unknown-interface",
        "caplen-beyond-block",
        "bad-byte-order-mark",
        "pcapng-version-2",
        "stray-bytes",
    ],
)
def test_pcapng_damage(tmp_path: Path, tail: bytes, problem: str) -> None:
    content = _HEAD + _OK + tail
    if problem.startswith("Stopped"):
        content += _ng.epb(0, 2, b"never read")
    frames, got = read_all(write(tmp_path, content))
    assert [f.data for f in frames] == [b"ok"]
    assert got == problem


def test_pcapng_packet_before_any_interface(tmp_path: Path) -> None:
    frames, problem = read_all(write(tmp_path, _ng.shb() + _ng.spb(2, b"hi")))
    assert frames == []
    assert problem == (
        "Stopped at byte 28: packet 1 refers to interface 0, but no interface was described "
        "before it."
    )


# --- Frame ------------------------------------------------------------------------


def test_frames_are_ordinary_frozen_frames(tmp_path: Path) -> None:
    frames, _ = read_all(write(tmp_path, pcap_file([(1, 2, b"x", 1)])))
    frame = frames[0]
    assert type(frame) is Frame
    with pytest.raises(dataclasses.FrozenInstanceError):
        frame.data = b"y"  # type: ignore[misc]
    assert hash(frame) == hash(dataclasses.replace(frame))
    assert (
        Frame(
            time=1.5, data=b"", wirelen=0, linktype=1, iface="", iface_id=0, direction=None, index=1
        ).time_ns
        == 1_500_000_000
    )


# --- tcpdump's test corpus --------------------------------------------------------------


def tcpdump_count(path: Path) -> int | None:
    """Packets tcpdump counts in the file, or None if it reports any error.

    ``tcpdump --count`` rather than ``tcpdump -nn | wc -l``: many dissectors
    print several lines per packet (26 files here would miscount).
    """
    result = subprocess.run(
        ["tcpdump", "--count", "-r", str(path)], capture_output=True, text=True, timeout=30
    )
    errors = [ln for ln in result.stderr.splitlines() if not ln.startswith("reading from file")]
    if result.returncode != 0 or errors:
        return None
    return int(result.stdout.split()[0])


@pytest.mark.skipif(not CORPUS_FILES, reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("name", CORPUS_FILES or ["-"])
def test_corpus_file(name: str) -> None:
    path = CORPUS / name
    with deadline(10), open_capture(path) as reader:
        count = sum(1 for _ in reader)
        problem = reader.problem
        assert reader.bytes_read <= reader.size
    if shutil.which("tcpdump") is None:
        return
    expected = tcpdump_count(path)
    if expected is not None:
        assert count == expected
        assert problem is None, problem


def test_a_frame_s_offset_is_where_its_bytes_are_in_the_file() -> None:
    """``offset`` lets a replay read a frame's bytes again (its worker process sends none)."""
    corpus = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "tcpdump-tests"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus/tcpdump-tests is not here")
    captures = Path(__file__).resolve().parents[1] / "captures"
    checked = 0
    for path in [*sorted(captures.glob("*.pcapng")), *sorted(corpus.iterdir())[:200]]:
        try:
            reader = open_capture(path)
        except NotACapture:
            continue
        with reader:
            for frame in reader:
                assert reader.read_at(frame.offset, len(frame.data)) == frame.data, path.name
                checked += 1
    assert checked > 1000
