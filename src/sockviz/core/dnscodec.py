"""DNS messages on the wire (RFC 1035 §4.1), read and written with ``struct``.

One codec for the whole project: the timeline reads every DNS message it
shows through ``read_message`` (``sockviz.core.dnsinfo.dns_info``), and the lab's
DNS server parses queries and writes answers with ``decode_name``,
``encode_name`` and the header helpers here. Pure: no socket, no scapy.

Two ways to read a name, for two jobs:

- ``read_name`` is tolerant, for showing what was captured: it never raises,
  follows compression pointers (RFC 1035 §4.1.4) anywhere in the message,
  stops at a pointer loop (a target seen before) or after 20 jumps, and at
  the end of the bytes it may read; a label cut short is kept as far as it
  goes. This is how scapy, whose DNS layer sockviz used before, reads names,
  so the names shown stay the same.
- ``decode_name`` is strict, for answering: pointers must point backwards,
  labels must fit, the name must fit in 255 octets (RFC 1035 §2.3.4);
  anything else raises ``DNSFormatError`` (the server then says FORMERR).

``read_message`` reads a message the tolerant way: header, questions and the
three sections of resource records (§4.1.2, §4.1.3), in order. Reading stops
at the first entry that cannot be read (a question without its type and
class, a record without its ten fixed bytes, or a record whose RDATA is too
short for its type's fixed fields, see ``rdata_fits``); ``Message.broken``
names that section. A message shorter than its 12-byte header is None.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from sockviz.core.decode import ipv6_text

__all__ = [
    "HEADER",
    "MAX_JUMPS",
    "NAME_TYPES",
    "QTYPE_NAMES",
    "RCODE_NAMES",
    "TYPE_NAMES",
    "DNSFormatError",
    "Header",
    "Message",
    "Question",
    "Record",
    "character_strings",
    "decode_name",
    "encode_name",
    "format_ipv6",
    "pack_header",
    "qtype_name",
    "rdata_fits",
    "read_header",
    "read_message",
    "read_name",
    "tcp_message",
    "type_name",
]

HEADER = struct.Struct("!HHHHHH")  # id, flags, QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT (§4.1.1)
_HH = struct.Struct("!HH")
_RR = struct.Struct("!HHIH")  # TYPE, CLASS, TTL, RDLENGTH (§4.1.3)
_H8 = struct.Struct("!8H")

# Header flag bits (RFC 1035 §4.1.1; AD and CD: RFC 4035 §3.2).
QR, AA, TC, RD, RA, Z, AD, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0040, 0x0020, 0x0010

#: Compression pointers followed in one name at most (as scapy: a longer
#: chain is hostile, RFC 9267 §2).
MAX_JUMPS = 20

# --------------------------------------------------------------------------- names of numbers

#: TYPE mnemonics (IANA "Resource Record (RR) TYPEs"), as scapy and the timeline
#: print them; other numbers print as decimal.
TYPE_NAMES: dict[int, str] = {
    0: "RESERVED", 1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG",
    9: "MR", 10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT",
    17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP-PTR",
    24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT", 31: "EID",
    32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT", 38: "A6",
    39: "DNAME", 40: "SINK", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY",
    46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM",
    52: "TLSA", 53: "SMIMEA", 55: "HIP", 56: "NINFO", 57: "RKEY", 58: "TALINK", 59: "CDS",
    60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB", 65: "HTTPS",
    99: "SPF", 100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC", 104: "NID", 105: "L32",
    106: "L64", 107: "LP", 108: "EUI48", 109: "EUI64", 249: "TKEY", 250: "TSIG", 256: "URI",
    257: "CAA", 258: "AVC", 259: "DOA", 260: "AMTRELAY", 32768: "TA", 32769: "DLV",
    65535: "RESERVED",
}  # fmt: skip

#: QTYPEs (§3.2.3) add the query-only numbers; 255, "*" in the RFC, prints as ALL.
QTYPE_NAMES: dict[int, str] = {
    **TYPE_NAMES, 251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ALL",
}  # fmt: skip

#: RCODEs 0-5 (§4.1.1); the others print as decimal.
RCODE_NAMES: dict[int, str] = {
    0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
}  # fmt: skip

#: Types whose RDATA is one (compressible) domain name: NS, MD, MF, CNAME, PTR, DNAME.
NAME_TYPES = frozenset((2, 3, 4, 5, 12, 39))


def type_name(rtype: int) -> str:
    """'A', 'AAAA', ... or the number in decimal."""
    name = TYPE_NAMES.get(rtype)
    return name if name is not None else str(rtype)


def qtype_name(qtype: int) -> str:
    """A question's type: as ``type_name``, plus IXFR, AXFR, MAILB, MAILA, ALL."""
    name = QTYPE_NAMES.get(qtype)
    return name if name is not None else str(qtype)


