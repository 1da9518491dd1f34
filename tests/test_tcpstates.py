"""Tests of sockviz.core.tcpstates: both ends' RFC 9293 states from the packets alone.

Hand-built exchanges (end 0 is the client, end 1 the server unless said
otherwise) list, for each segment, each end's path through it: "A>B" means
the end went from A to B, "?" an unknown (None) state. Then the project's real
captures, and random segment sequences (hypothesis).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sockviz.capfile.reader import open_capture
from sockviz.core.decode import decode
from sockviz.core.tcpstates import TRANSITIONS, Connection, Event, TcpState, Transition, states_json

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
C, SV = 0, 1  # the client's end, the server's end
CI, SI = 1000, 5000  # initial sequence numbers


def path(text: str | None) -> tuple[TcpState | None, ...]:
    if text is None:
        return (None,)
    return tuple(None if part == "?" else TcpState(part) for part in text.split(">"))


# Each step: (sender, flags, seq, ack, payload_len, client's path, server's path).
OPEN = [
    (C, "S", CI, None, 0, "CLOSED>SYN-SENT", "?"),
    (SV, "SA", SI, CI + 1, 0, "SYN-SENT>ESTABLISHED", "LISTEN>SYN-RECEIVED"),
    (C, "A", CI + 1, SI + 1, 0, "ESTABLISHED", "SYN-RECEIVED>ESTABLISHED"),
]

SCENARIOS = {
    "open, data, four-segment close": [
        *OPEN,
        (C, "PA", CI + 1, SI + 1, 10, "ESTABLISHED", "ESTABLISHED"),
        (SV, "A", SI + 1, CI + 11, 0, "ESTABLISHED", "ESTABLISHED"),
        (SV, "PA", SI + 1, CI + 11, 20, "ESTABLISHED", "ESTABLISHED"),
        (C, "A", CI + 11, SI + 21, 0, "ESTABLISHED", "ESTABLISHED"),
        (C, "FA", CI + 11, SI + 21, 0, "ESTABLISHED>FIN-WAIT-1", "ESTABLISHED>CLOSE-WAIT"),
        (SV, "A", SI + 21, CI + 12, 0, "FIN-WAIT-1>FIN-WAIT-2", "CLOSE-WAIT"),
        (SV, "FA", SI + 21, CI + 12, 0, "FIN-WAIT-2>TIME-WAIT", "CLOSE-WAIT>LAST-ACK"),
        (C, "A", CI + 12, SI + 22, 0, "TIME-WAIT", "LAST-ACK>CLOSED"),
    ],
    "three-segment close (the peer's FIN acknowledges the first)": [
        *OPEN,
        (C, "FA", CI + 1, SI + 1, 0, "ESTABLISHED>FIN-WAIT-1", "ESTABLISHED>CLOSE-WAIT"),
        (SV, "FA", SI + 1, CI + 2, 0, "FIN-WAIT-1>FIN-WAIT-2>TIME-WAIT", "CLOSE-WAIT>LAST-ACK"),
        (C, "A", CI + 2, SI + 2, 0, "TIME-WAIT", "LAST-ACK>CLOSED"),
    ],
    "server closes first": [
        *OPEN,
        (SV, "FA", SI + 1, CI + 1, 0, "ESTABLISHED>CLOSE-WAIT", "ESTABLISHED>FIN-WAIT-1"),
        (C, "FA", CI + 1, SI + 2, 0, "CLOSE-WAIT>LAST-ACK", "FIN-WAIT-1>FIN-WAIT-2>TIME-WAIT"),
        (SV, "A", SI + 2, CI + 2, 0, "LAST-ACK>CLOSED", "TIME-WAIT"),
    ],
    # RFC 9293 Figure 7: the SYNs cross; the capture sees end 0's first.
    "simultaneous open": [
        (0, "S", 100, None, 0, "CLOSED>SYN-SENT", "?"),
        (1, "S", 300, None, 0, "SYN-SENT>SYN-RECEIVED", "CLOSED>SYN-SENT>SYN-RECEIVED"),
        (0, "SA", 100, 301, 0, "SYN-RECEIVED", "SYN-RECEIVED>ESTABLISHED"),
        (1, "SA", 300, 101, 0, "SYN-RECEIVED>ESTABLISHED", "ESTABLISHED"),
        (0, "PA", 101, 301, 5, "ESTABLISHED", "ESTABLISHED"),
    ],
    # RFC 9293 Figure 13: the FINs cross; the second one does not acknowledge the first.
    "simultaneous close": [
        *OPEN,
        (C, "FA", CI + 1, SI + 1, 0, "ESTABLISHED>FIN-WAIT-1", "ESTABLISHED>CLOSE-WAIT"),
        (SV, "FA", SI + 1, CI + 1, 0, "FIN-WAIT-1>CLOSING", "ESTABLISHED>FIN-WAIT-1>CLOSING"),
        (C, "A", CI + 2, SI + 2, 0, "CLOSING", "CLOSING>TIME-WAIT"),
        (SV, "A", SI + 2, CI + 2, 0, "CLOSING>TIME-WAIT", "TIME-WAIT"),
    ],
    "RST refuses the connect: no listener": [
        (C, "S", CI, None, 0, "CLOSED>SYN-SENT", "?"),
        (SV, "RA", 0, CI + 1, 0, "SYN-SENT>CLOSED", "CLOSED"),
    ],
    "RST whose ACK misses the SYN is ignored in SYN-SENT": [
        (C, "S", CI, None, 0, "CLOSED>SYN-SENT", "?"),
        (SV, "RA", 0, CI + 7, 0, "SYN-SENT", "CLOSED"),
        (SV, "R", 0, None, 0, "SYN-SENT", "CLOSED"),
        (C, "S", CI, None, 0, "SYN-SENT", "CLOSED"),
        (SV, "RA", 0, CI + 1, 0, "SYN-SENT>CLOSED", "CLOSED"),
    ],
    "RST from the client mid-connection": [
        *OPEN,
        (C, "PA", CI + 1, SI + 1, 10, "ESTABLISHED", "ESTABLISHED"),
        (C, "RA", CI + 11, SI + 1, 0, "ESTABLISHED>CLOSED", "ESTABLISHED>CLOSED"),
    ],
    "RST from the server mid-connection": [
        *OPEN,
        (SV, "R", SI + 1, None, 0, "ESTABLISHED>CLOSED", "ESTABLISHED>CLOSED"),
        (C, "PA", CI + 1, SI + 1, 10, "CLOSED", "CLOSED"),
    ],
    "RST while the server closes": [
        *OPEN,
        (SV, "FA", SI + 1, CI + 1, 0, "ESTABLISHED>CLOSE-WAIT", "ESTABLISHED>FIN-WAIT-1"),
        (C, "RA", CI + 1, SI + 2, 0, "CLOSE-WAIT>CLOSED", "FIN-WAIT-1>CLOSED"),
    ],
    "RST in SYN-RECEIVED: a passive open returns to LISTEN": [
        (C, "S", CI, None, 0, "CLOSED>SYN-SENT", "?"),
        (SV, "SA", SI, CI + 1, 0, "SYN-SENT>ESTABLISHED", "LISTEN>SYN-RECEIVED"),
        (C, "R", CI + 1, None, 0, "ESTABLISHED>CLOSED", "SYN-RECEIVED>LISTEN"),
    ],
    "RST in SYN-RECEIVED after a simultaneous open: CLOSED": [
        (0, "S", 100, None, 0, "CLOSED>SYN-SENT", "?"),
        (1, "S", 300, None, 0, "SYN-SENT>SYN-RECEIVED", "CLOSED>SYN-SENT>SYN-RECEIVED"),
        (1, "R", 301, None, 0, "SYN-RECEIVED>CLOSED", "SYN-RECEIVED>CLOSED"),
    ],
    "retransmitted SYN and SYN/ACK": [
        (C, "S", CI, None, 0, "CLOSED>SYN-SENT", "?"),
        (C, "S", CI, None, 0, "SYN-SENT", "?"),
        (SV, "SA", SI, CI + 1, 0, "SYN-SENT>ESTABLISHED", "LISTEN>SYN-RECEIVED"),
        (C, "S", CI, None, 0, "ESTABLISHED", "SYN-RECEIVED"),  # a late copy
        (SV, "SA", SI, CI + 1, 0, "ESTABLISHED", "SYN-RECEIVED"),
        (C, "A", CI + 1, SI + 1, 0, "ESTABLISHED", "SYN-RECEIVED>ESTABLISHED"),
    ],
    "retransmitted FINs": [
        *OPEN,
        (C, "FA", CI + 1, SI + 1, 0, "ESTABLISHED>FIN-WAIT-1", "ESTABLISHED>CLOSE-WAIT"),
        (C, "FA", CI + 1, SI + 1, 0, "FIN-WAIT-1", "CLOSE-WAIT"),
        (SV, "A", SI + 1, CI + 2, 0, "FIN-WAIT-1>FIN-WAIT-2", "CLOSE-WAIT"),
        (SV, "FA", SI + 1, CI + 2, 0, "FIN-WAIT-2>TIME-WAIT", "CLOSE-WAIT>LAST-ACK"),
        (SV, "FA", SI + 1, CI + 2, 0, "TIME-WAIT", "LAST-ACK"),
        (C, "A", CI + 2, SI + 2, 0, "TIME-WAIT", "LAST-ACK>CLOSED"),
        (C, "A", CI + 2, SI + 2, 0, "TIME-WAIT", "CLOSED"),
    ],
    "half-close: data keeps flowing the other way": [
        *OPEN,
        (C, "FA", CI + 1, SI + 1, 0, "ESTABLISHED>FIN-WAIT-1", "ESTABLISHED>CLOSE-WAIT"),
        (SV, "A", SI + 1, CI + 2, 0, "FIN-WAIT-1>FIN-WAIT-2", "CLOSE-WAIT"),
        (SV, "PA", SI + 1, CI + 2, 100, "FIN-WAIT-2", "CLOSE-WAIT"),
        (C, "A", CI + 2, SI + 101, 0, "FIN-WAIT-2", "CLOSE-WAIT"),
        (SV, "PA", SI + 101, CI + 2, 50, "FIN-WAIT-2", "CLOSE-WAIT"),
        (C, "A", CI + 2, SI + 151, 0, "FIN-WAIT-2", "CLOSE-WAIT"),
        (SV, "FA", SI + 151, CI + 2, 0, "FIN-WAIT-2>TIME-WAIT", "CLOSE-WAIT>LAST-ACK"),
        (C, "A", CI + 2, SI + 152, 0, "TIME-WAIT", "LAST-ACK>CLOSED"),
    ],
    "an ACK that does not cover the FIN leaves FIN-WAIT-1": [
        *OPEN,
        (C, "PA", CI + 1, SI + 1, 10, "ESTABLISHED", "ESTABLISHED"),
        (C, "FPA", CI + 11, SI + 1, 5, "ESTABLISHED>FIN-WAIT-1", "ESTABLISHED>CLOSE-WAIT"),  # FIN at 1016
        (SV, "A", SI + 1, CI + 11, 0, "FIN-WAIT-1", "CLOSE-WAIT"),
        (SV, "A", SI + 1, CI + 16, 0, "FIN-WAIT-1", "CLOSE-WAIT"),  # the data, not the FIN
        (SV, "A", SI + 1, CI + 17, 0, "FIN-WAIT-1>FIN-WAIT-2", "CLOSE-WAIT"),
    ],
    "an ACK that does not cover the FIN leaves LAST-ACK and CLOSING": [
        *OPEN,
        (C, "FA", CI + 1, SI + 1, 0, "ESTABLISHED>FIN-WAIT-1", "ESTABLISHED>CLOSE-WAIT"),
        (SV, "FA", SI + 1, CI + 1, 0, "FIN-WAIT-1>CLOSING", "ESTABLISHED>FIN-WAIT-1>CLOSING"),
        (SV, "A", SI + 2, CI + 1, 0, "CLOSING", "CLOSING"),
        (C, "A", CI + 2, SI + 1, 0, "CLOSING", "CLOSING"),
        (C, "A", CI + 2, SI + 2, 0, "CLOSING", "CLOSING>TIME-WAIT"),
    ],
    "the handshake's last ACK carries a FIN": [
        *OPEN[:2],
        (C, "FA", CI + 1, SI + 1, 0, "ESTABLISHED>FIN-WAIT-1", "SYN-RECEIVED>ESTABLISHED>CLOSE-WAIT"),
    ],
    "the ACK of the SYN needs to cover it": [
        (C, "S", CI, None, 0, "CLOSED>SYN-SENT", "?"),
        (SV, "SA", SI, CI + 1, 0, "SYN-SENT>ESTABLISHED", "LISTEN>SYN-RECEIVED"),
        (C, "A", CI + 1, SI, 0, "ESTABLISHED", "SYN-RECEIVED"),
        (C, "A", CI + 1, SI + 1, 0, "ESTABLISHED", "SYN-RECEIVED>ESTABLISHED"),
    ],
    "a SYN/ACK that does not acknowledge the SYN is dropped": [
        (C, "S", CI, None, 0, "CLOSED>SYN-SENT", "?"),
        (SV, "SA", SI, CI + 9, 0, "SYN-SENT", "LISTEN>SYN-RECEIVED"),
        (C, "R", CI + 9, None, 0, "SYN-SENT", "SYN-RECEIVED>LISTEN"),
    ],
    "sequence numbers wrap around": [
        (C, "S", 0xFFFF_FFFF, None, 0, "CLOSED>SYN-SENT", "?"),
        (SV, "SA", 0xFFFF_FFF0, 0, 0, "SYN-SENT>ESTABLISHED", "LISTEN>SYN-RECEIVED"),
        (C, "PA", 0, 0xFFFF_FFF1, 20, "ESTABLISHED", "SYN-RECEIVED>ESTABLISHED"),
        (SV, "FPA", 0xFFFF_FFF1, 20, 15, "ESTABLISHED>CLOSE-WAIT", "ESTABLISHED>FIN-WAIT-1"),
        (C, "A", 20, 0, 0, "CLOSE-WAIT", "FIN-WAIT-1"),  # covers the data, not the FIN
        (C, "FA", 20, 1, 0, "CLOSE-WAIT>LAST-ACK", "FIN-WAIT-1>FIN-WAIT-2>TIME-WAIT"),
        (SV, "A", 1, 21, 0, "LAST-ACK>CLOSED", "TIME-WAIT"),
    ],
    "a new incarnation after TIME-WAIT": [
        *OPEN,
        (C, "FA", CI + 1, SI + 1, 0, "ESTABLISHED>FIN-WAIT-1", "ESTABLISHED>CLOSE-WAIT"),
        (SV, "FA", SI + 1, CI + 2, 0, "FIN-WAIT-1>FIN-WAIT-2>TIME-WAIT", "CLOSE-WAIT>LAST-ACK"),
        (C, "A", CI + 2, SI + 2, 0, "TIME-WAIT", "LAST-ACK>CLOSED"),
        (C, "S", 9000, None, 0, "TIME-WAIT>SYN-SENT", "CLOSED"),
        (SV, "SA", 7000, 9001, 0, "SYN-SENT>ESTABLISHED", "CLOSED>LISTEN>SYN-RECEIVED"),
        (C, "A", 9001, 7001, 0, "ESTABLISHED", "SYN-RECEIVED>ESTABLISHED"),
        (C, "FA", 9001, 7001, 0, "ESTABLISHED>FIN-WAIT-1", "ESTABLISHED>CLOSE-WAIT"),
    ],
    "a new SYN to a closed port after a RST": [
        (C, "S", CI, None, 0, "CLOSED>SYN-SENT", "?"),
        (SV, "RA", 0, CI + 1, 0, "SYN-SENT>CLOSED", "CLOSED"),
        (C, "S", 9000, None, 0, "CLOSED>SYN-SENT", "CLOSED"),
        (SV, "RA", 0, 9001, 0, "SYN-SENT>CLOSED", "CLOSED"),
    ],
    # The capture starts after the handshake: data, ACKs and FINs do not tell.
    "mid-stream start: unknown until a RST": [
        (0, "PA", 7000, 9000, 10, "?", "?"),
        (1, "A", 9000, 7010, 0, "?", "?"),
        (1, "PA", 9000, 7010, 30, "?", "?"),
        (0, "A", 7010, 9030, 0, "?", "?"),
        (0, "FA", 7010, 9030, 0, "?", "?"),
        (1, "A", 9030, 7011, 0, "?", "?"),
        (1, "RA", 9030, 7011, 0, "?>CLOSED", "?>CLOSED"),
    ],
    "mid-stream start: a normal close stays unknown": [
        (0, "FA", 7000, 9000, 0, "?", "?"),
        (1, "FA", 9000, 7001, 0, "?", "?"),
        (0, "A", 7001, 9001, 0, "?", "?"),
    ],
    "the capture starts at the SYN/ACK": [
        (SV, "SA", SI, CI + 1, 0, "?", "?>SYN-RECEIVED"),
        (C, "A", CI + 1, SI + 1, 0, "?>ESTABLISHED", "SYN-RECEIVED>ESTABLISHED"),
        (C, "FA", CI + 1, SI + 1, 0, "ESTABLISHED>FIN-WAIT-1", "ESTABLISHED>CLOSE-WAIT"),
    ],
    "a SYN nobody answers leaves the server unknown": [
        (C, "S", CI, None, 0, "CLOSED>SYN-SENT", "?"),
        (C, "S", CI, None, 0, "SYN-SENT", "?"),
        (C, "S", CI, None, 0, "SYN-SENT", "?"),
    ],
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_exchange(name):
    conn = Connection()
    for i, (sender, flags, seq, ack, length, client, server) in enumerate(SCENARIOS[name]):
        t = conn.segment(sender, flags, seq, ack, length)
        got = (t.paths[0], t.paths[1])
        assert got == (path(client), path(server)), f"segment {i}: {flags} from end {sender}"
        assert conn.states == (t.after(0), t.after(1))


def test_known_start_states():
    """A socket connected before the capture started: its states given up front."""
    conn = Connection(initial=(TcpState.ESTABLISHED, TcpState.ESTABLISHED))
    conn.segment(0, "PA", 7000, 9000, 10)
    t = conn.segment(0, "FA", 7010, 9000, 0)
    assert t.paths == (path("ESTABLISHED>FIN-WAIT-1"), path("ESTABLISHED>CLOSE-WAIT"))
    t = conn.segment(1, "FA", 9000, 7011, 0)
    assert t.paths == (path("FIN-WAIT-1>FIN-WAIT-2>TIME-WAIT"), path("CLOSE-WAIT>LAST-ACK"))
    t = conn.segment(0, "A", 7011, 9001, 0)
    assert conn.states == (TcpState.TIME_WAIT, TcpState.CLOSED)


def test_transition_helpers_and_json():
    conn = Connection()
    conn.segment(0, "S", CI, None, 0)
    t = conn.segment(1, "SA", SI, CI + 1, 0)
    assert (t.sender, t.receiver) == (1, 0)
    assert (t.sender_state, t.receiver_state) == (TcpState.SYN_RECEIVED, TcpState.ESTABLISHED)
    assert (t.before(1), t.after(1)) == (TcpState.LISTEN, TcpState.SYN_RECEIVED)
    assert t.changed == (1, 0)  # the sender first
    assert t.events == ((Event.RECV_SYNACK,), (Event.RECV_SYN, Event.SEND_SYNACK))
    assert states_json(t) == {"src": "SYN-RECEIVED", "dst": "ESTABLISHED"}
    assert json.dumps(states_json(t)) == '{"src": "SYN-RECEIVED", "dst": "ESTABLISHED"}'
    assert type(states_json(t)["src"]) is str
    t = conn.segment(0, "PA", CI + 1, SI + 1, 3)
    assert t.changed == (1,)
    assert t.events == ((Event.SEND_ACK_OF_SYN,), (Event.RECV_ACK_OF_SYN,))
    t = conn.segment(0, "A", CI + 4, SI + 1, 0)
    assert t.changed == () and t.events == ((), ())
    assert isinstance(t, Transition)


def test_json_of_unknown_receiver():
    t = Connection().segment(0, "S", CI, None, 0)
    assert states_json(t) == {"src": "SYN-SENT", "dst": None}


def test_fin_and_ack_in_one_segment_are_handled_in_rfc_order():
    """ACK before FIN (§3.10.7.4): FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT, not CLOSING."""
    conn = Connection()
    for step in OPEN:
        conn.segment(*step[:5])
    conn.segment(C, "FA", CI + 1, SI + 1, 0)
    t = conn.segment(SV, "FA", SI + 1, CI + 2, 0)
    assert t.events[C] == (Event.RECV_ACK_OF_FIN, Event.RECV_FIN)
    assert t.events[SV] == (Event.SEND_FIN,)


@pytest.mark.parametrize("sender", [-1, 2, None])
def test_sender_must_be_an_end(sender):
    with pytest.raises(ValueError):
        Connection().segment(sender, "S", 1, None, 0)


def test_state_names_are_the_rfcs():
    assert [s.value for s in TcpState] == [
        "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
        "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT", "CLOSED"]
    assert TcpState.FIN_WAIT_1 == "FIN-WAIT-1" and str(TcpState.TIME_WAIT) == "TIME-WAIT"


def test_table_is_well_formed():
    events_used = {event for _, event in TRANSITIONS}
    assert events_used == set(Event)  # every event of the vocabulary moves some state
    for (state, event), new in TRANSITIONS.items():
        assert state is None or isinstance(state, TcpState)
        assert isinstance(event, Event)
        assert new is None or isinstance(new, TcpState)
    # Every state the table leads to is one it also knows how to leave (or TIME-WAIT/CLOSED ends).
    targets = {new for new in TRANSITIONS.values()}
    sources = {state for state, _ in TRANSITIONS}
    assert targets <= sources
    assert set(TcpState) <= sources
    with pytest.raises(TypeError):
        TRANSITIONS[(None, Event.SEND_SYN)] = TcpState.CLOSED  # read-only


# -- the project's real captures ------------------------------------------------

def capture_paths(name: str) -> tuple[list, list, list]:
    """Feed a capture's TCP segments; the client (the first sender) is end 0."""
    conn = Connection()
    first = None
    paths: list[list] = [[], []]
    jsons = []
    with open_capture(CAPTURES / name) as reader:
        for frame in reader:
            d = decode(frame.data, frame.linktype)
            if d.proto != "TCP" or d.tcp_flags is None:
                continue
            if first is None:
                first = (d.src, d.sport)
            sender = 0 if (d.src, d.sport) == first else 1
            t = conn.segment(sender, d.tcp_flags, d.seq, d.ack, d.payload_len)
            for end in (0, 1):
                paths[end].extend(t.paths[end])
            jsons.append((d.tcp_flags, states_json(t)))
    return _collapse(paths[0]), _collapse(paths[1]), jsons


