"""A synthetic capture writer: realistic mixed TCP/UDP traffic, streamed to a file.

Used by the benchmarks (never by the tests' default run). The traffic looks
like what Linux puts on a wire, so the replay path does its real work:

- TCP connections (IPv4 and some IPv6) with a SYN carrying MSS, SACK-permitted,
  timestamps and window scale; bulk data of 1448-byte segments with the
  timestamp option in every segment, a pure ACK every second segment, small
  requests and replies, a FIN teardown (a few end with RST instead);
- UDP streams of 160-byte datagrams (voice-like), and DNS queries with their
  answers;
- an ARP request and reply now and then.

Many connections are interleaved at once. The file is written record by
record, so memory stays flat whatever the count.

    python benchmarks/synthcap.py OUT.pcap [--packets N] [--short-flows]

``--short-flows`` makes nearly every flow a one-exchange UDP conversation
(hundreds of thousands of flows): the worst case for per-flow memory.
``--shape`` picks one of SHAPES, the kinds of capture replay is measured on
(issue 11): the mix above, the same with every payload zero bytes or random
bytes (TLS, compressed data: nothing printable), short flows, and a DNS-heavy
capture (half a million two-packet conversations, half of them a DNS query
and its answer, each from a port of its own).
"""

from __future__ import annotations

import argparse
import random
import struct
from collections.abc import Iterator

_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
_REC = struct.Struct("<IIII")
_ETH = struct.Struct("!6s6sH")
_IP4 = struct.Struct("!BBHHHBBH4s4s")
_IP6 = struct.Struct("!IHBB16s16s")
_TCP = struct.Struct("!HHIIHHHH")
_UDP = struct.Struct("!HHHH")

MAC_C = bytes.fromhex("020000000001")
MAC_S = bytes.fromhex("020000000002")
SYN_OPTS = (
    struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" + struct.pack("!BBII", 8, 10, 1000, 0)
    + b"\x01" + struct.pack("!BBB", 3, 3, 7)
)
PAYLOAD = (b"GET /sockviz/bench HTTP/1.1\r\nHost: www.sockviz.test\r\n" * 40)[:1448]
# Bulk data looks random on a real wire (compressed, encrypted): every segment
# carries a different slice of this, so no per-payload cache could help.
NOISE = random.Random(7).randbytes(1 << 16)


ZEROS = bytes(1 << 16)
SHAPES = ("mix", "zeros", "random", "short", "dns")
_payloads = {"bytes": NOISE, "request": PAYLOAD}  # what _noise and requests draw from (--shape)


def _noise(i: int, size: int) -> bytes:
    data = _payloads["bytes"]
    off = (i * 7919) % (len(data) - size)
    return data[off : off + size]


def _request(size: int) -> bytes:
    return _payloads["request"][:size]


def _ts_opt(a: int, b: int) -> bytes:
    return b"\x01\x01" + struct.pack("!BBII", 8, 10, a & 0xFFFFFFFF, b & 0xFFFFFFFF)


