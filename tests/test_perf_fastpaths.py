"""The replay fast paths write exactly what the general code writes.

Each speed-up of the per-packet path (issue 6) has a general twin: the
decoder's one-unpack IPv4 path beside the layer-by-layer walk, the JSON
packet line beside ``json.dumps`` of the record. These tests feed both the
same frames (synthetic traffic, the lessons' scenarios, tcpdump's corpus and
random damage) and compare.
"""

from __future__ import annotations

import json
import random
import struct
import sys
from pathlib import Path

import pytest

from scenarios import SCENARIOS, feed
from sockviz.core import decode as decode_mod
from sockviz.core.correlate import Correlator
from sockviz.core.decode import LINKTYPE_ETHERNET, decode
from sockviz.core.events import Packet
from sockviz.core.jsonmodel import packet_json, packet_line
from sockviz.core.timeline import PacketShown

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import synthcap

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "tcpdump-tests"


def slow_decode(data: bytes, linktype: int):
    saved = decode_mod._fast_ip4
    decode_mod._fast_ip4 = lambda r, data, off: False
    try:
        return decode(data, linktype)
    finally:
        decode_mod._fast_ip4 = saved


def frames():
    yield from synthcap.frames(3000, seed=1)
    yield from synthcap.frames(300, seed=2, short_flows=True)


def damaged(frame: bytes, rng: random.Random) -> bytes:
    data = bytearray(frame)
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(12, min(len(data), 80))
        data[i] = rng.randrange(256)
    if rng.random() < 0.3:
        del data[rng.randrange(14, len(data)):]
    return bytes(data)


def test_fast_ipv4_decoding_equals_the_layer_walk():
    rng = random.Random(6)
    count = 0
    for frame in frames():
        assert decode(frame, LINKTYPE_ETHERNET) == slow_decode(frame, LINKTYPE_ETHERNET)
        bad = damaged(frame, rng)
        assert decode(bad, LINKTYPE_ETHERNET) == slow_decode(bad, LINKTYPE_ETHERNET), bad.hex()
        count += 1
    assert count > 3000


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/tcpdump-tests is not here")
def test_fast_ipv4_decoding_on_the_corpus():
    from sockviz.capfile.reader import NotACapture, open_capture

    checked = 0
    for path in sorted(CORPUS.iterdir()):
        try:
            reader = open_capture(path)
        except NotACapture:
            continue
        with reader:
            for i, frame in enumerate(reader):
                if i >= 200:
                    break
                fast = decode(frame.data, frame.linktype)
                assert fast == slow_decode(frame.data, frame.linktype), (path.name, i)
                checked += 1
    assert checked > 1000


def shown_entries():
    for name in sorted(SCENARIOS):
        yield from (e for e in feed(SCENARIOS[name]().events) if isinstance(e, PacketShown))
    for role in (None, "client"):
        corr = Correlator(role=role)
        for i, frame in enumerate(frames()):
            pkt = Packet(index=i + 1, time=1_795_000_000.0 + i / 7, iface="eth0",
                         direction=(None, "in", "out")[i % 3], linktype=LINKTYPE_ETHERNET,
                         wirelen=len(frame), data=frame, decoded=decode(frame, LINKTYPE_ETHERNET))
            yield from corr.packet(pkt)


def test_fast_json_line_equals_json_dumps():
    count = 0
    for e in shown_entries():
        line = packet_line(e)
        assert line == json.dumps(packet_json(e), ensure_ascii=False, default=repr)
        count += 1
    assert count > 6000


def test_json_line_of_unusual_values_takes_the_general_encoder():
    pkt = Packet(index=1, time=5, iface='eth"0\x1b', direction=None, linktype=1, wirelen=60,
                 data=b"", decoded=decode(struct.pack("!6s6sH", b"\x00" * 6, b"\x01" * 6, 0x0800), 1))
    e = PacketShown(packet=pkt, direction="out", call_id=None, call_name=None, conversation=None,
                    new_conversation=False, step="other", summary="é\n\"", explain="x",
                    context="\u2028")
    assert packet_line(e) == json.dumps(packet_json(e), ensure_ascii=False, default=repr)


@pytest.mark.parametrize("total, ulen", [(24, 4), (28, 8), (28, 0), (40, 30), (40, 12), (0, 20)])
def test_fast_udp_lengths(total, ulen):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, 17, 0, b"\xc0\x00\x02\x01",
                     b"\xc0\x00\x02\x02")
    frame = b"\x02" * 12 + b"\x08\x00" + ip + struct.pack("!HHHH", 53, 4000, ulen, 0) + b"x" * 20
    assert decode(frame, LINKTYPE_ETHERNET) == slow_decode(frame, LINKTYPE_ETHERNET)