def _collapse(states: list) -> list[str]:
    """The states an end went through, each once in a row, unknown left out."""
    out: list[str] = []
    for s in states:
        if s is not None and (not out or out[-1] != s):
            out.append(str(s))
    return out


@pytest.mark.parametrize("name", ["tcp.pcapng", "tcp6.pcapng"])
def test_real_capture_of_the_lesson(name):
    client, server, jsons = capture_paths(name)
    assert client == ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"]
    assert server == ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]
    est = {"src": "ESTABLISHED", "dst": "ESTABLISHED"}
    assert jsons == [
        ("S", {"src": "SYN-SENT", "dst": None}),
        ("SA", {"src": "SYN-RECEIVED", "dst": "ESTABLISHED"}),
        ("A", est), ("PA", est), ("A", est), ("PA", est), ("A", est),
        ("FA", {"src": "FIN-WAIT-1", "dst": "CLOSE-WAIT"}),
        ("FA", {"src": "LAST-ACK", "dst": "TIME-WAIT"}),
        ("A", {"src": "TIME-WAIT", "dst": "CLOSED"}),
    ]


def test_real_capture_refused():
    client, server, jsons = capture_paths("tcp-refused.pcapng")
    assert client == ["CLOSED", "SYN-SENT", "CLOSED"]
    assert server == ["CLOSED"]  # no listener: CLOSED throughout
    assert jsons == [("S", {"src": "SYN-SENT", "dst": None}),
                     ("RA", {"src": "CLOSED", "dst": "CLOSED"})]


