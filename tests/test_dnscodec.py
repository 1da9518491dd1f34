"""The core's DNS codec, and ``dnsinfo.dns_info`` against the scapy version it replaced.

``dns_info`` used to dissect with scapy's DNS layer; it now reads with
``sockviz.core.dnscodec``. The old function is kept here, verbatim, as the
reference (``scapy_dns_info``), and the JSON of both must be the same byte for
byte on every DNS payload of the shipped captures and of tcpdump's corpus, on
messages scapy builds (every record type it has fields for), on those
mutated, and on random bytes.

Where the two legitimately differ, on damaged or hostile input, each case has
its own test below (``test_difference_*``), with the reason; the generators
stay clear of exactly those cases. There is one:

- more than 100 EDNS options in one OPT record, or more than 100 SvcParams in
  one SVCB/HTTPS record: scapy's list limit (``conf.max_list_count``) makes it
  give up on the record (shown as unreadable, and nothing after it); the
  codec reads the record like any other. Such records need 400 bytes or more
  of deliberate structure.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sockviz.core import dnscodec
from sockviz.core.dnscodec import (
    DNSFormatError,
    decode_name,
    encode_name,
    format_ipv6,
    read_message,
    read_name,
    tcp_message,
)
from sockviz.core.dnsinfo import dns_info

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "tcpdump-tests"

# --------------------------------------------------------------------------- the reference
# dns_info (sockviz.dissect, now core.dnsinfo) as it was before the codec (scapy's DNS layer).

_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
_dns_cls = None


def _layer():
    global _dns_cls
    if _dns_cls is None:
        import logging

        logging.getLogger("scapy").setLevel(logging.ERROR)
        from scapy.layers.dns import DNS

        _dns_cls = DNS
    return _dns_cls


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "backslashreplace")
    return str(value)


def _rr_type(rr) -> str:
    try:
        return rr.get_field("type").i2repr(rr, rr.type)
    except Exception:
        return str(getattr(rr, "type", "?"))


def _rr_data(rr) -> str:
    data = getattr(rr, "rdata", None)
    if isinstance(data, list):
        return " ".join(_text(x) for x in data)
    if data is None:
        mname = getattr(rr, "mname", None)
        return _text(mname) if mname is not None else ""
    return _text(data)


def _records(seq) -> list[dict]:
    out = []
    for rr in seq or []:
        out.append({"name": _text(getattr(rr, "rrname", b"")), "type": _rr_type(rr),
                    "ttl": getattr(rr, "ttl", None), "data": _rr_data(rr)})
    return out


def scapy_dns_info(payload: bytes, tcp: bool = False) -> dict | None:
    if tcp:
        if len(payload) < 2:
            return None
        (length,) = struct.unpack_from("!H", payload)
        payload = payload[2 : 2 + length]
    if len(payload) < 12:
        return None
    try:
        msg = _layer()(payload)
        questions = [
            {"name": _text(q.qname), "type": q.get_field("qtype").i2repr(q, q.qtype)}
            for q in (msg.qd or [])
        ]
        flags = [f for f in ("aa", "tc", "rd", "ra") if getattr(msg, f, 0)]
        return {
            "id": msg.id,
            "qr": "response" if msg.qr else "query",
            "rcode": _RCODES.get(msg.rcode, str(msg.rcode)),
            "flags": flags,
            "questions": questions,
            "answers": _records(msg.an),
            "authority": _records(msg.ns),
        }
    except Exception:
        return None


def assert_same(payload: bytes, tcp: bool = False) -> None:
    expected = json.dumps(scapy_dns_info(payload, tcp))
    got = json.dumps(dns_info(payload, tcp))
    assert got == expected, payload.hex()


# --------------------------------------------------------------------------- real messages


def _capture_payloads(path: Path) -> list[tuple[bytes, bool]]:
    """The payloads the correlator gives ``dns_info`` (``Correlator._dns``): DNS
    over TCP with data (length prefix first), and DNS datagrams but the later
    fragments of one. (A TCP segment is given only when the tracker calls it
    data; every non-empty one is taken here, more than needed.)"""
    from sockviz.capfile.reader import NotACapture, open_capture
    from sockviz.core.decode import decode

    try:
        reader = open_capture(path)
    except (NotACapture, OSError):
        return []
    out = []
    with reader:
        for frame in reader:
            d = decode(frame.data, frame.linktype)
            if d.proto != "DNS" or not d.payload:
                continue
            if d.tcp_flags is not None:
                out.append((d.payload, True))
            elif d.frag_offset in (None, 0):
                out.append((d.payload, False))
    return out


SHIPPED = sorted((ROOT / "captures").glob("*.pcapng"))
CORPUS_FILES = sorted(CORPUS.iterdir()) if CORPUS.is_dir() else []


@pytest.fixture(scope="module")
def real_payloads() -> list[tuple[bytes, bool]]:
    return [p for path in (*SHIPPED, *CORPUS_FILES) for p in _capture_payloads(path)]


def test_shipped_captures_read_as_scapy_read_them():
    payloads = [p for path in SHIPPED for p in _capture_payloads(path)]
    assert len(payloads) >= len(SHIPPED) * 2  # every lesson's capture has its DNS exchange
    for payload, tcp in payloads:
        assert_same(payload, tcp)
        assert dns_info(payload, tcp) is not None


@pytest.mark.skipif(not CORPUS_FILES, reason="../shared/corpus/tcpdump-tests is not here")
def test_tcpdump_corpus_reads_as_scapy_read_it():
    payloads = [p for path in CORPUS_FILES for p in _capture_payloads(path)]
    assert payloads
    tcp = [p for p, t in payloads if t]
    assert tcp  # dns_tcp.pcap: the length prefix
    for payload, is_tcp in payloads:
        assert_same(payload, is_tcp)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        k = rng.random()
        if k < 0.55 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif k < 0.65 and len(b) > 12:  # a count in the header
            b[rng.randrange(4, 12)] = rng.choice((0, 1, 2, 3, 0xFF))
        elif k < 0.8 and b:
            del b[rng.randrange(len(b)) :]
        else:
            at = rng.randrange(len(b) + 1)
            b[at:at] = bytes(rng.choice((0, 0xC0, 0x0C, 1, 3, rng.randrange(256)))
                             for _ in range(rng.randrange(1, 8)))
    return bytes(b)


def test_damaged_real_messages_read_as_scapy_read_them(real_payloads):
    """Seeded damage to every real message: 40 variants of each, over UDP and TCP."""
    rng = random.Random(1035)
    for payload, tcp in real_payloads:
        message = payload[2:] if tcp else payload
        for _ in range(40):
            damaged = _mutate(message, rng)
            assert_same(damaged)
            if rng.random() < 0.25:
                length = len(damaged) if rng.random() < 0.7 else rng.randrange(70000) & 0xFFFF
                assert_same(struct.pack("!H", length) + damaged, tcp=True)


# --------------------------------------------------------------------------- generated messages

_SETTINGS = settings(max_examples=400, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Labels with the bytes that test the text form: dots and backslashes inside a
# label, NUL, bytes outside ASCII.
_label = st.binary(min_size=1, max_size=9).map(lambda b: b.replace(b".", b"_")) | st.sampled_from(
    [b"www", b"sockviz", b"test", b"a\\b", b"\x00", b"\xff\xfe", b"x" * 63, b"-"])
_name = st.lists(_label, max_size=4).map(lambda labels: b".".join(labels) + b".")
_u8, _u16, _u32 = (st.integers(0, 2**k - 1) for k in (8, 16, 32))
_bytes = st.binary(max_size=24)


def _rr_strategies():
    from scapy.layers import dns as d

    ipv4 = st.binary(min_size=4, max_size=4).map(socket.inet_ntoa)
    ipv6 = st.binary(min_size=16, max_size=16).map(lambda b: socket.inet_ntop(socket.AF_INET6, b))
    head = {"rrname": _name, "ttl": _u32}
    option = st.one_of(
        st.builds(d.EDNS0TLV, optcode=st.sampled_from([0, 3, 9, 11, 65001]), optdata=_bytes),
        st.builds(d.EDNS0COOKIE, client_cookie=st.binary(min_size=8, max_size=8),
                  server_cookie=st.binary(max_size=32)),
        st.builds(d.EDNS0ClientSubnet, source_plen=st.sampled_from([0, 8, 24, 32]),
                  address=ipv4),
        st.builds(d.EDNS0ExtendedDNSError, info_code=_u16, extra_text=_bytes),
        st.builds(d.EDNS0PADDING, padding=_bytes),
        st.builds(d.EDNS0DAU, alg_code=st.lists(_u8, max_size=5)),
    )
    svc = st.one_of(
        st.builds(d.SvcParam, key=st.just(1), value=st.lists(st.sampled_from([b"h2", b"h3"]),
                                                             min_size=1, max_size=2)),
        st.builds(d.SvcParam, key=st.just(3), value=_u16),
        st.builds(d.SvcParam, key=st.just(4), value=st.lists(ipv4, min_size=1, max_size=3)),
        st.builds(d.SvcParam, key=st.just(6), value=st.lists(ipv6, min_size=1, max_size=2)),
        st.builds(d.SvcParam, key=st.integers(7, 9), value=_bytes),
    )
    return st.one_of(
        st.builds(d.DNSRR, type=st.just(1), rdata=ipv4, **head),
        st.builds(d.DNSRR, type=st.just(28), rdata=ipv6, **head),
        st.builds(d.DNSRR, type=st.sampled_from([2, 3, 4, 5, 12, 39]), rdata=_name, **head),
        st.builds(d.DNSRR, type=st.just(16), rdata=st.lists(_bytes, max_size=4), **head),
        # Any other type, any bytes (A and AAAA take an address).
        st.builds(d.DNSRR, type=_u16.filter(lambda t: t not in (1, 28)), rdata=_bytes, **head),
        st.builds(d.DNSRRSOA, mname=_name, rname=_name, serial=_u32, minimum=_u32, **head),
        st.builds(d.DNSRRMX, preference=_u16, exchange=_name, **head),
        st.builds(d.DNSRRSRV, priority=_u16, port=_u16, target=_name, **head),
        st.builds(d.DNSRRHINFO, cpu=_bytes, os=_bytes, **head),
        st.builds(d.DNSRRNAPTR, flags=_bytes, services=_bytes, regexp=_bytes, replacement=_name,
                  **head),
        st.builds(d.DNSRROPT, rrname=_name, rclass=_u16, rdata=st.lists(option, max_size=4)),
        st.builds(d.DNSRRDS, keytag=_u16, digest=_bytes, **head),
        st.builds(d.DNSRRDLV, keytag=_u16, digest=_bytes, **head),
        st.builds(d.DNSRRRSIG, signersname=_name, signature=_bytes, **head),
        st.builds(d.DNSRRNSEC, nextname=_name, typebitmaps=st.lists(_u16, min_size=1, max_size=3), **head),
        st.builds(d.DNSRRDNSKEY, publickey=_bytes, **head),
        st.builds(d.DNSRRNSEC3, salt=_bytes, nexthashedownername=_bytes, **head),
        st.builds(d.DNSRRNSEC3PARAM, salt=_bytes, **head),
        st.builds(d.DNSRRSVCB, svc_priority=_u16, target_name=_name,
                  svc_params=st.lists(svc, max_size=3), **head),
        st.builds(d.DNSRRHTTPS, svc_priority=_u16, target_name=_name,
                  svc_params=st.lists(svc, max_size=3), **head),
        st.builds(d.DNSRRTSIG, algo_name=_name, mac_data=_bytes, other_data=_bytes, **head),
    )


@st.composite
def scapy_messages(draw) -> bytes:
    """A message scapy builds: any header, records of every kind, maybe compressed."""
    from scapy.layers import dns as d

    rr = _rr_strategies()
    qd = draw(st.lists(st.builds(d.DNSQR, qname=_name, qtype=_u16 | st.sampled_from([1, 28, 255])),
                       max_size=2))
    msg = d.DNS(id=draw(_u16), qr=draw(st.integers(0, 1)), opcode=draw(st.integers(0, 15)),
                aa=draw(st.integers(0, 1)), tc=draw(st.integers(0, 1)), rd=draw(st.integers(0, 1)),
                ra=draw(st.integers(0, 1)), z=draw(st.integers(0, 1)), rcode=draw(st.integers(0, 15)),
                qd=qd, an=draw(st.lists(rr, max_size=4)), ns=draw(st.lists(rr, max_size=2)),
                ar=draw(st.lists(rr, max_size=2)))
    wire = bytes(msg)
    if draw(st.booleans()):
        with contextlib.suppress(Exception):  # scapy cannot compress every message it builds
            wire = bytes(msg.compress())
    return wire


@st.composite
def mutated(draw, messages) -> bytes:
    return _mutate(draw(messages), random.Random(draw(st.integers(0, 2**32))))


@st.composite
def hand_made(draw) -> bytes:
    """Messages put together byte by byte: names with pointers anywhere (loops,
    forward, past the end), the label types 01 and 10, records of the types with
    fixed fields and RDATA of any length, counts that lie."""
    types = st.sampled_from([1, 2, 5, 6, 12, 13, 15, 16, 28, 33, 35, 39, 41, 43, 46, 47, 48, 50, 51,
                             64, 65, 250, 32769, 0, 99, 255, 4660])
    body = bytearray()

    def name() -> bytes:
        out = b""
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.integers(0, 9))
            if kind == 0:
                return out + struct.pack("!H", 0xC000 | draw(st.integers(0, len(body) + 16)))
            if kind == 1:
                return out + bytes([draw(st.sampled_from([0x40, 0x80, 0xFF])), draw(_u8)])
            label = draw(st.binary(min_size=1, max_size=6))
            length = len(label) if draw(st.integers(0, 9)) else draw(st.integers(0, 63))
            out += bytes([length]) + label
        return out + b"\x00"

    counts = [draw(st.integers(0, 3)) for _ in range(4)]
    for _ in range(counts[0]):
        body += name() + struct.pack("!HH", draw(types), 1)
    for _ in range(sum(counts[1:])):
        rtype = draw(types)
        owner = name()
        if draw(st.booleans()):
            rdata = draw(st.binary(max_size=40))
        else:  # names, fixed fields and strings, in some order
            parts = []
            for _ in range(draw(st.integers(1, 4))):
                kind = draw(st.integers(0, 2))
                if kind == 0:
                    parts.append(name())
                elif kind == 1:
                    parts.append(draw(st.binary(min_size=1, max_size=8)))
                else:
                    s = draw(st.binary(max_size=6))
                    parts.append(bytes([len(s) if draw(st.integers(0, 4)) else draw(_u8)]) + s)
            rdata = b"".join(parts)
        rdlen = len(rdata) if draw(st.integers(0, 6)) else draw(st.integers(0, 60))
        body += owner + struct.pack("!HHIH", rtype, 1, draw(_u32), rdlen) + rdata
    if draw(st.integers(0, 4)) == 0:
        del body[draw(st.integers(0, len(body))) :]
    if draw(st.integers(0, 9)) == 0:
        counts = [draw(st.integers(0, 5)) for _ in range(4)]
    return struct.pack("!6H", draw(_u16), draw(_u16), *counts) + bytes(body)


@_SETTINGS
@given(scapy_messages())
def test_messages_scapy_builds(wire):
    assert_same(wire)
    assert_same(struct.pack("!H", len(wire)) + wire, tcp=True)


@_SETTINGS
@given(mutated(scapy_messages()))
def test_damaged_messages_scapy_builds(wire):
    assert_same(wire)


@_SETTINGS
@given(hand_made())
def test_hand_made_messages(wire):
    assert_same(wire)


@_SETTINGS
@given(st.binary(min_size=4, max_size=4), st.binary(max_size=200))
def test_random_bytes(head, rest):
    # Any id and flags; counts mostly small so that the sections are read.
    counts = struct.pack("!4H", *(b % 4 for b in rest[:4].ljust(4, b"\x00")))
    assert_same(head + counts + rest)
    assert_same(head + rest)
    assert_same(head[:2] + rest, tcp=True)


def test_more_than_100_entries_in_a_section_is_unreadable_as_before():
    question = b"\x01a\x00\x00\x01\x00\x01"
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + b"\xc0\x00\x02\x01"
    for n in (100, 101):
        for counts, body in (((1, n, 0, 0), question + answer * n), ((n, 0, 0, 0), question * n),
                             ((1, 0, 0, n), question + answer * n),
                             ((1, 0, 0, n), question + answer * (n - 1) + b"\x00")):
            wire = struct.pack("!6H", 7, 0x8180, *counts) + body
            assert_same(wire)
            assert (dns_info(wire) is None) == (n > 100)


# --------------------------------------------------------------------------- the differences


def test_difference_more_than_100_edns_options():
    """scapy gives up on an OPT record of 101 options (its list limit) and shows
    it unreadable, with nothing after it; the codec reads it, and what follows."""
    options = b"".join(struct.pack("!HH", 65001, 0) for _ in range(101))
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, len(options)) + options
    after = b"\x00" + struct.pack("!HHIH", 1, 1, 300, 4) + b"\xc0\x00\x02\x01"
    wire = struct.pack("!6H", 7, 0x8180, 0, 2, 0, 0) + opt + after
    assert scapy_dns_info(wire)["answers"] == [{"name": "", "type": "?", "ttl": None, "data": ""}]
    answers = dns_info(wire)["answers"]
    assert answers[0]["data"] == " ".join(["EDNS0TLV"] * 101)
    assert answers[1] == {"name": ".", "type": "A", "ttl": 300, "data": "192.0.2.1"}
    # 100 options: the same answer.
    options = options[4:]
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, len(options)) + options
    assert_same(struct.pack("!6H", 7, 0x8180, 0, 2, 0, 0) + opt + after)


def test_difference_more_than_100_svc_params():
    """The same limit for the SvcParams of an SVCB or HTTPS record (RFC 9460)."""
    params = b"".join(struct.pack("!HH", 9, 0) for _ in range(101))
    rr = b"\x00" + struct.pack("!HHIH", 65, 1, 60, 3 + len(params)) + b"\x00\x01\x00" + params
    wire = struct.pack("!6H", 7, 0x8180, 0, 1, 0, 0) + rr
    assert scapy_dns_info(wire)["answers"] == [{"name": "", "type": "?", "ttl": None, "data": ""}]
    assert dns_info(wire)["answers"] == [{"name": ".", "type": "HTTPS", "ttl": 60, "data": ""}]


# --------------------------------------------------------------------------- the codec itself


def test_dns_info_path_never_imports_scapy():
    wire = (struct.pack("!6H", 0x1234, 0x8180, 1, 1, 0, 0) + b"\x01a\x00\x00\x01\x00\x01"
            + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + b"\xc0\x00\x02\x01")
    code = ("import sys\nfrom sockviz.core.dnsinfo import dns_info, warm_up\nwarm_up()\n"
            f"assert dns_info(bytes.fromhex({wire.hex()!r}))['answers'][0]['data'] == '192.0.2.1'\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scapy'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_read_message_fields():
    wire = bytes.fromhex("abcd8580" "0001000100010000") + b"\x03www\x07sockviz\x04test\x00\x00\x05\x00\x01"
    wire += b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 300, 7) + b"\x04chat\xc0\x10"
    wire += b"\xc0\x10" + struct.pack("!HHIH", 6, 1, 60, 0)  # an SOA without its RDATA
    msg = read_message(wire)
    assert msg.header.id == 0xABCD and msg.header.qr and msg.header.rcode == 0
    assert msg.questions == [dnscodec.Question(b"www.sockviz.test.", 5, 1)]
    (cname,) = msg.answers
    assert (cname.name, cname.rtype, cname.ttl) == (b"www.sockviz.test.", 5, 300)
    assert read_name(wire, cname.start, cname.end) == (b"chat.sockviz.test.", cname.end)
    assert msg.authority == [] and msg.broken == "authority"
    assert read_message(wire[:11]) is None
    assert read_message(wire, max_entries=0) is None


def test_read_name_protects_against_loops_and_bounds():
    assert read_name(b"\xc0\x00", 0) == (b".", 2)  # points at itself
    assert read_name(b"\x01a\xc0\x00", 0) == (b"a.a.", 4)  # a loop: each target once
    chain = b"".join(struct.pack("!H", 0xC000 | 2 * (i + 1)) for i in range(30)) + b"\x01z\x00"
    name, end = read_name(chain, 0)
    assert (name, end) == (b".", 2)  # 20 jumps at most: z is never reached
    assert read_name(chain, 2 * 12)[0] == b"z."
    assert read_name(b"\x05ab", 0) == (b"ab.", 6)  # cut short: kept as far as it goes
    assert read_name(b"\x01a\x01b\x00", 0, 2) == (b"a.", 2)  # stops at the end given
    assert read_name(b"\x01a\xc0", 0) == (b"a.", 4)  # the pointer's second byte is missing
    assert read_name(b"\xc0\x09", 0) == (b".", 2)  # past the end
    assert read_name(b"", 5) == (b".", 5)


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 310))
def test_reading_never_raises(data, pos):
    read_name(data, pos)
    read_name(data, pos, pos + 3)
    msg = read_message(data)
    assert (msg is None) == (len(data) < 12)
    dns_info(data)
    dns_info(data, tcp=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20),
                min_size=0, max_size=5))
def test_names_roundtrip_compressed(labels):
    name = ".".join(labels)
    buf = bytearray(12)
    table: dict = {}
    encode_name(name, buf, table)
    start = len(buf)
    encode_name("x." + name if name else "x", buf, table)
    assert decode_name(bytes(buf), 12) == (name, start)
    assert read_name(bytes(buf), 12) == ((name + ".").encode() if name else b".", start)
    assert read_name(bytes(buf), start)[0] == ("x." + name + "." if name else "x.").encode()


def test_decode_name_is_strict_where_read_name_is_not():
    for wire in (b"\xc0\x00", b"\x03abc\xc0\x05", b"\x05ab", b"\x80\x00", b"\x01a"):
        with pytest.raises(DNSFormatError):
            decode_name(wire, 0)
        read_name(wire, 0)
    assert decode_name(b"\x03a.b\x01\\\x00", 0) == ("a\\.b.\\\\", 7)


def test_tcp_length_prefix():
    assert tcp_message(b"\x00") is None
    assert tcp_message(b"\x00\x03abcdef") == b"abc"
    assert tcp_message(b"\x00\x09abc") == b"abc"


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0x1234]) | st.integers(0, 0xFFFF),
                min_size=8, max_size=8))
def test_ipv6_text_is_inet_ntop(groups):
    raw = struct.pack("!8H", *groups)
    assert format_ipv6(raw) == socket.inet_ntop(socket.AF_INET6, raw)


def test_ipv6_text_examples():
    for text in ("::", "::1", "::ffff:192.0.2.1", "::192.0.2.1", "2001:db8::2", "1:0:1::", "::2:3:4:5:6:7"):
        assert format_ipv6(socket.inet_pton(socket.AF_INET6, text)) == text


def test_rdata_fits():
    soa = b"\x02ns\x00\x02hm\x00" + bytes(20)
    assert dnscodec.rdata_fits(6, soa, 0, len(soa))
    assert not dnscodec.rdata_fits(6, soa, 0, len(soa) - 1)
    assert dnscodec.rdata_fits(15, b"\x00\x0a\x00", 0, 3) and not dnscodec.rdata_fits(15, b"\x00", 0, 1)
    assert dnscodec.rdata_fits(99, b"", 0, 0)  # no fixed part
    assert not dnscodec.rdata_fits(1, b"\x01\x02\x03", 0, 3)
