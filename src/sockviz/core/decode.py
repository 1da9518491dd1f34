"""Fast header decoding of one captured frame, for the timeline.

Pure: no socket, scapy or rich, no I/O. `decode` never raises on any bytes:
a malformed or truncated layer sets `Decoded.error` and decoding stops there,
keeping every field decoded from the layers above it. scapy (about 200 µs a
packet) stays for the detail view; this module does the header fields a
timeline line needs in a few microseconds.

`proto` names the highest layer the headers announce: when the IP header says
TCP but the TCP header is cut short, `proto` is 'TCP', `tcp_flags` is None and
`error` says what was missing.

Speed notes (replaying a million packets must beat tshark):
- every header is read by one precompiled `struct.Struct.unpack_from` call at
  an offset, no slicing except the payload;
- formatted addresses are cached by their raw bytes, flag strings are a table;
- the result is filled in as a mutable twin of `Decoded` with the same slots
  and then turned into a `Decoded` by assigning `__class__`: the frozen
  dataclass `__init__` sets each of its 33 fields through `object.__setattr__`
  and alone costs more than the whole decode (3.6 µs against 0.4 µs here).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from sockviz.core import phrases

__all__ = [
    "FLAG_TEXT",
    "LINKTYPE_ETHERNET",
    "LINKTYPE_IPV4",
    "LINKTYPE_IPV6",
    "LINKTYPE_LINUX_SLL",
    "LINKTYPE_LINUX_SLL2",
    "LINKTYPE_LOOP",
    "LINKTYPE_NULL",
    "LINKTYPE_RAW",
    "Decoded",
    "Quoted",
    "decode",
    "format_ipv4",
    "format_ipv6",
    "format_mac",
    "tcp_flags_text",
]

# Link-layer header types (https://www.tcpdump.org/linktypes.html).
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
# DLT_RAW is 12 on most systems and 14 on OpenBSD; libpcap maps both to raw IP.
_DLT_RAW_12 = 12
_DLT_RAW_14 = 14


@dataclass(frozen=True, kw_only=True, slots=True)
class Quoted:
    """The start of the packet quoted inside an ICMP or ICMPv6 error.

    RFC 792 quotes the IPv4 header and the first 64 bits of its data; RFC 4443
    §3 quotes as much of the IPv6 packet as fits in the minimum MTU.
    """

    src: str | None = None
    dst: str | None = None
    proto: str | None = None
    sport: int | None = None
    dport: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Decoded:
    """Header fields of one frame; see the module docstring for `proto` and `error`."""

    link: str
    proto: str
    eth_src: str | None = None
    eth_dst: str | None = None
    ethertype: int | None = None
    vlan: int | None = None
    family: int | None = None
    src: str | None = None
    dst: str | None = None
    ttl: int | None = None
    ip_id: int | None = None
    frag_offset: int | None = None
    more_fragments: bool = False
    sport: int | None = None
    dport: int | None = None
    tcp_flags: str | None = None
    seq: int | None = None
    ack: int | None = None
    window: int | None = None
    tcp_options: tuple = ()
    payload_len: int = 0
    payload: bytes = b""
    icmp_type: int | None = None
    icmp_code: int | None = None
    icmp_id: int | None = None
    icmp_seq: int | None = None
    quoted: Quoted | None = None
    mtu: int | None = None
    nd_target: str | None = None
    arp_op: int | None = None
    arp_sha: str | None = None
    arp_tha: str | None = None
    error: str | None = None


class _Builder:
    """Mutable twin of `Decoded` (same slots, same layout) filled in by `decode`.

    Setting a slot on it is a plain specialised store; when it is complete its
    `__class__` becomes `Decoded`, which CPython allows because the layouts are
    identical, and from then on it is an ordinary frozen `Decoded`. Kept for
    its measured cost (CPython 3.11, issue 11): 0.31 µs against 2.6 µs for the
    dataclass's `__init__`, which sets all 33 fields through `object.__setattr__`.
    """

    __slots__ = Decoded.__slots__

    def __init__(self) -> None:
        self.link = ""
        self.proto = ""
        self.eth_src = None
        self.eth_dst = None
        self.ethertype = None
        self.vlan = None
        self.family = None
        self.src = None
        self.dst = None
        self.ttl = None
        self.ip_id = None
        self.frag_offset = None
        self.more_fragments = False
        self.sport = None
        self.dport = None
        self.tcp_flags = None
        self.seq = None
        self.ack = None
        self.window = None
        self.tcp_options = ()
        self.payload_len = 0
        self.payload = b""
        self.icmp_type = None
        self.icmp_code = None
        self.icmp_id = None
        self.icmp_seq = None
        self.quoted = None
        self.mtu = None
        self.nd_target = None
        self.arp_op = None
        self.arp_sha = None
        self.arp_tha = None
        self.error = None


# ---------------------------------------------------------------- text helpers

# TCP flag letters in scapy's order: bit 0 (FIN) first, then SYN, RST, PSH,
# ACK, URG, ECE, CWR (RFC 9293 §3.1, RFC 3168 §6.1) and the former NS bit
# (RFC 3540, historic; now AE of AccECN), which scapy prints as 'N'. FLAG_TEXT:
# the letters of each value of the low nine bits.
_FLAG_LETTERS = "FSRPAUECN"
FLAG_TEXT = tuple(
    "".join(letter for bit, letter in enumerate(_FLAG_LETTERS) if value >> bit & 1)
    for value in range(512)
)


def tcp_flags_text(flags: int) -> str:
    """Flag letters of a TCP flags value in scapy's order, e.g. 0x12 -> 'SA'.

    Only the low nine bits (the eight flags and the NS bit) are looked at.
    """
    return FLAG_TEXT[flags & 0x1FF]


_CACHE_MAX = 4096
_mac_cache: dict[bytes, str] = {}
_ip4_cache: dict[bytes, str] = {}
_ip6_cache: dict[bytes, str] = {}
_H8 = struct.Struct("!8H")


def _mac_new(raw: bytes) -> str:
    if len(_mac_cache) > _CACHE_MAX:
        _mac_cache.clear()
    text = _mac_cache[raw] = raw.hex(":")
    return text


def _ip4_new(raw: bytes) -> str:
    if len(_ip4_cache) > _CACHE_MAX:
        _ip4_cache.clear()
    text = _ip4_cache[raw] = "{}.{}.{}.{}".format(*raw)
    return text


def ipv6_text(groups) -> str:
    """Eight 16-bit groups as RFC 5952 §4.2 writes them: '::' replaces the longest run
    of two or more zero groups, the first such run on a tie; hex digits in lower
    case without leading zeros."""
    best = -1
    best_len = 1
    i = 0
    while i < 8:
        if groups[i]:
            i += 1
            continue
        j = i + 1
        while j < 8 and not groups[j]:
            j += 1
        if j - i > best_len:
            best, best_len = i, j - i
        i = j
    if best < 0:
        return "{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}".format(*groups)
    head = ":".join([format(g, "x") for g in groups[:best]])
    tail = ":".join([format(g, "x") for g in groups[best + best_len :]])
    return head + "::" + tail


def _ip6_new(raw: bytes) -> str:
    if len(_ip6_cache) > _CACHE_MAX:
        _ip6_cache.clear()
    # IPv4-mapped addresses stay in hex, as ipaddress prints them on Python 3.11
    # ('::ffff:c000:201').
    text = _ip6_cache[raw] = ipv6_text(_H8.unpack(raw))
    return text


# Bound `get` methods: `_ip4_get(raw) or _ip4_new(raw)` is the hot path (the
# texts are never empty). clear() keeps the dict object, so they stay valid.
_mac_get = _mac_cache.get
_ip4_get = _ip4_cache.get
_ip6_get = _ip6_cache.get


def format_mac(raw: bytes) -> str:
    """b'\\x00\\x1b\\x21\\x0a\\x0b\\x0c' -> '00:1b:21:0a:0b:0c'."""
    raw = bytes(raw)
    if len(raw) != 6:
        raise ValueError(f"a MAC address has 6 bytes, not {len(raw)}")
    return _mac_get(raw) or _mac_new(raw)


def format_ipv4(raw: bytes) -> str:
    """Four bytes -> dotted quad, e.g. '192.0.2.1'."""
    raw = bytes(raw)
    if len(raw) != 4:
        raise ValueError(f"an IPv4 address has 4 bytes, not {len(raw)}")
    return _ip4_get(raw) or _ip4_new(raw)


def format_ipv6(raw: bytes) -> str:
    """Sixteen bytes -> RFC 5952 text, as `ipaddress.IPv6Address(raw).compressed` (3.11)."""
    raw = bytes(raw)
    if len(raw) != 16:
        raise ValueError(f"an IPv6 address has 16 bytes, not {len(raw)}")
    return _ip6_get(raw) or _ip6_new(raw)


# --------------------------------------------------------------- header layouts

_ETH = struct.Struct("!6s6sH")  # destination, source, ethertype (IEEE 802.3)
_VLAN = struct.Struct("!HH")  # TCI, inner ethertype (IEEE 802.1Q)
_SLL = struct.Struct("!HHH6s2xH")  # packet type, ARPHRD, address length, address, protocol
_SLL2 = struct.Struct("!H6xHBB6s2x")  # protocol, (reserved, ifindex), ARPHRD, type, len, address
_AF_LE = struct.Struct("<I")
_AF_BE = struct.Struct(">I")
_IP4 = struct.Struct("!BxHHHBB2x4s4s")  # RFC 791 §3.1 (TOS and checksum skipped)
_IP6 = struct.Struct("!IHBB16s16s")  # RFC 8200 §3
_FRAG6 = struct.Struct("!BxHI")  # RFC 8200 §4.5
_TCP = struct.Struct("!HHIIHH")  # RFC 9293 §3.1, up to the window
_UDP = struct.Struct("!HHH")  # RFC 768 (checksum skipped)
_HH = struct.Struct("!HH")
_H = struct.Struct("!H")
_I = struct.Struct("!I")
_II = struct.Struct("!II")
_ARP = struct.Struct("!HHBBH")  # RFC 826
_ARP_ETH_IP4 = struct.Struct("!6s4s6s4s")

_ETH_P_IPV4 = 0x0800
_ETH_P_IPV6 = 0x86DD
_ETH_P_ARP = 0x0806
# 802.1Q C-tag, 802.1ad S-tag, and the pre-standard QinQ 0x9100.
_VLAN_TPIDS = frozenset((0x8100, 0x88A8, 0x9100))
_ARPHRD_NETLINK = 824

# DNS (RFC 1035 §4.2), multicast DNS (RFC 6762), LLMNR (RFC 4795).
_DNS_PORTS = frozenset((53, 5353, 5355))

_IP_PROTO_NAMES = {
    1: "ICMP",
    2: "IGMP",
    4: "IPIP",
    6: "TCP",
    17: "UDP",
    41: "IPv6-in-IP",
    47: "GRE",
    50: "ESP",
    51: "AH",
    58: "ICMPv6",
    89: "OSPF",
    103: "PIM",
    112: "VRRP",
    132: "SCTP",
}
# Protocols whose first four bytes are the source and destination ports.
_PORT_PROTOS = frozenset((6, 17, 33, 132, 136))  # TCP, UDP, DCCP, SCTP, UDP-Lite

# IPv6 extension headers walked to reach the upper layer (RFC 8200 §4).
_EXT6_NAMES = {
    0: "hop-by-hop options",
    43: "routing",
    44: "fragment",
    51: "authentication",  # RFC 4302 §2.2: length in 4-octet units, minus 2
    60: "destination options",
}
_IPV6_NO_NEXT = 59

# TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018, RFC 7413 TFO).
_TCP_OPT_LEN = {2: 4, 3: 3, 4: 2, 8: 10}
_TCP_OPT_NAMES = {
    2: "MSS",
    3: "WScale",
    4: "SAckOK",
    5: "SAck",
    8: "Timestamp",
    19: "MD5",
    28: "UTO",
    29: "AO",
    30: "MPTCP",
    34: "TFO",
}
_EOL = ("EOL", None)
_NOP = ("NOP", None)
_SACKOK = ("SAckOK", None)

# ICMP types with an identifier and sequence number (RFC 792: echo, timestamp).
_ICMP4_ID_SEQ = frozenset((0, 8, 13, 14))
# ICMP types quoting the offending datagram: unreachable, source quench,
# redirect, time exceeded, parameter problem (RFC 792).
_ICMP4_QUOTING = frozenset((3, 4, 5, 11, 12))
# ICMPv6 errors (RFC 4443 §3): unreachable, packet too big, time exceeded, parameter.
_ICMP6_QUOTING = frozenset((1, 2, 3, 4))


# ----------------------------------------------------------------- link layers


def _truncated(what: str, have: int, need: int) -> str:
    return phrases.truncated_part(what, have, need)


def _link_ethernet(r: _Builder, data: bytes) -> None:
    r.link = r.proto = "Ethernet"
    if len(data) < 14:
        r.error = _truncated("Ethernet header", len(data), 14)
        return
    dst, src, et = _ETH.unpack_from(data)
    r.eth_dst = _mac_get(dst) or _mac_new(dst)
    r.eth_src = _mac_get(src) or _mac_new(src)
    if et == _ETH_P_IPV4:  # the common case first, without a further call
        r.ethertype = et
        _ipv4(r, data, 14)
    else:
        _ethertype(r, data, 14, et)


def _link_sll(r: _Builder, data: bytes) -> None:
    # https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html
    r.link = r.proto = "Linux cooked"
    if len(data) < 16:
        r.error = _truncated("Linux cooked header", len(data), 16)
        return
    _pkttype, hatype, alen, addr, et = _SLL.unpack_from(data)
    _sll_common(r, data, 16, hatype, alen, addr, et)


def _link_sll2(r: _Builder, data: bytes) -> None:
    # https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
    r.link = r.proto = "Linux cooked v2"
    if len(data) < 20:
        r.error = _truncated("Linux cooked v2 header", len(data), 20)
        return
    et, hatype, _pkttype, alen, addr = _SLL2.unpack_from(data)
    _sll_common(r, data, 20, hatype, alen, addr, et)


def _sll_common(
    r: _Builder, data: bytes, off: int, hatype: int, alen: int, addr: bytes, et: int
) -> None:
    if alen == 6:  # the sender's link-layer address
        r.eth_src = _mac_get(addr) or _mac_new(addr)
    if hatype == _ARPHRD_NETLINK:  # nlmon: the protocol field is a netlink family
        r.proto = "Netlink"
        return
    if et < 0x0600:  # not an ethertype but a Linux ETH_P_* code (if_ether.h)
        # ETH_P_802_3 and ETH_P_802_2: an 802.3 / LLC frame follows.
        r.proto = "LLC" if et in (1, 4) else f"ethertype 0x{et:04x}"
        return
    _ethertype(r, data, off, et)


def _link_null(r: _Builder, data: bytes) -> None:
    # The address family is in the byte order of the capturing host
    # (LINKTYPE_NULL) or big-endian (LINKTYPE_LOOP); accept either for both.
    r.link = r.proto = "Loopback"
    if len(data) < 4:
        r.error = _truncated("loopback header", len(data), 4)
        return
    af = _AF_LE.unpack_from(data)[0]
    if af > 0xFFFF:
        af = _AF_BE.unpack_from(data)[0]
    if af == 2:
        _ipv4(r, data, 4)
    elif af in (24, 28, 30):  # AF_INET6 on the BSDs, macOS
        _ipv6(r, data, 4)
    else:
        r.proto = f"address family {af}"


def _link_raw(r: _Builder, data: bytes) -> None:
    r.link = r.proto = "Raw IP"
    if not data:
        r.error = phrases.empty_packet()
        return
    version = data[0] >> 4
    if version == 4:
        _ipv4(r, data, 0)
    elif version == 6:
        _ipv6(r, data, 0)
    else:
        r.error = phrases.unknown_ip_version(version)


def _link_ipv4(r: _Builder, data: bytes) -> None:
    r.link = r.proto = "Raw IP"
    _ipv4(r, data, 0)


def _link_ipv6(r: _Builder, data: bytes) -> None:
    r.link = r.proto = "Raw IP"
    _ipv6(r, data, 0)


_LINKS = {
    LINKTYPE_ETHERNET: _link_ethernet,
    LINKTYPE_LINUX_SLL: _link_sll,
    LINKTYPE_LINUX_SLL2: _link_sll2,
    LINKTYPE_NULL: _link_null,
    LINKTYPE_LOOP: _link_null,
    LINKTYPE_RAW: _link_raw,
    _DLT_RAW_12: _link_raw,
    _DLT_RAW_14: _link_raw,
    LINKTYPE_IPV4: _link_ipv4,
    LINKTYPE_IPV6: _link_ipv6,
}


def _ethertype(r: _Builder, data: bytes, off: int, et: int) -> None:
    # 802.1Q / 802.1ad tags (4 bytes each) sit between the addresses and the
    # ethertype; `vlan` keeps the outermost VID, further (QinQ) tags are skipped.
    while et in _VLAN_TPIDS:
        have = len(data) - off
        if have < 4:
            r.ethertype = et
            r.error = _truncated("802.1Q tag", have, 4)
            return
        tci, et = _VLAN.unpack_from(data, off)
        if r.vlan is None:
            r.vlan = tci & 0x0FFF
        off += 4
    if et <= 1500:  # IEEE 802.3 length field: an LLC frame, not an ethertype
        r.proto = "LLC"
        return
    r.ethertype = et
    if et == _ETH_P_IPV4:
        _ipv4(r, data, off)
    elif et == _ETH_P_IPV6:
        _ipv6(r, data, off)
    elif et == _ETH_P_ARP:
        _arp(r, data, off)
    else:
        r.proto = f"ethertype 0x{et:04x}"


def _arp(r: _Builder, data: bytes, off: int) -> None:
    r.proto = "ARP"
    have = len(data) - off
    if have < 8:
        r.error = _truncated("ARP header", have, 8)
        return
    htype, ptype, hlen, plen, op = _ARP.unpack_from(data, off)
    r.arp_op = op
    if htype != 1 or ptype != _ETH_P_IPV4 or hlen != 6 or plen != 4:
        r.error = phrases.unsupported_arp(htype, hlen, ptype, plen)
        return
    if have < 28:
        r.error = _truncated("ARP packet", have, 28)
        return
    sha, spa, tha, tpa = _ARP_ETH_IP4.unpack_from(data, off + 8)
    r.arp_sha = _mac_get(sha) or _mac_new(sha)
    r.arp_tha = _mac_get(tha) or _mac_new(tha)
    r.src = _ip4_get(spa) or _ip4_new(spa)
    r.dst = _ip4_get(tpa) or _ip4_new(tpa)


# ------------------------------------------------------------------- IP layers


# IPv4 without options (TOS and checksum skipped) and the first 16 bytes of
# TCP (up to the window) or of UDP (ports, then length and checksum as 'I').
_IP4_PORTS = struct.Struct("!xxHHHBB2x4s4sHHIIHH")
_TS_NOPS = b"\x01\x01\x08\x0a"  # NOP, NOP, timestamps: Linux's options after the handshake


def _fast_ip4(r: _Builder, data: bytes, off: int) -> bool:
    """IPv4 (IHL 5, not a fragment) with a well-formed TCP or UDP header; else False.

    The bulk of most captures: one unpack for both headers. Sets exactly what
    `_ipv4` and `_tcp` or `_udp` would set on the same bytes, or nothing at
    all (then `_ipv4` walks the layers as usual). tests/test_perf_fastpaths.py
    compares the two on synthetic traffic, the corpus and damaged frames.
    """
    (tot, ipid, frag, ttl, p, ip_src, ip_dst,
     sport, dport, seq, ack, offflags, window) = _IP4_PORTS.unpack_from(data, off)
    if frag & 0x3FFF or (p != 6 and p != 17):
        return False
    n = len(data) - off
    if tot == 0:
        tot = n
    elif tot < 20:
        return False
    end = off + tot
    cap = end if end < len(data) else len(data)
    head = off + 20
    if p == 6:
        hlen = (offflags >> 12) << 2
        if hlen < 20 or hlen > cap - head or hlen > end - head:
            return False
        if hlen > 20:
            if hlen == 32 and data[head + 20 : head + 24] == _TS_NOPS:
                r.tcp_options = (_NOP, _NOP, ("Timestamp", _II.unpack_from(data, head + 24)))
            else:
                _tcp_options(r, data, head + 20, head + hlen)
        r.proto = "TCP"
        r.tcp_flags = FLAG_TEXT[offflags & 0x1FF]
        r.seq = seq
        r.ack = ack
        r.window = window
        start = head + hlen
    else:
        if cap - head < 8 or end - head < 8 or seq >> 16 != end - head:  # seq >> 16: UDP length
            return False
        r.proto = "UDP"
        start = head + 8
    r.family = 4
    r.src = _ip4_get(ip_src) or _ip4_new(ip_src)
    r.dst = _ip4_get(ip_dst) or _ip4_new(ip_dst)
    r.ttl = ttl
    r.ip_id = ipid
    r.sport = sport
    r.dport = dport
    r.payload_len = end - start
    r.payload = data[start:cap]
    if end > start and (sport in _DNS_PORTS or dport in _DNS_PORTS):
        r.proto = "DNS"
    return True


def _ipv4(r: _Builder, data: bytes, off: int) -> None:
    if len(data) - off >= 36 and data[off] == 0x45 and _fast_ip4(r, data, off):
        return
    r.proto = "IPv4"
    r.family = 4
    n = len(data) - off
    if n < 20:
        r.error = _truncated("IPv4 header", n, 20)
        return
    vihl, tot, ipid, frag, ttl, p, src, dst = _IP4.unpack_from(data, off)
    if vihl >> 4 != 4:
        r.error = phrases.wrong_ip_version(vihl >> 4, "IPv4")
        return
    r.src = _ip4_get(src) or _ip4_new(src)
    r.dst = _ip4_get(dst) or _ip4_new(dst)
    r.ttl = ttl
    r.ip_id = ipid
    ihl = (vihl & 0x0F) << 2  # IHL counts 32-bit words, options included
    if ihl < 20:
        r.error = phrases.bad_ihl(ihl >> 2)
        return
    if ihl > n:
        r.error = _truncated("IPv4 header", n, ihl)
        return
    if tot == 0:
        # TCP segmentation offload: Linux hands the capture a super-packet
        # whose total length may be 0; trust the captured length, as tcpdump.
        tot = n
    elif tot < ihl:
        r.error = phrases.bad_ip_total_length(tot, ihl)
        return
    end = off + tot  # may pass the end of the data when the snaplen cut it
    cap = end if end < len(data) else len(data)  # Ethernet padding is not payload
    start = off + ihl
    if frag & 0x3FFF:  # MF set or a fragment offset (RFC 791 §3.2)
        foff = (frag & 0x1FFF) << 3
        r.frag_offset = foff
        r.more_fragments = frag & 0x2000 != 0
        if foff:  # a later fragment: no transport header here
            r.payload_len = end - start
            r.payload = data[start:cap]
            return
    if p == 6:
        _tcp(r, data, start, end, cap)
    elif p == 17:
        _udp(r, data, start, end, cap)
    elif p == 1:
        _icmp4(r, data, start, end, cap)
    else:
        r.proto = _IP_PROTO_NAMES.get(p) or f"ip proto {p}"
        r.payload_len = end - start
        r.payload = data[start:cap]


def _walk6(data: bytes, off: int, nh: int, stop: int):
    """Skip IPv6 extension headers from `off` (RFC 8200 §4).

    Returns (next header, offset of the upper layer, fragment or None, error);
    the fragment is (identification, offset in bytes, more fragments). The walk
    stops after the fragment header of a non-first fragment. Each step moves
    forward by at least 8 bytes, so the walk always ends.
    """
    frag = None
    while nh in _EXT6_NAMES:
        have = stop - off
        if nh == 44:
            if have < 8:
                return nh, off, frag, _truncated("IPv6 fragment header", have, 8)
            nxt, offlg, ident = _FRAG6.unpack_from(data, off)
            frag = (ident, offlg & 0xFFF8, offlg & 1 != 0)
            off += 8
            nh = nxt
            if frag[1]:
                break
            continue
        if have < 2:
            return nh, off, frag, _truncated(f"IPv6 {_EXT6_NAMES[nh]} header", have, 2)
        size = (data[off + 1] + 2) << 2 if nh == 51 else (data[off + 1] + 1) << 3
        if have < size:
            return nh, off, frag, _truncated(f"IPv6 {_EXT6_NAMES[nh]} header", have, size)
        nh = data[off]
        off += size
    return nh, off, frag, None


def _ipv6(r: _Builder, data: bytes, off: int) -> None:
    r.proto = "IPv6"
    r.family = 6
    n = len(data) - off
    if n < 40:
        r.error = _truncated("IPv6 header", n, 40)
        return
    vtf, plen, nh, hlim, src, dst = _IP6.unpack_from(data, off)
    if vtf >> 28 != 6:
        r.error = phrases.wrong_ip_version(vtf >> 28, "IPv6")
        return
    r.src = _ip6_get(src) or _ip6_new(src)
    r.dst = _ip6_get(dst) or _ip6_new(dst)
    r.ttl = hlim
    start = off + 40
    # A payload length of 0 is a jumbogram (RFC 2675) or a Linux BIG TCP
    # super-packet: trust the captured length.
    end = start + plen if plen or nh == _IPV6_NO_NEXT else len(data)
    cap = end if end < len(data) else len(data)
    if nh in _EXT6_NAMES:
        nh, start, frag, err = _walk6(data, start, nh, cap)
        if frag is not None:
            ident, foff, more = frag
            r.ip_id = ident
            if foff or more:  # else an atomic fragment (RFC 6946)
                r.frag_offset = foff
                r.more_fragments = more
            if foff:
                r.payload_len = end - start
                r.payload = data[start:cap]
                return
        if err:
            r.error = err
            return
    if nh == 6:
        _tcp(r, data, start, end, cap)
    elif nh == 17:
        _udp(r, data, start, end, cap)
    elif nh == 58:
        _icmp6(r, data, start, end, cap)
    else:
        if nh != _IPV6_NO_NEXT:
            r.proto = _IP_PROTO_NAMES.get(nh) or f"ip proto {nh}"
        r.payload_len = end - start
        r.payload = data[start:cap]


# ------------------------------------------------------------ transport layers


def _tcp(r: _Builder, data: bytes, off: int, end: int, cap: int) -> None:
    r.proto = "TCP"
    have = cap - off  # captured bytes of the segment
    if have < 20 or end - off < 20:
        r.error = _truncated("TCP header", min(have, end - off), 20)
        return
    sport, dport, seq, ack, offflags, window = _TCP.unpack_from(data, off)
    r.sport = sport
    r.dport = dport
    r.seq = seq
    r.ack = ack
    r.window = window
    r.tcp_flags = FLAG_TEXT[offflags & 0x1FF]
    hlen = (offflags >> 12) << 2  # data offset, in 32-bit words
    if hlen < 20:
        r.error = phrases.bad_tcp_header_length(hlen, hlen >> 2)
        return
    if hlen > have or hlen > end - off:
        r.error = _truncated("TCP header", min(have, end - off), hlen)
        return
    if hlen > 20:
        _tcp_options(r, data, off + 20, off + hlen)
    start = off + hlen
    r.payload_len = end - start
    r.payload = data[start:cap]
    if end > start and (sport in _DNS_PORTS or dport in _DNS_PORTS):
        r.proto = "DNS"


def _tcp_options(r: _Builder, data: bytes, i: int, stop: int) -> None:
    # RFC 9293 §3.2: kinds 0 and 1 are one byte; every other option is kind,
    # length (counting both), value.
    opts = []
    while i < stop:
        kind = data[i]
        if kind == 1:
            opts.append(_NOP)
            i += 1
            continue
        if kind == 0:
            opts.append(_EOL)
            break
        if i + 1 >= stop:
            r.error = phrases.truncated_tcp_option(_TCP_OPT_NAMES.get(kind) or kind)
            break
        size = data[i + 1]
        name = _TCP_OPT_NAMES.get(kind) or f"option {kind}"
        if size < 2 or i + size > stop:
            r.error = phrases.bad_tcp_option_length(name, size)
            break
        want = _TCP_OPT_LEN.get(kind)
        if (want is not None and size != want) or (kind == 5 and (size - 2) % 8):
            r.error = phrases.bad_tcp_option_length(name, size)
            break
        if kind == 2:
            opts.append(("MSS", _H.unpack_from(data, i + 2)[0]))
        elif kind == 8:
            opts.append(("Timestamp", _II.unpack_from(data, i + 2)))
        elif kind == 3:
            opts.append(("WScale", data[i + 2]))
        elif kind == 4:
            opts.append(_SACKOK)
        elif kind == 5:  # RFC 2018 §3: left and right edges of each block
            blocks = struct.unpack_from(f"!{(size - 2) >> 2}I", data, i + 2)
            opts.append(("SAck", tuple(zip(blocks[::2], blocks[1::2], strict=True))))
        else:
            opts.append((name, data[i + 2 : i + size]))
        i += size
    r.tcp_options = tuple(opts)


def _udp(r: _Builder, data: bytes, off: int, end: int, cap: int) -> None:
    r.proto = "UDP"
    have = cap - off
    if have < 8 or end - off < 8:
        r.error = _truncated("UDP header", min(have, end - off), 8)
        return
    sport, dport, ulen = _UDP.unpack_from(data, off)
    r.sport = sport
    r.dport = dport
    start = off + 8
    if ulen != end - off and ulen:  # 0: a jumbogram (RFC 2675 §4) or UDP GSO
        if 8 <= ulen < end - off:  # the IP packet carries bytes after the datagram
            end = off + ulen
            if cap > end:
                cap = end
        elif not (ulen > end - off and r.more_fragments):  # a first fragment is shorter
            r.error = phrases.bad_udp_length(ulen, end - off)
    r.payload_len = end - start
    r.payload = data[start:cap]
    if end > start and r.error is None and (sport in _DNS_PORTS or dport in _DNS_PORTS):
        r.proto = "DNS"


def _icmp_header(r: _Builder, proto: str, data: bytes, off: int, end: int, cap: int) -> bool:
    """The 8-byte header ICMP and ICMPv6 share (RFC 792, RFC 4443 §2.1): type, code, payload.

    False, with the error set, when the header is cut short.
    """
    r.proto = proto
    have = cap - off
    if have >= 2:
        r.icmp_type = data[off]
        r.icmp_code = data[off + 1]
    if have < 8 or end - off < 8:
        r.error = _truncated(f"{proto} header", min(have, end - off), 8)
        return False
    r.payload_len = end - off - 8
    r.payload = data[off + 8 : cap]
    return True


def _icmp4(r: _Builder, data: bytes, off: int, end: int, cap: int) -> None:
    if not _icmp_header(r, "ICMP", data, off, end, cap):
        return
    t = data[off]
    start = off + 8
    if t in _ICMP4_ID_SEQ:
        r.icmp_id, r.icmp_seq = _HH.unpack_from(data, off + 4)
    elif t in _ICMP4_QUOTING:
        if t == 3 and data[off + 1] == 4:  # fragmentation needed: RFC 1191 §4
            r.mtu = _H.unpack_from(data, off + 6)[0]
        _quote4(r, data, start, cap)


def _icmp6(r: _Builder, data: bytes, off: int, end: int, cap: int) -> None:
    if not _icmp_header(r, "ICMPv6", data, off, end, cap):
        return
    t = data[off]
    start = off + 8
    if t == 128 or t == 129:  # echo request / reply (RFC 4443 §4)
        r.icmp_id, r.icmp_seq = _HH.unpack_from(data, off + 4)
    elif t in _ICMP6_QUOTING:
        if t == 2:  # packet too big (RFC 4443 §3.2)
            r.mtu = _I.unpack_from(data, off + 4)[0]
        _quote6(r, data, start, cap)
    elif t == 135 or t == 136:  # neighbour solicitation / advertisement (RFC 4861 §4.3, 4.4)
        if cap - start < 16:
            r.error = _truncated("neighbour discovery target", cap - start, 16)
            return
        target = data[start : start + 16]
        r.nd_target = _ip6_get(target) or _ip6_new(target)


def _quote4(r: _Builder, data: bytes, off: int, cap: int) -> None:
    have = cap - off
    if have < 20:
        r.error = _truncated("quoted IPv4 header", have, 20)
        return
    vihl, _tot, _ipid, frag, _ttl, p, src, dst = _IP4.unpack_from(data, off)
    ihl = (vihl & 0x0F) << 2
    if vihl >> 4 != 4 or ihl < 20:
        r.error = phrases.quoted_not_ip("IPv4")
        return
    sport = dport = None
    if p in _PORT_PROTOS and not frag & 0x1FFF and have >= ihl + 4:
        sport, dport = _HH.unpack_from(data, off + ihl)
    r.quoted = Quoted(
        src=_ip4_get(src) or _ip4_new(src),
        dst=_ip4_get(dst) or _ip4_new(dst),
        proto=_IP_PROTO_NAMES.get(p) or f"ip proto {p}",
        sport=sport,
        dport=dport,
    )


def _quote6(r: _Builder, data: bytes, off: int, cap: int) -> None:
    have = cap - off
    if have < 40:
        r.error = _truncated("quoted IPv6 header", have, 40)
        return
    vtf, _plen, nh, _hlim, src, dst = _IP6.unpack_from(data, off)
    if vtf >> 28 != 6:
        r.error = phrases.quoted_not_ip("IPv6")
        return
    # The quote is cut where the MTU ran out, so a failed walk only loses the ports.
    nh, start, frag, err = _walk6(data, off + 40, nh, cap)
    sport = dport = None
    if err is None and (frag is None or not frag[1]) and nh in _PORT_PROTOS and cap - start >= 4:
        sport, dport = _HH.unpack_from(data, start)
    if err is not None:
        proto = None
    elif nh == _IPV6_NO_NEXT:
        proto = "IPv6"
    else:
        proto = _IP_PROTO_NAMES.get(nh) or f"ip proto {nh}"
    r.quoted = Quoted(
        src=_ip6_get(src) or _ip6_new(src),
        dst=_ip6_get(dst) or _ip6_new(dst),
        proto=proto,
        sport=sport,
        dport=dport,
    )


# --------------------------------------------------------------------- entry


def decode(data: bytes, linktype: int) -> Decoded:
    """Decode the headers of one frame captured with the given link type.

    Never raises: a malformed or truncated layer sets `error` and decoding
    stops there. Unknown link types give link and proto 'linktype N'.
    """
    r = _Builder()
    try:
        if type(data) is not bytes:
            data = bytes(data)
        link = _LINKS.get(linktype)
        if link is None:
            r.link = r.proto = f"linktype {linktype}"
        else:
            link(r, data)
    except Exception as exc:  # a bug here, never the packet's fault: keep the fields so far
        r.link = r.link or f"linktype {linktype}"
        r.proto = r.proto or r.link
        r.error = phrases.decoder_error(type(exc).__name__, str(exc))
    r.__class__ = Decoded
    return r  # type: ignore[return-value]
