"""A traced program plays a part in each conversation: the server of one, the client of another.

``sockviz run`` records as the client (its role), but a program may listen: the
other end of a connection it accepted is "the client", whatever the run's role,
and on loopback, where each packet is both sent and received here, the call
running says which end is the program's ("you").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP

from scenarios import CLIENT, SERVER, SYN_OPTS, Builder, eth, feed
from sockviz.core.correlate import Correlator
from sockviz.core.dnsinfo import dns_info
from sockviz.core.events import Call
from sockviz.core.timeline import PacketShown
from sockviz.render.capture_file import CaptureFileSink
from test_perf_fastpaths import assert_same_lines, replay_json

OTHER = "192.0.2.3"


def call(b: Builder, name: str, text: str, start: float, end: float, *, fd: int,
         local=None, peer=None, result: str = "None"):
    b.ids += 1
    started = Call(id=b.ids, name=name, text=text, start=1_795_000_000.0 + start, socket=fd,
                   peer=peer, transport="TCP")
    done = Call(id=b.ids, name=name, text=text, start=started.start, end=1_795_000_000.0 + end,
                result_text=result, socket=fd, local=local, peer=peer, transport="TCP")
    return started, done


def tcp(b: Builder, t: float, direction: str, src, dst, flags: str, seq: int, ack: int = 0,
        data: bytes = b"", options=()):
    b.packet(t, eth(direction) / IP(src=src[0], dst=dst[0]) / TCP(
        sport=src[1], dport=dst[1], flags=flags, seq=seq, ack=ack, window=502,
        options=list(options)) / data, direction)


def handshake(b: Builder, t: float, client, server, direction: str, c_isn: int, s_isn: int):
    """SYN, SYN/ACK, ACK from ``t`` on, 1 ms apart; ``direction``: the client's segments'."""
    back = "in" if direction == "out" else "out"
    tcp(b, t, direction, client, server, "S", c_isn, options=SYN_OPTS)
    tcp(b, t + 0.001, back, server, client, "SA", s_isn, c_isn + 1, options=SYN_OPTS)
    tcp(b, t + 0.002, direction, client, server, "A", c_isn + 1, s_isn + 1)


def traced_server() -> Builder:
    """A program that accepts a connection on port 4000, and also connects to a server.

    The first connection is accepted while accept() runs; a second one completes while
    no call runs (the kernel answers for the listening socket); the program's own
    connection to OTHER:3001 is begun by the program; a fourth conversation is joined
    in its middle, then a SYN on the same ports begins another, from the other end.
    """
    b = Builder()
    me, them = (CLIENT, 4000), (SERVER, 51000)
    accept, accepted = call(b, "accept", "accept()", 0.0, 0.010, fd=3, local=me, peer=them,
                            result="(<socket fd=4>, ('192.0.2.2', 51000))")
    b.start(accept)
    handshake(b, 0.001, them, me, "in", 100, 900)
    b.end(accepted)
    tcp(b, 0.020, "in", them, me, "PA", 101, 901, b"bonjour")
    tcp(b, 0.021, "out", me, them, "A", 901, 108)
    send, sent = call(b, "sendall", "sendall(b'BONJOUR')", 0.030, 0.031, fd=4)
    b.start(send)
    tcp(b, 0.0301, "out", me, them, "PA", 901, 108, b"BONJOUR")
    tcp(b, 0.0305, "in", them, me, "A", 108, 908)
    b.end(sent)
    # A second client, taken from the accept queue later: no call runs.
    second = (SERVER, 51001)
    handshake(b, 0.040, second, me, "in", 300, 700)
    # The program's own connection: it is the client there.
    mine, server = (CLIENT, 40000), (OTHER, 3001)
    conn, connected = call(b, "connect", "connect(('192.0.2.3', 3001))", 0.050, 0.054, fd=5,
                           local=mine, peer=server)
    b.start(conn)
    handshake(b, 0.051, mine, server, "out", 5000, 6000)
    b.end(connected)
    tcp(b, 0.060, "in", server, mine, "PA", 6001, 5001, b"salut")
    # Joined in its middle (no SYN seen): nobody can tell who began it. Then a SYN on the
    # same ports with another ISN: a new connection, which the other end began.
    late = (SERVER, 52000)
    tcp(b, 0.070, "in", late, me, "PA", 10, 20, b"ancien")
    tcp(b, 0.071, "out", me, late, "A", 20, 16)
    handshake(b, 0.080, late, me, "in", 5_000_000, 8_000_000)
    tcp(b, 0.090, "in", late, me, "PA", 5_000_001, 8_000_001, b"nouveau")
    tcp(b, 0.091, "out", me, late, "A", 8_000_001, 5_000_008)
    return b


def shown(events, role="client"):
    return [e for e in feed(events, role) if isinstance(e, PacketShown)]


def test_the_other_end_of_an_accepted_connection_is_the_client():
    packets = shown(traced_server().events)
    syn, synack, ack, data, our_ack, echo, their_ack = packets[:7]
    assert syn.explain.startswith("the client asks to open a connection")
    assert "acknowledges the client's SYN" in synack.explain
    assert ack.explain.startswith("the client acknowledges your SYN/ACK")
    assert data.explain == "7 bytes from the client"
    assert "the client's data" in our_ack.explain
    assert echo.call_name == "sendall" and echo.context is None
    assert "the client's kernel" in their_ack.context
    for p in packets[:10]:
        assert "the server" not in p.explain + (p.context or ""), p.explain


def test_a_handshake_outside_calls_is_the_listening_sockets_in_a_traced_program():
    packets = shown(traced_server().events)
    synack = packets[8]
    assert synack.step == "synack" and synack.call_id is None
    assert synack.context.startswith("no call is running: the kernel answers for the listening")


def test_the_programs_own_connection_names_the_server():
    packets = shown(traced_server().events)
    syn, synack, _ack, data = packets[10:14]
    assert syn.explain.startswith("you ask the server to open a connection")
    assert "the server" in synack.explain
    assert "the server's program sent" in data.context or "the server" in data.explain


def test_a_new_connection_on_the_ports_of_one_joined_midway_names_the_other_end_the_client():
    packets = shown(traced_server().events)
    before, after = packets[14:16], packets[16:]
    assert "the server" in before[1].explain  # nobody could tell: the run's role
    assert after[0].new_conversation and after[0].conversation != before[0].conversation
    assert after[0].explain.startswith("the client asks to open a connection")
    assert "the client's data" in after[-1].explain


def test_the_fast_path_words_each_conversation_as_the_general_path(tmp_path, monkeypatch):
    path = tmp_path / "server.pcapng"
    sink = CaptureFileSink(str(path), {"version": "test", "command": "run", "role": "client"})
    corr = Correlator(role="client", dns=dns_info)
    for kind, obj in traced_server().events:
        entries = (corr.packet(obj) if kind == "packet" else
                   corr.call_started(obj) if kind == "start" else corr.call_ended(obj))
        for entry in entries:
            sink.handle(entry)
    sink.close()
    fast = replay_json(Path(path), fast=True, monkeypatch=monkeypatch)
    assert '"the client asks to open a connection' in fast
    assert_same_lines(fast, replay_json(Path(path), fast=False, monkeypatch=monkeypatch),
                      path.name)


def loopback_server_and_client() -> Builder:
    """One program, both ends on lo (directions unknown): a client thread's sendall() and
    the server's sendall() of the echo, each sent by the call's own socket."""
    b = Builder()
    lo = "127.0.0.1"
    server, client = (lo, 4001), (lo, 39000)
    zero = "00:00:00:00:00:00"

    def seg(t, src, dst, flags, seq, ack, data=b""):
        from scapy.layers.l2 import Ether
        b.packet(t, Ether(src=zero, dst=zero) / IP(src=src[0], dst=dst[0]) / TCP(
            sport=src[1], dport=dst[1], flags=flags, seq=seq, ack=ack, window=502) / data,
            None, "lo")

    listen, listened = call(b, "listen", "listen()", 0.0, 0.0001, fd=3, local=server)
    b.start(listen)
    b.end(listened)
    accept, accepted = call(b, "accept", "accept()", 0.001, 0.006, fd=3, local=server,
                            peer=client, result="(<socket fd=4>, ('127.0.0.1', 39000))")
    b.start(accept)
    conn, connected = call(b, "connect", "connect(('127.0.0.1', 4001))", 0.002, 0.005, fd=5,
                           local=client, peer=server)
    b.start(conn)
    seg(0.003, client, server, "S", 10, 0)
    seg(0.0031, server, client, "SA", 50, 11)
    seg(0.0032, client, server, "A", 11, 51)
    b.end(connected)
    b.end(accepted)

    def exchange(t, reader, writer, sender, receiver, seq, ack, data):
        """The writer's sendall() of ``data`` while the reader's recv() waits: the data
        from the writer's socket, then the reader's kernel's ACK."""
        recv, received = call(b, "recv", "recv(1024)", t, t + 0.011, fd=reader,
                              result=repr(data))
        b.start(recv)
        send, sent = call(b, "sendall", f"sendall({data!r})", t + 0.010, t + 0.0105, fd=writer)
        b.start(send)
        seg(t + 0.0101, sender, receiver, "PA", seq, ack, data)
        seg(t + 0.0102, receiver, sender, "A", ack, seq + len(data))
        b.end(sent)
        b.end(received)

    exchange(0.010, 4, 5, client, server, 11, 51, b"hello")
    exchange(0.030, 5, 4, server, client, 51, 16, b"HELLO")
    return b