# --------------------------------------------------------------------------- header


class DNSFormatError(ValueError):
    """The bytes are not a well-formed DNS message."""


class Header(NamedTuple):
    """The 12-byte header (§4.1.1)."""

    id: int
    flags: int
    qdcount: int = 0
    ancount: int = 0
    nscount: int = 0
    arcount: int = 0

    @property
    def qr(self) -> bool:
        return bool(self.flags & QR)

    @property
    def opcode(self) -> int:
        return (self.flags >> 11) & 0xF

    @property
    def rcode(self) -> int:
        return self.flags & 0xF


def read_header(data: bytes) -> Header | None:
    """The header of ``data``, or None if it is shorter than 12 bytes."""
    if len(data) < 12:
        return None
    return Header._make(HEADER.unpack_from(data))


def pack_header(ident: int, flags: int, qdcount: int = 0, ancount: int = 0, nscount: int = 0,
                arcount: int = 0) -> bytes:
    return HEADER.pack(ident, flags, qdcount, ancount, nscount, arcount)


def tcp_message(payload: bytes) -> bytes | None:
    """The message in a TCP segment's payload, after its two-byte length (§4.2.2).

    As many bytes as the length says, or fewer if the segment holds fewer;
    None if not even the length is there.
    """
    if len(payload) < 2:
        return None
    return payload[2 : 2 + ((payload[0] << 8) | payload[1])]


# --------------------------------------------------------------------------- names, tolerant


def read_name(data: bytes, pos: int, end: int | None = None) -> tuple[bytes, int]:
    """The name at ``pos``, read tolerantly (module docstring); never raises.

    Returns the name in dotted form with its trailing dot (``b'www.example.'``,
    ``b'.'`` for the root), the labels' bytes as they are, and the position
    just after the name where it started (after its first pointer, if any).
    Labels before the first pointer are read up to ``end`` (the end of the
    RDATA for a name inside it; default: the end of ``data``), labels pointed
    to up to the end of ``data``. Any label byte with one of the two top bits
    set starts a pointer (RFC 1035 §4.1.4 defines 11; the others are the
    obsolete and reserved types of RFC 6891 §5). The position may lie past
    ``end`` when the name was cut short.
    """
    size = len(data)
    limit = size if end is None or end > size else end
    parts: list[bytes] = []
    after = -1
    jumps: list[int] = []
    p = pos
    while p < limit:
        c = data[p]
        if c & 0xC0:
            if after < 0:
                after = p + 2
            if p + 1 >= limit:
                break  # the pointer's second byte is missing
            target = ((c & 0x3F) << 8) | data[p + 1]
            if target in jumps or len(jumps) >= MAX_JUMPS:
                break  # a loop, or too long a chain
            jumps.append(target)
            p = target
            limit = size
            continue
        p += 1
        if not c:
            break
        q = p + c
        parts.append(data[p : q if q < limit else limit])
        p = q
    if after >= 0:
        p = after
    if not parts:
        return b".", p
    parts.append(b"")
    return b".".join(parts), p


def character_strings(data: bytes, start: int, end: int) -> list[bytes]:
    """The <character-string>s of ``data[start:end]`` (§3.3, TXT RDATA); a last
    one cut short is kept as far as it goes."""
    out = []
    p = start
    while p < end:
        n = data[p]
        out.append(data[p + 1 : min(p + 1 + n, end)])
        p += 1 + n
    return out


# --------------------------------------------------------------------------- names, strict


def _labels(name: str) -> list[bytes]:
    name = name.rstrip(".")
    if not name:
        return []
    labels = [label.encode("ascii") for label in name.split(".")]
    for label in labels:
        if not 0 < len(label) <= 63:  # RFC 1035 §2.3.4
            raise ValueError(f"bad label length in {name!r}")
    return labels


