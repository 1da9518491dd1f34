"""One packet, layer by layer, as a teacher explains it (``sockviz replay FILE --packet N``).

``packet_layers()`` reads one captured frame into a ``PacketLayers``: a list of
``Layer`` (link, network, transport, DNS, payload...), each a list of
``FieldRow`` with the field's position and size in bits, its value and what it
means in plain words.  ``PacketLayers`` is a rich renderable: the size sum
("74 bytes = 14 Ethernet + 20 IPv4 + 40 TCP + 0 payload"), one table per layer,
then a hex dump cut at the layers' boundaries.  It yields and never prints; its
width comes from the console.

This is the one place where scapy pays (one packet, shown in detail).  Its
layers are imported on first use, never ``scapy.all``, so importing this
module stays cheap.  scapy dissects; the positions and sizes of the fields come
from re-running scapy's own field readers over the bytes (so they are exactly
what scapy read), and this module adds the words.

Nothing here raises on a damaged or truncated frame: a header cut short shows
the fields that were captured, marks the others, and says where it broke.

Every sentence shown lives in the tables and constants below (not in scattered
f-strings), ready for gettext.
"""

from __future__ import annotations

import datetime
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sockviz.core.decode import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
)
from sockviz.core.text import flag_names, preview

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from sockviz.capfile.reader import Frame

__all__ = [
    "FieldRow",
    "Layer",
    "PacketLayers",
    "PacketNotFound",
    "frame_layers",
    "packet_layers",
    "read_frame",
]

from sockviz.core.phrases import N_, _