def test_repeated_dns_messages_are_dissected_once_and_keep_their_own_id():
    from sockviz.core.dnsinfo import dns_info

    calls = []

    def counting(payload, tcp=False):
        calls.append(payload)
        return dns_info(payload, tcp)

    corr = Correlator(role=None, dns=counting)
    shown = []
    # The same question and answer under three IDs (n, n + 600, n + 1200), twice over.
    frames = [f for n in (5, 605, 1205, 7, 607, 1207) for f in synthcap._dns(n)]
    for i, frame in enumerate(frames):
        pkt = Packet(index=i + 1, time=1_795_000_000.0 + i, iface="eth0", direction=None,
                     linktype=LINKTYPE_ETHERNET, wirelen=len(frame), data=frame,
                     decoded=decode(frame, LINKTYPE_ETHERNET))
        shown.extend(corr.packet(pkt))
    assert len(shown) == 12 and len(calls) == 4
    assert len({e.dns["id"] for e in shown}) == 6
    for e in shown:
        assert e.dns == dns_info(e.packet.decoded.payload)


def replay_json(path: Path, *, fast: bool, monkeypatch, worker: bool = False) -> str:
    """``sockviz replay PATH --json``, with or without the fused fast path and its worker."""
    import io

    from sockviz.capfile.reader import NotACapture, open_capture
    from sockviz.core.json_fast_path import JsonFastPath
    from sockviz.environment import Environment
    from sockviz.replay import replay

    with monkeypatch.context() as m:
        if not fast:
            # write_run(items, i, pending, count, ...): every frame left to the general path
            m.setattr(JsonFastPath, "write_run", lambda self, items, i, pending, count, *rest: (i, count))
        env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), width=100, color=False)
        try:
            reader = open_capture(path)
        except NotACapture:
            return ""
        with reader:
            status = replay(reader, env, json=True, worker=worker)
    return f"{status}\n{env.stdout.getvalue()}"


def assert_same_lines(fast: str, slow: str, name: str) -> None:
    fast_lines, slow_lines = fast.splitlines(), slow.splitlines()
    assert len(fast_lines) == len(slow_lines), name
    first_difference = next((i for i, (a, b) in enumerate(zip(fast_lines, slow_lines, strict=True))
                             if a != b), None)
    assert first_difference is None, (name, fast_lines[first_difference])


def counting_fast_path(monkeypatch) -> list[int]:
    """From now on, how many frames each ``JsonFastPath.write_run`` takes (a list it fills)."""
    from sockviz.core.json_fast_path import JsonFastPath

    taken = []
    take = JsonFastPath.write_run

    def counting(self, items, i, pending, count, *rest):
        result = take(self, items, i, pending, count, *rest)
        taken.append(result[1] - count)
        return result

    monkeypatch.setattr(JsonFastPath, "write_run", counting)
    return taken


def write_frames(path: Path, frames) -> None:
    with open(path, "wb") as f:
        f.write(synthcap._PCAP_HEADER)
        for i, frame in enumerate(frames):
            f.write(synthcap._REC.pack(1_795_000_000 + i // 1000, (i % 1000) * 997, len(frame),
                                       len(frame)))
            f.write(frame)


def test_fused_json_replay_writes_what_the_general_path_writes(tmp_path, monkeypatch):

    rng = random.Random(7)
    plain = list(frames())
    write_frames(tmp_path / "synth.pcap", plain)
    write_frames(tmp_path / "damaged.pcap", [damaged(f, rng) if i % 3 else f
                                             for i, f in enumerate(plain)])
    taken = counting_fast_path(monkeypatch)
    captures = sorted((Path(__file__).resolve().parents[1] / "captures").glob("*.pcapng"))
    for path in [tmp_path / "synth.pcap", tmp_path / "damaged.pcap", *captures]:
        general = replay_json(path, fast=False, monkeypatch=monkeypatch)
        assert_same_lines(replay_json(path, fast=True, monkeypatch=monkeypatch), general, path.name)
        assert_same_lines(replay_json(path, fast=True, worker=True, monkeypatch=monkeypatch),
                          general, path.name)
    # The fast path did the bulk of the synthetic traffic (else this test proves little).
    assert sum(taken) > 0.9 * len(plain)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/tcpdump-tests is not here")
def test_fused_json_replay_on_the_corpus(monkeypatch):
    for path in sorted(CORPUS.iterdir()):
        general = replay_json(path, fast=False, monkeypatch=monkeypatch)
        assert_same_lines(replay_json(path, fast=True, monkeypatch=monkeypatch), general, path.name)
        assert_same_lines(replay_json(path, fast=True, worker=True, monkeypatch=monkeypatch),
                          general, path.name)


