"""Time `sockviz.core.decode.decode` on a few synthetic frames; prints µs per packet.

Run from the project root: python benchmarks/decode_speed.py [--number N]

The frames are built with struct (no scapy), so the script measures decode
alone. Addresses repeat, as in a real capture, so the address caches are warm.
"""

from __future__ import annotations

import argparse
import struct
import sys
import timeit
from pathlib import Path

try:
    from sockviz.core.decode import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2, decode
except ImportError:  # not installed: use the source tree next to this script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from sockviz.core.decode import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2, decode

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
IP4_A = bytes([192, 0, 2, 1])
IP4_B = bytes([192, 0, 2, 2])
IP6_A = bytes.fromhex("20010db8000000000000000000000001")
IP6_B = bytes.fromhex("20010db8000000000000000000000002")


def ether(ethertype: int, payload: bytes) -> bytes:
    return MAC_B + MAC_A + struct.pack("!H", ethertype) + payload


def ipv4(proto: int, payload: bytes) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, proto, 0, IP4_A, IP4_B
    )
    return header + payload


def ipv6(nh: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64, IP6_A, IP6_B) + payload


def tcp(flags: int, payload: bytes = b"", options: bytes = b"") -> bytes:
    doff = (20 + len(options)) // 4
    header = struct.pack("!HHIIHHHH", 40000, 80, 1000, 2000, doff << 12 | flags, 64240, 0, 0)
    return header + options + payload


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


SYN_OPTIONS = (
    struct.pack("!BBH", 2, 4, 1460)
    + b"\x04\x02"
    + struct.pack("!BBII", 8, 10, 12345, 0)
    + b"\x01"
    + struct.pack("!BBB", 3, 3, 7)
)
DNS_QUERY = bytes.fromhex("123401000001000000000000076578616d706c650474657374000001 0001")

FRAMES = {
    "eth/ipv4/tcp ACK": (ether(0x0800, ipv4(6, tcp(0x10))), LINKTYPE_ETHERNET),
    "eth/ipv4/tcp PA 100 B": (ether(0x0800, ipv4(6, tcp(0x18, b"x" * 100))), LINKTYPE_ETHERNET),
    "eth/ipv4/tcp SYN+options": (
        ether(0x0800, ipv4(6, tcp(0x02, options=SYN_OPTIONS))),
        LINKTYPE_ETHERNET,
    ),
    "eth/ipv4/udp DNS": (ether(0x0800, ipv4(17, udp(53000, 53, DNS_QUERY))), LINKTYPE_ETHERNET),
    "eth/ipv6/tcp ACK": (ether(0x86DD, ipv6(6, tcp(0x10))), LINKTYPE_ETHERNET),
    "sll2/ipv4/tcp ACK": (
        struct.pack("!HHIHBB8s", 0x0800, 0, 1, 1, 0, 6, MAC_A + b"\0\0") + ipv4(6, tcp(0x10)),
        LINKTYPE_LINUX_SLL2,
    ),
}


def per_packet_us(frame: bytes, linktype: int, number: int) -> float:
    timer = timeit.Timer(lambda: decode(frame, linktype))
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000, help="decodes per timing run")
    args = parser.parse_args()
    for name, (frame, linktype) in FRAMES.items():
        assert decode(frame, linktype).error is None, name
        print(f"{name:28} {per_packet_us(frame, linktype, args.number):6.2f} µs/packet")
    frames = list(FRAMES.values())

    def mixed() -> None:
        for frame, linktype in frames:
            decode(frame, linktype)

    best = min(timeit.Timer(mixed).repeat(repeat=5, number=args.number // len(frames)))
    count = args.number // len(frames) * len(frames)
    print(f"{'mixed (all of the above)':28} {best / count * 1e6:6.2f} µs/packet")
    print(f"{'':28} {count / best / 1e6:6.2f} M packets/s")


if __name__ == "__main__":
    main()