# -- random segments -------------------------------------------------------------

_FLAGS = st.sets(st.sampled_from("FSRPAUEC")).map(lambda s: "".join(ch for ch in "FSRPAUEC" if ch in s))
_NUMBERS = st.one_of(st.sampled_from([0, 1, 2, CI, CI + 1, CI + 2, SI, SI + 1, SI + 2, 0xFFFF_FFFF]),
                     st.integers(min_value=-(1 << 40), max_value=1 << 40))
_SEGMENTS = st.lists(st.tuples(st.sampled_from([0, 1]), _FLAGS, _NUMBERS,
                               st.one_of(st.none(), _NUMBERS), st.integers(0, 3000)), max_size=40)
_INITIAL = st.sampled_from([None, *TcpState])


@settings(max_examples=250, deadline=None)
@given(segments=_SEGMENTS, initial=st.tuples(_INITIAL, _INITIAL))
def test_random_segments_never_raise(segments, initial):
    conn = Connection(initial=initial)
    previous = conn.states
    for sender, flags, seq, ack, length in segments:
        t = conn.segment(sender, flags, seq, ack, length)
        assert t.sender == sender
        for end in (0, 1):
            p = t.paths[end]
            assert p and all(s is None or isinstance(s, TcpState) for s in p)
            assert all(a != b for a, b in itertools.pairwise(p))  # a path only lists changes
            assert all(isinstance(e, Event) for e in t.events[end])
            # A path starts where the last one ended, unless it replaces an unknown state, or a
            # crossed segment or a listener's answer rewrites that end's start.
            assert p[0] == previous[end] or previous[end] is None or len(p) > 1
        assert conn.states == (t.after(0), t.after(1))
        assert set(t.changed) <= {0, 1}
        j = states_json(t)
        assert set(j) == {"src", "dst"}
        assert all(v is None or v in {s.value for s in TcpState} for v in j.values())
        previous = conn.states