def test_on_loopback_the_call_running_says_which_end_is_yours():
    packets = shown(loopback_server_and_client().events)
    syn, synack, _ack, hello, ack_hello, echo, ack_echo = packets
    # connect() sent the SYN; the listening socket's kernel the SYN/ACK.
    assert (syn.call_name, syn.direction) == ("connect", "out")
    assert (synack.call_name, synack.direction) == ("accept", "out")
    # Each data segment is its sendall()'s, sent: never "not sendall()'s doing".
    for data, text in ((hello, "hello"), (echo, "HELLO")):
        assert data.call_name == "sendall" and data.direction == "out", text
        assert data.context is None, data.context
    # The ACKs are the reading end's kernel's, under its recv().
    assert (ack_hello.call_name, ack_hello.direction) == ("recv", "out")
    assert (ack_echo.call_name, ack_echo.direction) == ("recv", "out")
    # The server's echo goes to the client: seen from the server's socket.
    assert "the client" in ack_hello.explain
    assert "the server" in ack_echo.explain


@pytest.mark.parametrize("layout", ["compact", "full"])
def test_the_view_names_the_call_of_a_packet_under_another_calls_line(layout):
    """Calls overlap (a thread's connect() started after accept()): a packet for a call
    other than the one whose line is just above says whose it is."""
    from test_compact import render

    text = render(feed(loopback_server_and_client().events), 120, layout)
    lines = [line for line in text.splitlines() if "TCP" in line]
    syn, synack, _ack, hello, ack_hello, echo, ack_echo = lines
    assert "for" not in syn and "for" not in hello and "for" not in echo
    assert synack.rstrip().endswith("for accept() · fd 3")
    assert ack_hello.rstrip().endswith("for recv() · fd 4")
    assert ack_echo.rstrip().endswith("for recv() · fd 5")