def test_preview_json_equals_the_preview_encoded():
    from json.encoder import encode_basestring

    from sockviz.core.text import preview, preview_json

    rng = random.Random(8)
    tricky = b"ab\\\"'\n\r\t\x00\x7f\x80\xff "
    for _ in range(20000):
        size = rng.randrange(0, 90)
        data = bytes(rng.choice(tricky) if rng.random() < 0.6 else rng.randrange(256)
                     for _ in range(size))
        start = rng.randrange(0, 4)
        stop = rng.randrange(start, max(start, size) + 1)
        assert preview_json(data, start, stop) == encode_basestring(preview(data[start:stop]))[1:-1]


def test_fused_json_replay_when_conversations_are_forgotten(tmp_path, monkeypatch):
    """The fast path's flows follow the correlator when it retires conversations for room."""
    from sockviz.core.correlate import Correlator

    defaults = dict(Correlator.__init__.__kwdefaults__, max_conversations=8, summary_limit=4)
    monkeypatch.setattr(Correlator.__init__, "__kwdefaults__", defaults)
    # Many flows at once, some returning after they were retired.
    frames = list(synthcap.frames(4000, seed=3)) + list(synthcap.frames(600, seed=3))
    write_frames(tmp_path / "many.pcap", frames)
    fast = replay_json(tmp_path / "many.pcap", fast=True, monkeypatch=monkeypatch)
    assert_same_lines(fast, replay_json(tmp_path / "many.pcap", fast=False,
                                        monkeypatch=monkeypatch), "many.pcap")
    summary = json.loads(fast.splitlines()[-1])
    assert summary["conversations_total"] > 50


def _dns_payloads() -> list[bytes]:
    """DNS messages of many kinds (RFC 1035 §4.1), a few unreadable: each to the fast path."""
    header = struct.Struct("!6H")
    question = b"\x04chat\x07sockviz\x04test\x00" + struct.pack("!HH", 16, 1)
    txt = b"\x05caf\xc3\xa9" + b"\x03ok%" + bytes(range(0, 40))  # not ASCII, '%', control bytes
    long_txt = b"".join(bytes([200]) + bytes([65 + i % 26]) * 200 for i in range(6))  # > 1 KiB
    answer = header.pack(7, 0x8180, 1, 1, 0, 0) + question
    return [
        *(f[42:] for n in (1, 2, 301) for f in synthcap._dns(n, own_port=True)),
        answer + b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, len(txt)) + txt,
        answer + b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, len(long_txt)) + long_txt,
        header.pack(8, 0x8183, 1, 0, 0, 0) + question,  # NXDOMAIN
        header.pack(9, 0x8180, 1, 2, 0, 0) + question + b"\xc0\x0c\x00\x01",  # cut short
        header.pack(10, 0x0100, 1, 0, 0, 0) + b"\x03abc",  # a question without its end
        b"\x00\x0b\x01\x00\x00",  # shorter than a header
        header.pack(11, 0x0100, 200, 0, 0, 0) + question * 3,  # more than scapy read
    ]


def test_fused_json_replay_of_dns_messages(tmp_path, monkeypatch):
    """DNS messages of many kinds among the fast path's packets: the fused replay writes what
    the general path does, with and without the worker, and takes most of them itself."""
    client, server = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 53])
    frames = []
    for i, payload in enumerate(_dns_payloads() * 3):  # again: the messages read once are reused
        port = 5353 if i % 5 == 4 else 53
        frames.append(synthcap._udp_frame(client, server, 40000 + i % 4, port, payload, True))
        frames.append(synthcap._udp_frame(server, client, port, 40000 + i % 4, payload, False))
    frames += list(synthcap.frames(3000, seed=4, shape="dns"))
    write_frames(tmp_path / "dns.pcap", frames)
    general = replay_json(tmp_path / "dns.pcap", fast=False, monkeypatch=monkeypatch)
    taken = counting_fast_path(monkeypatch)
    assert_same_lines(replay_json(tmp_path / "dns.pcap", fast=True, monkeypatch=monkeypatch),
                      general, "dns.pcap")
    dns_lines = general.count('"dns": {')
    assert sum(taken) > 0.8 * len(frames) and dns_lines > 0.3 * len(frames)
    assert_same_lines(replay_json(tmp_path / "dns.pcap", fast=True, worker=True,
                                  monkeypatch=monkeypatch), general, "dns.pcap")
    assert '"dns": {"id": 7, "qr": "response"' in general
