"""A small authoritative DNS server for the lab zone (RFC 1035).

It answers for ``sockviz.test`` and the lab's reverse zones
(``2.0.192.in-addr.arpa``, and the ``ip6.arpa`` zone of 2001:db8::/64) over
UDP and TCP on port 53, and refuses everything else: it is not a resolver.

Messages are built and parsed with plain :mod:`struct` (names and the header
with the core's codec, :mod:`sockviz.core.dnscodec`), not scapy's DNS layer.
Why: the server runs in a thread of the same process as the sniffer, and
scapy dissects slowly and holds the GIL while doing it (and importing it
costs a noticeable fraction of a second); a malformed query must never raise
an unexpected exception from deep in a dissector; and the bytes we send must be
exactly the ones the lessons explain (name compression, flags, TTLs), which is
easiest to guarantee when we write them ourselves. The format is small: a
12-byte header, questions, and resource records of a handful of types. The
unit tests cross-check both directions against scapy.

Behaviour, for the lessons:

- ``AA`` set on every answer from our zones, ``RA`` clear (no recursion);
  the id, opcode, ``RD`` and the question are copied from the query.
- A CNAME is followed inside the zone, so ``www.sockviz.test A`` gets the
  CNAME and the A records of its target in one answer (RFC 1034 §3.6.2).
- An existing name without the asked type is NODATA: NOERROR, no answer,
  the zone's SOA in the authority section; an unknown name in our zones is
  NXDOMAIN with the SOA (RFC 2308 §2); names with descendants but no records
  (empty non-terminals) are NODATA, not NXDOMAIN (RFC 8020).
- A name outside our zones gets REFUSED.
- More than one question: FORMERR, as RFC 9619 allows (no client sends
  that); no question: FORMERR. Opcodes other than QUERY: NOTIMP.
- Garbage (shorter than a header, or a response) is ignored; a query whose
  question cannot be parsed gets FORMERR.
- UDP answers larger than 512 bytes (or the EDNS payload size the client
  offered, at most 1232) are truncated with ``TC`` set (RFC 2181 §9), so the
  client retries over TCP. EDNS(0) (RFC 6891): an OPT in the query gets an OPT
  back; an EDNS version other than 0 gets BADVERS.

Nothing is printed unless a ``log`` callable is given.

Run standalone: ``python -m sockviz.lab.dnsserver --listen 192.0.2.2 --listen
2001:db8::2`` (port 53 needs root).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import socket
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

# The wire format (header, names, compression) is the core's codec, shared with
# the timeline's reading of every DNS message; names re-exported for callers.
from sockviz.core.dnscodec import (
    AA,
    AD,
    CD,
    HEADER,
    QR,
    RA,
    RD,
    TC,
    DNSFormatError,
    character_strings,
    decode_name,
    encode_name,
    pack_header,
    read_header,
)
from sockviz.core.resolver_files import reverse_name  # with its root dot, which the zone drops

# Types and classes (RFC 1035 §3.2.2-3.2.4, RFC 3596 for AAAA, RFC 6891 for OPT).
A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, OPT, ANY = 1, 2, 5, 6, 12, 15, 16, 28, 41, 255
CLASS_IN = 1
TYPE_NAMES = {
    A: "A",
    NS: "NS",
    CNAME: "CNAME",
    SOA: "SOA",
    PTR: "PTR",
    MX: "MX",
    TXT: "TXT",
    AAAA: "AAAA",
    OPT: "OPT",
    ANY: "ANY",
}
TYPE_CODES = {v: k for k, v in TYPE_NAMES.items()}

# Response codes (RFC 1035 §4.1.1; BADVERS is an extended rcode, RFC 6891 §6.1.3).
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, BADVERS = 0, 1, 2, 3, 4, 5, 16
RCODE_NAMES = {
    NOERROR: "NOERROR",
    FORMERR: "FORMERR",
    SERVFAIL: "SERVFAIL",
    NXDOMAIN: "NXDOMAIN",
    NOTIMP: "NOTIMP",
    REFUSED: "REFUSED",
    BADVERS: "BADVERS",
}

TTL = 300
UDP_MAX = 512  # RFC 1035 §4.2.1, without EDNS
EDNS_MAX = 1232  # the DNS flag day 2020 value: fits any IPv6 path without fragments
MAX_CNAME_CHAIN = 8

ZoneData = Mapping[str, Mapping[str, Sequence[str]]]


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True, kw_only=True)
class Question:
    name: str
    qtype: int
    qclass: int = CLASS_IN

    def __str__(self) -> str:
        return f"{self.name} {TYPE_NAMES.get(self.qtype, self.qtype)}"


@dataclass(frozen=True, kw_only=True)
class SOAData:
    mname: str
    rname: str
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int


@dataclass(frozen=True, kw_only=True)
class ResourceRecord:
    """One RR. ``data``: a str for A/AAAA (the address), CNAME/PTR/NS (a name)
    and TXT; SOAData for SOA; raw bytes for other types (and OPT)."""

    name: str
    rtype: int
    data: str | bytes | SOAData
    rclass: int = CLASS_IN
    ttl: int = TTL

    def __str__(self) -> str:
        return f"{self.name} {self.ttl} {TYPE_NAMES.get(self.rtype, self.rtype)} {self.data}"


@dataclass(frozen=True, kw_only=True)
class Message:
    id: int
    qr: bool = False
    opcode: int = 0
    aa: bool = False
    tc: bool = False
    rd: bool = False
    ra: bool = False
    ad: bool = False
    cd: bool = False
    rcode: int = NOERROR
    questions: tuple[Question, ...] = ()
    answers: tuple[ResourceRecord, ...] = ()
    authority: tuple[ResourceRecord, ...] = ()
    additional: tuple[ResourceRecord, ...] = ()

    @property
    def flags(self) -> int:
        return (
            (QR if self.qr else 0)
            | ((self.opcode & 0xF) << 11)
            | (AA if self.aa else 0)
            | (TC if self.tc else 0)
            | (RD if self.rd else 0)
            | (RA if self.ra else 0)
            | (AD if self.ad else 0)
            | (CD if self.cd else 0)
            | (self.rcode & 0xF)
        )

    @property
    def edns(self) -> ResourceRecord | None:
        return next((rr for rr in self.additional if rr.rtype == OPT), None)


def _encode_rdata(rr: ResourceRecord, buf: bytearray, compress: dict) -> None:
    """Append RDLENGTH and RDATA of ``rr`` to ``buf`` (RFC 1035 §3.3, §4.1.3)."""
    start = len(buf)
    buf += b"\x00\x00"  # RDLENGTH, patched below
    data = rr.data
    if isinstance(data, bytes):
        buf += data
    elif rr.rtype == A:
        buf += ipaddress.IPv4Address(data).packed
    elif rr.rtype == AAAA:
        buf += ipaddress.IPv6Address(data).packed
    elif rr.rtype in (CNAME, PTR, NS):
        # Compression inside RDATA is allowed for these well-known types (RFC 3597 §4).
        encode_name(str(data), buf, compress)
    elif rr.rtype == SOA and isinstance(data, SOAData):
        encode_name(data.mname, buf, compress)
        encode_name(data.rname, buf, compress)
        buf += struct.pack(
            "!IIIII", data.serial, data.refresh, data.retry, data.expire, data.minimum
        )
    elif rr.rtype == TXT:
        raw = str(data).encode()
        for i in range(0, max(len(raw), 1), 255):  # character-strings of <= 255 octets
            chunk = raw[i : i + 255]
            buf += bytes([len(chunk)]) + chunk
    else:
        raise ValueError(f"cannot encode {rr}")
    struct.pack_into("!H", buf, start, len(buf) - start - 2)


def build_message(msg: Message) -> bytes:
    """Encode ``msg`` in wire format, with name compression."""
    buf = bytearray(
        pack_header(
            msg.id,
            msg.flags,
            len(msg.questions),
            len(msg.answers),
            len(msg.authority),
            len(msg.additional),
        )
    )
    compress: dict[tuple[bytes, ...], int] = {}
    for q in msg.questions:
        encode_name(q.name, buf, compress)
        buf += struct.pack("!HH", q.qtype, q.qclass)
    for rr in (*msg.answers, *msg.authority, *msg.additional):
        encode_name(rr.name, buf, compress)
        buf += struct.pack("!HHI", rr.rtype, rr.rclass, rr.ttl & 0xFFFFFFFF)
        _encode_rdata(rr, buf, compress)
    return bytes(buf)


def _decode_rdata(data: bytes, rtype: int, start: int, end: int) -> str | bytes | SOAData:
    rdata = data[start:end]
    try:
        if rtype == A and len(rdata) == 4:
            return str(ipaddress.IPv4Address(rdata))
        if rtype == AAAA and len(rdata) == 16:
            return str(ipaddress.IPv6Address(rdata))
        if rtype in (CNAME, PTR, NS):
            return decode_name(data, start)[0]
        if rtype == SOA:
            mname, pos = decode_name(data, start)
            rname, pos = decode_name(data, pos)
            nums = struct.unpack_from("!IIIII", data, pos)
            return SOAData(
                mname=mname,
                rname=rname,
                serial=nums[0],
                refresh=nums[1],
                retry=nums[2],
                expire=nums[3],
                minimum=nums[4],
            )
        if rtype == TXT:
            return b"".join(character_strings(data, start, end)).decode("utf-8", "replace")
    except (DNSFormatError, struct.error, ValueError):
        pass
    return bytes(rdata)


def parse_message(data: bytes) -> Message:
    """Decode a DNS message; raises DNSFormatError when malformed."""
    header = read_header(data)
    if header is None:
        raise DNSFormatError("shorter than a DNS header")
    ident, flags, qd, an, ns, ar = header
    pos = HEADER.size
    questions = []
    for _ in range(qd):
        name, pos = decode_name(data, pos)
        if pos + 4 > len(data):
            raise DNSFormatError("truncated question")
        qtype, qclass = struct.unpack_from("!HH", data, pos)
        pos += 4
        questions.append(Question(name=name, qtype=qtype, qclass=qclass))
    sections: list[list[ResourceRecord]] = [[], [], []]
    for section, count in zip(sections, (an, ns, ar), strict=True):
        for _ in range(count):
            name, pos = decode_name(data, pos)
            if pos + 10 > len(data):
                raise DNSFormatError("truncated resource record")
            rtype, rclass, ttl, rdlen = struct.unpack_from("!HHIH", data, pos)
            pos += 10
            if pos + rdlen > len(data):
                raise DNSFormatError("RDATA runs past the end")
            rdata = _decode_rdata(data, rtype, pos, pos + rdlen)
            pos += rdlen
            section.append(
                ResourceRecord(name=name, rtype=rtype, rclass=rclass, ttl=ttl, data=rdata)
            )
    return Message(
        id=ident,
        qr=bool(flags & QR),
        opcode=header.opcode,
        aa=bool(flags & AA),
        tc=bool(flags & TC),
        rd=bool(flags & RD),
        ra=bool(flags & RA),
        ad=bool(flags & AD),
        cd=bool(flags & CD),
        rcode=header.rcode,
        questions=tuple(questions),
        answers=tuple(sections[0]),
        authority=tuple(sections[1]),
        additional=tuple(sections[2]),
    )


# --------------------------------------------------------------------------- the zone

#: Zones we are authoritative for; names outside them get REFUSED.
DEFAULT_ORIGINS = (
    "sockviz.test",
    "2.0.192.in-addr.arpa",
    "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",  # 2001:db8::/64
    # The names the course notebook uses (the seed), so it runs unchanged in the
    # lab: the lab answers for them, and no packet ever goes to the real ones.
    "gif3001.beon.ca",
    "google.com",
    "244.203.132.in-addr.arpa",  # 132.203.244.0/24
    "0.0.c.d.0.f.a.1.0.0.0.0.0.2.6.2.ip6.arpa",  # 2620:0:1af0:dc00::/64
)

#: The lab zone: name -> {type: [values]}. SOA and NS of each origin are added.
DEFAULT_ZONE: dict[str, dict[str, list[str]]] = {
    "ns.sockviz.test": {"A": ["192.0.2.2"], "AAAA": ["2001:db8::2"]},
    "chat.sockviz.test": {"A": ["192.0.2.2"], "AAAA": ["2001:db8::2"]},
    "client.sockviz.test": {"A": ["192.0.2.1"], "AAAA": ["2001:db8::1"]},
    "www.sockviz.test": {"CNAME": ["chat.sockviz.test"]},
    "v4only.sockviz.test": {"A": ["192.0.2.2"]},
    reverse_name("192.0.2.2"): {"PTR": ["chat.sockviz.test"]},
    reverse_name("192.0.2.1"): {"PTR": ["client.sockviz.test"]},
    reverse_name("2001:db8::2"): {"PTR": ["chat.sockviz.test"]},
    reverse_name("2001:db8::1"): {"PTR": ["client.sockviz.test"]},
    # No PTR for 192.0.2.99: getnameinfo() then falls back to the number.
    # The course's own names: its chat server is the lab's, www.google.com gets
    # documentation addresses (only getaddrinfo() asks for it), and the two
    # addresses getnameinfo() is given get names (only the PTR question names them).
    "chat.gif3001.beon.ca": {"A": ["192.0.2.2"], "AAAA": ["2001:db8::2"]},
    "www.google.com": {"A": ["192.0.2.80"], "AAAA": ["2001:db8::80"]},
    reverse_name("132.203.244.29"): {"PTR": ["smtp.cours.sockviz.test"]},
    reverse_name("2620:0:1af0:dc00::2"): {"PTR": ["www6.cours.sockviz.test"]},
}


def _soa(origin: str) -> SOAData:
    return SOAData(
        mname="ns.sockviz.test",
        rname="hostmaster.sockviz.test",
        serial=2024010101,
        refresh=3600,
        retry=600,
        expire=86400,
        minimum=TTL,
    )


class Zone:
    """The records we serve, and the lookup rules described in the module docstring."""

    def __init__(
        self,
        records: ZoneData | None = None,
        origins: Sequence[str] = DEFAULT_ORIGINS,
        ttl: int = TTL,
        ttls: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        self.ttl = ttl
        # (name, type code) -> the TTL a zone file gave its records; the others have ttl
        self.ttls = {(name.lower().rstrip("."), TYPE_CODES[kind.upper()]): value
                     for (name, kind), value in (ttls or {}).items()}
        self.origins = tuple(o.lower().rstrip(".") for o in origins)
        self.records: dict[str, dict[int, list[str | SOAData]]] = {}
        for origin in self.origins:
            node = self.records.setdefault(origin, {})
            node[SOA] = [_soa(origin)]
            node[NS] = ["ns.sockviz.test"]
        for name, rrsets in (DEFAULT_ZONE if records is None else records).items():
            node = self.records.setdefault(name.lower().rstrip("."), {})
            for tname, values in rrsets.items():
                node.setdefault(TYPE_CODES[tname.upper()], []).extend(values)
        # Names that exist only as ancestors of others (RFC 8020 empty non-terminals).
        self._nonterminals = set()
        for name in self.records:
            labels = name.split(".")
            for i in range(1, len(labels)):
                self._nonterminals.add(".".join(labels[i:]))

    def origin_of(self, name: str) -> str | None:
        name = name.lower().rstrip(".")
        best = None
        for origin in self.origins:
            if (name == origin or name.endswith("." + origin)) and (
                best is None or len(origin) > len(best)
            ):
                best = origin
        return best

    def _rr(self, name: str, rtype: int, data: str | SOAData) -> ResourceRecord:
        ttl = self.ttls.get((name.lower().rstrip("."), rtype), self.ttl) if self.ttls \
            else self.ttl
        return ResourceRecord(name=name, rtype=rtype, data=data, ttl=ttl)

    def _soa_rr(self, origin: str) -> ResourceRecord:
        return self._rr(origin, SOA, self.records[origin][SOA][0])

    def lookup(self, q: Question) -> tuple[int, bool, list[ResourceRecord], list[ResourceRecord]]:
        """Answer one question: ``(rcode, authoritative, answers, authority)``."""
        if q.qclass not in (CLASS_IN, ANY):
            return REFUSED, False, [], []
        answers: list[ResourceRecord] = []
        owner = q.name.rstrip(".")
        seen: set[str] = set()
        for _ in range(MAX_CNAME_CHAIN):
            key = owner.lower()
            origin = self.origin_of(key)
            node = self.records.get(key)
            if node is None:
                if origin is None:
                    # Outside our zones: REFUSED, unless a CNAME already answered.
                    return (NOERROR, True, answers, []) if answers else (REFUSED, False, [], [])
                rcode = NOERROR if key in self._nonterminals else NXDOMAIN
                return rcode, True, answers, [self._soa_rr(origin)]
            soa_owner = origin or key
            if q.qtype == ANY:
                for rtype, values in node.items():
                    answers += [self._rr(owner, rtype, v) for v in values]
                return NOERROR, True, answers, []
            if q.qtype in node:
                answers += [self._rr(owner, q.qtype, v) for v in node[q.qtype]]
                return NOERROR, True, answers, []
            if CNAME in node and q.qtype != CNAME:
                target = str(node[CNAME][0])
                answers.append(self._rr(owner, CNAME, target))
                if target.lower() in seen:
                    break
                seen.add(key)
                owner = target.rstrip(".")
                continue
            # NODATA (RFC 2308 §2.2): the name exists, the type does not.
            authority = [self._soa_rr(soa_owner)] if soa_owner in self.records else []
            return NOERROR, True, answers, authority
        return SERVFAIL, True, answers, []  # CNAME loop or chain too long


# --------------------------------------------------------------------------- answering


def _edns_opt(payload: int, ext_rcode: int = 0) -> ResourceRecord:
    # OPT pseudo-RR (RFC 6891 §6.1.2): CLASS = UDP payload size,
    # TTL = extended RCODE (8 bits) | version (8) | DO (1) | Z (15).
    return ResourceRecord(name="", rtype=OPT, rclass=payload, ttl=ext_rcode << 24, data=b"")


def respond(query: Message, zone: Zone) -> tuple[Message, int]:
    """The response to a parsed query, and the UDP size limit for it."""
    base = Message(
        id=query.id,
        qr=True,
        opcode=query.opcode,
        rd=query.rd,
        cd=query.cd,
        questions=query.questions,
    )
    limit = UDP_MAX
    extra: tuple[ResourceRecord, ...] = ()
    opt = query.edns
    if opt is not None:
        limit = max(UDP_MAX, min(opt.rclass, EDNS_MAX))
        extra = (_edns_opt(EDNS_MAX),)
        if (opt.ttl >> 16) & 0xFF != 0:  # EDNS version != 0
            ext = BADVERS
            opt_out = _edns_opt(EDNS_MAX, ext >> 4)
            return replace(base, rcode=ext & 0xF, additional=(opt_out,)), limit
    if query.opcode != 0:
        return replace(base, rcode=NOTIMP, additional=extra), limit
    if len(query.questions) != 1:
        return replace(base, rcode=FORMERR, additional=extra), limit
    rcode, aa, answers, authority = zone.lookup(query.questions[0])
    msg = replace(
        base,
        rcode=rcode,
        aa=aa,
        answers=tuple(answers),
        authority=tuple(authority),
        additional=extra,
    )
    return msg, limit


def handle_query(data: bytes, zone: Zone, *, udp: bool = True) -> bytes | None:
    """The wire response to the wire query ``data``, or None to stay silent."""
    header = read_header(data)
    if header is None:
        return None
    if header.qr:
        return None  # a response: never answer those (no loops between servers)
    try:
        query = parse_message(data)
    except DNSFormatError:
        # The header is readable: say FORMERR, without echoing what we could not parse.
        opcode_rd = header.flags & (0xF << 11 | RD)
        return pack_header(header.id, QR | opcode_rd | FORMERR)
    msg, limit = respond(query, zone)
    wire = build_message(msg)
    if udp and len(wire) > limit:
        # RFC 2181 §9: set TC and send what fits; we drop the sections wholesale.
        wire = build_message(replace(msg, tc=True, answers=(), authority=()))
    return wire


# --------------------------------------------------------------------------- the server


class _UDPProtocol(asyncio.DatagramProtocol):
    def __init__(self, zone: Zone, log: Callable[[str], None] | None) -> None:
        self.zone, self.log = zone, log
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            wire = handle_query(data, self.zone, udp=True)
        except Exception as exc:  # a bug must not kill the server
            if self.log:
                self.log(f"dns: error on a query from {addr}: {exc!r}")
            return
        if wire is not None and self.transport is not None:
            if self.log:
                self.log(f"dns: udp {addr[0]} {_summary(wire)}")
            self.transport.sendto(wire, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP errors for earlier answers: nothing to do


def _summary(wire: bytes) -> str:
    try:
        msg = parse_message(wire)
    except DNSFormatError:
        return "?"
    q = ", ".join(map(str, msg.questions))
    return f"{q} -> {RCODE_NAMES.get(msg.rcode, msg.rcode)} {len(msg.answers)} answers"


async def _tcp_client(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    zone: Zone,
    log: Callable[[str], None] | None,
) -> None:
    # RFC 1035 §4.2.2 / RFC 7766: each message has a 2-byte length prefix, and a
    # connection may carry several queries; idle connections are closed.
    try:
        while True:
            try:
                head = await asyncio.wait_for(reader.readexactly(2), timeout=10)
                (length,) = struct.unpack("!H", head)
                data = await asyncio.wait_for(reader.readexactly(length), timeout=10)
            except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
                return
            wire = handle_query(data, zone, udp=False)
            if wire is None:
                return
            if log:
                peer = writer.get_extra_info("peername")
                log(f"dns: tcp {peer[0] if peer else '?'} {_summary(wire)}")
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def _bind(address: str, port: int) -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket bound to the same address and port (port 0: any)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    for _ in range(20):
        tcp = socket.socket(family, socket.SOCK_STREAM)
        udp = socket.socket(family, socket.SOCK_DGRAM)
        try:
            for s in (tcp, udp):
                if family == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((address, port))
            udp.bind((address, tcp.getsockname()[1]))
            tcp.listen(128)
            tcp.setblocking(False)
            udp.setblocking(False)
            return udp, tcp
        except OSError:
            tcp.close()
            udp.close()
            if port != 0:
                raise
    raise OSError(f"no free port for both UDP and TCP on {address}")


async def serve(
    addresses: Sequence[str],
    port: int = 53,
    *,
    zone: ZoneData | Zone | None = None,
    ready: asyncio.Event | None = None,
    log: Callable[[str], None] | None = None,
    started: Callable[[Sequence[str], int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve ``zone`` over UDP and TCP on each address until cancelled (or
    ``stop`` is set). ``port`` 0 picks a free port (the first address's, also
    used for the others) and reports it through ``started(addresses, port)``."""
    z = zone if isinstance(zone, Zone) else Zone(zone)
    loop = asyncio.get_running_loop()
    transports: list[asyncio.BaseTransport] = []
    servers: list[asyncio.base_events.Server] = []
    try:
        for address in addresses:
            udp, tcp = _bind(address, port)
            port = tcp.getsockname()[1]
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UDPProtocol(z, log), sock=udp
            )
            transports.append(transport)
            servers.append(
                await asyncio.start_server(lambda r, w: _tcp_client(r, w, z, log), sock=tcp)
            )
        if log:
            where = ", ".join(f"[{a}]:{port}" if ":" in a else f"{a}:{port}" for a in addresses)
            log(f"DNS server listening on {where} (UDP and TCP)")
        if started is not None:
            started(addresses, port)
        if ready is not None:
            ready.set()
        await (stop.wait() if stop is not None else asyncio.Future())
    finally:
        for transport in transports:
            transport.close()
        for server in servers:
            server.close()
        for server in servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)


def run_in_thread(
    addresses: Sequence[str],
    port: int = 53,
    *,
    zone: ZoneData | Zone | None = None,
    netns_host: Any = None,
    log: Callable[[str], None] | None = None,
) -> Any:
    """Start the server in a thread (inside ``netns_host``'s namespace when
    given); returns a :class:`sockviz.lab.services.ServiceHandle` (``.stop()``,
    ``.port``, ``.addresses``)."""
    from sockviz.lab.services import run_service_thread

    async def amain(started: Callable[[Sequence[str], int], None], stop: asyncio.Event) -> None:
        await serve(addresses, port, zone=zone, log=log, started=started, stop=stop)

    return run_service_thread("sockviz-dns", amain, netns_host)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sockviz.lab.dnsserver",
        description="Authoritative DNS server for the sockviz lab zone.",
    )
    parser.add_argument(
        "--listen",
        action="append",
        metavar="ADDRESS",
        help="address to serve on (repeatable; default 127.0.0.1)",
    )
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("-v", "--verbose", action="store_true", help="log each query")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(args.listen or ["127.0.0.1"], args.port, log=log if args.verbose else None)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
