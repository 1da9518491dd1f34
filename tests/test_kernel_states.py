"""The kernel's TCP state of a traced call's socket, set beside the state its packets show.

A traced call carries the kernel's state as it returned (``Call.tcp_state``:
TCP_INFO, or the socket table after close()). The correlator follows both
ends through RFC 9293's machine from the packets; where the two disagree the
timeline says so in a note, unless a packet just after the call's end (the
kernel's state is read just after the end is stamped) brings them together.
"""

from __future__ import annotations

import dataclasses

import pytest
from scapy.layers.inet import IP, TCP
from tests.scenarios import CLIENT, SERVER, Builder, eth, feed

from sockviz.core.correlate import STATE_READ_SLACK
from sockviz.core.timeline import CallEnded, Note, PacketShown

CP, C_ISN, S_ISN = 40312, 1_000_000, 5_000_000
LOCAL, PEER = (CLIENT, CP), (SERVER, 3001)


def _segment(b: Builder, t: float, direction: str, flags: str, seq: int, ack: int) -> None:
    if direction == "out":
        ip, tcp = IP(src=CLIENT, dst=SERVER), TCP(sport=CP, dport=3001)
    else:
        ip, tcp = IP(src=SERVER, dst=CLIENT), TCP(sport=3001, dport=CP)
    tcp.flags, tcp.seq, tcp.ack, tcp.window = flags, seq, ack, 502
    b.packet(t, eth(direction) / ip / tcp, direction)


def _traced(call, **changes):
    return dataclasses.replace(call, local=LOCAL, peer=PEER, **changes)


def _connected() -> Builder:
    """connect() and its handshake, the kernel ESTABLISHED as it returns."""
    b = Builder()
    conn, conn_done = b.call("connect", "connect(('192.0.2.2', 3001))", 0.010, 0.0125)
    b.start(_traced(conn))
    _segment(b, 0.0103, "out", "S", C_ISN, 0)
    _segment(b, 0.0120, "in", "SA", S_ISN, C_ISN + 1)
    _segment(b, 0.0121, "out", "A", C_ISN + 1, S_ISN + 1)
    b.end(_traced(conn_done, tcp_state="ESTABLISHED"))
    return b


def _connect_then_close(kernel_after_close: str, ack_after: float | None) -> list:
    """connect() (kernel ESTABLISHED), then close() whose FIN is acked ``ack_after`` s later."""
    b = _connected()
    close, close_done = b.call("close", "close()", 0.040, 0.0401)
    b.start(_traced(close))
    _segment(b, 0.04005, "out", "FA", C_ISN + 1, S_ISN + 1)
    b.end(_traced(close_done, tcp_state=kernel_after_close))
    if ack_after is not None:
        _segment(b, 0.0401 + ack_after, "in", "A", S_ISN + 1, C_ISN + 2)
    return feed(b.events)


def _notes(entries) -> list[str]:
    return [e.text for e in entries if isinstance(e, Note)]


def test_agreeing_states_say_nothing():
    # close() returned with the FIN not yet acked: FIN-WAIT-1 for the kernel and the packets.
    assert _notes(_connect_then_close("FIN-WAIT-1", ack_after=0.002)) == []


def test_an_ack_just_after_the_end_explains_the_kernels_later_state():
    # The kernel's state was read after the ACK arrived, 1 ms after close()'s end stamp.
    entries = _connect_then_close("FIN-WAIT-2", ack_after=STATE_READ_SLACK / 5)
    assert _notes(entries) == []


@pytest.mark.parametrize("ack_after", [None, STATE_READ_SLACK * 4])
def test_a_disagreement_is_said_with_both_states(ack_after):
    entries = _connect_then_close("FIN-WAIT-2", ack_after=ack_after)
    notes = _notes(entries)
    assert len(notes) == 1
    assert "FIN-WAIT-2" in notes[0] and "FIN-WAIT-1" in notes[0] and "close()" in notes[0]
    note = next(e for e in entries if isinstance(e, Note))
    assert note.saved is False  # a replay derives it again: not written to the capture
    # Said once the slack is over: after the call's end, before any later packet.
    ended = next(i for i, e in enumerate(entries)
                 if isinstance(e, CallEnded) and e.call.name == "close")
    assert entries.index(note) > ended
    later = [e for e in entries[ended:entries.index(note)] if isinstance(e, PacketShown)]
    assert later == []


def test_every_tcp_segment_carries_both_ends_states():
    entries = _connect_then_close("FIN-WAIT-1", ack_after=0.002)
    states = [(e.packet.decoded.tcp_flags, e.tcp_states) for e in entries
              if isinstance(e, PacketShown)]
    assert states == [
        ("S", {"src": "SYN-SENT", "dst": None}),
        ("SA", {"src": "SYN-RECEIVED", "dst": "ESTABLISHED"}),
        ("A", {"src": "ESTABLISHED", "dst": "ESTABLISHED"}),
        ("FA", {"src": "FIN-WAIT-1", "dst": "CLOSE-WAIT"}),
        ("A", {"src": "CLOSE-WAIT", "dst": "FIN-WAIT-2"}),
    ]
    # The ends a segment moved, with their paths and roles (the client sent the first SYN).
    changes = [e.tcp_changes for e in entries if isinstance(e, PacketShown)]
    assert changes[0] == (("src", ("CLOSED", "SYN-SENT"), "client"),)
    assert changes[1] == (("src", ("LISTEN", "SYN-RECEIVED"), "server"),
                          ("dst", ("SYN-SENT", "ESTABLISHED"), "client"))
    assert changes[4] == (("dst", ("FIN-WAIT-1", "FIN-WAIT-2"), "client"),)


def test_close_ahead_of_its_fin_says_nothing():
    """close() moves the socket to FIN-WAIT-1 at once, but its FIN leaves after the data
    queued before it (here 40 ms later, once the peer's window opens): no disagreement."""
    b = _connected()
    close, close_done = b.call("close", "close()", 0.040, 0.0401)
    b.start(_traced(close))
    b.end(_traced(close_done, tcp_state="FIN-WAIT-1"))
    _segment(b, 0.080, "out", "FA", C_ISN + 1, S_ISN + 1)
    _segment(b, 0.081, "in", "A", S_ISN + 1, C_ISN + 2)
    assert _notes(feed(b.events)) == []
