"""One packet layer by layer (``sockviz replay FILE --packet N``, issue 16).

Golden views of packets of the shipped captures on a fixed-width colourless
console, a field-by-field cross-check against tshark's own dissection (values,
and the positions and sizes of the fields), cut and damaged frames that must
never raise, and ``read_frame``'s packet numbers.

Regenerate the golden files after a deliberate change with:
SOCKVIZ_UPDATE_GOLDEN=1 pytest tests/test_layers.py
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from sockviz.capfile.reader import open_capture
from sockviz.core.decode import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW
from sockviz.render.layers import PacketLayers, PacketNotFound, frame_layers, packet_layers, read_frame

CAPTURES = Path(__file__).parent.parent / "captures"
GOLDEN = Path(__file__).parent / "golden" / "layers"

# (golden name, capture, packet number)
PACKETS = [
    ("tcp_syn", "tcp.pcapng", 5),
    ("tcp_data", "tcp.pcapng", 8),
    ("arp_request", "tcp.pcapng", 1),
    ("dns_query", "getaddrinfo.pcapng", 1),
    ("dns_response", "getaddrinfo.pcapng", 2),  # the answer to the A query
    ("icmp_port_unreachable", "udp-unreachable.pcapng", 4),
    ("tcp6_data", "tcp6.pcapng", 8),
    ("ndp_solicitation", "tcp6.pcapng", 3),
]
IDS = [p[0] for p in PACKETS]
WIDE = {"tcp_syn", "dns_response", "icmp_port_unreachable"}  # the longest values and labels


def render(view: PacketLayers, width: int = 100) -> str:
    out = io.StringIO()
    console = Console(width=width, no_color=True, color_system=None, force_terminal=False, highlight=False,
                      emoji=False, file=out)
    console.print(view)
    return out.getvalue()


@functools.cache
def view_of(capture: str, number: int) -> PacketLayers:
    return frame_layers(read_frame(CAPTURES / capture, number))


@functools.cache
def syn() -> tuple[bytes, int]:
    frame = read_frame(CAPTURES / "tcp.pcapng", 5)
    return frame.data, frame.wirelen


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("SOCKVIZ_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --- golden views -------------------------------------------------------------


@pytest.mark.parametrize(("name", "capture", "number"), PACKETS, ids=IDS)
def test_view_matches_golden(name, capture, number):
    check_golden(name, render(view_of(capture, number)))


def test_cut_syn_matches_golden():
    data, wirelen = syn()
    frame = read_frame(CAPTURES / "tcp.pcapng", 5)
    view = packet_layers(data[:60], LINKTYPE_ETHERNET, index=5, time=frame.time, iface="eth0",
                         wirelen=wirelen, direction=frame.direction)
    check_golden("tcp_syn_cut_at_60", render(view))


@pytest.mark.parametrize("width", [50, 60, 80, 100, 160])
@pytest.mark.parametrize(("name", "capture", "number"), [p for p in PACKETS if p[0] in WIDE],
                         ids=sorted(WIDE, key=IDS.index))
def test_lines_fit_the_console_without_trailing_spaces(name, capture, number, width):
    lines = render(view_of(capture, number), width).splitlines()
    assert max(len(line) for line in lines) <= width
    assert [line for line in lines if line != line.rstrip()] == []


def test_hex_dump_rows_keep_their_columns():
    lines = render(view_of("tcp.pcapng", 5)).splitlines()
    dump = lines[lines.index("  IPv4  bytes 14–33 (20 bytes)") + 1:]
    hex_at = 8 + 3 * 14 + 1  # offset, 14 cells of 3 columns, the gap after 8 bytes
    ascii_at = 8 + 3 * 16 + 1 + 1
    assert dump[0].startswith("  0000 ") and dump[0].index("45 00") == hex_at
    assert dump[0][ascii_at + 14:] == "E."
    row = syn()[0][16:32]  # the capture's own bytes (its IP id and checksum vary by run)
    cells = [f"{b:02x}" for b in row]
    text = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in row)
    assert dump[1] == f"  0010  {' '.join(cells[:8])}  {' '.join(cells[8:])}  {text}"
    assert dump[1].startswith("  0010  00 3c ") and " 40 00 40 06 " in dump[1]  # length 60, DF, TTL 64, TCP


# --- what the view says ---------------------------------------------------------


def test_syn_sizes_add_up():
    view = view_of("tcp.pcapng", 5)
    assert view.sum_line() == "74 bytes = 14 Ethernet + 20 IPv4 + 40 TCP + 0 payload"


def test_icmp_error_sizes_name_the_quoted_packet():
    assert view_of("udp-unreachable.pcapng", 4).sum_line() == (
        "75 bytes = 14 Ethernet + 20 IPv4 + 8 ICMP + 20 quoted IPv4 + 8 quoted UDP + 5 quoted payload")


def test_data_segment_sizes_count_the_payload():
    view = view_of("tcp.pcapng", 8)
    assert view.sum_line() == "80 bytes = 14 Ethernet + 20 IPv4 + 32 TCP + 14 payload"
    assert view.layer("payload").get("data") == b"Test en classe"


@pytest.mark.parametrize("capture", sorted(p.name for p in CAPTURES.glob("*.pcapng")))
def test_every_shipped_packet_is_read_whole_and_in_order(capture):
    for frame in open_capture(CAPTURES / capture):
        view = frame_layers(frame)
        position = 0
        for layer in view.layers:
            assert layer.start == position, (frame.index, layer.kind)
            position = layer.end
            assert layer.problem is None, (frame.index, layer.problem)
        assert position == len(frame.data)
        total, parts = view.sum_line().split(" bytes = ")
        assert int(total) == sum(int(p.split()[0]) for p in parts.split(" + ")) == len(frame.data)


def test_tcp_options_are_each_named_with_kind_length_and_value():
    tcp = view_of("tcp.pcapng", 5).layer("tcp")
    assert tcp.get("options.mss") == 1460
    assert tcp.get("options.wscale") == 10
    tsval = int.from_bytes(syn()[0][62:66], "big")  # options at 54: MSS (4), SACK-OK (2), TS 8 10
    assert tcp.get("options.ts") == (tsval, 0)
    assert tcp.field("options.wscale").text == "kind 3, length 3: shift 10 (×1024)"
    assert tcp.field("options.nop").bits == 8
    assert tcp.field("options.sackok").bits == 16
    assert tcp.field("flags").text == "00000010: SYN"
    assert tcp.field("seq").text.endswith("(raw)")


def test_dns_sections_are_walked_record_by_record():
    dns = view_of("getaddrinfo.pcapng", 2).layer("dns")
    assert dns.get("question.1.name") == "www.sockviz.test."
    assert dns.get("answer.1.type") == 5  # CNAME
    assert dns.get("answer.1.rdata") == "chat.sockviz.test."
    assert dns.get("answer.2.ttl") == 300
    assert dns.get("answer.2.rdata") == "192.0.2.2"
    assert "pointer to offset 12" in dns.field("answer.1.name").text


def test_importing_the_module_does_not_import_scapy_or_rich():
    code = "import sys, sockviz.render.layers; print(sorted({'scapy', 'rich'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- cut, damaged and other frames ----------------------------------------------


@pytest.mark.parametrize("length", range(75))
def test_a_cut_syn_never_raises_and_says_where_it_breaks(length):
    data, wirelen = syn()
    view = packet_layers(data[:length], LINKTYPE_ETHERNET, index=5, time=0.0, wirelen=wirelen)
    text = render(view, 80)
    assert sum(layer.length for layer in view.layers) == length
    if length == len(data):
        assert view.problems == () and view.snap is None
        return
    assert view.snap is not None and f"kept {length} of the 74 bytes" in view.snap
    if length == 0:
        return
    assert len(view.problems) == 1
    problem = view.problems[0]
    if length in (14, 34):  # a header ends exactly there: the next one is missing whole
        assert "should begin" in problem
    else:
        assert f"byte {length} of the frame" in problem
    assert "⚠" in text


def _damaged(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + bytes([value]) + data[at + 1:]


DAMAGE = [
    ("ipv4-ihl-3", "tcp.pcapng", 5, 14, 0x43, "ipv4", "IHL 3 is less than 5"),
    ("tcp-data-offset-2", "tcp.pcapng", 5, 46, 0x20, "tcp", "data offset 2 is less than 5"),
    ("ipv4-total-length-too-long", "tcp.pcapng", 5, 16, 0x01, "ipv4", "nothing was cut by the capture"),
    ("ipv4-version-5", "tcp.pcapng", 5, 14, 0x55, "ipv4", "says 5, not 4"),
    ("dns-answer-count-9", "getaddrinfo.pcapng", 2, 49, 9, "dns", "announces 9 answers, only 2"),
    ("tcp-option-length-1", "tcp.pcapng", 5, 55, 1, "tcp", "length 1 is less than 2"),
]


@pytest.mark.parametrize(("capture", "number", "at", "value", "kind", "words"),
                         [d[1:] for d in DAMAGE], ids=[d[0] for d in DAMAGE])
def test_a_damaged_frame_says_what_is_wrong(capture, number, at, value, kind, words):
    frame = read_frame(CAPTURES / capture, number)
    data = _damaged(frame.data, at, value)
    view = packet_layers(data, frame.linktype, index=number, time=frame.time)
    render(view)
    problems = [la.problem for la in view.layers if la.kind == kind and la.problem]
    assert problems and words in problems[0]
    assert sum(layer.length for layer in view.layers) == len(data)


def test_random_damage_never_raises():
    import random

    rnd = random.Random(16)
    data, _ = syn()
    for _ in range(200):
        mutated = bytearray(data)
        for _ in range(rnd.randint(1, 6)):
            mutated[rnd.randrange(len(mutated))] = rnd.randrange(256)
        view = packet_layers(bytes(mutated[:rnd.randint(0, len(mutated))]), LINKTYPE_ETHERNET, index=1)
        assert sum(layer.length for layer in view.layers) == len(view.data)


def test_control_characters_in_a_name_do_not_reach_the_terminal():
    frame = read_frame(CAPTURES / "getaddrinfo.pcapng", 1)
    at = frame.data.index(b"\x07sockviz") + 1
    data = frame.data[:at] + b"so\x1b[2J\x07z" + frame.data[at + 7:]
    text = render(packet_layers(data, frame.linktype, index=1))
    assert "\x1b" not in text and "\x07" not in text


@pytest.mark.parametrize(("linktype", "head", "kinds"), [
    (LINKTYPE_RAW, b"", ["ipv4", "tcp"]),
    (LINKTYPE_LINUX_SLL, bytes.fromhex("0004 0001 0006 027376 7a0001 0000 0800"), ["sll", "ipv4", "tcp"]),
], ids=["raw-ip", "linux-cooked"])
def test_other_link_types(linktype, head, kinds):
    data, _ = syn()
    view = packet_layers(head + data[14:], linktype, index=1)
    assert view.kinds() == kinds
    assert view.layer("tcp").get("dport") == 3001
    assert view.problems == ()


def test_an_unknown_link_type_shows_the_bytes():
    view = packet_layers(b"\x01\x02\x03", 4242, index=1)
    assert view.kinds() == ["unread"]
    assert "link type 4242" in view.problems[0]
    assert "01 02 03" in render(view)


# --- packet numbers ---------------------------------------------------------------


def test_read_frame_counts_from_one():
    assert read_frame(CAPTURES / "tcp.pcapng", 1).index == 1
    assert read_frame(CAPTURES / "tcp.pcapng", 14).index == 14


@pytest.mark.parametrize(("number", "words"), [(0, "start at 1, not 0"), (-3, "start at 1, not -3"),
                                               (15, "no packet 15")])
def test_packet_not_found_says_how_many_there_are(number, words):
    with pytest.raises(PacketNotFound) as caught:
        read_frame(CAPTURES / "tcp.pcapng", number)
    assert caught.value.count == 14 and caught.value.n == number
    assert words in str(caught.value) and "the file has 14 packets" in str(caught.value)


# --- the cross-check against tshark -----------------------------------------------

needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def _num(show: str) -> int:
    return int(show, 0)


def _same(value):
    return value


def _words(value: int) -> int:
    return value * 4


def _low8(show: str) -> int:
    return int(show, 0) & 0xFF


def _name(value: str) -> str:
    return value.rstrip(".") or "<Root>"


def _first(value: tuple) -> int:
    return value[0]


def _second(value: tuple) -> int:
    return value[1]


# (layer kind, our field key with numbers as N) -> [(tshark field, ours, theirs, sizes equal, optional)]
SIZED, UNSIZED = True, False  # whether tshark's item has our exact position and size (bit fields: not)
MUST, MAY = False, True  # whether tshark may leave the field out
CROSS = {
    ("ethernet", "dst"): [("eth.dst", str, str, SIZED, MUST)],
    ("ethernet", "src"): [("eth.src", str, str, SIZED, MUST)],
    ("ethernet", "type"): [("eth.type", _same, _num, SIZED, MUST)],
    ("arp", "hwtype"): [("arp.hw.type", _same, _num, SIZED, MUST)],
    ("arp", "ptype"): [("arp.proto.type", _same, _num, SIZED, MUST)],
    ("arp", "hwlen"): [("arp.hw.size", _same, _num, SIZED, MUST)],
    ("arp", "plen"): [("arp.proto.size", _same, _num, SIZED, MUST)],
    ("arp", "op"): [("arp.opcode", _same, _num, SIZED, MUST)],
    ("arp", "hwsrc"): [("arp.src.hw_mac", str, str, SIZED, MUST)],
    ("arp", "psrc"): [("arp.src.proto_ipv4", str, str, SIZED, MUST)],
    ("arp", "hwdst"): [("arp.dst.hw_mac", str, str, SIZED, MUST)],
    ("arp", "pdst"): [("arp.dst.proto_ipv4", str, str, SIZED, MUST)],
    ("ipv4", "version"): [("ip.version", _same, _num, UNSIZED, MUST)],
    ("ipv4", "ihl"): [("ip.hdr_len", _words, _num, UNSIZED, MUST)],
    ("ipv4", "dscp"): [("ip.dsfield.dscp", _same, _num, UNSIZED, MUST)],
    ("ipv4", "ecn"): [("ip.dsfield.ecn", _same, _num, UNSIZED, MUST)],
    ("ipv4", "len"): [("ip.len", _same, _num, SIZED, MUST)],
    ("ipv4", "id"): [("ip.id", _same, _num, SIZED, MUST)],
    ("ipv4", "flags"): [("ip.flags", _same, _num, UNSIZED, MUST)],
    ("ipv4", "flags.DF"): [("ip.flags.df", _same, _num, UNSIZED, MUST)],
    ("ipv4", "flags.MF"): [("ip.flags.mf", _same, _num, UNSIZED, MUST)],
    ("ipv4", "frag"): [("ip.frag_offset", _same, _num, UNSIZED, MUST)],  # in units of 8 bytes
    ("ipv4", "options.N"): [("ip.opt.type", _same, _num, UNSIZED, MUST)],
    ("ipv4", "ttl"): [("ip.ttl", _same, _num, SIZED, MUST)],
    ("ipv4", "proto"): [("ip.proto", _same, _num, SIZED, MUST)],
    ("ipv4", "chksum"): [("ip.checksum", _same, _num, SIZED, MUST)],
    ("ipv4", "src"): [("ip.src", str, str, SIZED, MUST)],
    ("ipv4", "dst"): [("ip.dst", str, str, SIZED, MUST)],
    ("ipv6", "version"): [("ipv6.version", _same, _num, UNSIZED, MUST)],
    ("ipv6", "tc"): [("ipv6.tclass", _same, _num, UNSIZED, MUST)],
    ("ipv6", "fl"): [("ipv6.flow", _same, _num, UNSIZED, MUST)],
    ("ipv6", "plen"): [("ipv6.plen", _same, _num, SIZED, MUST)],
    ("ipv6", "nh"): [("ipv6.nxt", _same, _num, SIZED, MUST)],
    ("ipv6", "hlim"): [("ipv6.hlim", _same, _num, SIZED, MUST)],
    ("ipv6", "src"): [("ipv6.src", str, str, SIZED, MUST)],
    ("ipv6", "dst"): [("ipv6.dst", str, str, SIZED, MUST)],
    ("tcp", "sport"): [("tcp.srcport", _same, _num, SIZED, MUST)],
    ("tcp", "dport"): [("tcp.dstport", _same, _num, SIZED, MUST)],
    ("tcp", "seq"): [("tcp.seq_raw", _same, _num, SIZED, MUST)],
    ("tcp", "ack"): [("tcp.ack_raw", _same, _num, SIZED, MUST)],
    ("tcp", "dataofs"): [("tcp.hdr_len", _words, _num, UNSIZED, MUST)],
    ("tcp", "flags"): [("tcp.flags", _same, _low8, UNSIZED, MUST)],
    ("tcp", "flags.SYN"): [("tcp.flags.syn", _same, _num, UNSIZED, MUST)],
    ("tcp", "flags.ACK"): [("tcp.flags.ack", _same, _num, UNSIZED, MUST)],
    ("tcp", "flags.PSH"): [("tcp.flags.push", _same, _num, UNSIZED, MUST)],
    ("tcp", "flags.FIN"): [("tcp.flags.fin", _same, _num, UNSIZED, MUST)],
    ("tcp", "flags.RST"): [("tcp.flags.reset", _same, _num, UNSIZED, MUST)],
    ("tcp", "window"): [("tcp.window_size_value", _same, _num, SIZED, MUST)],
    ("tcp", "chksum"): [("tcp.checksum", _same, _num, SIZED, MUST)],
    ("tcp", "urgptr"): [("tcp.urgent_pointer", _same, _num, SIZED, MUST)],
    ("tcp", "options"): [("tcp.options", None, None, SIZED, MUST)],
    ("tcp", "options.mss"): [("tcp.options.mss_val", _same, _num, UNSIZED, MUST)],
    ("tcp", "options.wscale"): [("tcp.options.wscale.shift", _same, _num, UNSIZED, MUST)],
    ("tcp", "options.ts"): [("tcp.options.timestamp.tsval", _first, _num, UNSIZED, MUST),
                            ("tcp.options.timestamp.tsecr", _second, _num, UNSIZED, MUST)],
    ("udp", "sport"): [("udp.srcport", _same, _num, SIZED, MUST)],
    ("udp", "dport"): [("udp.dstport", _same, _num, SIZED, MUST)],
    ("udp", "len"): [("udp.length", _same, _num, SIZED, MUST)],
    ("udp", "chksum"): [("udp.checksum", _same, _num, SIZED, MUST)],
    ("icmp", "type"): [("icmp.type", _same, _num, SIZED, MUST)],
    ("icmp", "code"): [("icmp.code", _same, _num, SIZED, MUST)],
    ("icmp", "chksum"): [("icmp.checksum", _same, _num, SIZED, MUST)],
    ("icmp", "id"): [("icmp.ident", _same, _num, SIZED, MUST)],
    ("icmp", "seq"): [("icmp.seq", _same, _num, SIZED, MUST)],
    ("icmp", "nexthopmtu"): [("icmp.mtu", _same, _num, SIZED, MAY)],
    ("icmpv6", "type"): [("icmpv6.type", _same, _num, SIZED, MUST)],
    ("icmpv6", "code"): [("icmpv6.code", _same, _num, SIZED, MUST)],
    ("icmpv6", "cksum"): [("icmpv6.checksum", _same, _num, SIZED, MUST)],
    ("icmpv6", "tgt"): [("icmpv6.nd.ns.target_address", str, str, SIZED, MUST)],
    ("icmpv6", "id"): [("icmpv6.echo.identifier", _same, _num, SIZED, MUST)],
    ("icmpv6", "seq"): [("icmpv6.echo.sequence_number", _same, _num, SIZED, MUST)],
    ("icmpv6", "mtu"): [("icmpv6.mtu", _same, _num, SIZED, MUST)],
    ("ipv6-fragment", "nh"): [("ipv6.fraghdr.nxt", _same, _num, SIZED, MUST)],
    ("ipv6-fragment", "offset"): [("ipv6.fraghdr.offset", _same, _num, UNSIZED, MUST)],
    ("ipv6-fragment", "m"): [("ipv6.fraghdr.more", _same, _num, UNSIZED, MUST)],
    ("ipv6-fragment", "id"): [("ipv6.fraghdr.ident", _same, _num, SIZED, MUST)],
    ("ipv6-hop-by-hop", "nh"): [("ipv6.hopopts.nxt", _same, _num, SIZED, MUST)],
    ("ipv6-hop-by-hop", "len"): [("ipv6.hopopts.len", _same, _num, SIZED, MUST)],
    ("ndp-option", "type"): [("icmpv6.opt.type", _same, _num, SIZED, MUST)],
    ("ndp-option", "len"): [("icmpv6.opt.length", _same, _num, SIZED, MUST)],
    ("ndp-option", "lladdr"): [("icmpv6.opt.linkaddr", str, str, SIZED, MUST)],
    ("dns", "id"): [("dns.id", _same, _num, SIZED, MUST)],
    ("dns", "qr"): [("dns.flags.response", _same, _num, UNSIZED, MUST)],
    ("dns", "opcode"): [("dns.flags.opcode", _same, _num, UNSIZED, MUST)],
    ("dns", "aa"): [("dns.flags.authoritative", _same, _num, UNSIZED, MAY)],  # tshark: responses only
    ("dns", "tc"): [("dns.flags.truncated", _same, _num, UNSIZED, MUST)],
    ("dns", "rd"): [("dns.flags.recdesired", _same, _num, UNSIZED, MUST)],
    ("dns", "ra"): [("dns.flags.recavail", _same, _num, UNSIZED, MAY)],
    ("dns", "z"): [("dns.flags.z", _same, _num, UNSIZED, MUST)],
    ("dns", "ad"): [("dns.flags.authenticated", _same, _num, UNSIZED, MAY)],
    ("dns", "cd"): [("dns.flags.checkdisable", _same, _num, UNSIZED, MAY)],
    ("dns", "rcode"): [("dns.flags.rcode", _same, _num, UNSIZED, MAY)],
    ("dns", "qdcount"): [("dns.count.queries", _same, _num, SIZED, MUST)],
    ("dns", "ancount"): [("dns.count.answers", _same, _num, SIZED, MUST)],
    ("dns", "nscount"): [("dns.count.auth_rr", _same, _num, SIZED, MUST)],
    ("dns", "arcount"): [("dns.count.add_rr", _same, _num, SIZED, MUST)],
    ("dns", "question.N.name"): [("dns.qry.name", _name, str, SIZED, MUST)],
    ("dns", "question.N.type"): [("dns.qry.type", _same, _num, SIZED, MUST)],
    ("dns", "question.N.class"): [("dns.qry.class", _same, _num, SIZED, MUST)],
}
for _section in ("answer", "authority", "additional"):  # the resource records (RFC 1035 §4.1.3)
    CROSS.update({
        ("dns", f"{_section}.N.name"): [("dns.resp.name", _name, str, SIZED, MUST)],
        ("dns", f"{_section}.N.type"): [("dns.resp.type", _same, _num, SIZED, MUST)],
        ("dns", f"{_section}.N.class"): [("dns.resp.class", _same, _num, SIZED, MAY),
                                         ("dns.rr.udp_payload_size", _same, _num, SIZED, MAY)],  # OPT
        ("dns", f"{_section}.N.ttl"): [("dns.resp.ttl", _same, _num, SIZED, MAY)],  # not for OPT
        ("dns", f"{_section}.N.rdlength"): [("dns.resp.len", _same, _num, SIZED, MUST)],
        ("dns", f"{_section}.N.rdata"): [("dns.a", str, str, SIZED, MAY),
                                         ("dns.aaaa", str, str, SIZED, MAY),
                                         ("dns.cname", _name, str, SIZED, MAY)],
    })
# A quoted TCP header has no stream, so tshark shows its numbers as they are, under the plain names.
CROSS_QUOTED = {
    ("tcp", "seq"): [("tcp.seq", _same, _num, SIZED, MUST)],
    ("tcp", "ack"): [("tcp.ack", _same, _num, SIZED, MUST)],
}
# tshark proto element -> our layer kind; tshark's ICMP items also cover the quoted packet.
PROTOS = {"eth": "ethernet", "arp": "arp", "ip": "ipv4", "ipv6": "ipv6", "tcp": "tcp", "udp": "udp",
          "dns": "dns", "icmp": "icmp", "icmpv6": "icmpv6"}
WHOLE_MESSAGE = {"icmp", "icmpv6"}
# Our layers that tshark dissects as part of a bigger item: the item's name and where it starts is enough.
LAYER_PROTOS = {"ipv6-fragment": "ipv6.fraghdr", "ipv6-hop-by-hop": "ipv6.hopopts"}
DISSECTED_ALONE = {*PROTOS.values(), *LAYER_PROTOS.values()}
TCP_OPTION_KINDS = {"eol": 0, "nop": 1, "mss": 2, "wscale": 3, "sackok": 4, "sack": 5, "ts": 8}
CHECKSUMS = {("ipv4", "chksum"): "ip", ("tcp", "chksum"): "tcp", ("udp", "chksum"): "udp",
             ("icmp", "chksum"): "icmp", ("icmpv6", "cksum"): "icmpv6"}


@functools.cache
def tshark_packets(capture: str) -> dict[int, ET.Element]:
    out = subprocess.run(
        ["tshark", "-r", str(CAPTURES / capture), "-T", "pdml", "-o", "ip.check_checksum:TRUE",
         "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"],
        capture_output=True, check=True)  # as root tshark only warns on stderr
    root = ET.fromstring(out.stdout)
    packets = {}
    for packet in root.iter("packet"):
        number = next(int(f.get("show")) for f in packet.iter("field") if f.get("name") == "frame.number")
        packets[number] = packet
    return packets


def _overlapping(packet: ET.Element, name: str, start: int, end: int) -> list[ET.Element]:
    found = []
    for item in packet.iter("field"):
        if item.get("name") != name or item.get("pos") is None:
            continue
        pos, size = int(item.get("pos")), int(item.get("size") or 0)
        if pos < end and start < pos + max(size, 1):
            found.append(item)
    return sorted(found, key=lambda f: abs(int(f.get("pos")) - start))


def compare_with_tshark(view: PacketLayers, packet: ET.Element) -> list[str]:
    """Every field both read: same value, and for whole-byte fields the same position and size."""
    compared = []
    dissected = {(PROTOS.get(p.get("name"), p.get("name")), int(p.get("pos")))
                 for p in packet.iter("proto") if p.get("pos") is not None}
    for layer in view.layers:
        proto = LAYER_PROTOS.get(layer.kind, layer.kind)
        if proto in DISSECTED_ALONE and (proto, layer.start) not in dissected:
            continue  # tshark left these bytes undissected (a fragment waiting to be reassembled)
        for row in layer.fields:
            if not row.captured:
                continue
            key = re.sub(r"\.\d+(?=\.|$)", ".N", row.key)
            start, end = row.offset // 8, (row.offset + row.bits + 7) // 8
            checks = CROSS_QUOTED.get((layer.kind, key)) if layer.quoted else None
            checks = checks or CROSS.get((layer.kind, key), ())
            for tname, ours, theirs, same_size, optional in checks:
                found = _overlapping(packet, tname, start, end)
                if not found:
                    assert optional, f"tshark has no {tname} at byte {start} ({layer.kind} {row.key})"
                    continue
                item = found[0]
                if ours is not None:
                    assert ours(row.value) == theirs(item.get("show")), (layer.kind, row.key, tname)
                if same_size:
                    assert (int(item.get("pos")), int(item.get("size"))) == (start, row.bits // 8), (
                        layer.kind, row.key, tname)
                compared.append(tname)
    return compared


@needs_tshark
@pytest.mark.parametrize(("name", "capture", "number"), PACKETS, ids=IDS)
def test_fields_agree_with_tshark(name, capture, number):
    compared = compare_with_tshark(view_of(capture, number), tshark_packets(capture)[number])
    assert len(compared) >= 10, compared


def _crafted() -> dict[str, bytes]:
    """Frames the shipped captures lack, built with scapy: options, fragments, extension headers."""
    import logging

    logging.getLogger("scapy").setLevel(logging.ERROR)
    from scapy.layers.dns import DNS, DNSQR, DNSRROPT
    from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_Router_Alert, fragment
    from scapy.layers.inet6 import (
        ICMPv6DestUnreach,
        ICMPv6EchoRequest,
        ICMPv6PacketTooBig,
        IPv6,
        IPv6ExtHdrFragment,
        IPv6ExtHdrHopByHop,
        RouterAlert,
    )
    from scapy.layers.l2 import Ether

    eth = Ether(src="02:73:76:7a:00:01", dst="02:73:76:7a:00:02")
    a, b = "192.0.2.1", "192.0.2.2"
    a6, b6 = "2001:db8::1", "2001:db8::2"
    datagram = IP(src=a, dst=b, id=77) / UDP(sport=5000, dport=3001) / (b"x" * 3000)
    pieces = fragment(datagram, fragsize=1480)
    syn = IP(src=a, dst=b, len=60, proto=6) / TCP(sport=40000, dport=3001, flags="S").build()[:8]
    frames = {
        "ipv4-first-fragment": eth / pieces[0],
        "ipv4-second-fragment": eth / pieces[1],
        "ipv4-router-alert": eth / IP(src=a, dst=b, options=[IPOption_Router_Alert()])
        / UDP(sport=1, dport=2),
        "tcp-sack": eth / IP(src=a, dst=b) / TCP(sport=1, dport=2, flags="A", seq=5, ack=9,
                                               options=[("NOP", None), ("NOP", None),
                                                        ("SAck", (100, 200))]),
        "dns-edns-query": eth / IP(src=a, dst=b) / UDP(sport=4000, dport=53) / DNS(
            id=0x1234, rd=1, qd=DNSQR(qname="chat.sockviz.test", qtype="AAAA"), ar=DNSRROPT(rclass=1232)),
        "icmp-echo": eth / IP(src=a, dst=b) / ICMP(id=7, seq=1) / b"ping",
        "icmp-quoting-tcp": eth / IP(src=b, dst=a) / ICMP(type=3, code=3) / syn,
        "ipv6-fragment": eth / IPv6(src=a6, dst=b6) / IPv6ExtHdrFragment(id=9, m=1) / UDP(sport=1, dport=2),
        "ipv6-hop-by-hop": eth / IPv6(src=a6, dst="ff02::16") / IPv6ExtHdrHopByHop(options=[RouterAlert()])
        / ICMPv6EchoRequest(id=1, seq=2, data=b"hey"),
        "icmpv6-port-unreachable": eth / IPv6(src=b6, dst=a6) / ICMPv6DestUnreach(code=4)
        / IPv6(src=a6, dst=b6) / UDP(sport=4444, dport=3999) / b"allo?",
        "icmpv6-packet-too-big": eth / IPv6(src=b6, dst=a6) / ICMPv6PacketTooBig(mtu=1280)
        / IPv6(src=a6, dst=b6) / UDP(sport=4444, dport=3999) / b"allo?",
    }
    return {name: bytes(frame) for name, frame in frames.items()}


CRAFTED = ["ipv4-first-fragment", "ipv4-second-fragment", "ipv4-router-alert", "tcp-sack", "dns-edns-query",
           "icmp-echo", "icmp-quoting-tcp", "ipv6-fragment", "ipv6-hop-by-hop", "icmpv6-port-unreachable",
           "icmpv6-packet-too-big"]


@pytest.fixture(scope="module")
def crafted(tmp_path_factory) -> tuple[dict[str, bytes], dict[int, ET.Element]]:
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    frames = _crafted()
    assert sorted(frames) == sorted(CRAFTED)
    path = tmp_path_factory.mktemp("crafted") / "crafted.pcap"
    wrpcap(str(path), [Ether(frames[name]) for name in CRAFTED])
    return frames, tshark_packets(str(path))


@needs_tshark
@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_fields_agree_with_tshark(name, crafted):
    frames, packets = crafted
    view = packet_layers(frames[name], LINKTYPE_ETHERNET, index=CRAFTED.index(name) + 1)
    assert view.problems == ()
    compared = compare_with_tshark(view, packets[CRAFTED.index(name) + 1])
    assert len(compared) >= 10, compared
    compare_checksums(view, packets[CRAFTED.index(name) + 1])


@needs_tshark
@pytest.mark.parametrize(("name", "capture", "number"), PACKETS, ids=IDS)
def test_layer_boundaries_agree_with_tshark(name, capture, number):
    view = view_of(capture, number)
    packet = tshark_packets(capture)[number]
    theirs = [(PROTOS[p.get("name")], int(p.get("pos")), int(p.get("size")))
              for p in packet.iter("proto") if p.get("name") in PROTOS]
    ours = [(la.kind, la.start, la.length) for la in view.layers if la.kind in PROTOS.values()]
    assert [(k, s) for k, s, _ in ours] == [(k, s) for k, s, _ in theirs]
    for (kind, _, length), (_, _, size) in zip(ours, theirs, strict=True):
        if kind in WHOLE_MESSAGE:
            continue
        assert length == size, kind


def compare_checksums(view: PacketLayers, packet: ET.Element) -> int:
    """Where both checked a checksum, the same verdict; how many were compared."""
    compared = 0
    for layer in view.layers:
        for row in layer.fields:
            proto = CHECKSUMS.get((layer.kind, row.key))
            if proto is None:
                continue
            start = row.offset // 8
            status = _overlapping(packet, f"{proto}.checksum.status", start, start + 2)
            if not status or status[0].get("show") == "2":  # tshark did not check it
                continue
            good = status[0].get("show") == "1"
            assert ("(correct)" in row.text, "(wrong" in row.text) == (good, not good), (layer.kind, row.text)
            compared += 1
    return compared


@needs_tshark
@pytest.mark.parametrize(("name", "capture", "number"), PACKETS, ids=IDS)
def test_checksum_verdicts_agree_with_tshark(name, capture, number):
    compared = compare_checksums(view_of(capture, number), tshark_packets(capture)[number])
    assert compared >= (0 if name == "arp_request" else 1)  # ARP has no checksum


@needs_tshark
@pytest.mark.parametrize(("capture", "number"), [("tcp.pcapng", 5), ("tcp.pcapng", 6), ("tcp6.pcapng", 5)])
def test_tcp_option_kinds_and_lengths_agree_with_tshark(capture, number):
    tcp = view_of(capture, number).layer("tcp")
    packet = tshark_packets(capture)[number]
    options = [row for row in tcp.fields if row.key.startswith("options.")]
    assert len(options) == 5
    for row in options:
        start = row.offset // 8
        kind = [f for f in _overlapping(packet, "tcp.option_kind", start, start + 1)
                if int(f.get("pos")) == start]
        assert kind and int(kind[0].get("show")) == TCP_OPTION_KINDS[row.key.split(".")[1]], row.key
        if row.bits > 8:
            length = [f for f in _overlapping(packet, "tcp.option_len", start + 1, start + 2)
                      if int(f.get("pos")) == start + 1]
            assert int(length[0].get("show")) == row.bits // 8, row.key
