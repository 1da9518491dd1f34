"""Calls that run at the same time (a traced program's threads, a call inside a call).

Each packet captured while several calls run is told under the one it belongs
to: the latest started whose socket's endpoints are the packet's (learnt from
its earlier calls' ends), a DNS message under the resolver call, else the
latest started.
"""

from __future__ import annotations

import dataclasses

from scapy.layers.inet import IP, TCP
from tests.scenarios import CLIENT, SERVER, Builder, eth, feed

from sockviz.core.timeline import CallEnded, PacketShown


def _seg(b: Builder, t: float, port: int, direction: str, payload: bytes = b"") -> None:
    if direction == "out":
        frame = IP(src=CLIENT, dst=SERVER) / TCP(sport=port, dport=3001, flags="PA", seq=1, ack=1)
    else:
        frame = IP(src=SERVER, dst=CLIENT) / TCP(sport=3001, dport=port, flags="PA", seq=1, ack=1)
    b.packet(t, eth(direction) / frame / payload, direction)


def _connected(b: Builder, fd: int, port: int, at: float) -> None:
    """A connect() on ``fd`` that ended with its endpoints known (no packet: mid-stream)."""
    c, done = b.call("connect", "connect(('192.0.2.2', 3001))", at, at + 0.0001)
    b.start(dataclasses.replace(c, socket=fd))
    b.end(dataclasses.replace(done, socket=fd, local=(CLIENT, port), peer=(SERVER, 3001)))


def _under(entries) -> dict[int, str | None]:
    names = {e.call.id: e.call.name for e in entries if isinstance(e, CallEnded)}
    return {e.packet.decoded.sport if e.direction == "out" else e.packet.decoded.dport:
            names.get(e.call_id) for e in entries if isinstance(e, PacketShown)}


def test_two_threads_calls_each_show_their_own_packets():
    b = Builder()
    _connected(b, 5, 40001, 0.001)
    _connected(b, 6, 40002, 0.002)
    recv, recv_done = b.call("recv", "recv(1024)", 0.010, 0.030, "b'hello'")
    send, send_done = b.call("send", "send(b'hi')", 0.012, 0.013, "2")
    b.start(dataclasses.replace(recv, socket=5, thread="Thread-1"))
    b.start(dataclasses.replace(send, socket=6, thread="MainThread"))
    _seg(b, 0.0125, 40002, "out", b"hi")  # the send's data
    _seg(b, 0.0126, 40001, "in", b"hello")  # what the recv waits for: captured during send()
    b.end(dataclasses.replace(send_done, socket=6, thread="MainThread"))
    _seg(b, 0.020, 40001, "in", b"again")
    b.end(dataclasses.replace(recv_done, socket=5, thread="Thread-1"))
    entries = feed(b.events)
    counts = {e.call.name: e.packets for e in entries if isinstance(e, CallEnded)}
    assert counts["send"] == 1 and counts["recv"] == 2
    packets = [(e.packet.decoded.payload, e.call_id) for e in entries if isinstance(e, PacketShown)]
    ids = {e.call.name: e.call.id for e in entries if isinstance(e, CallEnded)}
    assert packets == [(b"hi", ids["send"]), (b"hello", ids["recv"]), (b"again", ids["recv"])]


def test_a_packet_after_an_inner_call_ended_is_the_outer_calls():
    b = Builder()
    outer, outer_done = b.call("create_connection", "create_connection(('192.0.2.2', 3001))",
                               0.001, 0.010)
    inner, inner_done = b.call("connect", "connect(('192.0.2.2', 3001))", 0.002, 0.003)
    b.start(outer)
    b.start(dataclasses.replace(inner, parent=outer.id))
    _seg(b, 0.0025, 40003, "out")
    b.end(dataclasses.replace(inner_done, parent=outer.id))
    _seg(b, 0.005, 40003, "in")  # before create_connection returned
    b.end(outer_done)
    entries = feed(b.events)
    under = [e.call_name for e in entries if isinstance(e, PacketShown)]
    assert under == ["connect", "create_connection"]


def test_an_accepted_sockets_endpoints_are_learnt_from_accept():
    # One program, server and client: the server's sendall() on the accepted socket (fd 7)
    # runs while the client's recv() waits; the reply is the sendall()'s, not the recv()'s.
    b = Builder()
    _connected(b, 5, 40004, 0.001)
    acc, acc_done = b.call("accept", "accept()", 0.0005, 0.0012,
                           "(<socket fd=7>, ('192.0.2.1', 40004))")
    b.start(dataclasses.replace(acc, socket=3))
    b.end(dataclasses.replace(acc_done, socket=3, local=(SERVER, 3001), peer=(CLIENT, 40004)))
    send, send_done = b.call("sendall", "sendall(b'BONJOUR')", 0.009, 0.013)
    recv, recv_done = b.call("recv", "recv(100)", 0.010, 0.030, "b'BONJOUR'")
    b.start(dataclasses.replace(send, socket=7))
    b.start(dataclasses.replace(recv, socket=5))  # started last, and an end of the connection
    _seg(b, 0.0125, 40004, "in", b"BONJOUR")
    b.end(dataclasses.replace(send_done, socket=7))
    b.end(dataclasses.replace(recv_done, socket=5))
    entries = feed(b.events)
    under = [e.call_name for e in entries if isinstance(e, PacketShown)]
    assert under == ["sendall"]
