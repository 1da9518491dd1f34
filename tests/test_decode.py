"""Tests of sockviz.core.decode: header fields, truncation, malformed and random input.

Reference frames are built with scapy (tests only) and decode's fields are
compared with scapy's dissection of the same bytes, or built by hand with
struct where scapy would fix up a deliberate mistake.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import pickle
import random
import struct
from pathlib import Path

import pytest
from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, IPOption_NOP, IPOption_RR, UDPerror
from scapy.layers.inet import fragment as ip_fragment
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6PacketTooBig,
    ICMPv6TimeExceeded,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.ipsec import AH
from scapy.layers.l2 import ARP, CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.packet import Raw

from sockviz.core import decode as decode_module
from sockviz.core.decode import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    Decoded,
    Quoted,
    decode,
    format_ipv4,
    format_ipv6,
    format_mac,
    tcp_flags_text,
)

MAC_A = "02:00:00:00:00:0a"
MAC_B = "02:00:00:00:00:0b"
V4_A, V4_B, V4_R = "192.0.2.1", "192.0.2.2", "198.51.100.1"
V6_A, V6_B, V6_R = "2001:db8::1", "2001:db8::2", "2001:db8:1::fe"

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "tcpdump-tests"


def eth(payload=None):
    frame = Ether(src=MAC_A, dst=MAC_B)
    return frame if payload is None else frame / payload


def check(d: Decoded, **expected) -> None:
    """Assert the given fields, one by one, so a failure names the field."""
    actual = {name: getattr(d, name) for name in expected}
    assert actual == expected, d


def scapy_tcp_options(options) -> tuple:
    """scapy's dissected options in decode's form (SAck as pairs, SAckOK None, TFO bytes)."""
    out = []
    for name, value in options:
        if name == "SAck":
            value = tuple(zip(value[::2], value[1::2], strict=True))
        elif name == "SAckOK":
            value = None
        out.append((name, value))
    return tuple(out)


# ------------------------------------------------------------- address text


@pytest.mark.parametrize(
    "text",
    ["0.0.0.0", "192.0.2.1", "255.255.255.255", "10.0.0.255", "127.0.0.1", "1.2.3.4"],
)
def test_format_ipv4(text):
    assert format_ipv4(ipaddress.IPv4Address(text).packed) == text


@pytest.mark.parametrize(
    "text",
    [
        "::",
        "::1",
        "1::",
        "2001:db8::1",
        "2001:db8::",
        "fe80::1:0:0:1",  # two runs of two: the first is compressed
        "2001:db8:0:0:1::1",  # the longer run wins over the first
        "2001:db8:0:1:1:1:1:1",  # a single zero group is never '::' (RFC 5952 §4.2.2)
        "1:0:1:0:1:0:1:0",
        "ff02::1:ff00:1",
        "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff",
        "0:0:1::",
        "::1:0:0:0",
        "::ffff:0:0",
    ],
)
def test_format_ipv6_matches_ipaddress(text):
    packed = ipaddress.IPv6Address(text).packed
    assert format_ipv6(packed) == ipaddress.IPv6Address(packed).compressed


@pytest.mark.parametrize(
    ("text", "expected"),
    [("::ffff:192.0.2.1", "::ffff:c000:201"), ("::192.0.2.1", "::c000:201")],
)
def test_format_ipv6_embedded_ipv4_stays_hex(text, expected):
    # Python 3.11's ipaddress text; 3.13 prints mapped addresses dotted.
    assert format_ipv6(ipaddress.IPv6Address(text).packed) == expected


@pytest.mark.parametrize("seed", range(5))
def test_format_ipv6_random_matches_ipaddress(seed):
    rng = random.Random(seed)
    for _ in range(400):
        # Mostly zero groups, so that runs and ties of runs are common.
        groups = [rng.choice((0, 0, 0, 1, 0xFFFF, rng.randrange(0x10000))) for _ in range(8)]
        packed = struct.pack("!8H", *groups)
        if ipaddress.IPv6Address(packed).ipv4_mapped is not None:
            continue  # printed differently by Python versions, see above
        assert format_ipv6(packed) == ipaddress.IPv6Address(packed).compressed


@pytest.mark.parametrize("seed", range(3))
def test_format_ipv4_random_matches_ipaddress(seed):
    rng = random.Random(seed)
    for _ in range(400):
        packed = rng.randbytes(4)
        assert format_ipv4(packed) == str(ipaddress.IPv4Address(packed))


def test_format_mac():
    assert format_mac(bytes.fromhex("001b210a0b0c")) == "00:1b:21:0a:0b:0c"
    assert format_mac(bytearray(b"\xff" * 6)) == "ff:ff:ff:ff:ff:ff"


@pytest.mark.parametrize(
    ("func", "size"), [(format_mac, 5), (format_ipv4, 6), (format_ipv6, 4), (format_ipv4, 16)]
)
def test_format_rejects_wrong_length(func, size):
    with pytest.raises(ValueError):
        func(bytes(size))


def test_address_cache_is_bounded():
    for i in range(3 * decode_module._CACHE_MAX):
        format_ipv4(i.to_bytes(4, "big"))
    assert len(decode_module._ip4_cache) <= decode_module._CACHE_MAX + 1
    assert format_ipv4(bytes([192, 0, 2, 1])) == "192.0.2.1"


# ----------------------------------------------------------------- TCP flags


@pytest.mark.parametrize("value", range(512))
def test_tcp_flags_text_matches_scapy(value):
    assert tcp_flags_text(value) == str(TCP(flags=value).flags)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0x02, "S"),
        (0x12, "SA"),
        (0x10, "A"),
        (0x18, "PA"),
        (0x11, "FA"),
        (0x04, "R"),
        (0x14, "RA"),
        (0x19, "FPA"),
        (0x00, ""),
        (0xC2, "SEC"),
    ],
)
def test_tcp_flags_text_examples(value, text):
    assert tcp_flags_text(value) == text


# ---------------------------------------------------------------------- TCP

SYN_OPTIONS = [
    ("MSS", 1460),
    ("SAckOK", b""),
    ("Timestamp", (123456, 0)),
    ("NOP", None),
    ("WScale", 7),
]
TCP_CASES = {
    "syn": TCP(sport=40000, dport=80, flags="S", seq=1000, window=64240, options=SYN_OPTIONS),
    "synack": TCP(
        sport=80,
        dport=40000,
        flags="SA",
        seq=5000,
        ack=1001,
        window=65160,
        options=[("MSS", 1400), ("NOP", None), ("NOP", None), ("SAckOK", b""), ("WScale", 9)],
    ),
    "ack": TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5001, window=502),
    "data": TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001)
    / Raw(b"GET / HTTP/1.0\r\n\r\n"),
    "fin": TCP(sport=40000, dport=80, flags="FA", seq=1019, ack=5001),
    "rst": TCP(sport=80, dport=40000, flags="R", seq=5001),
    "rstack": TCP(sport=80, dport=40000, flags="RA", seq=0, ack=1001),
    "fpa": TCP(sport=40000, dport=80, flags="FPA") / Raw(b"bye"),
    "sack": TCP(
        sport=40000,
        dport=80,
        flags="A",
        options=[("NOP", None), ("NOP", None), ("SAck", (100, 200, 300, 400))],
    ),
    "tfo": TCP(sport=40000, dport=80, flags="S", options=[("TFO", (0x01020304, 0x05060708))])
    / Raw(b"early"),
    "ecn": TCP(sport=40000, dport=80, flags="SEC"),
}


@pytest.mark.parametrize("case", sorted(TCP_CASES))
def test_ethernet_ipv4_tcp_matches_scapy(case):
    frame = bytes(eth(IP(src=V4_A, dst=V4_B, ttl=61, id=777) / TCP_CASES[case]))
    ref = Ether(frame)
    d = decode(frame, LINKTYPE_ETHERNET)
    expected_options = scapy_tcp_options(ref[TCP].options)
    if case == "tfo":  # scapy reads the cookie as two ints; decode keeps the bytes
        expected_options = (("TFO", bytes(range(1, 9))), ("EOL", None))
    payload = bytes(ref[TCP].payload)
    check(
        d,
        link="Ethernet",
        proto="TCP",
        eth_src=MAC_A,
        eth_dst=MAC_B,
        ethertype=0x0800,
        vlan=None,
        family=4,
        src=V4_A,
        dst=V4_B,
        ttl=61,
        ip_id=777,
        frag_offset=None,
        more_fragments=False,
        sport=ref[TCP].sport,
        dport=ref[TCP].dport,
        tcp_flags=str(ref[TCP].flags),
        seq=ref[TCP].seq,
        ack=ref[TCP].ack,
        window=ref[TCP].window,
        tcp_options=expected_options,
        payload_len=len(payload),
        payload=payload,
        error=None,
    )


def test_tcp_option_values():
    frame = bytes(eth(IP() / TCP_CASES["syn"]))
    assert decode(frame, LINKTYPE_ETHERNET).tcp_options == (
        ("MSS", 1460),
        ("SAckOK", None),
        ("Timestamp", (123456, 0)),
        ("NOP", None),
        ("WScale", 7),
    )


def tcp_with_raw_options(options: bytes, payload: bytes = b"") -> bytes:
    assert len(options) % 4 == 0
    header = struct.pack("!HHIIHHHH", 1234, 80, 1, 0, (5 + len(options) // 4) << 12 | 0x02, 8, 0, 0)
    segment = header + options + payload
    return bytes(eth(IP(src=V4_A, dst=V4_B, proto=6) / Raw(segment)))


@pytest.mark.parametrize(
    ("options", "expected", "error"),
    [
        (b"\x02\x04\x05\xb4", (("MSS", 1460),), None),
        (b"\xfd\x04\xab\xcd", (("option 253", b"\xab\xcd"),), None),
        (b"\x01\x01\x01\x00", (("NOP", None),) * 3 + (("EOL", None),), None),
        (b"\x00\x02\x04\x05", (("EOL", None),), None),  # nothing is read after EOL
        (b"\x01\x02\x05\xb4", (("NOP", None),), "bad TCP option MSS length 5"),
        (b"\x02\x03\x05\xb4", (), "bad TCP option MSS length 3"),
        (b"\x01\x01\x08\x01", (("NOP", None),) * 2, "bad TCP option Timestamp length 1"),
        (b"\x01\x01\x01\x13", (("NOP", None),) * 3, "truncated TCP option MD5"),
        (b"\x05\x04\x00\x00", (), "bad TCP option SAck length 4"),
    ],
)
def test_tcp_options_hand_built(options, expected, error):
    d = decode(tcp_with_raw_options(options, b"data"), LINKTYPE_ETHERNET)
    check(d, proto="TCP", tcp_flags="S", tcp_options=expected, error=error)
    # A bad option does not hide the rest of the segment.
    check(d, payload=b"data", payload_len=4)


@pytest.mark.parametrize(
    ("data_offset", "error"),
    [
        (4, "bad TCP header length 16 (data offset 4)"),
        (0, "bad TCP header length 0 (data offset 0)"),
    ],
)
def test_bad_tcp_data_offset(data_offset, error):
    segment = struct.pack("!HHIIHHHH", 1234, 80, 1, 0, data_offset << 12 | 0x10, 8, 0, 0)
    d = decode(bytes(eth(IP(proto=6) / Raw(segment + b"xxxx"))), LINKTYPE_ETHERNET)
    check(d, proto="TCP", sport=1234, dport=80, tcp_flags="A", error=error, payload=b"")


def test_tcp_data_offset_beyond_segment():
    segment = struct.pack("!HHIIHHHH", 1234, 80, 1, 0, 15 << 12 | 0x10, 8, 0, 0)
    d = decode(bytes(eth(IP(proto=6) / Raw(segment))), LINKTYPE_ETHERNET)
    check(d, proto="TCP", sport=1234, error="truncated TCP header (20 of 60 bytes)")


def test_ethernet_padding_is_not_payload():
    frame = bytes(eth(IP(src=V4_A, dst=V4_B) / TCP(flags="A")))
    padded = frame + b"\0" * (60 - len(frame))
    check(decode(padded, LINKTYPE_ETHERNET), proto="TCP", payload=b"", payload_len=0, error=None)


def test_snaplen_cut_keeps_header_payload_length():
    frame = bytes(eth(IP() / TCP(flags="PA") / Raw(b"x" * 1000)))
    d = decode(frame[:96], LINKTYPE_ETHERNET)
    check(d, proto="TCP", payload_len=1000, payload=b"x" * 42, error=None)


def test_ipv4_options_are_skipped():
    pkt = IP(src=V4_A, dst=V4_B, options=[IPOption_RR(), IPOption_NOP()]) / TCP(
        sport=1, dport=2, flags="S"
    )
    frame = bytes(eth(pkt))
    assert Ether(frame)[IP].ihl > 5
    check(decode(frame, LINKTYPE_ETHERNET), proto="TCP", sport=1, dport=2, tcp_flags="S")


def test_ipv4_total_length_zero_means_tso():
    frame = bytearray(bytes(eth(IP() / TCP(flags="PA") / Raw(b"abc"))))
    frame[16:18] = b"\0\0"
    check(decode(bytes(frame), LINKTYPE_ETHERNET), proto="TCP", payload=b"abc", payload_len=3)


@pytest.mark.parametrize(
    ("patch", "error"),
    [
        ((14, 0x43), "bad IPv4 header length 3 (IHL below 5)"),
        ((14, 0x65), "IP version 6 where IPv4 was expected"),
        ((14, 0x4F), "truncated IPv4 header (40 of 60 bytes)"),
        ((17, 10), "bad IPv4 total length 10 (header is 20 bytes)"),
    ],
)
def test_bad_ipv4_header(patch, error):
    frame = bytearray(bytes(eth(IP(src=V4_A, dst=V4_B) / TCP())))
    frame[patch[0]] = patch[1]
    d = decode(bytes(frame), LINKTYPE_ETHERNET)
    check(d, proto="IPv4", family=4, error=error, sport=None)


# ---------------------------------------------------------------- UDP / DNS


@pytest.mark.parametrize(
    ("sport", "dport", "proto"),
    [
        (53000, 53, "DNS"),
        (53, 53000, "DNS"),
        (5353, 5353, "DNS"),
        (50000, 5355, "DNS"),
        (50000, 5300, "UDP"),
    ],
)
def test_udp_dns(sport, dport, proto):
    query = DNS(id=0x1234, rd=1, qd=DNSQR(qname="host.test", qtype="A"))
    frame = bytes(eth(IP(src=V4_A, dst=V4_B) / UDP(sport=sport, dport=dport) / query))
    d = decode(frame, LINKTYPE_ETHERNET)
    check(
        d,
        proto=proto,
        sport=sport,
        dport=dport,
        tcp_flags=None,
        payload=bytes(query),
        payload_len=len(bytes(query)),
        error=None,
    )


def test_udp_port_53_without_payload_is_udp():
    check(decode(bytes(eth(IP() / UDP(dport=53))), LINKTYPE_ETHERNET), proto="UDP", payload_len=0)


def test_dns_over_tcp():
    frame = bytes(eth(IP() / TCP(sport=40000, dport=53, flags="PA") / Raw(b"\x00\x1d" + b"q" * 29)))
    check(decode(frame, LINKTYPE_ETHERNET), proto="DNS", tcp_flags="PA", payload_len=31)


def test_tcp_syn_to_port_53_is_tcp():
    check(decode(bytes(eth(IP() / TCP(dport=53))), LINKTYPE_ETHERNET), proto="TCP")


def test_udp_length_shorter_than_ip_payload():
    frame = bytes(eth(IP() / UDP(sport=1, dport=2, len=11) / Raw(b"abcdef")))
    check(decode(frame, LINKTYPE_ETHERNET), proto="UDP", payload=b"abc", payload_len=3, error=None)


def test_udp_length_longer_than_ip_payload():
    frame = bytes(eth(IP() / UDP(sport=1, dport=53, len=100) / Raw(b"abcdef")))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="UDP",
        sport=1,
        payload=b"abcdef",
        error="bad UDP length 100 (IP payload is 14 bytes)",
    )


# --------------------------------------------------------------------- ICMP


@pytest.mark.parametrize(("icmp_type", "reply"), [(8, False), (0, True)])
def test_icmp_echo(icmp_type, reply):
    src, dst = (V4_B, V4_A) if reply else (V4_A, V4_B)
    frame = bytes(eth(IP(src=src, dst=dst) / ICMP(type=icmp_type, id=0x4242, seq=7) / Raw(b"ping")))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="ICMP",
        src=src,
        dst=dst,
        icmp_type=icmp_type,
        icmp_code=0,
        icmp_id=0x4242,
        icmp_seq=7,
        payload=b"ping",
        payload_len=4,
        quoted=None,
        error=None,
    )


def test_icmp_port_unreachable_quotes_udp():
    offending = IP(src=V4_A, dst=V4_B) / UDP(sport=40000, dport=9) / Raw(b"hello")
    frame = bytes(eth(IP(src=V4_B, dst=V4_A) / ICMP(type=3, code=3) / offending))
    d = decode(frame, LINKTYPE_ETHERNET)
    check(
        d,
        proto="ICMP",
        icmp_type=3,
        icmp_code=3,
        icmp_id=None,
        mtu=None,
        quoted=Quoted(src=V4_A, dst=V4_B, proto="UDP", sport=40000, dport=9),
        error=None,
    )
    assert d.payload == bytes(offending)


def test_icmp_quote_of_64_bits_as_rfc792():
    quote = bytes(IPerror(src=V4_A, dst=V4_B) / UDPerror(sport=5, dport=6))[:28]
    frame = bytes(eth(IP(src=V4_R, dst=V4_A) / ICMP(type=11, code=0) / Raw(quote)))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        icmp_type=11,
        quoted=Quoted(src=V4_A, dst=V4_B, proto="UDP", sport=5, dport=6),
    )


def test_icmp_time_exceeded_quotes_tcp():
    offending = IP(src=V4_A, dst=V4_B, ttl=1) / TCP(sport=40000, dport=443, flags="S")
    frame = bytes(eth(IP(src=V4_R, dst=V4_A) / ICMP(type=11, code=0) / bytes(offending)[:28]))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="ICMP",
        src=V4_R,
        icmp_type=11,
        quoted=Quoted(src=V4_A, dst=V4_B, proto="TCP", sport=40000, dport=443),
    )


def test_icmp_fragmentation_needed_mtu():
    offending = IP(src=V4_A, dst=V4_B, flags="DF") / TCP(sport=1, dport=2)
    frame = bytes(eth(IP(src=V4_R, dst=V4_A) / ICMP(type=3, code=4, nexthopmtu=1400) / offending))
    check(decode(frame, LINKTYPE_ETHERNET), icmp_type=3, icmp_code=4, mtu=1400)


def test_icmp_quote_too_short():
    frame = bytes(eth(IP() / ICMP(type=3, code=1) / Raw(b"\x45\x00")))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="ICMP",
        icmp_type=3,
        quoted=None,
        error="truncated quoted IPv4 header (2 of 20 bytes)",
    )


def test_icmp_header_truncated():
    frame = bytes(eth(IP(proto=1) / Raw(b"\x08\x00\x00")))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="ICMP",
        icmp_type=8,
        icmp_code=0,
        icmp_id=None,
        error="truncated ICMP header (3 of 8 bytes)",
    )


# ------------------------------------------------------------------- ICMPv6


def test_icmpv6_port_unreachable_quotes_udp():
    offending = IPv6(src=V6_A, dst=V6_B) / UDP(sport=40000, dport=9) / Raw(b"x")
    frame = bytes(eth(IPv6(src=V6_B, dst=V6_A) / ICMPv6DestUnreach(code=4) / offending))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="ICMPv6",
        family=6,
        src=V6_B,
        dst=V6_A,
        ttl=64,
        icmp_type=1,
        icmp_code=4,
        quoted=Quoted(src=V6_A, dst=V6_B, proto="UDP", sport=40000, dport=9),
        error=None,
    )


def test_icmpv6_quote_walks_extension_headers():
    offending = (
        IPv6(src=V6_A, dst=V6_B) / IPv6ExtHdrDestOpt() / TCP(sport=40000, dport=443, flags="S")
    )
    frame = bytes(eth(IPv6(src=V6_R, dst=V6_A) / ICMPv6TimeExceeded() / offending))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        icmp_type=3,
        quoted=Quoted(src=V6_A, dst=V6_B, proto="TCP", sport=40000, dport=443),
    )


def test_icmpv6_packet_too_big():
    offending = IPv6(src=V6_A, dst=V6_B) / TCP(sport=1, dport=2) / Raw(b"y" * 1400)
    frame = bytes(eth(IPv6(src=V6_R, dst=V6_A) / ICMPv6PacketTooBig(mtu=1280) / offending))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="ICMPv6",
        icmp_type=2,
        mtu=1280,
        quoted=Quoted(src=V6_A, dst=V6_B, proto="TCP", sport=1, dport=2),
    )


@pytest.mark.parametrize("layer", [ICMPv6EchoRequest, ICMPv6EchoReply])
def test_icmpv6_echo(layer):
    frame = bytes(eth(IPv6(src=V6_A, dst=V6_B) / layer(id=9, seq=3, data=b"abc")))
    d = decode(frame, LINKTYPE_ETHERNET)
    check(d, proto="ICMPv6", icmp_id=9, icmp_seq=3, payload=b"abc", payload_len=3, error=None)
    assert d.icmp_type == (128 if layer is ICMPv6EchoRequest else 129)


@pytest.mark.parametrize(("layer", "icmp_type"), [(ICMPv6ND_NS, 135), (ICMPv6ND_NA, 136)])
def test_ndp_target(layer, icmp_type):
    frame = bytes(eth(IPv6(src=V6_A, dst="ff02::1:ff00:2", hlim=255) / layer(tgt=V6_B)))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="ICMPv6",
        icmp_type=icmp_type,
        nd_target=V6_B,
        ttl=255,
        dst="ff02::1:ff00:2",
        error=None,
    )


# ---------------------------------------------------------------------- ARP


@pytest.mark.parametrize(
    ("op", "tha"), [(1, "00:00:00:00:00:00"), (2, MAC_A)], ids=["request", "reply"]
)
def test_arp(op, tha):
    arp = ARP(op=op, hwsrc=MAC_B, psrc=V4_B, hwdst=tha, pdst=V4_A)
    frame = bytes(Ether(src=MAC_B, dst="ff:ff:ff:ff:ff:ff") / arp)
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="ARP",
        ethertype=0x0806,
        eth_dst="ff:ff:ff:ff:ff:ff",
        arp_op=op,
        arp_sha=MAC_B,
        arp_tha=tha,
        src=V4_B,
        dst=V4_A,
        family=None,
        error=None,
    )


def test_arp_other_hardware_type():
    frame = bytes(eth(ARP(hwtype=6, op=1)))
    d = decode(frame, LINKTYPE_ETHERNET)
    check(d, proto="ARP", arp_op=1, arp_sha=None, src=None)
    assert d.error.startswith("unsupported ARP: hardware type 6")


# --------------------------------------------------------------------- IPv6


@pytest.mark.parametrize(
    "headers",
    [
        [IPv6ExtHdrHopByHop()],
        [IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt()],
        [IPv6ExtHdrRouting(addresses=[V6_R])],
        [IPv6ExtHdrHopByHop(), IPv6ExtHdrRouting(addresses=[V6_R]), IPv6ExtHdrDestOpt()],
        [AH(nh=6, payloadlen=4, spi=1, icv=b"\0" * 12)],
    ],
    ids=["hbh", "hbh-dst", "routing", "hbh-routing-dst", "ah"],
)
def test_ipv6_extension_headers_are_walked(headers):
    pkt = IPv6(src=V6_A, dst=V6_B)
    for header in headers:
        pkt = pkt / header
    pkt = pkt / TCP(sport=40000, dport=80, flags="PA") / Raw(b"data")
    check(
        decode(bytes(eth(pkt)), LINKTYPE_ETHERNET),
        proto="TCP",
        family=6,
        src=V6_A,
        dst=V6_B,
        sport=40000,
        tcp_flags="PA",
        payload=b"data",
        payload_len=4,
        ip_id=None,
        frag_offset=None,
        error=None,
    )


def test_ipv6_esp():
    # Next header 50 (ESP, RFC 4303): nothing further is readable.
    frame = bytes(eth(IPv6(src=V6_A, dst=V6_B, nh=50) / Raw(b"\0\0\0\x01\0\0\0\x01secret")))
    check(decode(frame, LINKTYPE_ETHERNET), proto="ESP", payload_len=14, error=None)


def test_ipv6_no_next_header():
    frame = bytes(eth(IPv6(src=V6_A, dst=V6_B, nh=59)))
    check(decode(frame, LINKTYPE_ETHERNET), proto="IPv6", payload_len=0, error=None)


def ipv6_fragments():
    pkt = IPv6(src=V6_A, dst=V6_B) / IPv6ExtHdrFragment(id=0xABCDEF) / UDP(sport=7, dport=53)
    pkt = pkt / Raw(b"z" * 100)
    whole = bytes(pkt)
    # Split by hand: the first fragment holds the UDP header and 48 data bytes.
    rest = whole[48:]
    head = IPv6(src=V6_A, dst=V6_B)
    first = head / IPv6ExtHdrFragment(nh=17, id=0xABCDEF, m=1, offset=0) / Raw(rest[:56])
    later = head / IPv6ExtHdrFragment(nh=17, id=0xABCDEF, m=0, offset=7) / Raw(rest[56:])
    return bytes(eth(first)), bytes(eth(later))


def test_ipv6_first_fragment_has_transport_header():
    first, _ = ipv6_fragments()
    check(
        decode(first, LINKTYPE_ETHERNET),
        proto="DNS",
        sport=7,
        dport=53,
        ip_id=0xABCDEF,
        frag_offset=0,
        more_fragments=True,
        payload_len=48,
        error=None,
    )


def test_ipv6_later_fragment_has_no_transport_header():
    _, later = ipv6_fragments()
    check(
        decode(later, LINKTYPE_ETHERNET),
        proto="IPv6",
        sport=None,
        ip_id=0xABCDEF,
        frag_offset=56,
        more_fragments=False,
        payload=b"z" * 52,
        payload_len=52,
        error=None,
    )


def test_ipv6_atomic_fragment():
    pkt = IPv6() / IPv6ExtHdrFragment(id=5, m=0, offset=0) / UDP(sport=1, dport=2)
    check(decode(bytes(eth(pkt)), LINKTYPE_ETHERNET), proto="UDP", ip_id=5, frag_offset=None)


def test_ipv6_truncated_extension_header():
    frame = bytes(eth(IPv6(nh=0) / Raw(b"\x06\x05" + b"\0" * 6)))  # says 48 bytes, has 8
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="IPv6",
        error="truncated IPv6 hop-by-hop options header (8 of 48 bytes)",
    )


# ------------------------------------------------------------ IPv4 fragments


def ipv4_fragments():
    pkt = IP(src=V4_A, dst=V4_B, id=4321) / UDP(sport=5000, dport=6000) / Raw(b"q" * 100)
    return [bytes(eth(f)) for f in ip_fragment(pkt, fragsize=48)]


def test_ipv4_first_fragment_has_transport_header():
    first = ipv4_fragments()[0]
    check(
        decode(first, LINKTYPE_ETHERNET),
        proto="UDP",
        sport=5000,
        dport=6000,
        ip_id=4321,
        frag_offset=0,
        more_fragments=True,
        payload_len=40,
        payload=b"q" * 40,
        error=None,
    )


@pytest.mark.parametrize(("index", "offset", "more"), [(1, 48, True), (2, 96, False)])
def test_ipv4_later_fragment(index, offset, more):
    frame = ipv4_fragments()[index]
    size = len(Ether(frame)[IP].payload)
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="IPv4",
        sport=None,
        ip_id=4321,
        frag_offset=offset,
        more_fragments=more,
        payload=bytes(Ether(frame)[IP].payload),
        payload_len=size,
        error=None,
    )


def test_ipv4_dont_fragment_is_not_a_fragment():
    frame = bytes(eth(IP(flags="DF") / TCP()))
    check(decode(frame, LINKTYPE_ETHERNET), frag_offset=None, more_fragments=False)


# ------------------------------------------------------------- link layers


def test_vlan_tag():
    frame = bytes(eth(Dot1Q(vlan=100) / IP(src=V4_A, dst=V4_B) / TCP(flags="S")))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        link="Ethernet",
        proto="TCP",
        vlan=100,
        ethertype=0x0800,
        src=V4_A,
        tcp_flags="S",
    )


def test_qinq_tags_keep_outer_vid():
    frame = bytes(eth(Dot1AD(vlan=200) / Dot1Q(vlan=100) / IPv6(src=V6_A) / UDP(dport=9)))
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="UDP",
        vlan=200,
        ethertype=0x86DD,
        src=V6_A,
        dport=9,
    )


def test_vlan_tag_truncated():
    frame = bytes(eth())[:12] + b"\x81\x00\x00"
    check(
        decode(frame, LINKTYPE_ETHERNET),
        proto="Ethernet",
        ethertype=0x8100,
        error="truncated 802.1Q tag (1 of 4 bytes)",
    )


def test_unknown_ethertype():
    frame = bytes(Ether(src=MAC_A, dst=MAC_B, type=0x88CC) / Raw(b"lldp"))
    check(decode(frame, LINKTYPE_ETHERNET), proto="ethertype 0x88cc", ethertype=0x88CC, error=None)


def test_ieee_802_3_length_field_is_llc():
    frame = bytes(Ether(src=MAC_A, dst=MAC_B, type=7) / Raw(b"\x42\x42\x03abcd"))
    check(decode(frame, LINKTYPE_ETHERNET), proto="LLC", ethertype=None, error=None)


def test_linux_cooked():
    pkt = CookedLinux(
        pkttype=4, lladdrtype=1, lladdrlen=6, src=bytes.fromhex("02000000000a") + b"\0\0"
    )
    frame = bytes(pkt / IP(src=V4_A, dst=V4_B) / TCP(flags="SA"))
    check(
        decode(frame, LINKTYPE_LINUX_SLL),
        link="Linux cooked",
        proto="TCP",
        eth_src=MAC_A,
        ethertype=0x0800,
        src=V4_A,
        tcp_flags="SA",
        error=None,
    )


def test_linux_cooked_v2():
    pkt = CookedLinuxV2(
        ifindex=3, lladdrtype=1, pkttype=0, lladdrlen=6, src=bytes.fromhex("02000000000b") + b"\0\0"
    )
    frame = bytes(pkt / IPv6(src=V6_A, dst=V6_B) / UDP(sport=53, dport=40000) / Raw(b"answer"))
    check(
        decode(frame, LINKTYPE_LINUX_SLL2),
        link="Linux cooked v2",
        proto="DNS",
        eth_src=MAC_B,
        ethertype=0x86DD,
        src=V6_A,
        sport=53,
        payload=b"answer",
        error=None,
    )


def test_linux_cooked_arp():
    frame = struct.pack("!HHH8sH", 0, 1, 6, b"\x02" * 6 + b"\0\0", 0x0806)
    frame += bytes(ARP(op=1, hwsrc=MAC_A, psrc=V4_A, pdst=V4_B))
    check(decode(frame, LINKTYPE_LINUX_SLL), proto="ARP", arp_op=1, src=V4_A, dst=V4_B)


def test_linux_cooked_netlink():
    frame = struct.pack("!HHH8sH", 4, 824, 0, bytes(8), 0) + b"\x10\0\0\0"
    check(decode(frame, LINKTYPE_LINUX_SLL), proto="Netlink", ethertype=None, error=None)


IPV4_TCP = bytes(IP(src=V4_A, dst=V4_B) / TCP(sport=1, dport=2, flags="S"))
IPV6_TCP = bytes(IPv6(src=V6_A, dst=V6_B) / TCP(sport=1, dport=2, flags="S"))


@pytest.mark.parametrize(
    ("linktype", "header", "packet", "family"),
    [
        (LINKTYPE_NULL, struct.pack("<I", 2), IPV4_TCP, 4),
        (LINKTYPE_NULL, struct.pack(">I", 2), IPV4_TCP, 4),
        (LINKTYPE_NULL, struct.pack("<I", 30), IPV6_TCP, 6),
        (LINKTYPE_NULL, struct.pack(">I", 24), IPV6_TCP, 6),
        (LINKTYPE_LOOP, struct.pack(">I", 2), IPV4_TCP, 4),
        (LINKTYPE_LOOP, struct.pack("<I", 2), IPV4_TCP, 4),
        (LINKTYPE_LOOP, struct.pack(">I", 28), IPV6_TCP, 6),
    ],
    ids=[
        "null-le-v4",
        "null-be-v4",
        "null-le-v6-30",
        "null-be-v6-24",
        "loop-be",
        "loop-le",
        "loop-v6-28",
    ],
)
def test_loopback(linktype, header, packet, family):
    d = decode(header + packet, linktype)
    check(d, link="Loopback", proto="TCP", family=family, tcp_flags="S", error=None)


def test_loopback_other_family():
    check(decode(struct.pack("<I", 7) + b"xx", LINKTYPE_NULL), proto="address family 7", error=None)


@pytest.mark.parametrize(
    ("linktype", "packet", "proto", "family"),
    [
        (LINKTYPE_RAW, IPV4_TCP, "TCP", 4),
        (LINKTYPE_RAW, IPV6_TCP, "TCP", 6),
        (12, IPV4_TCP, "TCP", 4),
        (14, IPV6_TCP, "TCP", 6),
        (LINKTYPE_IPV4, IPV4_TCP, "TCP", 4),
        (LINKTYPE_IPV6, IPV6_TCP, "TCP", 6),
    ],
)
def test_raw_ip(linktype, packet, proto, family):
    check(decode(packet, linktype), link="Raw IP", proto=proto, family=family, error=None)


@pytest.mark.parametrize(
    ("linktype", "packet", "error"),
    [
        (LINKTYPE_IPV4, IPV6_TCP, "IP version 6 where IPv4 was expected"),
        (LINKTYPE_IPV6, IPV4_TCP, "IP version 4 where IPv6 was expected"),
        (LINKTYPE_IPV6, IPV6_TCP[:30], "truncated IPv6 header (30 of 40 bytes)"),
        (LINKTYPE_RAW, b"\x50" + IPV4_TCP[1:], "unknown IP version 5"),
        (LINKTYPE_RAW, b"", "empty packet"),
    ],
)
def test_raw_ip_wrong_version(linktype, packet, error):
    check(decode(packet, linktype), link="Raw IP", sport=None, error=error)


def test_unknown_linktype():
    check(decode(b"\x01\x02", 147), link="linktype 147", proto="linktype 147", error=None)


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_bytes_like_input(kind):
    frame = bytes(eth(IP() / UDP(dport=53) / Raw(b"q")))
    d = decode(kind(frame), LINKTYPE_ETHERNET)
    check(d, proto="DNS", payload=b"q")
    assert type(d.payload) is bytes


# ------------------------------------------------------------ the result type


def test_result_is_a_real_frozen_decoded():
    frame = bytes(eth(IP(src=V4_A, dst=V4_B) / TCP(flags="S", options=[("MSS", 1460)])))
    d = decode(frame, LINKTYPE_ETHERNET)
    assert type(d) is Decoded
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.proto = "UDP"  # type: ignore[misc]
    rebuilt = Decoded(**{f.name: getattr(d, f.name) for f in dataclasses.fields(Decoded)})
    assert rebuilt == d
    assert hash(rebuilt) == hash(d)
    assert pickle.loads(pickle.dumps(d)) == d
    assert dataclasses.replace(d, proto="x").proto == "x"
    assert "tcp_flags='S'" in repr(d)


def test_builder_defaults_match_decoded_defaults():
    builder = decode_module._Builder()
    assert decode_module._Builder.__slots__ == Decoded.__slots__
    for field in dataclasses.fields(Decoded):
        if field.default is not dataclasses.MISSING:
            assert getattr(builder, field.name) == field.default, field.name


# ------------------------------------------------------ truncation and fuzzing

FULL_FRAMES = {
    "eth-ipv4-tcp": (
        bytes(
            eth(
                IP(src=V4_A, dst=V4_B, options=[IPOption_NOP()] * 4)
                / TCP_CASES["syn"]
                / Raw(b"x" * 8)
            )
        ),
        LINKTYPE_ETHERNET,
    ),
    "eth-vlan-ipv6-frag-udp": (bytes(eth(Dot1Q(vlan=5))) + ipv6_fragments()[0][14:], 1),
    "eth-ipv4-icmp-error": (
        bytes(eth(IP() / ICMP(type=3, code=3) / IP(src=V4_A) / UDP(sport=1, dport=2))),
        LINKTYPE_ETHERNET,
    ),
    "eth-ipv6-icmpv6-error": (
        bytes(eth(IPv6() / ICMPv6DestUnreach() / IPv6() / IPv6ExtHdrHopByHop() / TCP())),
        LINKTYPE_ETHERNET,
    ),
    "eth-ndp": (bytes(eth(IPv6() / ICMPv6ND_NS(tgt=V6_B))), LINKTYPE_ETHERNET),
    "eth-arp": (bytes(eth(ARP())), LINKTYPE_ETHERNET),
    "sll2-ipv4-udp": (
        bytes(CookedLinuxV2() / IP() / UDP(dport=53) / Raw(b"dns")),
        LINKTYPE_LINUX_SLL2,
    ),
    "sll-ipv6-icmpv6": (bytes(CookedLinux() / IPv6() / ICMPv6EchoRequest()), LINKTYPE_LINUX_SLL),
    "null-ipv4-icmp": (struct.pack("<I", 2) + bytes(IP() / ICMP()), LINKTYPE_NULL),
}
TRUNCATIONS = [
    (name, length) for name, (frame, _) in FULL_FRAMES.items() for length in range(len(frame) + 1)
]


@pytest.mark.parametrize(("name", "length"), TRUNCATIONS)
def test_truncation_never_raises(name, length):
    frame, linktype = FULL_FRAMES[name]
    d = decode(frame[:length], linktype)
    assert type(d) is Decoded
    assert d.link and d.proto
    assert len(d.payload) <= d.payload_len or d.payload_len == 0


TCP_FRAME, _ = FULL_FRAMES["eth-ipv4-tcp"]
IP_HEADER_END = 14 + 24  # Ethernet, IPv4 with 4 bytes of options
TCP_HEADERS_END = len(TCP_FRAME) - 8  # then 20 bytes of TCP options and 8 of payload


@pytest.mark.parametrize("length", range(len(TCP_FRAME) + 1))
def test_truncated_tcp_frame_fields(length):
    d = decode(TCP_FRAME[:length], LINKTYPE_ETHERNET)
    if length < 14:
        check(d, proto="Ethernet", eth_src=None)
        assert d.error.startswith("truncated Ethernet header")
    elif length < IP_HEADER_END:
        check(d, proto="IPv4", eth_src=MAC_A, sport=None)
        assert d.error.startswith("truncated IPv4 header")
    elif length < TCP_HEADERS_END:
        check(d, proto="TCP", src=V4_A, dst=V4_B, payload=b"")
        assert d.error.startswith("truncated TCP header")
    else:
        # Cut in the payload: a snaplen, not an error; the length is the header's.
        check(d, proto="TCP", sport=40000, error=None, payload_len=8)
        assert d.payload == b"x" * (length - TCP_HEADERS_END)


LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147]


@pytest.mark.parametrize("linktype", LINKTYPES)
@pytest.mark.parametrize("seed", range(4))
def test_random_bytes_never_raise(linktype, seed):
    rng = random.Random(seed * 1000 + linktype)
    for _ in range(250):
        data = rng.randbytes(rng.randrange(0, 120))
        d = decode(data, linktype)
        assert type(d) is Decoded
        assert d.error is None or not d.error.startswith("decoder error")


@pytest.mark.parametrize("name", sorted(FULL_FRAMES))
@pytest.mark.parametrize("seed", range(3))
def test_mutated_frames_never_raise(name, seed):
    # Random bytes rarely get past the first header; flipping bytes of valid
    # frames reaches the deeper layers with nonsense lengths and counts.
    frame, linktype = FULL_FRAMES[name]
    rng = random.Random(f"{name}-{seed}")
    for _ in range(300):
        mutated = bytearray(frame)
        for _ in range(rng.randrange(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        cut = rng.randrange(len(mutated) + 1) if rng.random() < 0.3 else len(mutated)
        d = decode(bytes(mutated[:cut]), linktype)
        assert d.error is None or not d.error.startswith("decoder error")


def test_decoder_bug_is_reported_not_raised(monkeypatch):
    def broken(r, data, off):
        raise IndexError("boom")

    monkeypatch.setattr(decode_module, "_ipv4", broken)
    d = decode(bytes(eth(IP() / TCP())), LINKTYPE_ETHERNET)
    check(d, link="Ethernet", eth_src=MAC_A, error="decoder error: IndexError: boom")


# ------------------------------------------------------------------ corpus


def classic_pcap_records(path: Path):
    """Yield (linktype, frame) of a classic pcap file; pcapng and junk yield nothing.

    A private walker so this test does not depend on sockviz.capfile.
    """
    data = path.read_bytes()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return
    linktype = struct.unpack_from(endian + "I", data, 20)[0] & 0xFFFF  # high bits: FCS info
    record = struct.Struct(endian + "IIII")
    off = 24
    while off + 16 <= len(data):
        _sec, _frac, incl_len, _orig_len = record.unpack_from(data, off)
        off += 16
        if incl_len > len(data) - off:
            break  # a cut or corrupt record: stop
        yield linktype, data[off : off + incl_len]
        off += incl_len


CORPUS_FILES = sorted(CORPUS.glob("*.pcap")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS_FILES, reason=f"no capture corpus at {CORPUS}")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_corpus_never_raises(path):
    for linktype, frame in classic_pcap_records(path):
        d = decode(frame, linktype)
        assert type(d) is Decoded
        assert d.error is None or not d.error.startswith("decoder error"), (path.name, d)