class _Said(dict):
    """A table of the words below, its values said in the language spoken when read.

    The sentences are marked ``N_()`` for the catalogue; ``say`` names the
    places of a tuple value that are said (the others, field names as the RFCs
    spell them and references, stay as they are).
    """

    __slots__ = ("say",)

    def __init__(self, table: dict, say: tuple[int, ...] | None = None) -> None:
        super().__init__(table)
        self.say = say

    def _said(self, value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(_(v) if v and (self.say is None or i in self.say) else v
                         for i, v in enumerate(value))
        return _(value) if value else value

    def __getitem__(self, key: Any) -> Any:
        return self._said(dict.__getitem__(self, key))

    def get(self, key: Any, default: Any = None) -> Any:
        return self._said(dict.__getitem__(self, key)) if key in self else default


# =============================================================================
# Words.  Every sentence a reader sees is in this section.
# =============================================================================

# Layers: kind -> (short name for the size sum, title, reference).
LAYER_WORDS: dict[str, tuple[str, str, str]] = _Said({
    "ethernet": ("Ethernet", N_("Ethernet II header"), "IEEE 802.3 §3.1.1, RFC 894"),
    "sll": ("Linux cooked", N_("Linux cooked capture header (SLL)"),
            "tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html"),
    "sll2": ("Linux cooked v2", N_("Linux cooked capture header v2 (SLL2)"),
             "tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html"),
    "loopback": (N_("loopback"), N_("BSD loopback header"), "tcpdump.org/linktypes/LINKTYPE_NULL.html"),
    "vlan": ("VLAN", N_("802.1Q VLAN tag"), "IEEE 802.1Q §9.6"),
    "arp": ("ARP", N_("ARP message"), "RFC 826"),
    "ipv4": ("IPv4", N_("IPv4 header"), "RFC 791 §3.1"),
    "ipv6": ("IPv6", N_("IPv6 header"), "RFC 8200 §3"),
    "ipv6-hop-by-hop": (N_("IPv6 hop-by-hop"), N_("IPv6 hop-by-hop options header"), "RFC 8200 §4.3"),
    "ipv6-routing": (N_("IPv6 routing"), N_("IPv6 routing header"), "RFC 8200 §4.4"),
    "ipv6-fragment": (N_("IPv6 fragment"), N_("IPv6 fragment header"), "RFC 8200 §4.5"),
    "ipv6-destination": (N_("IPv6 destination options"), N_("IPv6 destination options header"),
                         "RFC 8200 §4.6"),
    "tcp": ("TCP", N_("TCP header"), "RFC 9293 §3.1"),
    "udp": ("UDP", N_("UDP header"), "RFC 768"),
    "icmp": ("ICMP", N_("ICMP message"), "RFC 792"),
    "icmpv6": ("ICMPv6", N_("ICMPv6 message"), "RFC 4443 §2.1"),
    "ndp-option": (N_("NDP option"), N_("Neighbor Discovery option"), "RFC 4861 §4.6"),
    "dns": ("DNS", N_("DNS message"), "RFC 1035 §4.1"),
    "payload": (N_("payload"), N_("payload"), ""),
    "fragment": (N_("fragment data"), N_("fragment data"), "RFC 791 §3.2"),
    "padding": (N_("Ethernet padding"), N_("Ethernet padding"), "IEEE 802.3 §3.2.7"),
    "unread": (N_("unread"), N_("bytes not read"), ""),
    "other": (N_("other"), "{name}", ""),
}, say=(0, 1))
QUOTED_SHORT = N_("quoted {name}")
QUOTED_TITLE = N_("quoted {title}")

# What a layer is, in one sentence, shown under its title (optional).
LAYER_NOTES: dict[str, str] = _Said({
    "payload": N_("the application's bytes: what the sending program passed to send() or sendto()"),
    "fragment": N_("a piece of a datagram too big for the link: the receiver puts the pieces back together"),
    "padding": N_("zeros that bring a short frame up to Ethernet's 60-byte minimum; not part of the packet"),
    "unread": N_("bytes after the last header that sockviz could not read as anything"),
    "icmp-error": N_("the rest is the start of the packet that caused this error, quoted so that the sender "
                  "can tell which socket it concerns"),
    "quoted": N_("part of the packet that caused the error, as the host reporting it received it"),
})

# Fields: (layer kind, field) -> (label, meaning).
FIELD_WORDS: dict[tuple[str, str], tuple[str, str]] = _Said({
    # Ethernet II (IEEE 802.3 §3.1.1)
    ("ethernet", "dst"): ("destination MAC", N_("the hardware address of the network card this frame is for, "
                          "on this link only")),
    ("ethernet", "src"): ("source MAC", N_("the hardware address of the network card that sent the frame")),
    ("ethernet", "type"): ("EtherType", N_("which protocol reads the bytes after this header (RFC 894)")),
    # Linux cooked captures: the kernel's description, not bytes from the wire
    ("sll", "pkttype"): ("packet type", N_("who the packet was for: 0 this host, 1 broadcast, 2 multicast, "
                         "3 another host, 4 sent by this host")),
    ("sll", "lladdrtype"): ("address type",
                            N_("the link's hardware type (ARPHRD_*: 1 Ethernet, 772 loopback)")),
    ("sll", "lladdrlen"): ("address length", N_("how many bytes of the address field are used")),
    ("sll", "src"): ("source address", N_("the sender's link-layer address, padded to 8 bytes")),
    ("sll", "proto"): ("protocol", N_("which protocol reads the bytes after this header, as an EtherType")),
    ("sll", "reserved"): ("reserved", N_("zero")),
    ("sll", "ifindex"): ("interface index", N_("the number of the interface the packet was captured on")),
    ("loopback", "type"): ("address family",
                           N_("the packet's address family (2 = IPv4; 24, 28 or 30 = IPv6)")),
    ("vlan", "prio"): ("priority", N_("the frame's priority class (IEEE 802.1p)")),
    ("vlan", "dei"): ("drop eligible", N_("1: may be dropped first under congestion")),
    ("vlan", "id"): ("VLAN ID", N_("which virtual LAN the frame belongs to")),
    ("vlan", "type"): ("EtherType", N_("which protocol reads the bytes after this tag")),
    # ARP (RFC 826)
    ("arp", "hwtype"): ("hardware type", N_("the kind of link: 1 = Ethernet")),
    ("arp", "ptype"): ("protocol type", N_("the kind of address asked about: 0x0800 = IPv4")),
    ("arp", "hwlen"): ("hardware address length", N_("6 bytes for a MAC address")),
    ("arp", "plen"): ("protocol address length", N_("4 bytes for an IPv4 address")),
    ("arp", "op"): ("operation", N_("1 = request (who has this IP address?), 2 = reply (it is at this MAC)")),
    ("arp", "hwsrc"): ("sender MAC", N_("the MAC address of the host sending this message")),
    ("arp", "psrc"): ("sender IP", N_("the IP address of the host sending this message")),
    ("arp", "hwdst"): ("target MAC", N_("the MAC address looked for: zeros in a request, as it is unknown")),
    ("arp", "pdst"): ("target IP", N_("the IP address whose MAC address is asked for (or was asked for)")),
    # IPv4 (RFC 791 §3.1)
    ("ipv4", "version"): ("version", N_("4 for IPv4")),
    ("ipv4", "ihl"): ("IHL", N_("Internet Header Length, in 32-bit words: 5 = 20 bytes, more with options")),
    ("ipv4", "dscp"): ("DSCP", N_("Differentiated Services: a priority class for routers, 0 = best effort "
                       "(RFC 2474 §3)")),
    ("ipv4", "ecn"): ("ECN", N_("Explicit Congestion Notification: a router can mark congestion here "
                      "instead of dropping the packet (RFC 3168 §5)")),
    ("ipv4", "len"): ("total length", N_("the whole IP packet in bytes: this header and its data")),
    ("ipv4", "id"): ("identification", N_("a number shared by all the fragments of one datagram, so that the "
                     "receiver can put them back together")),
    ("ipv4", "flags"): ("flags", N_("3 bits: reserved (0), DF = don't fragment, MF = more fragments")),
    ("ipv4", "frag"): ("fragment offset", N_("where this fragment's data goes in the original datagram, "
                       "in units of 8 bytes")),
    ("ipv4", "ttl"): ("TTL", N_("time to live: each router subtracts 1 and drops the packet at 0, so a "
                      "routing loop cannot keep it forever (Linux starts at 64)")),
    ("ipv4", "proto"): ("protocol", N_("which protocol reads the data after this header")),
    ("ipv4", "chksum"): ("header checksum", N_("a check of this header only (not the data); each router "
                         "recomputes it as the TTL changes")),
    ("ipv4", "src"): ("source address", N_("the IP address of the sender")),
    ("ipv4", "dst"): ("destination address", N_("the IP address of the final receiver")),
    ("ipv4", "options"): ("options", N_("rare extras (record route, timestamps, router alert...); there "
                          "are options when IHL > 5")),
    # IPv6 (RFC 8200 §3)
    ("ipv6", "version"): ("version", N_("6 for IPv6")),
    ("ipv6", "tc"): ("traffic class", N_("DSCP (a priority class) and ECN (congestion marks), as in IPv4 "
                     "(RFC 8200 §7)")),
    ("ipv6", "fl"): ("flow label", N_("a number the sender gives the packets of one flow, so that routers "
                     "keep them on one path (RFC 6437)")),
    ("ipv6", "plen"): ("payload length",
                       N_("the bytes after this 40-byte header, extension headers included")),
    ("ipv6", "nh"): ("next header",
                     N_("which header follows: an extension header or the transport protocol")),
    ("ipv6", "hlim"): ("hop limit", N_("each router subtracts 1 and drops the packet at 0, like IPv4's TTL "
                       "(Linux starts at 64)")),
    ("ipv6", "src"): ("source address", N_("the IPv6 address of the sender")),
    ("ipv6", "dst"): ("destination address", N_("the IPv6 address of the receiver")),
    # IPv6 extension headers (RFC 8200 §4)
    ("ipv6-ext", "nh"): ("next header", N_("which header follows this one")),
    ("ipv6-ext", "len"): ("header length", N_("this header's length in units of 8 bytes, not counting the "
                          "first 8")),
    ("ipv6-ext", "options"): ("options", N_("type-length-value options, padded to a multiple of 8 bytes")),
    ("ipv6-ext", "type"): ("routing type", N_("which kind of routing header this is")),
    ("ipv6-ext", "segleft"): ("segments left", N_("how many listed routers are still to be visited")),
    ("ipv6-ext", "addresses"): ("addresses", N_("the routers to pass through")),
    ("ipv6-ext", "res1"): ("reserved", N_("zero")),
    ("ipv6-ext", "res2"): ("reserved", N_("zero")),
    ("ipv6-ext", "reserved"): ("reserved", N_("zero")),
    ("ipv6-ext", "offset"): ("fragment offset", N_("where this fragment's data goes in the original packet, "
                             "in units of 8 bytes")),
    ("ipv6-ext", "m"): ("M", N_("more fragments: 1 unless this is the last piece")),
    ("ipv6-ext", "id"): ("identification", N_("a number shared by all the fragments of one packet")),
    # TCP (RFC 9293 §3.1)
    ("tcp", "sport"): ("source port", N_("the sending socket's port (a client's is an ephemeral port its "
                       "kernel picked at connect())")),
    ("tcp", "dport"): ("destination port",
                       N_("the receiving socket's port (a server's is the one it bound)")),
    ("tcp", "seq"): ("sequence number", N_("raw: the number of this segment's first byte (a SYN counts as "
                     "one). Relative numbers (Wireshark's) subtract the first one, unknown from one packet")),
    ("tcp", "ack"): ("acknowledgment number", N_("raw: the next byte the sender expects from the other "
                     "side; meaningful only when ACK is set")),
    ("tcp", "dataofs"): ("data offset", N_("the TCP header's length in 32-bit words: 5 = 20 bytes, more with "
                         "options")),
    ("tcp", "reserved"): ("reserved", N_("control bits kept for future use, zero")),
    ("tcp", "flags"): ("flags", N_("the control bits, in this order: CWR ECE URG ACK PSH RST SYN FIN")),
    ("tcp", "window"): ("window", N_("raw, unscaled: how many more bytes the sender can receive. After the "
                        "handshake it is multiplied by the window scale (never in a SYN, RFC 7323 §2.2)")),
    ("tcp", "chksum"): ("checksum", N_("a check of the header, the data and the IP addresses "
                        "(a pseudo-header)")),
    ("tcp", "urgptr"): ("urgent pointer", N_("where urgent data ends when URG is set; otherwise 0")),
    ("tcp", "options"): ("options", N_("extras, most of them agreed on in the SYN and SYN/ACK")),
    # UDP (RFC 768)
    ("udp", "sport"): ("source port", N_("the sending socket's port (the kernel picks one at the first "
                       "sendto() of an unbound socket)")),
    ("udp", "dport"): ("destination port", N_("the receiving socket's port")),
    ("udp", "len"): ("length", N_("this 8-byte header plus the data, in bytes")),
    ("udp", "chksum"): ("checksum", N_("a check of the header, the data and the IP addresses; 0 means none "
                        "(allowed over IPv4 only)")),
    # ICMP (RFC 792)
    ("icmp", "type"): ("type", N_("what kind of ICMP message this is")),
    ("icmp", "code"): ("code", N_("the detail within the type")),
    ("icmp", "chksum"): ("checksum", N_("a check of the whole ICMP message")),
    ("icmp", "id"): ("identifier", N_("matches a reply to its request (ping uses one per run)")),
    ("icmp", "seq"): ("sequence number", N_("counts the requests, so each reply finds its request")),
    ("icmp", "gw"): ("gateway address", N_("the better router to use for this destination")),
    ("icmp", "ptr"): ("pointer", N_("the byte of the quoted header that has the problem")),
    ("icmp", "reserved"): ("unused", N_("zero")),
    ("icmp", "length"): ("length", N_("the length of the quoted packet in 32-bit words, 0 when not given "
                         "(RFC 4884)")),
    ("icmp", "nexthopmtu"): ("next-hop MTU", N_("with code 4, the largest packet the next link takes "
                             "(RFC 1191); otherwise 0")),
    ("icmp", "unused"): ("unused", N_("zero")),
    ("icmp", "ts_ori"): ("originate timestamp", N_("when the request left, in ms since midnight UTC")),
    ("icmp", "ts_rx"): ("receive timestamp", N_("when the request arrived")),
    ("icmp", "ts_tx"): ("transmit timestamp", N_("when the reply left")),
    ("icmp", "addr_mask"): ("address mask", N_("the subnet mask")),
    ("icmp", "extpad"): ("padding", N_("zeros before the extensions (RFC 4884)")),
    ("icmp", "ext"): ("extensions", N_("extra objects after the quoted packet (RFC 4884)")),
    # ICMPv6 (RFC 4443 §2.1) and Neighbor Discovery (RFC 4861 §4)
    ("icmpv6", "type"): ("type", N_("what kind of ICMPv6 message this is")),
    ("icmpv6", "code"): ("code", N_("the detail within the type")),
    ("icmpv6", "cksum"): ("checksum", N_("a check of the whole message and the IPv6 addresses "
                          "(a pseudo-header)")),
    ("icmpv6", "id"): ("identifier", N_("matches a reply to its request")),
    ("icmpv6", "seq"): ("sequence number", N_("counts the requests")),
    ("icmpv6", "data"): ("data", N_("echoed back as it is")),
    ("icmpv6", "mtu"): ("MTU", N_("the largest packet the next link takes (path MTU discovery, RFC 8201)")),
    ("icmpv6", "ptr"): ("pointer", N_("the byte of the quoted packet that has the problem")),
    ("icmpv6", "length"): ("length", N_("the length of the quoted packet in 64-bit words, 0 when not given "
                           "(RFC 4884)")),
    ("icmpv6", "unused"): ("unused", N_("zero")),
    ("icmpv6", "res"): ("reserved", N_("zero")),
    ("icmpv6", "tgt"): ("target address", N_("the address whose MAC address is asked for or given "
                        "(RFC 4861 §4.3)")),
    ("icmpv6", "R"): ("R (router)", N_("1: the sender is a router")),
    ("icmpv6", "S"): ("S (solicited)", N_("1: this answers a solicitation")),
    ("icmpv6", "O"): ("O (override)", N_("1: replace the MAC address in the neighbour cache")),
    ("ndp-option", "type"): ("option type", N_("which option this is")),
    ("ndp-option", "len"): ("option length", N_("in units of 8 bytes")),
    ("ndp-option", "lladdr"): ("link-layer address", N_("a MAC address: the sender's (type 1) or the "
                               "target's (type 2)")),
    # DNS header (RFC 1035 §4.1.1)
    ("dns", "length"): ("length", N_("over TCP, each DNS message starts with its length (RFC 1035 §4.2.2)")),
    ("dns", "id"): ("ID", N_("chosen by the client; the response carries the same ID so it finds its query")),
    ("dns", "qr"): ("QR", N_("0 = query, 1 = response")),
    ("dns", "opcode"): ("opcode", N_("the kind of query: 0 = a standard query")),
    ("dns", "aa"): ("AA", N_("authoritative answer: the server is in charge of the name's zone")),
    ("dns", "tc"): ("TC", N_("truncated: the message did not fit in a UDP datagram; ask again over TCP")),
    ("dns", "rd"): ("RD", N_("recursion desired: please find the final answer for me")),
    ("dns", "ra"): ("RA", N_("recursion available: this server finds answers for its clients")),
    ("dns", "z"): ("Z", N_("reserved, zero")),
    ("dns", "ad"): ("AD", N_("authentic data: checked with DNSSEC (RFC 4035 §3.2.3)")),
    ("dns", "cd"): ("CD", N_("checking disabled: do not check with DNSSEC (RFC 4035 §3.2.2)")),
    ("dns", "rcode"): ("RCODE", N_("the result: 0 = no error, 3 = no such name (NXDOMAIN)")),
    ("dns", "qdcount"): ("question count", N_("how many questions follow")),
    ("dns", "ancount"): ("answer count", N_("how many answer records follow")),
    ("dns", "nscount"): ("authority count", N_("how many authority records follow")),
    ("dns", "arcount"): ("additional count", N_("how many additional records follow")),
    ("dns", "qd"): ("questions", N_("what the client asks: a name and a record type (RFC 1035 §4.1.2)")),
    ("dns", "an"): ("answers", N_("the records that answer the question (RFC 1035 §4.1.3)")),
    ("dns", "ns"): ("authority", N_("records naming the servers in charge of the zone")),
    ("dns", "ar"): ("additional", N_("more records the server thinks useful, and EDNS's OPT record "
                    "(RFC 6891)")),
    # Payload
    ("payload", "data"): ("data", N_("the bytes themselves (printable ASCII shown as is)")),
}, say=(1,))

# The rows a DNS question or record is made of (RFC 1035 §4.1.2 and §4.1.3).
DNS_ITEM_WORDS: dict[str, tuple[str, str]] = _Said({
    "question": ("question {n}", N_("a name and the type of record wanted")),
    "record": ("{section} {n}", N_("one resource record: a name, a type, a TTL and data")),
    "name": ("name", N_("the domain name; 2 bytes starting 0xc0 point back to a name earlier in the "
             "message instead of repeating it (RFC 1035 §4.1.4)")),
    "type": ("type", N_("A = IPv4 address, AAAA = IPv6 address, CNAME = alias, PTR = name of an address")),
    "class": ("class", N_("IN = the Internet")),
    "ttl": ("TTL", N_("how many seconds a resolver may keep this record in its cache")),
    "rdlength": ("data length", N_("the length of the data field")),
    "rdata": ("data", N_("the record's value")),
    "opt-class": ("UDP payload size",
                  N_("EDNS: the largest UDP response the sender can take (RFC 6891 §6.1)")),
    "opt-ttl": ("EDNS flags", N_("EDNS: more RCODE bits, the EDNS version and flags such as DO, 'send "
                "DNSSEC records' (RFC 6891 §6.1.3)")),
    "opt-rdata": ("options", N_("EDNS options (cookies, padding...)")),
}, say=(1,))
DNS_SECTION_SINGULAR = {"qd": "question", "an": "answer", "ns": "authority", "ar": "additional"}

# Sub-rows of flag fields: (layer kind, flag) -> (label, meaning).
FLAG_WORDS: dict[tuple[str, str], tuple[str, str]] = _Said({
    ("ipv4", "evil"): ("reserved bit", N_("must be zero (RFC 3514's 'evil bit' is a joke)")),
    ("ipv4", "DF"): ("DF", N_("don't fragment: a router must drop the packet (and say so with ICMP) rather "
                     "than split it; Linux sets it to find the path MTU")),
    ("ipv4", "MF"): ("MF", N_("more fragments: this is not the last piece of the datagram")),
    ("tcp", "CWR"): ("CWR", N_("congestion window reduced: the sender slowed down after an ECN mark "
                     "(RFC 3168 §6.1)")),
    ("tcp", "ECE"): ("ECE", N_("ECN echo: the receiver saw a congestion mark (in a SYN: ECN is supported)")),
    ("tcp", "URG"): ("URG", N_("the urgent pointer is valid")),
    ("tcp", "ACK"): ("ACK",
                     N_("the acknowledgment number is valid: set on every segment after the first SYN")),
    ("tcp", "PSH"): ("PSH", N_("push: deliver the data to the application now")),
    ("tcp", "RST"): ("RST", N_("reset: abort the connection, or refuse it")),
    ("tcp", "SYN"): ("SYN", N_("synchronize sequence numbers: opens a connection (connect(), accept())")),
    ("tcp", "FIN"): ("FIN", N_("finish: the sender has no more data to send (close() or shutdown())")),
}, say=(1,))
FLAG_SET = "1"
# RFC 9293 §3.1 order, most significant bit first.
TCP_FLAG_BITS = ("CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN")

# TCP options: kind -> (label, meaning).
TCP_OPTION_WORDS: dict[int, tuple[str, str]] = _Said({
    0: ("end of options", N_("no option follows")),
    1: ("NOP", N_("no operation: one byte of padding that lines up the next option")),
    2: ("MSS", N_("maximum segment size: the most data this host takes in one segment, its MTU minus "
        "40 bytes of headers (RFC 9293 §3.7.1)")),
    3: ("window scale", N_("the other side multiplies this side's window by 2^shift after the handshake "
        "(RFC 7323 §2)")),
    4: ("SACK permitted", N_("this host understands selective acknowledgments (RFC 2018 §2)")),
    5: ("SACK", N_("blocks received beyond a hole, so that only the hole is sent again (RFC 2018 §3)")),
    8: ("timestamps", N_("TSval is the sender's clock, TSecr echoes the last TSval received: measures the "
        "round-trip time and spots old segments (RFC 7323 §3)")),
    19: ("MD5 signature", N_("a keyed hash of the segment (RFC 2385)")),
    28: ("user timeout", N_("how long data may stay unacknowledged (RFC 5482)")),
    29: ("TCP-AO", N_("authentication option (RFC 5925)")),
    30: ("MPTCP", N_("multipath TCP (RFC 8684)")),
    34: ("Fast Open cookie", N_("lets data travel in the SYN (RFC 7413)")),
}, say=(1,))
TCP_OPTION_UNKNOWN = ("option {kind}", N_("an option sockviz does not know"))
TCP_OPTION_KEYS = {0: "eol", 1: "nop", 2: "mss", 3: "wscale", 4: "sackok", 5: "sack", 8: "ts"}

IP_OPTION_WORDS: dict[int, str] = {
    0: "end of options", 1: "NOP", 7: "record route", 68: "timestamp", 130: "security",
    131: "loose source route", 137: "strict source route", 136: "stream ID", 148: "router alert",
}
IP_OPTION_MEANING = N_("an IPv4 option (RFC 791 §3.1)")
IPV6_OPTION_WORDS: dict[int, str] = {0: "Pad1", 1: "PadN", 4: "tunnel encapsulation limit",
                                     5: "router alert", 194: "jumbo payload", 201: "home address"}
IPV6_OPTION_MEANING = N_("an option; the first 2 bits of its type say what a router that does not know it "
                       "must do (RFC 8200 §4.2)")

# Value texts.
VALUE_NAMED = "{value} ({name})"
VALUE_HEX_NAMED = "0x{value:04x} ({name})"
VALUE_RAW = N_("{value} (raw)")
VALUE_WORDS = N_("{value} (= {bytes} bytes)")
VALUE_FRAG = N_("{value} (= byte {bytes})")
VALUE_NO_ACK = N_("{value} (not used: no ACK flag)")
VALUE_NONE_SET = N_("none")
VALUE_FLAGS = N_("{bits}: {names}")
VALUE_TC = "0x{value:02x} (DSCP {dscp}, ECN {ecn})"
VALUE_CHECKSUM_OK = N_("0x{value:04x} (correct)")
VALUE_CHECKSUM_BAD = N_("0x{value:04x} (wrong: should be 0x{good:04x})")
VALUE_CHECKSUM_NONE = N_("0x0000 (none)")
VALUE_CHECKSUM = "0x{value:04x}"
VALUE_OPTION = N_("kind {kind}")
VALUE_OPTION_LEN = N_("kind {kind}, length {length}")
VALUE_OPTION_VALUE = N_("kind {kind}, length {length}: {value}")
VALUE_MSS = N_("{value} bytes")
VALUE_WSCALE = N_("shift {value} (×{factor})")
VALUE_TS = "TSval {tsval}, TSecr {tsecr}"
VALUE_SACK_BLOCK = "{left}-{right}"
VALUE_CUT = N_("cut: {got} of its {length} bytes captured")
VALUE_COUNT_ITEMS = "{count}"
VALUE_DATA = "{preview}"
VALUE_QUESTION = "{name} {type} {cls}"
VALUE_RECORD = "{name} {type} {data}"
VALUE_NAME_POINTER = N_("{name} (a pointer to offset {to})")
VALUE_NAME_ENDS_POINTER = N_("{name} (ends with a pointer to offset {to})")
NOT_CAPTURED = N_("— (not captured)")
SIZE_BITS = N_("{n} bits")
SIZE_BIT = N_("1 bit")
SIZE_BYTES = N_("{n} bytes")
SIZE_BYTE = N_("1 byte")
MEANING_MORE = "{meaning}. {more}"
CHECKSUM_BAD_HINT = N_("A wrong checksum in a capture is most often checksum offload: the sender left it "
                     "to its network card (or a virtual link) after the point of capture")

MAC_KINDS = (("ff:ff:ff:ff:ff:ff", N_("broadcast: every host on the link")),
             ("33:33:", N_("IPv6 multicast")), ("01:00:5e:", N_("IPv4 multicast")))
NDP_OPTION_TYPES = {1: "source link-layer address", 2: "target link-layer address", 3: "prefix information",
                    4: "redirected header", 5: "MTU", 25: "DNS servers", 31: "DNS search list"}
ETHERTYPE_NAMES = {0x0800: "IPv4", 0x0806: "ARP", 0x86DD: "IPv6", 0x8100: "802.1Q VLAN",
                   0x88A8: "802.1ad VLAN", 0x8847: "MPLS", 0x888E: "802.1X", 0x88CC: "LLDP"}
IP_PROTOCOL_NAMES = {0: "IPv6 hop-by-hop", 1: "ICMP", 2: "IGMP", 4: "IPv4 in IP", 6: "TCP", 17: "UDP",
                     41: "IPv6 in IP", 43: "IPv6 routing", 44: "IPv6 fragment", 47: "GRE", 50: "ESP",
                     51: "AH", 58: "ICMPv6", 59: "no next header", 60: "IPv6 destination options",
                     89: "OSPF", 132: "SCTP"}
PORT_NAMES = _Said({
    20: N_("FTP data"), 21: "FTP", 22: "SSH", 23: "telnet", 25: "SMTP", 53: "DNS", 67: N_("DHCP server"),
    68: N_("DHCP client"), 80: "HTTP", 123: "NTP", 143: "IMAP", 443: "HTTPS", 546: N_("DHCPv6 client"),
    547: N_("DHCPv6 server"), 5353: "mDNS", 5355: "LLMNR",
})
DSCP_NAMES = _Said({
    0: N_("best effort"), 8: N_("CS1, low priority"), 10: "AF11", 18: "AF21", 26: "AF31", 34: "AF41",
    46: N_("EF, expedited forwarding"), 48: N_("CS6, network control"), 56: "CS7",
})
ECN_NAMES = _Said({0: N_("Not-ECT: no ECN"), 1: "ECT(1)", 2: N_("ECT(0): ECN capable"),
                   3: N_("CE: congestion experienced")})
SLL_PACKET_TYPES = _Said({0: N_("to this host"), 1: N_("broadcast"), 2: N_("multicast"),
                          3: N_("to another host"), 4: N_("sent by this host")})
ARP_OPERATIONS = _Said({1: N_("request"), 2: N_("reply"), 3: N_("RARP request"), 4: N_("RARP reply")})
ARP_HARDWARE = {1: "Ethernet", 6: "IEEE 802", 772: "loopback"}
LOOPBACK_FAMILIES = {2: "IPv4", 24: "IPv6", 28: "IPv6", 30: "IPv6"}
ICMP_TYPES = _Said({
    0: N_("echo reply"), 3: N_("destination unreachable"), 4: N_("source quench"), 5: N_("redirect"),
    8: N_("echo request"), 9: N_("router advertisement"), 10: N_("router solicitation"),
    11: N_("time exceeded"), 12: N_("parameter problem"), 13: N_("timestamp request"),
    14: N_("timestamp reply"),
})
ICMP_CODES = _Said({
    (3, 0): N_("network unreachable"), (3, 1): N_("host unreachable"), (3, 2): N_("protocol unreachable"),
    (3, 3): N_("port unreachable: no socket listens on that port"),
    (3, 4): N_("fragmentation needed but DF set"), (3, 5): N_("source route failed"),
    (3, 6): N_("destination network unknown"), (3, 7): N_("destination host unknown"),
    (3, 9): N_("network administratively prohibited"), (3, 10): N_("host administratively prohibited"),
    (3, 13): N_("communication administratively prohibited (a firewall)"),
    (5, 0): N_("for the network"), (5, 1): N_("for the host"),
    (11, 0): N_("TTL exceeded in transit"), (11, 1): N_("fragment reassembly time exceeded"),
    (12, 0): N_("the pointer shows the error"),
})
ICMPV6_TYPES = _Said({
    1: N_("destination unreachable"), 2: N_("packet too big"), 3: N_("time exceeded"),
    4: N_("parameter problem"), 128: N_("echo request"), 129: N_("echo reply"),
    130: N_("multicast listener query"), 131: N_("multicast listener report"),
    133: N_("router solicitation"), 134: N_("router advertisement"),
    135: N_("neighbor solicitation"), 136: N_("neighbor advertisement"), 137: N_("redirect"),
    143: N_("multicast listener report v2"),
})
ICMPV6_CODES = _Said({
    (1, 0): N_("no route to destination"), (1, 1): N_("administratively prohibited (a firewall)"),
    (1, 2): N_("beyond scope of source address"), (1, 3): N_("address unreachable"),
    (1, 4): N_("port unreachable: no socket listens on that port"),
    (1, 5): N_("source address failed policy"), (1, 6): N_("reject route"),
    (3, 0): N_("hop limit exceeded in transit"), (3, 1): N_("fragment reassembly time exceeded"),
    (4, 0): N_("erroneous header field"), (4, 1): N_("unrecognized next header"),
    (4, 2): N_("unrecognized option"),
})
DNS_QR = _Said({0: N_("query"), 1: N_("response")})
DNS_OPCODES = _Said({0: N_("standard query"), 1: N_("inverse query"), 2: N_("server status"),
                     4: N_("notify"), 5: N_("update")})
DNS_RCODES = _Said({0: N_("no error"), 1: N_("format error"), 2: N_("server failure"),
                    3: N_("no such name (NXDOMAIN)"), 4: N_("not implemented"), 5: N_("refused")})
DNS_CLASSES = {1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
UNKNOWN_NAME = "?"

# Header lines.
HEAD_PACKET = N_("packet {index}")
HEAD_JOIN = " · "
HEAD_TIME = "{time} UTC"
HEAD_OUT = N_("sent by this host")
HEAD_IN = N_("received")
HEAD_CAPTURED = N_("{caplen} bytes captured")
HEAD_CAPTURED_OF = N_("{caplen} of {wirelen} bytes captured")
SUM_LINE = N_("{total} bytes = {parts}")
SUM_PART = "{n} {name}"
SUM_CUT = N_("{n} {name} (cut)")
SUM_JOIN = " + "
SUM_EMPTY = N_("0 bytes: the frame is empty")
SNAP_LINE = N_("the capture kept {caplen} of the {wirelen} bytes on the wire: the last {missing} bytes "
             "were not captured")
SNAP_DETAIL = N_("the capture kept {caplen} of the {wirelen} bytes on the wire: {parts}")
SNAP_HEADER_PART = N_("{missing} bytes of the {name} header")
SNAP_REST_PART = N_("{missing} more bytes after it")
SNAP_JOIN = ", "
SNAP_LAST = N_(" and ")
SNAP_MISSING = N_("{parts} were not captured")
LAYER_RANGE = N_("bytes {first}–{last} ({length})")
LAYER_RANGE_EMPTY = N_("no bytes")
HEX_TITLE = N_("the bytes (offset in hex, 16 bytes in hex, the same bytes as ASCII, '.' for the others)")
HEX_TITLE_NARROW = N_("the bytes (offset, bytes in hex, ASCII)")
HEX_MORE = N_("… {count} more bytes not shown")
HEX_MORE_DATA = N_("… and {count} more bytes of {name}")
PROBLEM_MARK = "⚠ "

# Where a packet broke.
BROKE_EMPTY = N_("the frame ends where the {name} header should begin: none of it was captured")
BROKE_INSIDE = N_("cut short: the {name} header needs at least {need} bytes, only {got} were captured; "
                "it breaks at byte {at} of the frame, in the {field} field")
BROKE_HEADER_LEN = N_("cut short: the header says it is {announced} bytes long ({because}), only {got} "
                    "were captured; it breaks at byte {at} of the frame, in the {field} field")
BROKE_BECAUSE_IHL = "IHL {value}"
BROKE_BECAUSE_DATAOFS = "data offset {value}"
BROKE_UNREADABLE = N_("these bytes should be a {name} header but could not be read as one: {error}")
BROKE_LINKTYPE = N_("link type {linktype} is not one sockviz knows: the bytes are shown as they are")
BROKE_RAW_VERSION = N_("a raw IP link, but the first 4 bits say version {version}, neither 4 nor 6")
BAD_IHL = N_("damaged: IHL {value} is less than 5, the smallest header (20 bytes)")
BAD_DATAOFS = N_("damaged: data offset {value} is less than 5, the smallest header (20 bytes)")
BAD_VERSION = N_("damaged: the version field says {value}, not {expected}")
BAD_IP_TOO_LONG = N_("damaged: the total length says {announced} bytes, the frame holds only {got} of "
                   "them, and nothing was cut by the capture")
IP_CUT = N_("cut: the total length says {announced} bytes, the capture kept {got} of them")
IPV6_CUT = N_("cut: the payload length says {announced} bytes after the header, the capture kept {got}")
UDP_CUT = N_("cut: the length says {announced} bytes, the capture kept {got} of them")
UDP_BAD_LEN = N_("damaged: the length says {announced} bytes, less than its own 8-byte header")
UDP_FRAGMENT = N_("this datagram is fragmented: the rest of its {announced} bytes come in the next "
                "fragments")
QUOTED_PARTIAL = N_("the original was {announced} bytes; the ICMP message quotes its first {got}")
QUOTED_HEADER_PART = N_("the ICMP message quotes only the first {got} bytes of this {name} header")
OPTION_CUT = N_("cut short: an option says it is {length} bytes long, only {got} are there")
OPTION_BAD_LENGTH = N_("damaged: an option's length {length} is less than 2")
DNS_RECORDS_MISSING = N_("cut short: the header announces {announced} {section}, only {got} could be "
                       "read; it breaks at byte {at} of the frame")
DNS_RECORDS_DAMAGED = N_("damaged: the header announces {announced} {section}, only {got} could be read; "
                       "it breaks at byte {at} of the frame")


# =============================================================================
# The data
# =============================================================================


_BIT_FIELDS = frozenset({"flags"})  # sizes shown in bits even when whole bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldRow:
    """One field of a header (or a part of one, ``level`` 1 and 2)."""

    key: str  # stable name within its layer: 'ttl', 'flags.DF', 'options.mss', 'answer.1.ttl'
    label: str
    value: Any  # machine value (int, str, bytes, tuple); None when not captured
    text: str  # the value as shown
    meaning: str
    offset: int  # position of the first bit in the frame, in bits
    bits: int  # size in bits
    level: int = 0
    captured: bool = True

    @property
    def size_text(self) -> str:
        if self.bits % 8 or self.offset % 8 or self.key in _BIT_FIELDS:
            return _(SIZE_BIT) if self.bits == 1 else _(SIZE_BITS).format(n=self.bits)
        n = self.bits // 8
        return _(SIZE_BYTE) if n == 1 else _(SIZE_BYTES).format(n=n)


@dataclass(frozen=True, kw_only=True, slots=True)
class Layer:
    """One header (or the payload) of a packet."""

    kind: str  # 'ethernet', 'ipv4', 'tcp', 'dns', 'payload', ... (LAYER_WORDS keys)
    name: str  # short name, as in the size sum
    title: str
    reference: str
    start: int  # first byte in the frame
    length: int  # bytes of the frame in this layer (captured)
    fields: tuple[FieldRow, ...] = ()
    notes: tuple[str, ...] = ()  # facts worth a line (fragmentation, padding...)
    problem: str | None = None  # where and why it broke
    quoted: bool = False  # inside an ICMP error
    cut: bool = False  # the capture ended inside this header

    @property
    def end(self) -> int:
        return self.start + self.length

    def field(self, key: str) -> FieldRow:
        for row in self.fields:
            if row.key == key:
                return row
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """The machine value of a field, or ``default``."""
        for row in self.fields:
            if row.key == key:
                return row.value
        return default


@dataclass(frozen=True, kw_only=True, slots=True)
class PacketLayers:
    """One packet, read layer by layer; a rich renderable."""

    index: int
    time: float | None
    iface: str | None
    direction: str | None  # 'in', 'out' or None
    linktype: int
    data: bytes
    wirelen: int
    layers: tuple[Layer, ...]
    snap: str | None = None  # what caplen < wirelen took away, in one sentence

    @property
    def caplen(self) -> int:
        return len(self.data)

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(layer.problem for layer in self.layers if layer.problem)

    def layer(self, kind: str, nth: int = 0, *, quoted: bool | None = None) -> Layer:
        """The ``nth`` layer of this kind (``quoted`` narrows to inside or outside an ICMP error)."""
        found = [la for la in self.layers if la.kind == kind and (quoted is None or la.quoted == quoted)]
        if nth >= len(found):
            raise KeyError(kind)
        return found[nth]

    def kinds(self) -> list[str]:
        return [la.kind for la in self.layers]

    def sum_parts(self) -> list[str]:
        """['14 Ethernet', '20 IPv4', '40 TCP', '0 payload']: what the captured bytes are made of."""
        parts = []
        for la in self.layers:
            form = _(SUM_CUT) if la.cut else SUM_PART
            parts.append(form.format(n=la.length, name=la.name))
        if _wants_empty_payload(self.layers):
            parts.append(SUM_PART.format(n=0, name=LAYER_WORDS["payload"][0]))
        return parts

    def sum_line(self) -> str:
        """'74 bytes = 14 Ethernet + 20 IPv4 + 40 TCP + 0 payload'."""
        if not self.data:
            return _(SUM_EMPTY)
        return _(SUM_LINE).format(total=self.caplen, parts=SUM_JOIN.join(self.sum_parts()))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from _render(self, console, options)


def _wants_empty_payload(layers: Iterable[Layer]) -> bool:
    """A transport layer with nothing after it: show '+ 0 payload', as the sum reads best so."""
    items = [la for la in layers if la.kind != "padding"]
    if not items or items[-1].cut or items[-1].problem:
        return False
    last = items[-1]
    if last.quoted:
        return False
    # (ICMPv6 echo data is a field of the message itself, not a payload after it.)
    return last.kind in ("tcp", "udp") or (last.kind == "icmp" and last.get("type") in (0, 8))


class PacketNotFound(LookupError):
    """Packet ``n`` is not in the file: numbers start at 1 and end at ``count``."""

    def __init__(self, n: int, count: int, problem: str | None = None) -> None:
        self.n = n
        self.count = count
        self.problem = problem
        super().__init__(self._message())

    def _message(self) -> str:
        from sockviz.core import phrases

        if self.count == 0:
            text = phrases.no_packets_in_file()
        elif self.n < 1:
            text = phrases.packet_numbers_start_at_one(self.n, self.count)
        else:
            text = phrases.no_such_packet(self.n, self.count)
        if self.problem:
            text = phrases.stopped_early(text, self.problem)
        return text


def read_frame(path: str | os.PathLike[str], n: int) -> Frame:
    """Packet number ``n`` (1-based, as Wireshark counts) of a capture file.

    Raises ``PacketNotFound`` when ``n`` is below 1 or past the end, with the
    file's packet count; ``NotACapture`` when the file is not a capture.
    """
    from sockviz.capfile.reader import open_capture

    count = 0
    with open_capture(path) as reader:
        for frame in reader:
            count += 1
            if count == n:
                return frame
        raise PacketNotFound(n, count, reader.problem)


def frame_layers(frame: Frame) -> PacketLayers:
    """``packet_layers`` for a frame of ``sockviz.capfile.reader``."""
    return packet_layers(frame.data, frame.linktype, index=frame.index, time=frame.time,
                         iface=frame.iface or None, wirelen=frame.wirelen, direction=frame.direction)


def packet_layers(data: bytes, linktype: int, *, index: int, time: float | None = None,
                  iface: str | None = None, wirelen: int | None = None,
                  direction: str | None = None) -> PacketLayers:
    """Read one captured frame layer by layer.  Never raises on the frame's bytes."""
    data = bytes(data)
    wirelen = len(data) if wirelen is None else max(wirelen, len(data))
    try:
        layers = _Walker(data, linktype, wirelen).walk()
    except Exception as exc:  # a scapy surprise must not cost the reader the packet
        layers = [_raw_layer("unread", data, 0, len(data),
                             problem=_(BROKE_UNREADABLE).format(name=UNKNOWN_NAME, error=_error_text(exc)))]
    snap = _snap_sentence(layers, len(data), wirelen) if wirelen > len(data) else None
    return PacketLayers(index=index, time=time, iface=iface, direction=direction, linktype=linktype,
                        data=data, wirelen=wirelen, layers=tuple(layers), snap=snap)


# =============================================================================
# Reading: scapy dissects, this walks its layers and measures their fields
# =============================================================================

_S: Any = None  # the scapy names we use, once imported


def _scapy() -> Any:
    global _S
    if _S is None:
        import logging
        import types

        logging.getLogger("scapy").setLevel(logging.ERROR)
        from scapy.layers import dns, inet, inet6, l2
        from scapy.packet import NoPayload, Padding, Raw

        _S = types.SimpleNamespace(l2=l2, inet=inet, inet6=inet6, dns=dns, Raw=Raw, Padding=Padding,
                                   NoPayload=NoPayload)
    return _S


# scapy class name -> layer kind.
_KIND_OF_CLASS = {
    "Ether": "ethernet", "CookedLinux": "sll", "CookedLinuxV2": "sll2", "Loopback": "loopback",
    "Dot1Q": "vlan", "ARP": "arp", "IP": "ipv4", "IPerror": "ipv4", "IPv6": "ipv6", "IPerror6": "ipv6",
    "TCP": "tcp", "TCPerror": "tcp", "UDP": "udp", "UDPerror": "udp", "ICMP": "icmp",
    "ICMPerror": "icmp", "DNS": "dns", "IPv6ExtHdrHopByHop": "ipv6-hop-by-hop",
    "IPv6ExtHdrRouting": "ipv6-routing", "IPv6ExtHdrSegmentRouting": "ipv6-routing",
    "IPv6ExtHdrFragment": "ipv6-fragment", "IPv6ExtHdrDestOpt": "ipv6-destination",
}
# The fewest bytes each kind of header takes (a cut header is read padded to this).
_MIN_HEADER = {"ethernet": 14, "sll": 16, "sll2": 20, "loopback": 4, "vlan": 4, "arp": 28, "ipv4": 20,
               "ipv6": 40, "tcp": 20, "udp": 8, "icmp": 8, "icmpv6": 8, "ndp-option": 8, "dns": 12,
               "ipv6-hop-by-hop": 8, "ipv6-routing": 8, "ipv6-fragment": 8, "ipv6-destination": 8}
_WORDS_KIND = {"sll2": "sll", "ipv6-hop-by-hop": "ipv6-ext", "ipv6-routing": "ipv6-ext",
               "ipv6-fragment": "ipv6-ext", "ipv6-destination": "ipv6-ext"}


def _contiguous(layers: list[Layer], data: bytes) -> list[Layer]:
    """Each layer starts where the one before ends, whatever scapy made of damaged bytes.

    A gap becomes 'unread' bytes; an overlap is taken from the later layer (payload bytes
    are re-read at their new place).
    """
    out: list[Layer] = []
    pos = 0
    for la in layers:
        if la.end > len(data):
            la = _clip(la, max(len(data) - la.start, 0), data)
        if la.start > pos:
            out.append(_raw_layer("unread", data, pos, la.start - pos))
        elif la.start < pos:
            length = la.end - pos
            if length <= 0:
                continue
            if la.kind in ("payload", "fragment", "unread", "padding"):
                la = _raw_layer(la.kind, data, pos, length, problem=la.problem, quoted=la.quoted)
            else:
                la = _replace(la, start=pos, length=length)
        out.append(la)
        pos = la.end
    if pos < len(data):
        out.append(_raw_layer("unread", data, pos, len(data) - pos))
    return out


def _clip(layer: Layer, length: int, data: bytes) -> Layer:
    if layer.kind in ("payload", "fragment", "unread", "padding"):
        return _raw_layer(layer.kind, data, layer.start, length, problem=layer.problem, quoted=layer.quoted)
    return _replace(layer, length=length)


def _undispatched(cls: Any, buf: bytes, under: Any) -> Any:
    """``cls(buf)`` without its ``dispatch_hook``: the zeros that pad a cut header must not pick
    another class (a zero EtherType would make an Ethernet header an 802.3 one)."""
    pkt = cls.__new__(cls, cls.__name__, cls.__bases__, cls.__dict__)
    if under is not None:
        pkt.__init__(buf, _underlayer=under)
    else:
        pkt.__init__(buf)
    return pkt


def _kind_of(pkt: Any) -> str:
    return _kind_of_name(type(pkt).__name__)


def _kind_of_name(name: str) -> str:
    kind = _KIND_OF_CLASS.get(name)
    if kind is not None:
        return kind
    if name.startswith("ICMPv6NDOpt"):
        return "ndp-option"
    if name.startswith(("ICMPv6", "_ICMPv6")):
        return "icmpv6"
    return "other"


def _is_quoting(pkt: Any) -> bool:
    return type(pkt).__name__.endswith(("error", "error6"))


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:120]


def _raw_layer(kind: str, data: bytes, start: int, length: int, *, problem: str | None = None,
               quoted: bool = False, notes: tuple[str, ...] = ()) -> Layer:
    short, title, ref = LAYER_WORDS[kind]
    chunk = data[start:start + length]
    rows: tuple[FieldRow, ...] = ()
    if chunk and kind in ("payload", "fragment", "unread"):
        label, meaning = FIELD_WORDS[("payload", "data")]
        rows = (FieldRow(key="data", label=label, value=chunk,
                         text=VALUE_DATA.format(preview=_quote(chunk)), meaning=meaning,
                         offset=start * 8, bits=len(chunk) * 8),)
    if quoted:
        short, title = _(QUOTED_SHORT).format(name=short), _(QUOTED_TITLE).format(title=title)
    note = LAYER_NOTES.get("quoted" if quoted and kind == "payload" else kind)
    if note and not notes:
        notes = (note,)
    return Layer(kind=kind, name=short, title=title, reference=ref, start=start, length=length, fields=rows,
                 notes=notes, problem=problem, quoted=quoted)


# Control characters never reach the terminal: a capture can hold anything (names, options...).
_SAFE = {i: f"\\x{i:02x}" for i in (*range(0x20), *range(0x7F, 0xA0))}


def _safe(text: str) -> str:
    return text.translate(_SAFE)


def _quote(chunk: bytes) -> str:
    return '"' + preview(chunk, 40) + '"'


def _measure(pkt: Any, buf: bytes) -> list[tuple[str, Any, int, int]]:
    """(name, field, first bit, size in bits) of each field scapy reads from ``buf``.

    Runs scapy's own field readers again, as ``Packet.do_dissect`` does, and
    notes how far each one moved: bit fields hand over ``(rest, bits used)``.
    """
    out = []
    s: Any = buf
    pos = 0
    for f in pkt.fields_desc:
        try:
            s2, val = f.getfield(pkt, s)
        except Exception:
            break
        if getattr(f, "isconditional", False) and val is None:
            s = s2
            continue
        rest, extra = s2 if isinstance(s2, tuple) else (s2, 0)
        new = (len(buf) - len(rest)) * 8 + extra
        out.append((f.name, f, pos, new - pos))
        pos, s = new, s2
        if not rest and not extra and (getattr(f, "ismayend", False)
                                       or (getattr(f, "isconditional", False)
                                           and getattr(getattr(f, "fld", None), "ismayend", False))):
            break
    return out


def _repr(pkt: Any, name: str, val: Any) -> str:
    try:
        text = pkt.get_field(name).i2repr(pkt, val)
    except Exception:
        text = repr(val)
    if isinstance(val, bytes):
        return _quote(val) if val else '""'
    if isinstance(val, int) and str(text).startswith("0x"):
        return str(int(val))  # scapy shows some plain numbers in hex (ICMP id, seq)
    if isinstance(val, list):
        return ", ".join(type(v).__name__ if hasattr(v, "fields_desc") else str(v) for v in val)
    return str(text)


def _int(val: Any, default: int = 0) -> int:
    try:
        return int(val)
    except (TypeError, ValueError):
        return default


def _ones_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


@dataclass
class _Net:
    """What the transport checksum needs from the network layer below it."""

    version: int
    src: bytes
    dst: bytes
    end: int  # where the network payload ends in the frame, as its length field says


class _Walker:
    def __init__(self, data: bytes, linktype: int, wirelen: int) -> None:
        self.data = data
        self.linktype = linktype
        self.wirelen = wirelen
        self.snapped = wirelen > len(data)
        self.layers: list[Layer] = []
        self.net: _Net | None = None
        self.quoted = False
        self.fragment = False  # an IP fragment other than the first: its data is not a header
        self.fragmented = False  # any fragment: a UDP length may reach past this packet

    # -- the chain -------------------------------------------------------------

    def walk(self) -> list[Layer]:
        data = self.data
        if not data:
            return []
        cls, problem = self._first_class()
        if cls is None:
            self.layers.append(_raw_layer("unread", data, 0, len(data), problem=problem))
            return self.layers
        try:
            pkt = cls(data)
        except Exception:
            self._partial(cls, data, 0, None)
            return _contiguous(self._tail(len(data)), data)
        offset = self._chain(pkt, 0)
        return _contiguous(self._tail(offset), self.data)

    def _first_class(self) -> tuple[Any, str | None]:
        s = _scapy()
        lt = self.linktype
        if lt == LINKTYPE_ETHERNET:
            return s.l2.Ether, None
        if lt == LINKTYPE_LINUX_SLL:
            return s.l2.CookedLinux, None
        if lt == LINKTYPE_LINUX_SLL2:
            return s.l2.CookedLinuxV2, None
        if lt in (LINKTYPE_NULL, LINKTYPE_LOOP):
            return s.l2.Loopback, None
        if lt == LINKTYPE_IPV4:
            return s.inet.IP, None
        if lt == LINKTYPE_IPV6:
            return s.inet6.IPv6, None
        if lt == LINKTYPE_RAW:
            version = self.data[0] >> 4
            if version == 4:
                return s.inet.IP, None
            if version == 6:
                return s.inet6.IPv6, None
            return None, _(BROKE_RAW_VERSION).format(version=version)
        return None, _(BROKE_LINKTYPE).format(linktype=lt)

    def _chain(self, pkt: Any, offset: int) -> int:
        s = _scapy()
        prev = None
        layer = pkt
        while layer is not None and not isinstance(layer, s.NoPayload):
            if offset > len(self.data):
                break
            if isinstance(layer, s.Padding):
                n = len(layer.load)
                start = len(self.data) - n if n <= len(self.data) - offset else offset
                self.layers.append(_raw_layer("padding", self.data, start, n))
                return start + n
            if type(layer) is s.Raw:
                return self._raw(prev, layer.load, offset)
            if _is_quoting(layer):
                self.quoted = True
            offset = self._describe(layer, offset)
            if self.layers and self.layers[-1].cut:
                return offset
            prev, layer = layer, layer.payload
        if prev is not None and offset == len(self.data) and self.snapped and not self.fragment:
            self._missing_next(prev, offset)
        return offset

    def _missing_next(self, prev: Any, offset: int) -> None:
        """The capture stopped right after a header: name the one that should have followed."""
        s = _scapy()
        try:
            cls = prev.guess_payload_class(b"")
        except Exception:
            return
        if cls in (None, s.Raw, s.Padding) or _kind_of_name(getattr(cls, "__name__", "")) == "other":
            return
        kind = _kind_of_name(cls.__name__)
        short = self._names(kind, cls)[0]
        self.layers.append(self._layer(kind, cls, offset, 0, (), problem=_(BROKE_EMPTY).format(name=short),
                                       cut=True))

    def _raw(self, prev: Any, load: bytes, offset: int) -> int:
        """Bytes scapy left undissected: a payload, or a header it could not read."""
        s = _scapy()
        n = len(load)
        expected = None
        if prev is not None and not self.fragment:
            try:
                expected = prev.guess_payload_class(load)
            except Exception:
                expected = None
            if expected in (None, s.Raw, s.Padding) and _kind_of(prev) == "loopback" and load:
                version = load[0] >> 4
                expected = {4: s.inet.IP, 6: s.inet6.IPv6}.get(version)
                if expected is not None:
                    try:
                        return self._chain(expected(load), offset)
                    except Exception:
                        pass
        if expected is not None and expected not in (s.Raw, s.Padding):
            self._partial(expected, load, offset, prev)
            return self._tail_after_partial(offset, n)
        kind = "fragment" if self.fragment else "payload"
        self.layers.append(_raw_layer(kind, self.data, offset, n, quoted=self.quoted))
        return offset + n

    def _tail_after_partial(self, offset: int, n: int) -> int:
        end = self.layers[-1].end if self.layers else offset
        if end < offset + n:
            self.layers.append(_raw_layer("unread", self.data, end, offset + n - end))
        return offset + n

    def _tail(self, offset: int) -> list[Layer]:
        """Bytes after the last layer, should scapy have left any unaccounted for."""
        end = max((la.end for la in self.layers), default=0)
        if end < len(self.data):
            self.layers.append(_raw_layer("unread", self.data, end, len(self.data) - end))
        return self.layers

    def _partial(self, cls: Any, buf: bytes, offset: int, under: Any) -> None:
        """A header cut short: read it padded with zeros, keep only what was captured."""
        kind = _kind_of_name(cls.__name__)
        need = _MIN_HEADER.get(kind, 8)
        short = self._names(kind, cls)[0]
        if not buf:
            self.layers.append(self._layer(kind, cls, offset, 0, (),
                                           problem=_(BROKE_EMPTY).format(name=short),
                                           cut=True))
            return
        pkt = None
        error: Exception | None = None
        for extra in (max(need - len(buf), 0), max(need - len(buf), 0) + 64):
            padded = buf + bytes(extra)
            try:
                pkt = _undispatched(cls, padded, under)
                break
            except Exception as exc:
                error = exc
        if pkt is None:
            self.layers.append(_raw_layer("unread", self.data, offset, len(buf),
                                          problem=_(BROKE_UNREADABLE).format(name=short,
                                                                          error=_error_text(error))))
            return
        self._describe(pkt, offset, captured=len(buf), padded=padded)

    # -- one layer -------------------------------------------------------------

    def _names(self, kind: str, pkt_or_cls: Any) -> tuple[str, str, str]:
        short, title, ref = LAYER_WORDS.get(kind, LAYER_WORDS["other"])
        if kind == "other":
            name = getattr(pkt_or_cls, "name", None) or type(pkt_or_cls).__name__
            short = title = str(name)
        if self.quoted:
            short, title = _(QUOTED_SHORT).format(name=short), _(QUOTED_TITLE).format(title=title)
        return short, title, ref

    def _layer(self, kind: str, pkt: Any, start: int, length: int, rows: tuple[FieldRow, ...], *,
               notes: tuple[str, ...] = (), problem: str | None = None, cut: bool = False) -> Layer:
        short, title, ref = self._names(kind, pkt)
        return Layer(kind=kind, name=short, title=title, reference=ref, start=start, length=length,
                     fields=rows, notes=notes, problem=problem, quoted=self.quoted, cut=cut)

    def _describe(self, pkt: Any, offset: int, captured: int | None = None, padded: bytes = b"") -> int:
        """Add the layer for ``pkt`` read at ``offset``; return where the next one starts.

        ``captured``: the header was cut and read from ``padded``; only this many bytes are real.
        """
        kind = _kind_of(pkt)
        avail = len(self.data) - offset if captured is None else captured
        measured = _measure(pkt, self.data[offset:] if captured is None else padded)
        header_bits = measured[-1][2] + measured[-1][3] if measured else 0
        length = min((header_bits + 7) // 8, avail)
        builder = _Rows(self, pkt, kind, offset, avail)
        for name, fld, pos, bits in measured:
            builder.field(name, fld, offset * 8 + pos, bits)
        if builder.dns_end is not None and builder.problem is None:
            length = min(builder.dns_end - offset, avail)  # the sections as walked (RFC 1035 §4.1)
        rows = tuple(builder.rows)
        notes = list(builder.notes)
        problem = builder.problem
        cut = False
        short = self._names(kind, pkt)[0]
        if captured is not None:
            missing = next((r for r in rows if not r.captured), None)
            length = captured
            if self.quoted:  # an ICMP error quotes the start of a packet: ending early is normal
                notes.append(_(QUOTED_HEADER_PART).format(name=short, got=captured))
            elif kind == "dns" and builder.problem:
                cut, problem = True, builder.problem
            else:
                cut = True
                problem = _(BROKE_INSIDE).format(name=short, need=_MIN_HEADER.get(kind, length), got=captured,
                                              at=offset + captured,
                                              field=missing.label if missing else UNKNOWN_NAME)
        else:
            announced = builder.announced_header
            if self.quoted and length == avail and length < _MIN_HEADER.get(kind, 0):
                notes.append(_(QUOTED_HEADER_PART).format(name=short, got=length))
            elif announced is not None and announced > length and length == avail:
                if self.quoted:
                    notes.append(_(QUOTED_HEADER_PART).format(name=short, got=length))
                else:
                    cut = True
                    where = next((r.label for r in reversed(rows)
                                  if r.level == 0 and r.offset < (offset + length) * 8), UNKNOWN_NAME)
                    problem = problem or _(BROKE_HEADER_LEN).format(announced=announced,
                                                                 because=builder.because, got=length,
                                                                 at=offset + length, field=where)
        layer = self._layer(kind, pkt, offset, length, rows, notes=tuple(notes), problem=problem, cut=cut)
        self.layers.append(layer)
        builder.after(layer)
        return offset + length


class _Rows:
    """The rows of one layer, field by field, with the words of each."""

    def __init__(self, walker: _Walker, pkt: Any, kind: str, offset: int, avail: int) -> None:
        self.w = walker
        self.pkt = pkt
        self.kind = kind
        self.words_kind = _WORDS_KIND.get(kind, kind)
        self.offset = offset  # layer start, bytes
        self.limit = (offset + avail) * 8  # first bit not captured
        self.rows: list[FieldRow] = []
        self.notes: list[str] = []
        self.problem: str | None = None
        self.announced_header: int | None = None
        self.because = ""
        self.dns_end: int | None = None

    # -- helpers ---------------------------------------------------------------

    def words(self, name: str) -> tuple[str, str]:
        return FIELD_WORDS.get((self.words_kind, name), (name, ""))

    def add(self, key: str, value: Any, text: str, offset: int, bits: int, *, label: str | None = None,
            meaning: str | None = None, level: int = 0) -> None:
        if label is None or meaning is None:
            w_label, w_meaning = self.words(key.split(".")[0])
            label = w_label if label is None else label
            meaning = w_meaning if meaning is None else meaning
        captured = offset + bits <= self.limit
        if not captured:
            value, text = None, _(NOT_CAPTURED)
        self.rows.append(FieldRow(key=key, label=label, value=value, text=_safe(text), meaning=meaning,
                                  offset=offset, bits=bits, level=level, captured=captured))

    def val(self, name: str) -> Any:
        return self.pkt.fields.get(name, self.pkt.default_fields.get(name))

    # -- fields ----------------------------------------------------------------

    def field(self, name: str, fld: Any, offset: int, bits: int) -> None:
        handler = getattr(self, f"_f_{self.words_kind}_{name}".replace("-", "_"), None)
        if handler is not None:
            handler(name, offset, bits)
            return
        val = self.val(name)
        if bits == 0 and not val:
            return
        self.add(name, _plain(val), _repr(self.pkt, name, val), offset, bits)

    def _named(self, name: str, offset: int, bits: int, names: dict, *, hexa: bool = False) -> None:
        val = _int(self.val(name))
        label = names.get(val) or _scapy_name(self.pkt, name, val)
        if label:
            text = (VALUE_HEX_NAMED if hexa else VALUE_NAMED).format(value=val, name=label)
        else:
            text = f"0x{val:04x}" if hexa else str(val)
        self.add(name, val, text, offset, bits)

    # link layers
    def _f_ethernet_type(self, name, offset, bits):
        self._named(name, offset, bits, ETHERTYPE_NAMES, hexa=True)

    def _f_ethernet_dst(self, name, offset, bits):
        val = str(self.val(name))
        kind = next((k for prefix, k in MAC_KINDS if val.startswith(prefix)), None)
        self.add(name, val, VALUE_NAMED.format(value=val, name=_(kind)) if kind else val, offset, bits)

    _f_vlan_type = _f_ethernet_type

    def _f_sll_proto(self, name, offset, bits):
        self._named(name, offset, bits, ETHERTYPE_NAMES, hexa=True)

    def _f_sll_pkttype(self, name, offset, bits):
        self._named(name, offset, bits, SLL_PACKET_TYPES)

    def _f_sll_lladdrtype(self, name, offset, bits):
        self._named(name, offset, bits, ARP_HARDWARE)

    def _f_sll_src(self, name, offset, bits):
        raw = self.val(name) or b""
        n = min(_int(self.val("lladdrlen")), len(raw))
        text = ":".join(f"{b:02x}" for b in raw[:n]) if n else "—"
        self.add(name, raw[:n], text, offset, bits)

    def _f_loopback_type(self, name, offset, bits):
        val = _int(self.val(name))
        family = val if val < 256 else int.from_bytes(val.to_bytes(4, "little"), "big")
        self.add(name, family, VALUE_NAMED.format(value=family, name=LOOPBACK_FAMILIES.get(family,
                                                                                          UNKNOWN_NAME)),
                 offset, bits)

    # ARP
    def _f_arp_op(self, name, offset, bits):
        self._named(name, offset, bits, ARP_OPERATIONS)

    def _f_arp_hwtype(self, name, offset, bits):
        self._named(name, offset, bits, ARP_HARDWARE)

    def _f_arp_ptype(self, name, offset, bits):
        self._named(name, offset, bits, ETHERTYPE_NAMES, hexa=True)

    # IPv4
    def _f_ipv4_version(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, str(val), offset, bits)
        if offset + bits <= self.limit and val != 4:
            self.problem = self.problem or _(BAD_VERSION).format(value=val, expected=4)

    def _f_ipv4_ihl(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, _(VALUE_WORDS).format(value=val, bytes=val * 4), offset, bits)
        if offset + bits <= self.limit:
            self.announced_header = val * 4
            self.because = BROKE_BECAUSE_IHL.format(value=val)
            if val < 5:
                self.problem = self.problem or _(BAD_IHL).format(value=val)

    def _f_ipv4_tos(self, name, offset, bits):
        tos = _int(self.val(name))
        dscp, ecn = tos >> 2, tos & 3
        self.add("dscp", dscp, VALUE_NAMED.format(value=dscp, name=DSCP_NAMES[dscp]) if dscp in DSCP_NAMES
                 else str(dscp), offset, 6)
        self.add("ecn", ecn, VALUE_NAMED.format(value=ecn, name=ECN_NAMES[ecn]), offset + 6, 2)

    def _f_ipv4_flags(self, name, offset, bits):
        val = _int(self.val(name))  # scapy: bit 0 MF, 1 DF, 2 evil
        names = [n for n, bit in (("evil", 4), ("DF", 2), ("MF", 1)) if val & bit]
        shown = ", ".join(FLAG_WORDS[("ipv4", n)][0] for n in names) or _(VALUE_NONE_SET)
        text = _(VALUE_FLAGS).format(bits=format(val, "03b"), names=shown)
        self.add(name, val, text, offset, bits)
        for n, pos in (("evil", 0), ("DF", 1), ("MF", 2)):
            if n in names:
                label, meaning = FLAG_WORDS[("ipv4", n)]
                self.add(f"flags.{n}", 1, FLAG_SET, offset + pos, 1, label=label, meaning=meaning, level=1)

    def _f_ipv4_frag(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, _(VALUE_FRAG).format(value=val, bytes=val * 8) if val else "0", offset, bits)

    def _f_ipv4_proto(self, name, offset, bits):
        self._named(name, offset, bits, IP_PROTOCOL_NAMES)

    def _f_ipv4_chksum(self, name, offset, bits):
        val = _int(self.val(name))
        ihl = _int(self.val("ihl")) * 4
        start = self.offset
        text = VALUE_CHECKSUM.format(value=val)
        if ihl >= 20 and (start + ihl) * 8 <= self.limit:
            header = self.w.data[start:start + ihl]
            if _ones_sum(header) != 0xFFFF:
                good = _fix_checksum(header, 10)
                text = _(VALUE_CHECKSUM_BAD).format(value=val, good=good)
            else:
                text = _(VALUE_CHECKSUM_OK).format(value=val)
        self.add(name, val, text, offset, bits)

    def _f_ipv4_options(self, name, offset, bits):
        if bits == 0:
            return
        start = offset // 8
        raw = self.w.data[start:start + bits // 8]
        opts = list(self.val(name) or [])
        summary = []
        sub: list[tuple] = []
        for i, (kind, pos, length, chunk) in enumerate(_tlv(raw, single=(0, 1))):
            label = IP_OPTION_WORDS.get(kind, TCP_OPTION_UNKNOWN[0].format(kind=kind))
            summary.append(label)
            opt = opts[i] if i < len(opts) else None
            detail = _ip_option_detail(opt)
            if length is None:
                text = _(VALUE_OPTION).format(kind=kind)
            elif detail:
                text = _(VALUE_OPTION_VALUE).format(kind=kind, length=length, value=detail)
            else:
                text = _(VALUE_OPTION_LEN).format(kind=kind, length=length)
            sub.append((f"options.{i + 1}", kind, text, offset + pos * 8, len(chunk) * 8, label))
        self.add(name, tuple(summary), ", ".join(summary), offset, bits)
        for key, kind, text, off, size, label in sub:
            self.add(key, kind, text, off, size, label=label, meaning=_(IP_OPTION_MEANING), level=1)

    def _f_ipv4_len(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, str(val), offset, bits)

    # IPv6
    def _f_ipv6_version(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, str(val), offset, bits)
        if offset + bits <= self.limit and val != 6:
            self.problem = self.problem or _(BAD_VERSION).format(value=val, expected=6)

    def _f_ipv6_tc(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, VALUE_TC.format(value=val, dscp=val >> 2, ecn=val & 3), offset, bits)

    def _f_ipv6_fl(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, f"0x{val:05x}", offset, bits)

    def _f_ipv6_nh(self, name, offset, bits):
        self._named(name, offset, bits, IP_PROTOCOL_NAMES)

    _f_ipv6_ext_nh = _f_ipv6_nh

    def _f_ipv6_ext_len(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, _(VALUE_WORDS).format(value=val, bytes=(val + 1) * 8), offset, bits)

    def _f_ipv6_ext_autopad(self, name, offset, bits):
        return  # scapy's building aid, no bits on the wire

    def _f_ipv6_ext_offset(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, _(VALUE_FRAG).format(value=val, bytes=val * 8) if val else "0", offset, bits)

    def _f_ipv6_ext_options(self, name, offset, bits):
        """Hop-by-hop and destination options (RFC 8200 §4.2): Pad1 is one byte, the others
        type, length of the data, data."""
        start = offset // 8
        raw = self.w.data[start:start + bits // 8]
        rows = []
        pos = 0
        while pos < len(raw):
            kind = raw[pos]
            if kind == 0:
                size, text = 1, _(VALUE_OPTION).format(kind=kind)
            else:
                length = raw[pos + 1] if pos + 1 < len(raw) else 0
                size = min(2 + length, len(raw) - pos)
                body = raw[pos + 2:pos + size]
                text = (_(VALUE_OPTION_VALUE).format(kind=kind, length=length, value=body.hex(" ")) if body
                        else _(VALUE_OPTION_LEN).format(kind=kind, length=length))
            label = IPV6_OPTION_WORDS.get(kind, TCP_OPTION_UNKNOWN[0].format(kind=kind))
            rows.append((f"options.{len(rows) + 1}", kind, text, offset + pos * 8, size * 8, label))
            pos += size
        self.add(name, tuple(r[5] for r in rows), ", ".join(r[5] for r in rows), offset, bits)
        for key, kind, text, off, size, label in rows:
            self.add(key, kind, text, off, size, label=label, meaning=_(IPV6_OPTION_MEANING), level=1)

    # TCP
    def _port(self, name, offset, bits):
        val = _int(self.val(name))
        text = VALUE_NAMED.format(value=val, name=PORT_NAMES[val]) if val in PORT_NAMES else str(val)
        self.add(name, val, text, offset, bits)

    _f_tcp_sport = _f_tcp_dport = _f_udp_sport = _f_udp_dport = _port

    def _f_tcp_seq(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, _(VALUE_RAW).format(value=val), offset, bits)

    def _f_tcp_ack(self, name, offset, bits):
        val = _int(self.val(name))
        has_ack = _int(self.val("flags")) & 0x10
        text = _(VALUE_RAW).format(value=val) if has_ack else _(VALUE_NO_ACK).format(value=val)
        self.add(name, val, text, offset, bits)

    def _f_tcp_dataofs(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, _(VALUE_WORDS).format(value=val, bytes=val * 4), offset, bits)
        if offset + bits <= self.limit:
            self.announced_header = val * 4
            self.because = BROKE_BECAUSE_DATAOFS.format(value=val)
            if val < 5:
                self.problem = self.problem or _(BAD_DATAOFS).format(value=val)

    def _f_tcp_reserved(self, name, offset, bits):
        # scapy: 3 reserved bits, then 9 flag bits (the first is AE, RFC 9768).  RFC 9293 §3.1 draws
        # 4 reserved bits and 8 control bits: show it that way.
        flags = _int(self.val("flags"))
        val = (_int(self.val(name)) << 1) | (flags >> 8 & 1)
        self.add(name, val, str(val), offset, bits + 1)

    def _f_tcp_flags(self, name, offset, bits):
        val = _int(self.val(name)) & 0xFF
        letters = str(self.val(name) or "")
        names = flag_names(letters.replace("N", "")) if val else _(VALUE_NONE_SET)
        self.add(name, val, _(VALUE_FLAGS).format(bits=format(val, "08b"), names=names), offset + 1, 8)
        for i, flag in enumerate(TCP_FLAG_BITS):
            if val & (0x80 >> i):
                label, meaning = FLAG_WORDS[("tcp", flag)]
                self.add(f"flags.{flag}", 1, FLAG_SET, offset + 1 + i, 1, label=label, meaning=meaning,
                         level=1)

    def _f_tcp_window(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, str(val), offset, bits)

    def _f_tcp_chksum(self, name, offset, bits):
        self._transport_checksum(name, offset, bits, proto=6)

    def _f_udp_chksum(self, name, offset, bits):
        self._transport_checksum(name, offset, bits, proto=17)

    def _f_icmp_chksum(self, name, offset, bits):
        self._transport_checksum(name, offset, bits, proto=1)

    def _f_icmpv6_cksum(self, name, offset, bits):
        self._transport_checksum(name, offset, bits, proto=58)

    def _transport_checksum(self, name, offset, bits, *, proto: int) -> None:
        val = _int(self.val(name))
        text = VALUE_CHECKSUM.format(value=val)
        meaning = None
        net = self.w.net
        start = self.offset
        if proto == 17 and val == 0 and net is not None and net.version == 4:
            text = _(VALUE_CHECKSUM_NONE)
        elif net is not None and not self.w.fragmented and net.end <= len(self.w.data):
            segment = self.w.data[start:net.end]
            if proto == 17:
                segment = segment[:_int(self.val("len"))]
            whole = len(segment) == _int(self.val("len")) if proto == 17 else len(segment) >= 4
            if whole:
                if proto == 1:
                    pseudo = b""
                elif net.version == 4:
                    pseudo = net.src + net.dst + struct.pack("!BBH", 0, proto, len(segment))
                else:
                    pseudo = net.src + net.dst + struct.pack("!IxxxB", len(segment), proto)
                pos = offset // 8 - start
                if _ones_sum(pseudo + segment) in (0xFFFF,):
                    text = _(VALUE_CHECKSUM_OK).format(value=val)
                else:
                    good = _fix_checksum(pseudo + segment, len(pseudo) + pos)
                    if proto == 17 and good == 0:
                        good = 0xFFFF
                    text = _(VALUE_CHECKSUM_BAD).format(value=val, good=good)
                    meaning = MEANING_MORE.format(meaning=self.words(name)[1], more=_(CHECKSUM_BAD_HINT))
        self.add(name, val, text, offset, bits, meaning=meaning)

    def _f_tcp_options(self, name, offset, bits):
        start = offset // 8
        announced = max(_int(self.val("dataofs")) * 4 - 20, 0)
        end_byte = min(start + announced, len(self.w.data))
        if announced == 0:
            return
        raw = self.w.data[start:end_byte]
        scapy_opts = list(self.val(name) or [])
        sub = []
        summary = []
        seen: dict[str, int] = {}
        table = _scapy().inet.TCPOptions[0]
        for i, (kind, pos, length, chunk) in enumerate(_tlv(raw, single=(0, 1))):
            label, meaning = TCP_OPTION_WORDS.get(kind, (TCP_OPTION_UNKNOWN[0].format(kind=kind),
                                                         _(TCP_OPTION_UNKNOWN[1])))
            base = TCP_OPTION_KEYS.get(kind, str(kind))
            seen[base] = seen.get(base, 0) + 1
            key = f"options.{base}" + (f".{seen[base]}" if seen[base] > 1 else "")
            value: Any = None
            opt = scapy_opts[i] if i < len(scapy_opts) else None
            if opt is not None and opt[0] == table.get(kind, (None,))[0]:
                value = opt[1]
            if length is not None and length < 2:
                self.problem = self.problem or _(OPTION_BAD_LENGTH).format(length=length)
                text = _(VALUE_OPTION_LEN).format(kind=kind, length=length)
            elif length is not None and len(chunk) < length:
                if end_byte - start == announced:  # not the capture's cut: the option itself is wrong
                    self.problem = self.problem or _(OPTION_CUT).format(length=length, got=len(chunk))
                text = _(VALUE_CUT).format(got=len(chunk), length=length)
                value = None
            else:
                text = _tcp_option_text(kind, length, value, chunk)
            summary.append(label)
            sub.append((key, value, text, (start + pos) * 8, len(chunk) * 8, label, meaning))
        size = (end_byte - start) * 8
        self.add(name, tuple(summary), ", ".join(summary), offset, max(bits, size))
        for key, value, text, off, size, label, meaning in sub:
            row_captured = off + size <= self.limit
            self.rows.append(FieldRow(key=key, label=label, value=value if row_captured else None,
                                      text=_safe(text), meaning=meaning, offset=off, bits=size, level=1,
                                      captured=row_captured))

    # UDP
    def _f_udp_len(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, str(val), offset, bits)

    # ICMP
    def _f_icmp_type(self, name, offset, bits):
        self._named(name, offset, bits, ICMP_TYPES)

    def _f_icmp_code(self, name, offset, bits):
        val = _int(self.val(name))
        label = ICMP_CODES.get((_int(self.val("type")), val))
        self.add(name, val, VALUE_NAMED.format(value=val, name=label) if label else str(val), offset, bits)

    def _f_icmpv6_type(self, name, offset, bits):
        self._named(name, offset, bits, ICMPV6_TYPES)

    def _f_icmpv6_code(self, name, offset, bits):
        val = _int(self.val(name))
        label = ICMPV6_CODES.get((_int(self.val("type")), val))
        self.add(name, val, VALUE_NAMED.format(value=val, name=label) if label else str(val), offset, bits)

    def _f_ndp_option_type(self, name, offset, bits):
        self._named(name, offset, bits, NDP_OPTION_TYPES)

    def _f_ndp_option_len(self, name, offset, bits):
        val = _int(self.val(name))
        self.add(name, val, _(VALUE_WORDS).format(value=val, bytes=val * 8), offset, bits)

    # DNS: the header from scapy's fields, the sections walked here (RFC 1035 §4.1)
    def _dns_named(self, name, offset, bits, names):
        val = _int(self.val(name))
        self.add(name, val, VALUE_NAMED.format(value=val, name=names[val]) if val in names else str(val),
                 offset, bits)

    def _f_dns_qr(self, name, offset, bits):
        self._dns_named(name, offset, bits, DNS_QR)

    def _f_dns_opcode(self, name, offset, bits):
        self._dns_named(name, offset, bits, DNS_OPCODES)

    def _f_dns_rcode(self, name, offset, bits):
        self._dns_named(name, offset, bits, DNS_RCODES)

    def _f_dns_qd(self, name, offset, bits):
        self._dns_sections()

    def _f_dns_an(self, name, offset, bits):
        return  # all sections are walked with the questions

    _f_dns_ns = _f_dns_ar = _f_dns_an

    def _dns_sections(self) -> None:
        # Over TCP a 2-byte length comes first; the names' pointers count from the header.
        msg_start = self.offset + (2 if self.pkt.fields.get("length") is not None else 0)
        msg = self.w.data[msg_start:self.limit // 8]
        pos = 12
        for section in ("qd", "an", "ns", "ar"):
            count = _int(self.val(section + "count"))
            records = list(self.val(section) or [])
            label, meaning = self.words(section)
            first = pos
            rows_before = len(self.rows)
            got = 0
            broke_at = None
            for i in range(count):
                spans = _dns_item(msg, pos, question=(section == "qd"))
                if spans is None:
                    broke_at = pos
                    break
                record = records[i] if i < len(records) else None
                self._dns_item_rows(section, i + 1, record, spans, msg_start)
                pos = spans["end"]
                got += 1
            if count:
                self.rows.insert(rows_before, FieldRow(
                    key=section, label=label, value=got, text=VALUE_COUNT_ITEMS.format(count=got),
                    meaning=meaning, offset=(msg_start + first) * 8, bits=(pos - first) * 8))
            if broke_at is not None:
                at = msg_start + broke_at
                if self.problem is None:
                    form = _(DNS_RECORDS_MISSING) if self.w.snapped else _(DNS_RECORDS_DAMAGED)
                    self.problem = form.format(announced=count, section=label, got=got, at=at)
                self.dns_end = msg_start + broke_at
                self.rows = [r for r in self.rows if r.captured or r.level == 0]
                return
        self.dns_end = msg_start + pos

    def _dns_item_rows(self, section: str, n: int, record: Any, spans: dict, base: int) -> None:
        single = DNS_SECTION_SINGULAR[section]
        prefix = f"{single}.{n}"
        is_q = section == "qd"

        def at(key: str) -> tuple[int, int]:
            a, b = spans[key]
            return (base + a) * 8, (b - a) * 8

        if is_q:
            name = _dns_text(getattr(record, "qname", b"")) if record is not None else UNKNOWN_NAME
            rtype = _int(getattr(record, "qtype", 0))
            rclass = (_int(getattr(record, "unicastresponse", 0)) << 15) | _int(getattr(record, "qclass", 0))
            head = VALUE_QUESTION.format(name=name, type=_dns_type(rtype),
                                         cls=DNS_CLASSES.get(rclass, rclass))
            label, meaning = DNS_ITEM_WORDS["question"]
        else:
            name = _dns_text(getattr(record, "rrname", b"")) if record is not None else UNKNOWN_NAME
            rtype = _int(getattr(record, "type", 0))
            rclass = (_int(getattr(record, "cacheflush", 0)) << 15) | _int(getattr(record, "rclass", 0))
            data_text = _dns_rdata(record)
            head = VALUE_RECORD.format(name=name, type=_dns_type(rtype), data=data_text)
            label, meaning = DNS_ITEM_WORDS["record"]
        a0, _b1 = spans["name"]
        self.add(prefix, (name, _dns_type(rtype)), head, (base + a0) * 8, (spans["end"] - a0) * 8,
                 label=label.format(n=n, section=single), meaning=meaning, level=1)
        w = DNS_ITEM_WORDS
        self.add(f"{prefix}.name", name, _dns_name_text(name, spans["name"], self.w.data, base),
                 *at("name"), label=w["name"][0], meaning=w["name"][1], level=2)
        self.add(f"{prefix}.type", rtype, VALUE_NAMED.format(value=rtype, name=_dns_type(rtype)), *at("type"),
                 label=w["type"][0], meaning=w["type"][1], level=2)
        if not is_q and rtype == 41:
            self.add(f"{prefix}.class", rclass, str(rclass), *at("class"), label=w["opt-class"][0],
                     meaning=w["opt-class"][1], level=2)
            ttl = _int(getattr(record, "extrcode", 0)) << 24 | _int(getattr(record, "version", 0)) << 16 | \
                _int(getattr(record, "z", 0))
            self.add(f"{prefix}.ttl", ttl, f"0x{ttl:08x}", *at("ttl"), label=w["opt-ttl"][0],
                     meaning=w["opt-ttl"][1], level=2)
        else:
            cls_name = DNS_CLASSES.get(rclass)
            self.add(f"{prefix}.class", rclass, VALUE_NAMED.format(value=rclass, name=cls_name) if cls_name
                     else str(rclass), *at("class"), label=w["class"][0], meaning=w["class"][1], level=2)
        if is_q:
            return
        if rtype != 41:
            ttl = _int(getattr(record, "ttl", 0))
            self.add(f"{prefix}.ttl", ttl, str(ttl), *at("ttl"), label=w["ttl"][0], meaning=w["ttl"][1],
                     level=2)
        rdlen = spans["rdata"][1] - spans["rdata"][0]
        self.add(f"{prefix}.rdlength", rdlen, str(rdlen), *at("rdlength"), label=w["rdlength"][0],
                 meaning=w["rdlength"][1], level=2)
        key = "opt-rdata" if rtype == 41 else "rdata"
        self.add(f"{prefix}.rdata", data_text, data_text or '""', *at("rdata"), label=w[key][0],
                 meaning=w[key][1], level=2)

    # -- after the layer is built ---------------------------------------------

    def after(self, layer: Layer) -> None:
        """Set what the next layers need to know (network addresses, fragments)."""
        w = self.w
        kind = self.kind
        if layer.cut:
            return
        if kind == "ipv4":
            announced = _int(self.val("len"))
            got = len(w.data) - layer.start
            src = _ip_bytes(self.val("src"), 4)
            dst = _ip_bytes(self.val("dst"), 4)
            w.net = _Net(version=4, src=src, dst=dst, end=layer.start + announced)
            frag = _int(self.val("frag"))
            w.fragment = frag > 0
            flags = _int(self.val("flags"))
            self._length_notes(layer, announced, got, _(IP_CUT))
            if flags & 1 or frag:
                w.fragmented = True
        elif kind == "ipv6":
            announced = _int(self.val("plen"))
            got = len(w.data) - layer.end
            w.net = _Net(version=6, src=_ip_bytes(self.val("src"), 16), dst=_ip_bytes(self.val("dst"), 16),
                         end=layer.end + announced)
            if got < announced and not w.quoted:
                self._note(layer, _(IPV6_CUT).format(announced=announced, got=got))
        elif kind == "ipv6-fragment":
            w.fragment = _int(self.val("offset")) > 0
            if _int(self.val("m")) or w.fragment:
                w.fragmented = True
        elif kind == "udp":
            announced = _int(self.val("len"))
            got = len(w.data) - layer.start
            if announced < 8:
                self._set_problem(layer, _(UDP_BAD_LEN).format(announced=announced))
            elif w.fragmented and got < announced:
                self._note(layer, _(UDP_FRAGMENT).format(announced=announced))
            elif got < announced:
                if w.quoted:
                    self._note(layer, _(QUOTED_PARTIAL).format(announced=announced, got=got))
                else:
                    self._note(layer, _(UDP_CUT).format(announced=announced, got=got))
        elif kind in ("icmp", "icmpv6") and not w.quoted and _int(self.val("type")) in _ERROR_TYPES[kind]:
            self._note(layer, LAYER_NOTES["icmp-error"])

    def _length_notes(self, layer: Layer, announced: int, got: int, cut_text: str) -> None:
        w = self.w
        if w.quoted:
            if got < announced:
                self._note(layer, _(QUOTED_PARTIAL).format(announced=announced, got=got))
            return
        if got < announced:
            if w.snapped:
                self._note(layer, cut_text.format(announced=announced, got=got))
            else:
                self._set_problem(layer, _(BAD_IP_TOO_LONG).format(announced=announced, got=got))

    def _note(self, layer: Layer, text: str) -> None:
        idx = self.w.layers.index(layer)
        self.w.layers[idx] = _replace(layer, notes=(*layer.notes, text))

    def _set_problem(self, layer: Layer, text: str) -> None:
        idx = self.w.layers.index(layer)
        if layer.problem is None:
            self.w.layers[idx] = _replace(layer, problem=text)


_ERROR_TYPES = {"icmp": (3, 4, 5, 11, 12), "icmpv6": (1, 2, 3, 4)}  # RFC 792, RFC 4443 §2.1


def _replace(layer: Layer, **changes: Any) -> Layer:
    import dataclasses

    return dataclasses.replace(layer, **changes)


def _plain(val: Any) -> Any:
    """A scapy value as a plain Python value (FlagValue -> int, lists -> tuples)."""
    if isinstance(val, (bytes, str, int, float)) or val is None:
        return int(val) if type(val).__name__ == "FlagValue" else val
    if isinstance(val, list):
        return tuple(_plain(v) for v in val)
    try:
        return int(val)
    except (TypeError, ValueError):
        return str(val)


def _scapy_name(pkt: Any, name: str, val: int) -> str | None:
    try:
        fld = pkt.get_field(name)
        i2s = getattr(fld, "i2s", None)
        if i2s is not None:
            found = i2s.get(val)
            if found is not None:
                return str(found)
    except Exception:
        return None
    return None


def _ip_bytes(addr: Any, size: int) -> bytes:
    import ipaddress

    try:
        return ipaddress.ip_address(str(addr)).packed
    except ValueError:
        return bytes(size)


def _fix_checksum(data: bytes, pos: int) -> int:
    """The checksum ``data`` should carry at byte ``pos`` (one's complement, RFC 1071)."""
    zeroed = data[:pos] + b"\0\0" + data[pos + 2:]
    return ~_ones_sum(zeroed) & 0xFFFF


def _tlv(raw: bytes, *, single: tuple[int, ...]) -> Iterator[tuple[int, int, int | None, bytes]]:
    """(kind, position, announced length or None, bytes) of type-length-value options.

    Kinds in ``single`` are one byte long; kind 0 ends the list (what follows is padding).
    A length byte below 2 ends the walk (it would loop).
    """
    pos = 0
    while pos < len(raw):
        kind = raw[pos]
        if kind in single:
            yield kind, pos, None, raw[pos:pos + 1]
            pos += 1
            if kind == 0:
                if pos < len(raw):
                    yield 0, pos, None, raw[pos:]
                return
            continue
        if pos + 1 >= len(raw):
            yield kind, pos, 2, raw[pos:]
            return
        length = raw[pos + 1]
        yield kind, pos, length, raw[pos:pos + max(length, 2)]
        if length < 2:
            return
        pos += length


def _tcp_option_text(kind: int, length: int | None, value: Any, chunk: bytes) -> str:
    if length is None:
        return _(VALUE_OPTION).format(kind=kind)
    body = chunk[2:]
    shown: str | None = None
    if kind == 2 and len(body) == 2:
        shown = _(VALUE_MSS).format(value=value if isinstance(value, int) else struct.unpack("!H", body)[0])
    elif kind == 3 and len(body) == 1:
        shift = value if isinstance(value, int) else body[0]
        shown = _(VALUE_WSCALE).format(value=shift, factor=1 << min(shift, 14))
    elif kind == 8 and len(body) == 8:
        tsval, tsecr = value if isinstance(value, tuple) and len(value) == 2 else struct.unpack("!II", body)
        shown = VALUE_TS.format(tsval=tsval, tsecr=tsecr)
    elif kind == 5 and len(body) % 8 == 0 and body:
        edges = struct.unpack(f"!{len(body) // 4}I", body)
        shown = ", ".join(VALUE_SACK_BLOCK.format(left=edges[i], right=edges[i + 1])
                          for i in range(0, len(edges), 2))
    elif body:
        shown = body.hex(" ")
    if shown is None:
        return _(VALUE_OPTION_LEN).format(kind=kind, length=length)
    return _(VALUE_OPTION_VALUE).format(kind=kind, length=length, value=shown)


def _ip_option_detail(opt: Any) -> str:
    if opt is None:
        return ""
    try:
        routers = getattr(opt, "routers", None)
        if routers:
            return " ".join(str(r) for r in routers)
        alert = getattr(opt, "alert", None)
        if alert is not None:
            return str(alert)
    except Exception:
        return ""
    return ""


def _dns_name_end(msg: bytes, pos: int) -> int | None:
    """Where a wire-format name starting at ``pos`` ends (pointers not followed), or None."""
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2 if pos + 2 <= len(msg) else None
        if n & 0xC0:
            return None
        pos += 1 + n


def _dns_item(msg: bytes, pos: int, *, question: bool) -> dict | None:
    """Byte spans of one question or resource record (RFC 1035 §4.1.2, §4.1.3), or None if cut."""
    end = _dns_name_end(msg, pos)
    if end is None:
        return None
    spans = {"name": (pos, end), "type": (end, end + 2), "class": (end + 2, end + 4)}
    if question:
        spans["end"] = end + 4
        return spans if end + 4 <= len(msg) else None
    if end + 10 > len(msg):
        return None
    rdlen = struct.unpack_from("!H", msg, end + 8)[0]
    spans.update({"ttl": (end + 4, end + 8), "rdlength": (end + 8, end + 10),
                  "rdata": (end + 10, end + 10 + rdlen), "end": end + 10 + rdlen})
    return spans if end + 10 + rdlen <= len(msg) else None


def _dns_name_text(name: str, span: tuple[int, int], data: bytes, base: int) -> str:
    """The name, and where its compression pointer points (RFC 1035 §4.1.4)."""
    a, b = span
    wire = data[base + a:base + b]
    if len(wire) >= 2 and wire[-2] & 0xC0 == 0xC0:
        target = (wire[-2] & 0x3F) << 8 | wire[-1]
        form = _(VALUE_NAME_POINTER) if len(wire) == 2 else _(VALUE_NAME_ENDS_POINTER)
        return form.format(name=name, to=target)
    return name


def _dns_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "backslashreplace")
    return str(value)


def _dns_type(value: int) -> str:
    try:
        return str(_scapy().dns.dnstypes.get(value, value))
    except Exception:
        return str(value)


def _dns_rdata(record: Any) -> str:
    if record is None:
        return UNKNOWN_NAME
    data = getattr(record, "rdata", None)
    if isinstance(data, list):
        return " ".join(_dns_text(x) if isinstance(x, (bytes, str)) else type(x).__name__ for x in data)
    if data is None:
        mname = getattr(record, "mname", None)
        return _dns_text(mname) if mname is not None else ""
    return _dns_text(data)


def _snap_sentence(layers: list[Layer], caplen: int, wirelen: int) -> str:
    """What the snap length took away, from the headers' own length fields."""
    missing = wirelen - caplen
    parts = []
    left = missing
    for la in layers:
        if la.cut and not la.quoted:
            announced = _announced_length(la)
            if announced is not None and announced > la.length:
                n = min(announced - la.length, left)
                if n > 0:
                    parts.append(_(SNAP_HEADER_PART).format(missing=n, name=la.name))
                    left -= n
    if left > 0 and parts:
        parts.append(_(SNAP_REST_PART).format(missing=left))
    if not parts:
        return _(SNAP_LINE).format(caplen=caplen, wirelen=wirelen, missing=missing)
    return _(SNAP_DETAIL).format(caplen=caplen, wirelen=wirelen,
                              parts=_(SNAP_MISSING).format(parts=_join(parts)))


def _join(parts: list[str]) -> str:
    if len(parts) < 2:
        return "".join(parts)
    return SNAP_JOIN.join(parts[:-1]) + _(SNAP_LAST) + parts[-1]


def _announced_length(layer: Layer) -> int | None:
    if layer.kind == "ipv4":
        ihl = layer.get("ihl")
        return ihl * 4 if ihl else _MIN_HEADER["ipv4"]
    if layer.kind == "tcp":
        off = layer.get("dataofs")
        return off * 4 if off else _MIN_HEADER["tcp"]
    return _MIN_HEADER.get(layer.kind)


# =============================================================================
# Rendering
# =============================================================================

# Readable on a white projector background as on a dark terminal (render/view.py's note):
# no yellow (pale on white), no white (invisible on it); the payload in the terminal's colour.
_LAYER_STYLE = {"ethernet": "cyan", "sll": "cyan", "sll2": "cyan", "loopback": "cyan", "vlan": "cyan",
                "arp": "magenta", "ipv4": "green", "ipv6": "green", "tcp": "blue", "udp": "blue",
                "icmp": "magenta", "icmpv6": "magenta", "ndp-option": "magenta", "dns": "bold",
                "payload": "", "fragment": "", "padding": "bright_black", "unread": "red"}
_MAX_DUMP = 4096  # bytes in the hex dump; a jumbo frame's tail is counted, not shown
_MAX_DATA_DUMP = 256  # bytes of a payload shown: the headers are the lesson
_DATA_KINDS = frozenset({"payload", "fragment", "padding", "unread"})


def _style(layer: Layer) -> str:
    if layer.kind.startswith("ipv6-"):
        return "green"
    return _LAYER_STYLE.get(layer.kind, "")


def _format_time(t: float) -> str:
    dt = datetime.datetime.fromtimestamp(t, datetime.UTC)
    return HEAD_TIME.format(time=dt.strftime("%Y-%m-%d %H:%M:%S.%f"))


# Rich wraps lines at any Unicode space, the no-break ones too (French puts one before
# ':' and ';'): while laid out they stand in as private-use characters of the same
# width (as render/view.py does), and come back in the segments.
_GLUE = str.maketrans("\u00a0\u202f", "\ue000\ue001")
_UNGLUE = str.maketrans("\ue000\ue001", "\u00a0\u202f")


def _g(text: str) -> str:
    return text.translate(_GLUE)


def _render(view: PacketLayers, console: Console, options: ConsoleOptions) -> Iterator:
    from rich.segment import Segment

    width = options.max_width
    for renderable in _renderables(view, width):
        lines = console.render_lines(renderable, options.update(width=width), pad=False, new_lines=False)
        for line in lines:
            for segment in _rstrip(line, Segment):
                text = segment.text
                if "\ue000" in text or "\ue001" in text:
                    segment = Segment(text.translate(_UNGLUE), segment.style, segment.control)
                yield segment
            yield Segment.line()


def _rstrip(line: list, segment_cls: Any) -> list:
    """A rendered line without trailing spaces (tables pad their last column)."""
    out = list(line)
    while out:
        last = out[-1]
        if last.control:
            break
        stripped = last.text.rstrip(" ")
        if stripped:
            out[-1] = segment_cls(stripped, last.style, last.control)
            break
        out.pop()
    return out


def _renderables(view: PacketLayers, width: int) -> Iterator:
    from rich.text import Text

    bits = []
    if view.time is not None:
        bits.append(_format_time(view.time))
    if view.iface:
        bits.append(view.iface)
    if view.direction == "out":
        bits.append(_(HEAD_OUT))
    elif view.direction == "in":
        bits.append(_(HEAD_IN))
    bits.append(_(HEAD_CAPTURED).format(caplen=view.caplen) if view.caplen == view.wirelen
                else _(HEAD_CAPTURED_OF).format(caplen=view.caplen, wirelen=view.wirelen))
    first = _(HEAD_PACKET).format(index=view.index)
    for i, line in enumerate(_wrap_terms(first, bits, HEAD_JOIN, width, 2)):
        text = Text(line)
        if i == 0:
            text.stylize("bold", 0, len(first))
        yield text
    for line in _sum_lines(view, width):
        yield Text(line, style="bold")
    if view.snap:
        yield Text(_g(PROBLEM_MARK + view.snap), style="bold red")
    if width < 0:
        yield Text("")
    columns = _columns(view.layers, width)
    told: set[tuple[str, str]] = set()  # a meaning is explained once per packet
    for layer in view.layers:
        yield Text("")
        yield from _layer_renderables(layer, columns, told)
    yield Text("")
    yield from _hex_renderables(view, width)


def _label(row: FieldRow) -> str:
    return "  " * (row.level + 1) + row.label


@dataclass(frozen=True, slots=True)
class _Columns:
    """Column widths, the same for every layer so that the tables line up."""

    label: int
    size: int
    value: int
    meaning: int  # 0: the meaning goes on the lines below the value, which then takes the rest


# Below this many columns for the meaning, it goes under the value instead of beside it.
_MIN_MEANING = 44
_SIDE_BY_SIDE = 120  # narrower consoles always put the meaning under the value
_GAP = 1  # spaces after each column


def _columns(layers: Iterable[Layer], width: int) -> _Columns:
    rows = [r for la in layers for r in la.fields]
    if not rows:
        return _Columns(0, 0, 0, 0)
    label = min(max(len(_label(r)) for r in rows), max(12, width // 3))
    size = max(len(r.size_text) for r in rows)
    value = min(max(len(r.text) for r in rows), max(14, min(40, width * 3 // 10)))
    meaning = width - label - size - value - 4 * _GAP
    if width >= _SIDE_BY_SIDE and meaning >= _MIN_MEANING:
        return _Columns(label, size, value, meaning)
    return _Columns(label, size, max(8, width - label - size - 3 * _GAP), 0)


def _sum_lines(view: PacketLayers, width: int) -> list[str]:
    """The size sum, wrapped between its terms, never inside one."""
    if not view.data:
        return [_(SUM_EMPTY)]
    head = _(SUM_LINE).format(total=view.caplen, parts="")
    parts = view.sum_parts()
    return _wrap_terms(head + parts[0], parts[1:], SUM_JOIN, width, len(head))


def _wrap_terms(first: str, terms: list[str], sep: str, width: int, indent: int) -> list[str]:
    """``first``, then each term after ``sep``; a line breaks between terms (the separator starts
    the next line, indented)."""
    lines, current = [], first
    for term in terms:
        piece = sep + term
        if len(current) + len(piece) > width:
            lines.append(current)
            current = " " * indent + piece.lstrip()
        else:
            current += piece
    lines.append(current)
    return lines


def _layer_renderables(layer: Layer, columns: _Columns, told: set[tuple[str, str]]) -> Iterator:
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    style = _style(layer)
    title = Text()
    title.append(layer.title, style=f"bold {style}")
    span = (_(LAYER_RANGE).format(first=layer.start, last=layer.end - 1, length=_size_text(layer.length))
            if layer.length else _(LAYER_RANGE_EMPTY))
    title.append("  " + span, style="bright_black")
    if layer.reference:
        title.append("  " + layer.reference, style="italic bright_black")
    yield title
    for note in layer.notes:
        yield Padding(Text(_g(note), style="italic"), (0, 0, 0, 2))
    if layer.fields:
        table = Table(box=None, show_header=False, padding=(0, _GAP, 0, 0), pad_edge=False, expand=False)
        table.add_column(width=columns.label, overflow="fold")
        table.add_column(width=columns.size, no_wrap=True, justify="right")
        table.add_column(width=columns.value, overflow="fold")
        if columns.meaning:
            table.add_column(width=columns.meaning, overflow="fold")
        for row in layer.fields:
            label = Text(_label(row), style="bold" if row.level == 0 else "", overflow="fold")
            size = Text(row.size_text, style="bright_black")
            value = Text(_g(row.text), style="" if row.captured else "red")
            said = (row.label, row.meaning)
            meaning = Text("" if said in told else _g(row.meaning), style="bright_black")
            told.add(said)
            if columns.meaning:
                table.add_row(label, size, value, meaning)
            else:
                table.add_row(label, size, value)
                if meaning.plain:
                    table.add_row("", "", meaning)
        yield table
    if layer.problem:
        yield Padding(Text(_g(PROBLEM_MARK + layer.problem), style="bold red"), (0, 0, 0, 2))


def _size_text(n: int) -> str:
    return _(SIZE_BYTE) if n == 1 else _(SIZE_BYTES).format(n=n)


_ASCII = "".join(chr(i) if 0x20 <= i < 0x7F else "." for i in range(256))


def _hex_renderables(view: PacketLayers, width: int) -> Iterator:
    from rich.text import Text

    per_row = 16 if width >= 74 else 8
    yield Text(_(HEX_TITLE) if per_row == 16 else _(HEX_TITLE_NARROW), style="bold")
    shown = 0
    data = view.data
    for layer in view.layers:
        if not layer.length or shown >= _MAX_DUMP:
            continue
        style = _style(layer)
        head = Text("  ")
        head.append(layer.name, style=f"bold {style}")
        head.append("  " + _(LAYER_RANGE).format(first=layer.start, last=layer.end - 1,
                                              length=_size_text(layer.length)), style="bright_black")
        yield head
        start, end = layer.start, min(layer.end, _MAX_DUMP)
        if layer.kind in _DATA_KINDS:
            end = min(end, start + _MAX_DATA_DUMP)
        row = start - start % per_row
        while row < end:
            line = Text(f"  {row:04x}  ", style="bright_black")
            hexes = []
            chars = []
            for i in range(row, row + per_row):
                if start <= i < end:
                    hexes.append(f"{data[i]:02x}")
                    chars.append(_ASCII[data[i]])
                else:
                    hexes.append("  ")
                    chars.append(" ")
            half = per_row // 2
            line.append(" ".join(hexes[:half]) + "  " + " ".join(hexes[half:]), style=style)
            line.append("  ")
            line.append("".join(chars), style=style)
            yield line
            row += per_row
        if end < layer.end and layer.kind in _DATA_KINDS and end < _MAX_DUMP:
            yield Text("  " + _(HEX_MORE_DATA).format(count=layer.end - end, name=layer.name), style="italic")
        shown = end
    if len(data) > _MAX_DUMP:
        yield Text("  " + _(HEX_MORE).format(count=len(data) - _MAX_DUMP), style="italic")