class _NoBulk(Connection):
    """The machine without its bulk shortcut: every segment through the whole of segment()."""

    __slots__ = ()

    def _quiet(self) -> None:
        pass


# A handshake first, so that many sequences reach the bulk of a connection.
_OPENED = [(0, "S", CI, None, 0), (1, "SA", SI, CI + 1, 0), (0, "A", CI + 1, SI + 1, 0)]
_PLAIN = st.sampled_from(["A", "PA", "", "P", "AU", "AE"])
_BULKY = st.lists(st.tuples(st.sampled_from([0, 1]), st.one_of(_PLAIN, _FLAGS), _NUMBERS,
                            st.one_of(st.none(), _NUMBERS), st.integers(0, 3000)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(segments=_BULKY, opened=st.booleans(), initial=st.tuples(_INITIAL, _INITIAL))
def test_the_bulk_shortcut_changes_nothing(segments, opened, initial):
    fast, full = Connection(initial=initial), _NoBulk(initial=initial)
    for sender, flags, seq, ack, length in (_OPENED if opened else []) + segments:
        a = fast.segment(sender, flags, seq, ack, length)
        b = full.segment(sender, flags, seq, ack, length)
        assert (a.sender, a.paths, a.events) == (b.sender, b.paths, b.events)
        assert fast.states == full.states


@settings(max_examples=200, deadline=None)
@given(ci=st.integers(0, 0xFFFF_FFFF), si=st.integers(0, 0xFFFF_FFFF),
       sent=st.integers(0, 1 << 20), received=st.integers(0, 1 << 20))
def test_any_numbers_open_and_close(ci, si, sent, received):
    """The open, data both ways and a three-segment close, at any ISN (wrapping or not)."""
    m = 1 << 32
    conn = Connection()
    conn.segment(0, "S", ci, None, 0)
    conn.segment(1, "SA", si, (ci + 1) % m, 0)
    conn.segment(0, "A", (ci + 1) % m, (si + 1) % m, 0)
    assert conn.states == (TcpState.ESTABLISHED, TcpState.ESTABLISHED)
    conn.segment(0, "PA", (ci + 1) % m, (si + 1) % m, sent)
    conn.segment(1, "PA", (si + 1) % m, (ci + 1 + sent) % m, received)
    c_fin, s_fin = (ci + 1 + sent) % m, (si + 1 + received) % m
    conn.segment(0, "FA", c_fin, s_fin, 0)
    assert conn.states == (TcpState.FIN_WAIT_1, TcpState.CLOSE_WAIT)
    conn.segment(1, "A", s_fin, c_fin, 0)  # not the FIN yet
    assert conn.states == (TcpState.FIN_WAIT_1, TcpState.CLOSE_WAIT)
    conn.segment(1, "FA", s_fin, (c_fin + 1) % m, 0)
    assert conn.states == (TcpState.TIME_WAIT, TcpState.LAST_ACK)
    conn.segment(0, "A", (c_fin + 1) % m, (s_fin + 1) % m, 0)
    assert conn.states == (TcpState.TIME_WAIT, TcpState.CLOSED)