def encode_name(
    name: str, buf: bytearray | None = None, compress: dict[tuple[bytes, ...], int] | None = None
) -> bytes:
    """Encode ``name`` in wire format (§3.1), compressed against ``compress``
    (suffix -> offset in ``buf``, §4.1.4) when given; appends to ``buf`` when
    given and returns the bytes written. Suffixes compare case-insensitively."""
    labels = _labels(name)
    out = bytearray()
    base = len(buf) if buf is not None else 0
    for i in range(len(labels)):
        suffix = tuple(label.lower() for label in labels[i:])
        if compress is not None and suffix in compress:
            out += struct.pack("!H", 0xC000 | compress[suffix])
            break
        if compress is not None and base + len(out) < 0x4000:
            compress[suffix] = base + len(out)
        out += bytes([len(labels[i])]) + labels[i]
    else:
        out += b"\x00"
    if len(out) > 255 + 1:
        raise ValueError(f"name too long: {name!r}")
    if buf is not None:
        buf += out
    return bytes(out)


def decode_name(data: bytes, offset: int) -> tuple[str, int]:
    """Decode the name at ``offset`` strictly; returns ``(name, offset after it)``.

    The name is text without the trailing dot, labels read as Latin-1 with
    ``.`` and ``\\`` escaped by a backslash. Follows compression pointers, but
    only backwards (so no loops), and checks lengths; raises DNSFormatError on
    anything malformed."""
    labels: list[str] = []
    end: int | None = None
    pos = offset
    total = 0
    while True:
        if pos >= len(data):
            raise DNSFormatError("name runs past the end")
        length = data[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(data):
                raise DNSFormatError("truncated pointer")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if end is None:
                end = pos + 2
            if target >= pos:
                raise DNSFormatError("forward or looping compression pointer")
            pos = target
            continue
        if length & 0xC0:
            raise DNSFormatError("unknown label type")
        pos += 1
        if length == 0:
            break
        label = data[pos : pos + length]
        if len(label) != length:
            raise DNSFormatError("label runs past the end")
        total += length + 1
        if total > 255:
            raise DNSFormatError("name longer than 255 octets")
        text = label.decode("latin-1")
        labels.append(text.replace("\\", "\\\\").replace(".", "\\."))
        pos += length
    return ".".join(labels), end if end is not None else pos


# --------------------------------------------------------------------------- addresses


def format_ipv6(raw: bytes) -> str:
    """Sixteen bytes as ``inet_ntop(AF_INET6)`` writes them (glibc): '::' for
    the first longest run of two or more zero groups (RFC 5952 §4.2), and the
    dotted form for the last 32 bits of ``::a.b.c.d`` and ``::ffff:a.b.c.d``."""
    groups = _H8.unpack(raw)
    if not any(groups[:5]):
        if groups[5] == 0xFFFF:  # ::ffff:a.b.c.d, IPv4-mapped
            return "::ffff:{}.{}.{}.{}".format(*raw[12:])
        if groups[5] == 0 and groups[6]:  # ::a.b.c.d, IPv4-compatible
            return "::{}.{}.{}.{}".format(*raw[12:])
    return ipv6_text(groups)


# --------------------------------------------------------------------------- messages, tolerant

# The fixed parts an RDATA must hold, by type: an int is that many bytes,
# _NAME a domain name, _STR8 / _STR16 a string after a one- / two-byte
# length (which must be there; the string may be cut short). A record whose
# RDATA ends before the last fixed part is unreadable. Types not listed have
# no fixed part (any RDATA reads, as bytes or as a name); for names, the
# strings of TXT and the options of OPT, whatever is there is shown.
_NAME, _STR8, _STR16 = "name", "str8", "str16"
_LAYOUTS: dict[int, tuple] = {
    1: (4,),  # A (RFC 1035 §3.4.1)
    28: (16,),  # AAAA (RFC 3596 §2.2)
    6: (_NAME, _NAME, 20),  # SOA: MNAME, RNAME, SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM (§3.3.13)
    13: (_STR8, _STR8),  # HINFO: CPU, OS (§3.3.2)
    15: (2, _NAME),  # MX: PREFERENCE, EXCHANGE (§3.3.9)
    33: (6, _NAME),  # SRV: priority, weight, port, target (RFC 2782)
    35: (4, _STR8, _STR8, _STR8, _NAME),  # NAPTR (RFC 3403 §4.1)
    43: (4,),  # DS: key tag, algorithm, digest type, digest (RFC 4034 §5.1)
    32769: (4,),  # DLV, as DS (RFC 4431)
    46: (18, _NAME),  # RRSIG, up to the signer's name (RFC 4034 §3.1)
    48: (4,),  # DNSKEY: flags, protocol, algorithm, key (RFC 4034 §2.1)
    50: (4, _STR8, _STR8),  # NSEC3: algorithm, flags, iterations, salt, next hash (RFC 5155 §3.2)
    51: (4, _STR8),  # NSEC3PARAM (RFC 5155 §4.2)
    64: (2,),  # SVCB: priority, then target and parameters (RFC 9460 §2.2)
    65: (2,),  # HTTPS, as SVCB
    250: (_NAME, 8, _STR16, 4, _STR16),  # TSIG (RFC 8945 §4.2)
}


def rdata_fits(rtype: int, data: bytes, start: int, end: int) -> bool:
    """Whether ``data[start:end]``, a record's RDATA, holds the fixed parts of
    its type (names are read as ``read_name`` reads them)."""
    layout = _LAYOUTS.get(rtype)
    if layout is None:
        return True
    p = start
    for part in layout:
        if part.__class__ is int:
            p += part
            if p > end:
                return False
        elif part is _NAME:
            p = read_name(data, p, end)[1]
        elif part is _STR8:
            if p >= end:
                return False
            p += 1 + data[p]
        else:
            if p + 2 > end:
                return False
            p += 2 + ((data[p] << 8) | data[p + 1])
    return True


class Question(NamedTuple):
    """One entry of the question section (§4.1.2); ``name`` as ``read_name`` gives it."""

    name: bytes
    qtype: int
    qclass: int


class Record(NamedTuple):
    """One resource record (§4.1.3). Its RDATA is ``data[start:end]`` of the
    message (``end`` stops at the message's end when it was cut short); names
    inside it may point anywhere in the message."""

    name: bytes
    rtype: int
    rclass: int
    ttl: int
    start: int
    end: int


class Message(NamedTuple):
    """A message read by ``read_message``. ``broken``: None, or the section
    ('question', 'answer', 'authority', 'additional') whose next entry could
    not be read; reading stopped there, and the later sections are empty."""

    header: Header
    questions: list[Question]
    answers: list[Record]
    authority: list[Record]
    additional: list[Record]
    broken: str | None = None


_SECTIONS = ("answer", "authority", "additional")


def read_message(data: bytes, max_entries: int | None = None) -> Message | None:
    """Read a whole message tolerantly (module docstring); never raises.

    None if ``data`` is shorter than a header, or when ``max_entries`` is
    given and a section holds more entries than that (counting an unreadable
    one): a bound on the work one message may cost. Entries are read while
    both the section's count and the bytes last, so a message cut short has
    fewer entries than its header announces.
    """
    n = len(data)
    if n < 12:
        return None
    header = Header._make(HEADER.unpack_from(data))
    broken = None
    pos = 12
    questions: list[Question] = []
    count = header.qdcount
    while pos < n and count:
        count -= 1
        name, p = read_name(data, pos)
        if p + 4 > n:
            broken = "question"
            break
        qtype, qclass = _HH.unpack_from(data, p)
        questions.append(Question(name, qtype, qclass))
        pos = p + 4
    if max_entries is not None and len(questions) + (broken is not None) > max_entries:
        return None
    sections: list[list[Record]] = [[], [], []]
    counts = (header.ancount, header.nscount, header.arcount)
    for k in range(3):
        if broken is not None:
            break
        records = sections[k]
        count = counts[k]
        while pos < n and count:
            count -= 1
            name, p = read_name(data, pos)
            if p + 10 > n:
                broken = _SECTIONS[k]
                break
            rtype, rclass, ttl, rdlen = _RR.unpack_from(data, p)
            start = p + 10
            stop = start + rdlen
            end = stop if stop < n else n
            if rtype in _LAYOUTS and not rdata_fits(rtype, data, start, end):
                broken = _SECTIONS[k]
                break
            records.append(Record(name, rtype, rclass, ttl, start, end))
            pos = stop
        if max_entries is not None and len(records) + (broken is not None) > max_entries:
            return None
    return Message(header, questions, sections[0], sections[1], sections[2], broken)