def test_on_loopback_a_server_bound_to_every_address_is_you_before_accept():
    """A student's echo server on localhost, bound to 0.0.0.0: a client outside the program
    connects and sends before accept() runs. The listener's port says the receiving end
    is yours; a guess from the run's role (the client) must not stick to the conversation."""
    from scapy.layers.l2 import Ether

    b = Builder()
    lo, zero = "127.0.0.1", "00:00:00:00:00:00"
    server, client = (lo, 4001), (lo, 50000)

    def seg(t, src, dst, flags, seq, ack=0, data=b"", options=()):
        b.packet(t, Ether(src=zero, dst=zero) / IP(src=src[0], dst=dst[0]) / TCP(
            sport=src[1], dport=dst[1], flags=flags, seq=seq, ack=ack, window=502,
            options=list(options)) / data, None, "lo")

    for name, text in (("bind", "bind(('0.0.0.0', 4001))"), ("listen", "listen()")):
        started, ended = call(b, name, text, 0.0, 0.0001, fd=3, local=("0.0.0.0", 4001))
        b.start(started)
        b.end(ended)
    seg(0.001, client, server, "S", 10, options=SYN_OPTS)
    seg(0.0011, server, client, "SA", 50, 11, options=SYN_OPTS)
    seg(0.0012, client, server, "A", 11, 51)
    seg(0.002, client, server, "PA", 11, 51, b"bonjour")
    syn, synack, _ack, data = shown(b.events)
    assert (syn.direction, synack.direction, data.direction) == ("in", "out", "in")
    assert syn.explain.startswith("the client asks to open a connection")
    assert data.explain == "7 bytes from the client"
    assert synack.context.startswith("no call is running: the kernel answers for the listening")
