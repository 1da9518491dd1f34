"""The correlator on canned lessons: steps, relative numbers, calls, lessons."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, TCP

from scenarios import CLIENT, SCENARIOS, SERVER, SYN_OPTS, Builder, eth, feed
from sockviz.core.timeline import CallEnded, PacketShown, Summary


def packets(name):
    return [e for e in feed(SCENARIOS[name]().events) if isinstance(e, PacketShown)]


def ends(name):
    return {e.call.name: e for e in feed(SCENARIOS[name]().events) if isinstance(e, CallEnded)}


def test_handshake_is_inside_connect_with_relative_numbers():
    shown = packets("tcp_exchange")
    handshake = [(p.step, p.direction, p.rel_seq, p.rel_ack) for p in shown if p.call_name == "connect"]
    assert handshake == [
        ("arp-request", "out", None, None),
        ("arp-reply", "in", None, None),
        ("syn", "out", 0, None),
        ("synack", "in", 0, 1),
        ("handshake-ack", "out", 1, 1),
    ]


def test_data_and_acks_have_relative_numbers_as_wireshark_shows_them():
    shown = packets("tcp_exchange")
    data = [(p.step, p.rel_seq, p.rel_ack) for p in shown if p.step in ("data", "ack")]
    assert data == [("data", 1, 1), ("data", 1, 15), ("ack", 15, 15)]


def test_reply_before_recv_belongs_to_no_call_and_says_why():
    reply = next(p for p in packets("tcp_exchange") if p.step == "data" and p.direction == "in")
    assert reply.call_name is None
    assert "receive buffer" in reply.context


def test_recv_of_buffered_data_explains_the_silence():
    assert "already waiting" in ends("tcp_exchange")["recv"].lesson


def test_teardown_after_close():
    shown = packets("tcp_exchange")
    tail = [(p.step, p.direction, p.call_name) for p in shown[-3:]]
    assert tail == [("fin-first", "out", "close"), ("fin-second", "in", None), ("final-ack", "out", None)]
    assert "TIME-WAIT" in shown[-1].explain


def test_summary_counts_and_closed_connection():
    summary = feed(SCENARIOS["tcp_exchange"]().events)[-1]
    assert isinstance(summary, Summary)
    assert summary.packets == 11 and summary.calls == 5
    assert summary.conversations[0]["closed"] is True


def test_refused_port_is_rst_then_connection_refused():
    shown = packets("tcp_refused")
    assert [p.step for p in shown] == ["syn", "rst-refused"]
    assert "nobody listens on port 9" in shown[1].explain
    assert "ConnectionRefusedError" in ends("tcp_refused")["connect"].lesson


def test_syn_retransmissions_report_doubling_intervals():
    shown = packets("tcp_no_answer")
    assert [p.step for p in shown] == ["syn"] + ["syn-retransmit"] * 3
    assert [p.explain.split(", ")[1].split(" after")[0] for p in shown[1:]] == ["1.0 s", "2.0 s", "4.0 s"]
    assert "timeout" in ends("tcp_no_answer")["connect"].lesson


def test_loopback_directions_are_inferred_from_the_initiator():
    assert [p.direction for p in packets("loopback_exchange")] == ["out", "in", "out"]


def test_foreign_capture_has_no_you():
    events = SCENARIOS["loopback_exchange"]().events
    shown = [e for e in feed(events, role=None) if isinstance(e, PacketShown)]
    assert [p.direction for p in shown] == [None, None, None]
    assert shown[0].explain.startswith("127.0.0.1 asks 127.0.0.1")


def test_icmp_port_unreachable_joins_the_udp_conversation():
    shown = packets("udp_unreachable")
    assert [p.step for p in shown] == ["udp", "port-unreachable"]
    assert shown[0].conversation == shown[1].conversation
    assert "port 3002" in shown[1].explain and "RFC 792" in shown[1].explain
    assert "not told of it" in shown[1].context


def test_unconnected_recvfrom_timeout_and_silent_close():
    e = ends("udp_unreachable")
    assert "waits until the timeout" in e["recvfrom"].lesson
    assert "close() sends nothing" in e["close"].lesson


def test_connected_udp_socket_reports_icmpv6_as_refused():
    shown = packets("udp6_unreachable")
    assert shown[1].step == "port-unreachable" and "RFC 4443" in shown[1].explain
    assert "ConnectionRefusedError" in ends("udp6_unreachable")["recv"].lesson


def test_ndp_before_first_ipv6_datagram():
    steps = [p.step for p in packets("udp_ipv6_exchange")]
    assert steps[:3] == ["ndp-ns", "ndp-na", "udp"]


def test_glibc_sends_a_and_aaaa_together():
    shown = packets("getaddrinfo_dns")
    assert [p.step for p in shown] == ["dns-query", "dns-query", "dns-response", "dns-response"]
    assert shown[2].dns["answers"][0]["data"] == "192.0.2.2"
    assert "A and AAAA" in ends("getaddrinfo_dns")["getaddrinfo"].lesson


def test_fragments_are_explained():
    shown = packets("udp_fragments")
    assert [p.step for p in shown] == ["fragment"] * 3
    assert [p.packet.decoded.frag_offset for p in shown] == [0, 1480, 2960]
    assert "fragments" in ends("udp_fragments")["sendto"].lesson


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_packet_has_a_meaning(name):
    for p in packets(name):
        assert p.explain and "(unknown)" not in p.explain and "None" not in p.explain, p.explain


def test_unicast_arp_request_is_a_cache_check():
    from scapy.layers.l2 import ARP, Ether

    from scenarios import CLIENT, CMAC, SERVER, SMAC, Builder, feed

    b = Builder()
    b.packet(0.1, Ether(src=SMAC, dst=CMAC) / ARP(op=1, hwsrc=SMAC, psrc=SERVER, pdst=CLIENT), "in")
    b.packet(0.2, Ether(src=SMAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc=SERVER, pdst=CLIENT), "in")
    shown = [e for e in feed(b.events) if isinstance(e, PacketShown)]
    assert [p.step for p in shown] == ["arp-probe", "arp-request"]
    assert "RFC 1122 §2.3.2.1" in shown[0].explain


def test_recvfrom_timeout_without_icmp_blames_nothing():
    from scenarios import Builder, feed

    b = Builder()
    call, done = b.call("recvfrom", "recvfrom(1024)", 0, 3, error="TimeoutError: timed out",
                        transport="UDP")
    b.start(call)
    b.end(done)
    lesson = next(e for e in feed(b.events) if isinstance(e, CallEnded)).lesson
    assert "nothing says why" in lesson and "ICMP" not in lesson


def test_recv_of_empty_bytes_is_the_end_of_the_stream():
    from scenarios import Builder, feed

    b = Builder()
    call, done = b.call("recv", "recv(1024)", 0, 0.001, "b''", transport="TCP")
    b.start(call)
    b.end(done)
    lesson = next(e for e in feed(b.events) if isinstance(e, CallEnded)).lesson
    assert "FIN" in lesson and "end of its stream" in lesson


def test_call_lessons_draw_their_diagram_from_the_rules_table():
    from sockviz.core import rules

    assert rules.diagram("connect", "TCP") == "SYN → SYN/ACK → ACK"
    assert rules.diagram("connect", "TCP") in ends("tcp_exchange")["connect"].lesson
    assert rules.diagram("close", "TCP") in ends("tcp_exchange")["close"].lesson


def test_the_echo_and_our_ack_captured_during_send_are_said_not_to_be_its_doing():
    """On a fast link the scheduler can preempt the sending thread inside send() while
    the server's program answers: the echo and our kernel's ACK of it are captured before
    send() returns. Each says what caused it, not send()."""
    import dataclasses

    from scenarios import T0, feed, tcp_exchange
    from sockviz.core.timeline import PacketShown

    events = tcp_exchange().events
    at = next(i for i, (kind, c) in enumerate(events) if kind == "end" and c.name == "send")
    _kind, send_done = events.pop(at)
    ack = next(i for i, (kind, p) in enumerate(events)
               if kind == "packet" and abs(p.time - (T0 + 0.0216)) < 1e-9)
    events.insert(ack + 1, ("end", dataclasses.replace(send_done, end=T0 + 0.022)))
    under = [e for e in feed(events) if isinstance(e, PacketShown) and e.call_name == "send"]
    assert [(e.step, e.direction) for e in under] == [("data", "out"), ("data", "in"),
                                                     ("ack", "out")]
    assert under[0].context is None  # send()'s own segment
    assert under[1].context.startswith("not send()'s doing") and "program sent" in under[1].context
    assert under[2].context == ("not send()'s doing: your kernel acknowledges on its own the "
                                "data that has just arrived")


def test_a_retransmission_is_named_by_where_it_begins_not_where_it_ends():
    """Old bytes sent again are a retransmission even when the segment ends exactly at the
    highest byte sent (Linux's tail-loss probe, RFC 8985 §7.3) or runs past it with new bytes;
    a FIN sent again is one too. Wireshark names all three so."""
    b = Builder()
    c, s, cp = 1_000, 9_000, 40400

    def out(t, flags, seq, data=b""):
        b.packet(t, eth("out") / IP(src=CLIENT, dst=SERVER) / TCP(
            sport=cp, dport=3001, flags=flags, seq=seq, ack=s + 1, window=502) / data, "out")

    b.packet(0.001, eth("out") / IP(src=CLIENT, dst=SERVER) / TCP(
        sport=cp, dport=3001, flags="S", seq=c, options=SYN_OPTS), "out")
    b.packet(0.002, eth("in") / IP(src=SERVER, dst=CLIENT) / TCP(
        sport=3001, dport=cp, flags="SA", seq=s, ack=c + 1, options=SYN_OPTS), "in")
    out(0.003, "A", c + 1)
    out(0.004, "PA", c + 1, b"x" * 100)          # bytes 1-100
    out(0.005, "PA", c + 101, b"y" * 100)        # bytes 101-200
    out(0.030, "PA", c + 101, b"y" * 100)        # the probe: 101-200 again, ends at the top
    out(0.060, "PA", c + 151, b"z" * 100)        # 151-250: 50 old bytes and 50 new
    out(0.070, "PA", c + 251, b"w" * 10)         # new
    out(0.080, "FA", c + 261)                    # FIN
    out(0.300, "FA", c + 261)                    # the same FIN again
    steps = [p.step for p in feed(b.events) if isinstance(p, PacketShown)]
    assert steps[3:] == ["data", "data", "data-retransmit", "data-retransmit", "data",
                         "fin-first", "fin-retransmit"]


def _segments(b: Builder, port: int, *, remote_began: bool):
    """``seg(t, direction, flags, seq, ack=0, data=b"", options=())``: a segment of one
    connection between this host (CLIENT) and SERVER, added to ``b``. ``remote_began``:
    from SERVER's ``port`` to our 3001, else from our ``port`` to its 3001."""
    def seg(t, direction, flags, seq, ack=0, data=b"", options=()):
        if remote_began:
            src, dst, sport, dport = (SERVER, CLIENT, port, 3001) if direction == "in" else \
                (CLIENT, SERVER, 3001, port)
        else:
            src, dst, sport, dport = (CLIENT, SERVER, port, 3001) if direction == "out" else \
                (SERVER, CLIENT, 3001, port)
        b.packet(t, eth(direction) / IP(src=src, dst=dst) / TCP(
            sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=502,
            options=list(options)) / data, direction)

    return seg


def test_a_new_connection_on_the_ports_of_a_closed_one_is_a_conversation_of_its_own(
        tmp_path, monkeypatch):
    """Port numbers reused (RFC 9293 §3.4): once a connection is over, a SYN on its ports
    begins another, with its own ISN and relative numbers, as Wireshark tells them."""
    b = Builder()
    cp = 40500

    seg = _segments(b, cp, remote_began=False)

    for start, c, s, syn in ((0.0, 1_000, 9_000, "S"), (1.0, 77_000, 55_000, "SEC")):
        seg(start + 0.001, "out", syn, c, options=SYN_OPTS)  # the second asks for ECN
        seg(start + 0.002, "in", "SA", s, c + 1, options=SYN_OPTS)
        seg(start + 0.003, "out", "A", c + 1, s + 1)
        seg(start + 0.004, "out", "PA", c + 1, s + 1, b"hi")
        seg(start + 0.005, "out", "FA", c + 3, s + 1)
        seg(start + 0.006, "in", "FA", s + 1, c + 4)
        seg(start + 0.007, "out", "A", c + 4, s + 2)
    entries = feed(b.events)
    shown = [e for e in entries if isinstance(e, PacketShown)]
    assert [p.conversation for p in shown] == [1] * 7 + [2] * 7
    second = shown[7:]
    assert [p.step for p in second[:4]] == ["syn", "synack", "handshake-ack", "data"]
    assert second[0].rel_seq == 0 and second[3].rel_seq == 1  # from its own ISN
    assert second[0].new_conversation
    summary = entries[-1]
    assert [c["number"] for c in summary.conversations] == [1, 2]
    assert all(c["closed"] for c in summary.conversations)
    # The replay's fast path (its flows follow the retired conversation) writes the same.
    from test_perf_fastpaths import assert_same_lines, replay_json, write_frames

    write_frames(tmp_path / "reused.pcap", [e.packet.data for e in shown])
    fast = replay_json(tmp_path / "reused.pcap", fast=True, monkeypatch=monkeypatch)
    assert_same_lines(fast, replay_json(tmp_path / "reused.pcap", fast=False,
                                        monkeypatch=monkeypatch), "reused.pcap")
    assert '"conversation": 2' in fast


def _joined(first: str):
    """A connection the other end began, whose capture began midway, then a SYN on its
    ports from that end: from ``first`` on ("data": a new connection; "handshake-ack" or
    "synack": the connection's own SYN sent again)."""
    b = Builder()
    cp, c, s = 40600, 1_000, 9_000

    seg = _segments(b, cp, remote_began=True)

    if first == "synack":
        seg(0.001, "out", "SA", s, c + 1)
    if first in ("synack", "handshake-ack"):
        seg(0.002, "in", "A", c + 1, s + 1)
    for i in range(3):  # the replay's fast path takes these: its meanings name the server
        seg(0.003 + i / 100, "in", "PA", c + 1 + 2 * i, s + 1, b"hi")
        seg(0.004 + i / 100, "out", "A", s + 1, c + 3 + 2 * i)
    if first == "data":
        c = 77_000  # another ISN: another connection
    seg(1.0, "in", "S", c)
    if first != "data":  # more of it, in order, once the SYN has told who began it
        for i in range(3):
            seg(1.1 + i, "in", "PA", c + 7 + 2 * i, s + 1, b"yo")
            seg(1.2 + i, "out", "A", s + 1, c + 9 + 2 * i)
    return feed(b.events)


@pytest.mark.parametrize("isn, conversations", [(1_000, [1, 1]), (55_000, [1, 2])])
def test_a_connection_joined_at_the_other_ends_ack_keeps_its_syn_sent_again(isn, conversations):
    """Only the receiver's segments seen (its ACK of the ISN, ISN + 1): the SYN with that
    ISN is the connection's own, sent again; one with another ISN begins another."""
    b = Builder()
    cp = 40700

    seg = _segments(b, cp, remote_began=True)

    seg(0.001, "out", "A", 9_001, 1_001)  # our ACK of the client's ISN 1000 (+ 1)
    seg(0.5, "in", "S", isn)
    shown = [e for e in feed(b.events) if isinstance(e, PacketShown)]
    assert [p.conversation for p in shown] == conversations


def test_a_syn_ack_seen_first_tells_who_began_the_connection():
    """The capture missed the SYN: the SYN/ACK answers the SYN its receiver sent (RFC 9293
    §3.5), so the next segment is the handshake's ACK and the words name each end."""
    b = Builder()
    cp, c, s = 40800, 1_000, 9_000

    seg = _segments(b, cp, remote_began=True)

    seg(0.001, "out", "SA", s, c + 1)
    seg(0.002, "in", "A", c + 1, s + 1)
    seg(0.003, "in", "PA", c + 1, s + 1, b"hi")
    shown = [e for e in feed(b.events) if isinstance(e, PacketShown)]
    assert [p.step for p in shown] == ["synack", "handshake-ack", "data"]
    assert shown[1].explain.startswith("the client acknowledges your SYN/ACK")
    assert shown[2].explain == "2 bytes from the client"


def test_a_syn_with_another_isn_after_a_handshake_begins_another_connection():
    """The old connection's end was not all seen (its last ACK missed): a SYN from the same
    port with another ISN is a new connection, not the old one's SYN sent again."""
    b = Builder()
    cp, c, s = 40900, 1_000, 5_000

    seg = _segments(b, cp, remote_began=False)

    seg(0.001, "out", "S", c)
    seg(0.002, "in", "SA", s, c + 1)
    seg(0.003, "out", "A", c + 1, s + 1)
    seg(0.010, "out", "FA", c + 1, s + 1)
    seg(0.011, "in", "FA", s + 1, c + 2)  # the final ACK is not captured
    seg(5.0, "out", "S", 900_000)
    shown = [e for e in feed(b.events) if isinstance(e, PacketShown)]
    assert [p.conversation for p in shown] == [1] * 5 + [2]
    assert shown[-1].step == "syn" and shown[-1].rel_seq == 0


def test_a_syn_on_the_ports_of_a_connection_joined_midway_begins_another():
    """A SYN without ACK whose ISN is not the joined connection's (neither what its
    sender's first segment counted from nor what the other end acknowledged) is a new
    connection on the same ports, as Wireshark says "TCP port numbers reused"."""
    entries = _joined("data")
    shown = [e for e in entries if isinstance(e, PacketShown)]
    assert [p.conversation for p in shown] == [1] * 6 + [2]
    assert shown[6].new_conversation and shown[6].step == "syn" and shown[6].rel_seq == 0
    assert [c["number"] for c in entries[-1].conversations] == [1, 2]


@pytest.mark.parametrize("first", ["handshake-ack", "synack"])
def test_a_connections_own_syn_sent_again_stays_in_the_conversation_joined_midway(
        first, tmp_path, monkeypatch):
    """Its ISN is the one the sender's first segment counted from (joined at the
    handshake's ACK) or the one the other end's SYN/ACK acknowledged, plus one. The SYN
    tells who began the conversation: the replay's fast path words what follows anew."""
    shown = [e for e in _joined(first) if isinstance(e, PacketShown)]
    assert {p.conversation for p in shown} == {1}
    syn = next(p for p in shown if p.step == "syn")
    assert not syn.new_conversation
    assert shown[-2].explain == "2 bytes from the client"
    from sockviz.render.capture_file import CaptureFileSink
    from test_perf_fastpaths import assert_same_lines, replay_json

    path = tmp_path / "joined.pcapng"  # with each packet's direction: the fast path's case
    sink = CaptureFileSink(str(path), {"version": "test", "command": "run", "role": "client"})
    for entry in _joined(first):
        sink.handle(entry)
    sink.close()
    fast = replay_json(path, fast=True, monkeypatch=monkeypatch)
    assert_same_lines(fast, replay_json(path, fast=False, monkeypatch=monkeypatch), path.name)
    assert '"2 bytes from the client' in fast
