"""Memory stays bounded whatever the capture: the correlator retires old conversations."""

from __future__ import annotations

import struct

from sockviz.core.correlate import Correlator
from sockviz.core.decode import LINKTYPE_ETHERNET, decode
from sockviz.core.events import Packet


def datagram(i: int) -> bytes:
    src = bytes([192, 0, 2, 1 + i % 250])
    dst = bytes([203, 0, 113, 1 + (i // 250) % 250])
    udp = struct.pack("!HHHH", 10000 + i % 40000, 53000, 12, 0) + b"ping"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    return b"\x02" * 12 + b"\x08\x00" + ip + udp


def packets(count: int, repeat: int = 1):
    index = 0
    for i in range(count):
        for _ in range(repeat):
            index += 1
            frame = datagram(i)
            yield Packet(index=index, time=1_795_000_000.0 + index * 1e-3, iface="eth0",
                         direction="out", linktype=LINKTYPE_ETHERNET, wirelen=len(frame),
                         data=frame, decoded=decode(frame, LINKTYPE_ETHERNET))


def test_conversation_state_is_capped():
    corr = Correlator(role=None, max_conversations=100, summary_limit=10)
    for pkt in packets(1000, repeat=2):
        corr.packet(pkt)
        assert len(corr.conversations) <= 100
        assert len(corr.retired) < 2 * 10
    summary = corr.summary(kernel_drops=None, capture=None)
    assert summary.conversations_total == 1000
    assert len(summary.conversations) == 10
    numbers = [c["number"] for c in summary.conversations]
    assert numbers == sorted(numbers)
    assert all(c["packets"] == 2 for c in summary.conversations)


def test_the_busiest_are_listed_whatever_order_they_are_retired_in():
    """Retired conversations below the last of the busiest kept are not kept at all (a
    capture of short flows retires one every other packet): the list is still the
    busiest, as a sort of every conversation would give it."""
    import random

    rng = random.Random(11)
    counts = [rng.choice((1, 1, 1, 2, 3, 5, 8)) for _ in range(600)]
    corr = Correlator(role=None, max_conversations=40, summary_limit=10)
    index = 0
    for i, count in enumerate(counts):
        for _ in range(count):
            index += 1
            frame = datagram(i)
            corr.packet(Packet(index=index, time=1_795_000_000.0 + index * 1e-3, iface="eth0",
                               direction="out", linktype=LINKTYPE_ETHERNET, wirelen=len(frame),
                               data=frame, decoded=decode(frame, LINKTYPE_ETHERNET)))
    summary = corr.summary(kernel_drops=None, capture=None)
    busiest = sorted(range(1, 601), key=lambda n: (-counts[n - 1], n))[:10]
    assert [c["number"] for c in summary.conversations] == sorted(busiest)
    assert [c["packets"] for c in summary.conversations] == [counts[n - 1] for n in sorted(busiest)]
    assert summary.conversations_total == 600


def test_small_captures_list_every_conversation_as_before():
    corr = Correlator(role=None, max_conversations=100)
    for pkt in packets(50):
        corr.packet(pkt)
    summary = corr.summary(kernel_drops=None, capture=None)
    assert summary.conversations_total is None
    assert [c["number"] for c in summary.conversations] == list(range(1, 51))


def test_a_retired_conversation_that_talks_again_is_a_new_one():
    corr = Correlator(role=None, max_conversations=8)
    stream = list(packets(40))
    for pkt in stream:
        corr.packet(pkt)
    again = corr.packet(Packet(index=99, time=1_795_000_100.0, iface="eth0", direction="out",
                               linktype=LINKTYPE_ETHERNET, wirelen=60, data=stream[0].data,
                               decoded=stream[0].decoded))[0]
    assert again.new_conversation and again.conversation == 41


def test_json_lines_held_during_a_long_call_spill_to_a_file_in_order(monkeypatch):
    import io
    import json

    from sockviz.core.events import Call
    from sockviz.core.timeline import CallEnded, CallStarted
    from sockviz.render import jsonlines

    monkeypatch.setattr(jsonlines, "HOLD_IN_MEMORY", 2000)
    out = io.StringIO()
    sink = jsonlines.JsonLinesSink(out)
    corr = Correlator(role="client")
    call = Call(id=1, name="sendall", text="sendall(<big>)", start=1_794_999_999.0)
    sink.handle(CallStarted(call=call))
    for pkt in packets(100):
        for entry in corr.packet(pkt):
            sink.handle(entry)
    assert sink._spill is not None
    done = Call(id=1, name="sendall", text="sendall(<big>)", start=call.start, end=1_795_000_001.0)
    sink.handle(CallEnded(call=done, packets=100))
    for pkt in packets(3):
        for entry in corr.packet(pkt):
            sink.handle(entry)
    sink.close()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records[0]["type"] == "call"
    assert [r["index"] for r in records[1:]] == [*range(1, 101), 1, 2, 3]