class _Tcp:
    """One TCP connection: yields its frames, one at a time."""

    def __init__(self, rng: random.Random, n: int, v6: bool) -> None:
        self.rng = rng
        self.v6 = v6
        if v6:
            self.c = bytes.fromhex("20010db8000000000000000000000001")
            self.s = bytes.fromhex("20010db800000000000000000000") + struct.pack("!H", 2 + n % 200)
        else:
            self.c = bytes([192, 0, 2, 1 + n % 250])
            self.s = bytes([198, 51, 100, 1 + (n // 250) % 250])
        self.cp = 32768 + n % 28000
        self.sp = rng.choice((80, 443, 3001, 8080))
        self.cseq = rng.getrandbits(32)
        self.sseq = rng.getrandbits(32)
        self.ts = rng.getrandbits(31)

    def frame(self, client: bool, flags: int, payload: bytes = b"", opts: bytes | None = None) -> bytes:
        self.ts += 1
        if opts is None:
            opts = _ts_opt(self.ts, self.ts - 7)
        sport, dport = (self.cp, self.sp) if client else (self.sp, self.cp)
        seq, ack = (self.cseq, self.sseq) if client else (self.sseq, self.cseq)
        tcp = _TCP.pack(sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                        ((20 + len(opts)) // 4) << 12 | flags, 502 if client else 509, 0, 0)
        seg = tcp + opts + payload
        inc = len(payload) + (1 if flags & 0x03 else 0)  # SYN and FIN count one
        if client:
            self.cseq += inc
        else:
            self.sseq += inc
        src, dst = (self.c, self.s) if client else (self.s, self.c)
        emac, smac = (MAC_S, MAC_C) if client else (MAC_C, MAC_S)
        if self.v6:
            return _ETH.pack(emac, smac, 0x86DD) + _IP6.pack(6 << 28, len(seg), 6, 64, src, dst) + seg
        ip = _IP4.pack(0x45, 0, 20 + len(seg), self.ts & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
        return _ETH.pack(emac, smac, 0x0800) + ip + seg

    def frames(self, segments: int) -> Iterator[bytes]:
        rng = self.rng
        yield self.frame(True, 0x02, opts=SYN_OPTS)
        yield self.frame(False, 0x12, opts=SYN_OPTS)
        yield self.frame(True, 0x10)
        yield self.frame(True, 0x18, _request(rng.randrange(60, 400)))
        yield self.frame(False, 0x10)
        for i in range(segments):
            yield self.frame(False, 0x10 if i % 8 else 0x18, _noise(self.cp + i, 1448))
            if i % 2:
                yield self.frame(True, 0x10)
        if rng.random() < 0.05:
            yield self.frame(True, 0x14, opts=b"")  # RST, ACK: an abort
            return
        yield self.frame(True, 0x11)
        yield self.frame(False, 0x11)
        yield self.frame(True, 0x10)


def _udp_frame(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes, out: bool) -> bytes:
    udp = _UDP.pack(sport, dport, 8 + len(payload), 0) + payload
    ip = _IP4.pack(0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, src, dst)
    emac, smac = (MAC_S, MAC_C) if out else (MAC_C, MAC_S)
    return _ETH.pack(emac, smac, 0x0800) + ip + udp


def _udp_stream(rng: random.Random, n: int, count: int) -> Iterator[bytes]:
    # Distinct endpoints for a few million flows: 250 x 250 addresses x 40,000 ports.
    c, s = bytes([192, 0, 2, 1 + n % 250]), bytes([203, 0, 113, 1 + (n // 250) % 250])
    cp, sp = 10000 + (n // 62500) % 40000, 20000 + n % 9973
    for i in range(count):
        out = i % 2 == 0
        payload = _noise(n * 1000 + i, 160)
        yield _udp_frame(c, s, cp, sp, payload, out) if out else _udp_frame(s, c, sp, cp, payload, out)


def _dns(n: int, *, own_port: bool = False) -> Iterator[bytes]:
    """A query for one of a few hundred names, and its answer (RFC 1035 §4.1).

    ``own_port``: from a client address and port of its own, as glibc's stub
    resolver takes a new ephemeral port for each lookup: one conversation each.
    """
    c, s = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 53])
    cp = 40000 + n % 20000
    if own_port:
        c = bytes([10, (n >> 16) & 0xFF, (n >> 8) & 0xFF, 1 + (n & 0x7F)])
        cp = 1024 + n % 60000
    qname = b"".join(bytes([len(p)]) + p for p in (b"host%d" % (n % 300), b"sockviz", b"test")) + b"\0"
    question = qname + struct.pack("!HH", 1, 1)
    q = struct.pack("!HHHHHH", n & 0xFFFF, 0x0100, 1, 0, 0, 0) + question
    a = (struct.pack("!HHHHHH", n & 0xFFFF, 0x8180, 1, 1, 0, 0) + question
         + struct.pack("!HHHIH4s", 0xC00C, 1, 1, 300, 4, bytes([192, 0, 2, 2 + n % 200])))
    yield _udp_frame(c, s, cp, 53, q, True)
    yield _udp_frame(s, c, 53, cp, a, False)


def _arp(n: int) -> Iterator[bytes]:
    c, s = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2 + n % 200])
    bcast = b"\xff" * 6
    req = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_C, c, b"\0" * 6, s)
    rep = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, MAC_S, s, MAC_C, c)
    yield _ETH.pack(bcast, MAC_C, 0x0806) + req
    yield _ETH.pack(MAC_C, MAC_S, 0x0806) + rep


def frames(count: int, *, seed: int = 6, short_flows: bool = False,
           shape: str = "mix") -> Iterator[bytes]:
    """``count`` Ethernet frames of interleaved conversations, of one of SHAPES."""
    if shape not in SHAPES:
        raise ValueError(f"shape {shape!r} is not one of {', '.join(SHAPES)}")
    short_flows = short_flows or shape == "short"
    _payloads["bytes"] = ZEROS if shape == "zeros" else NOISE
    _payloads["request"] = {"zeros": ZEROS, "random": NOISE}.get(shape, PAYLOAD)
    rng = random.Random(seed)
    active: list[Iterator[bytes]] = []
    made = 0
    n = 0
    while made < count:
        while len(active) < 24:
            n += 1
            r = rng.random()
            if shape == "dns":
                gen = _dns(n, own_port=True) if r < 0.5 else _udp_stream(rng, n, 2)
            elif short_flows:
                gen = _udp_stream(rng, n, 2) if r < 0.97 else _Tcp(rng, n, False).frames(2)
            elif r < 0.55:
                gen = _Tcp(rng, n, rng.random() < 0.15).frames(rng.randrange(20, 400))
            elif r < 0.80:
                gen = _udp_stream(rng, n, rng.randrange(50, 600))
            elif r < 0.995:
                gen = _dns(n)
            else:
                gen = _arp(n)
            active.append(gen)
        i = rng.randrange(len(active))
        frame = next(active[i], None)
        if frame is None:
            active[i] = active[-1]
            active.pop()
            continue
        made += 1
        yield frame


def write_pcap(path, count: int, *, seed: int = 6, short_flows: bool = False,
               shape: str = "mix", start: float = 1_795_000_000.0) -> int:
    """Write ``count`` frames as a classic pcap (µs stamps); return the file size."""
    sec, usec = int(start), 0
    size = len(_PCAP_HEADER)
    with open(path, "wb", buffering=1 << 20) as f:
        f.write(_PCAP_HEADER)
        rec = _REC.pack
        for i, frame in enumerate(frames(count, seed=seed, short_flows=short_flows, shape=shape)):
            usec += 7 + (i & 7)  # ~100,000 packets a second
            if usec >= 1_000_000:
                sec += 1
                usec -= 1_000_000
            f.write(rec(sec, usec, len(frame), len(frame)))
            f.write(frame)
            size += 16 + len(frame)
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description="write a synthetic mixed TCP/UDP pcap")
    parser.add_argument("out")
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--short-flows", action="store_true")
    parser.add_argument("--shape", choices=SHAPES, default="mix")
    args = parser.parse_args()
    size = write_pcap(args.out, args.packets, short_flows=args.short_flows, shape=args.shape)
    print(f"{args.out}: {args.packets:,} packets, {size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
