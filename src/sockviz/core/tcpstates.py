"""Each end's TCP state, followed from the packets alone (RFC 9293 §3.3.2, §3.10).

Pure: no socket, scapy or rich, no I/O. As in h11's ``_state.py``, every
state change is one row of one table, ``TRANSITIONS``: ``(state, event) ->
new state``. A segment becomes a few events for its sender (``SEND_*``) and
for its receiver (``RECV_*``), in the order RFC 9293 §3.10.7.4 processes a
segment (RST, SYN, ACK, then FIN), and each event moves its end along the
table. A pair missing from the table leaves the state as it is: RFC 9293
drops such a segment or answers it (an ACK, a RST) without changing state.

``Connection.segment(sender, flags, seq, ack, payload_len)`` feeds one
segment and returns a ``Transition``: each end's path of states through it,
so a view can print "you: SYN-SENT → ESTABLISHED"; ``states_json`` gives the
JSON field ``{"src": ..., "dst": ...}``.

Simplifications (a capture is taken at one point, between the ends):

- A segment is seen once: it is taken as sent by one end and received by
  the other at that moment. Crossed segments (simultaneous open and close,
  RFC 9293 Figures 7 and 13) are recognised afterwards: a plain SYN from an
  end a SYN was sent to, or a first FIN whose ACK does not cover the peer's
  FIN, shows that its sender sent it before it handled the peer's segment.
  That end's path through the second segment then starts from its state
  before the first one (ESTABLISHED → FIN-WAIT-1 → CLOSING, where the
  first segment had shown it going CLOSE-WAIT).
- Whether anything listens is told by the answer, not by the SYN: the end a
  connection's first SYN is sent to stays unknown (None) on that SYN. Its
  SYN,ACK shows it was LISTEN (LISTEN → SYN-RECEIVED), its RST that no one
  listened (CLOSED throughout, §3.10.7.1). The sender of a connection's
  first SYN starts CLOSED (active OPEN, §3.10.1).
- A capture that starts mid-connection: both ends are None until a segment
  shows a state whatever came before: a SYN (SYN-SENT), a SYN,ACK
  (SYN-RECEIVED), an ACK of a SYN seen in the capture (ESTABLISHED), a RST
  sent or received (CLOSED). Data, ACKs and FINs do not tell: an end that
  half-closed before the capture started (FIN-WAIT-2, its peer CLOSE-WAIT)
  sends and receives the same segments as an established one, and a FIN
  may be the first or the second one. ``Connection(initial=...)`` takes
  states known otherwise (a socket connected before the capture).
- Sequence numbers are tracked only as far as the SYNs and FINs: a FIN is
  acknowledged by ack = its seq + 1 (modulo 2**32), not by any ACK; a SYN by
  any ACK beyond it, and in SYN-SENT by an acceptable one only (ISN < ack
  =< SND.NXT, §3.10.7.3). Windows are not tracked: a RST is taken as valid
  in every state but SYN-SENT, where its ACK must be acceptable; LISTEN
  ignores one (§3.10.7.2). A FIN is taken in order, as if no segment were
  missing.
- TIME-WAIT lasts 2×MSL (§3.4.2); a capture does not see it end, so the
  active closer stays TIME-WAIT.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sockviz.core.fast_init import positional

__all__ = [
    "TRANSITIONS",
    "Connection",
    "Event",
    "TcpState",
    "Transition",
    "changes",
    "states_json",
]

_MOD = 1 << 32
_HALF = 1 << 31


class TcpState(enum.StrEnum):
    """The connection states of RFC 9293 §3.3.2, spelled as the RFC does."""

    LISTEN = "LISTEN"
    SYN_SENT = "SYN-SENT"
    SYN_RECEIVED = "SYN-RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"
    CLOSED = "CLOSED"


class Event(enum.StrEnum):
    """What a segment is to one of its ends: the inputs of ``TRANSITIONS``."""

    SEND_SYN = "SEND_SYN"  # a SYN without ACK: an active open, or its retransmission
    SEND_SYNACK = "SEND_SYNACK"  # a SYN,ACK: the answer to a SYN
    SEND_ACK_OF_SYN = "SEND_ACK_OF_SYN"  # the first plain ACK covering the peer's SYN
    SEND_FIN = "SEND_FIN"  # a FIN (or its retransmission)
    SEND_RST = "SEND_RST"
    RECV_SYN = "RECV_SYN"  # a SYN without ACK
    RECV_SYNACK = "RECV_SYNACK"  # a SYN,ACK whose ACK covers this end's SYN
    RECV_ACK_OF_SYN = "RECV_ACK_OF_SYN"  # the first plain ACK covering this end's SYN
    RECV_ACK_OF_FIN = "RECV_ACK_OF_FIN"  # the first ACK covering this end's FIN
    RECV_FIN = "RECV_FIN"
    RECV_RST = "RECV_RST"  # a valid RST (see the module docstring)


S = TcpState
E = Event
_SYNCHRONIZED = (S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT, S.CLOSING, S.LAST_ACK,
                 S.TIME_WAIT)

# The state diagram, RFC 9293 §3.3.2 (Figure 5), with the event processing of §3.10.
# None is the state of an end the capture has not shown yet (a capture started mid-connection).
TRANSITIONS: Mapping[tuple[TcpState | None, Event], TcpState | None] = MappingProxyType({
    # Unknown ends: only segments a single state can send or a RST tell (module docstring).
    (None, E.SEND_SYN): S.SYN_SENT,
    (None, E.SEND_SYNACK): S.SYN_RECEIVED,
    (None, E.SEND_ACK_OF_SYN): S.ESTABLISHED,
    (None, E.SEND_RST): S.CLOSED,
    (None, E.RECV_RST): S.CLOSED,
    # Opening (§3.5). CLOSED --active OPEN / snd SYN--> SYN-SENT (§3.10.1).
    (S.CLOSED, E.SEND_SYN): S.SYN_SENT,
    (S.CLOSED, E.SEND_SYNACK): S.SYN_RECEIVED,  # only a SYN-RECEIVED end sends SYN,ACK
    (S.LISTEN, E.RECV_SYN): S.SYN_RECEIVED,  # rcv SYN / snd SYN,ACK (§3.10.7.2)
    (S.LISTEN, E.SEND_SYNACK): S.SYN_RECEIVED,
    (S.LISTEN, E.SEND_SYN): S.SYN_SENT,  # SEND in LISTEN (§3.10.2)
    (S.LISTEN, E.SEND_RST): S.LISTEN,  # answers a stray ACK (§3.10.7.2)
    (S.LISTEN, E.RECV_RST): S.LISTEN,  # "an incoming RST should be ignored" (§3.10.7.2)
    (S.SYN_SENT, E.SEND_SYN): S.SYN_SENT,  # retransmission (§3.8.1)
    (S.SYN_SENT, E.RECV_SYNACK): S.ESTABLISHED,  # its SYN acknowledged (§3.10.7.3)
    (S.SYN_SENT, E.RECV_SYN): S.SYN_RECEIVED,  # simultaneous open (§3.10.7.3, Figure 7)
    (S.SYN_SENT, E.SEND_SYNACK): S.SYN_RECEIVED,  # ... its peer's SYN was not seen
    (S.SYN_SENT, E.SEND_ACK_OF_SYN): S.ESTABLISHED,  # ... the SYN,ACK was not seen
    (S.SYN_SENT, E.SEND_RST): S.SYN_SENT,  # answers an unacceptable ACK (§3.10.7.3)
    (S.SYN_SENT, E.RECV_RST): S.CLOSED,  # "connection reset" (§3.10.7.3)
    (S.SYN_RECEIVED, E.RECV_SYN): S.SYN_RECEIVED,  # retransmitted SYN: answered again
    (S.SYN_RECEIVED, E.SEND_SYNACK): S.SYN_RECEIVED,
    (S.SYN_RECEIVED, E.RECV_ACK_OF_SYN): S.ESTABLISHED,  # §3.10.7.4, fifth, SYN-RECEIVED
    (S.SYN_RECEIVED, E.RECV_SYNACK): S.ESTABLISHED,  # simultaneous open (Figure 7)
    (S.SYN_RECEIVED, E.SEND_FIN): S.FIN_WAIT_1,  # CLOSE in SYN-RECEIVED (§3.10.4)
    (S.SYN_RECEIVED, E.RECV_FIN): S.CLOSE_WAIT,  # §3.10.7.4, eighth
    # A passive open returns to LISTEN (§3.10.7.4, second); see _ACTIVE_OPEN for the other.
    (S.SYN_RECEIVED, E.RECV_RST): S.LISTEN,
    (S.SYN_RECEIVED, E.SEND_RST): S.CLOSED,
    # Closing (§3.6): the active closer, ...
    (S.ESTABLISHED, E.SEND_FIN): S.FIN_WAIT_1,  # CLOSE / snd FIN
    (S.FIN_WAIT_1, E.SEND_FIN): S.FIN_WAIT_1,  # retransmission
    (S.FIN_WAIT_1, E.RECV_ACK_OF_FIN): S.FIN_WAIT_2,
    (S.FIN_WAIT_1, E.RECV_FIN): S.CLOSING,  # simultaneous close (Figure 13)
    (S.FIN_WAIT_2, E.RECV_FIN): S.TIME_WAIT,  # rcv FIN / snd ACK
    (S.CLOSING, E.SEND_FIN): S.CLOSING,
    (S.CLOSING, E.RECV_FIN): S.CLOSING,
    (S.CLOSING, E.RECV_ACK_OF_FIN): S.TIME_WAIT,
    (S.TIME_WAIT, E.RECV_FIN): S.TIME_WAIT,  # "restart the 2 MSL time-wait timeout"
    (S.TIME_WAIT, E.SEND_SYN): S.SYN_SENT,  # a new incarnation of the connection
    # ... and the passive one.
    (S.ESTABLISHED, E.RECV_FIN): S.CLOSE_WAIT,  # rcv FIN / snd ACK
    (S.CLOSE_WAIT, E.RECV_FIN): S.CLOSE_WAIT,  # a retransmitted FIN: "remain"
    (S.CLOSE_WAIT, E.SEND_FIN): S.LAST_ACK,  # CLOSE / snd FIN
    (S.LAST_ACK, E.SEND_FIN): S.LAST_ACK,
    (S.LAST_ACK, E.RECV_FIN): S.LAST_ACK,
    (S.LAST_ACK, E.RECV_ACK_OF_FIN): S.CLOSED,
    # Resets: a valid RST closes a synchronized connection (§3.10.7.4, second) and so
    # does sending one, an ABORT (§3.10.5). TIME-WAIT too (RFC 1337 discusses why not).
    **{(state, E.RECV_RST): S.CLOSED for state in _SYNCHRONIZED},
    **{(state, E.SEND_RST): S.CLOSED for state in _SYNCHRONIZED},
})

# The one row that depends on how the end got there: a SYN-RECEIVED end that came from
# SYN-SENT (simultaneous open) goes CLOSED on a RST, not back to LISTEN (§3.10.7.4).
_ACTIVE_OPEN: Mapping[tuple[TcpState | None, Event], TcpState | None] = MappingProxyType({
    (S.SYN_RECEIVED, E.RECV_RST): S.CLOSED,
})

# States in which a received SYN waits for the end's answer to tell what happened:
# unknown (a listener or not?), CLOSED (a new listener's connection, or a RST), TIME-WAIT
# (a new incarnation, a challenge ACK, or a RST: §3.10.7.4, fourth; RFC 5961 §4).
_SYN_WAITS = frozenset({None, S.CLOSED, S.TIME_WAIT})


def _covers(ack: int, seq: int) -> bool:
    """An ACK covers the octet (or SYN, FIN) at ``seq``: ack > seq, modulo 2**32 (§3.4)."""
    return (ack - seq - 1) % _MOD < _HALF


@dataclass(frozen=True, kw_only=True, slots=True)
class Transition:
    """What one segment did to both ends.

    ``paths[end]`` is that end's states through the segment: its state before,
    then each state it entered (length 1: unchanged); ``events[end]`` the events
    it handled. Ends are 0 and 1, as given to ``Connection.segment``. A path
    starts where the end's last one ended, except where this segment tells more
    about it: an unknown start made known (None → LISTEN ...), or a crossed
    segment replayed from the end's earlier state (module docstring).
    """

    sender: int
    paths: tuple[tuple[TcpState | None, ...], tuple[TcpState | None, ...]]
    events: tuple[tuple[Event, ...], tuple[Event, ...]]

    @property
    def receiver(self) -> int:
        return 1 - self.sender

    def before(self, end: int) -> TcpState | None:
        return self.paths[end][0]

    def after(self, end: int) -> TcpState | None:
        """The end's state once it has handled the segment (None: unknown)."""
        return self.paths[end][-1]

    @property
    def sender_state(self) -> TcpState | None:
        return self.paths[self.sender][-1]

    @property
    def receiver_state(self) -> TcpState | None:
        return self.paths[1 - self.sender][-1]

    @property
    def changed(self) -> tuple[int, ...]:
        """The ends whose state changed, the sender first."""
        return tuple(end for end in (self.sender, 1 - self.sender) if len(self.paths[end]) > 1)


_new_transition = positional(Transition)


@functools.cache  # 2 x 12 x 12 keys at most
def _unchanged(sender: int, sender_state: TcpState | None, receiver_state: TcpState | None) -> Transition:
    """The Transition of a segment that changed nothing (immutable, so shared)."""
    ends = ((sender_state,), (receiver_state,))
    return _new_transition(sender, ends if sender == 0 else ends[::-1], ((), ()))


def states_json(t: Transition) -> dict[str, str | None]:
    """The JSON field: the sender's (``src``) and receiver's (``dst``) state after the segment.

    One dict per pair of states, shared by every packet that leaves the ends
    in them (a replay makes millions): read it, never change it.
    """
    return _states_dict(t.paths[t.sender][-1], t.paths[1 - t.sender][-1])


@functools.cache  # 13 x 13 pairs at most
def _states_dict(src: TcpState | None, dst: TcpState | None) -> dict[str, str | None]:
    return {"src": None if src is None else src.value, "dst": None if dst is None else dst.value}


def changes(t: Transition) -> tuple[tuple[str, tuple[str | None, ...]], ...]:
    """The ends whose state the segment changed, sender (``"src"``) first, with their paths.

    ``(("src", ("SYN-SENT", "ESTABLISHED")),)``: what a view prints as
    "SYN-SENT → ESTABLISHED"; empty for the bulk of a connection.
    """
    if len(t.paths[0]) == 1 and len(t.paths[1]) == 1:
        return ()
    return _changes(t.sender, t.paths)


@functools.lru_cache(maxsize=1024)
def _changes(sender: int, paths: tuple) -> tuple:
    out = []
    for who, end in (("src", sender), ("dst", 1 - sender)):
        path = paths[end]
        if len(path) > 1:
            out.append((who, tuple(None if s is None else s.value for s in path)))
    return tuple(out)


class _End:
    """What one end has shown: its state and the sequence numbers of its SYN and FIN."""

    __slots__ = ("acked_peer_syn", "before_peer_fin", "fin_acked", "fin_seq", "isn", "nxt",
                 "passive", "sent", "state", "syn_acked", "syn_waiting")

    def __init__(self, state: TcpState | None) -> None:
        self.state = state
        self.isn: int | None = None  # sequence number of its SYN
        self.nxt: int | None = None  # the highest seq + length (SYN and FIN count 1) it sent
        self.syn_acked = False  # the peer has acknowledged that SYN
        self.fin_seq: int | None = None  # sequence number of its FIN
        self.fin_acked = False
        self.acked_peer_syn = False  # it has acknowledged the peer's SYN
        self.syn_waiting = False  # a SYN reached it in a _SYN_WAITS state: its answer tells
        self.passive = True  # it came to SYN-RECEIVED from LISTEN (not SYN-SENT)
        self.before_peer_fin: TcpState | None = None  # its state before the peer's FIN
        self.sent = False  # it has sent a segment in this capture

    def acks_syn(self, ack: int) -> bool:
        """An acceptable ACK of its SYN: ISN < ack =< what it has sent (SND.NXT, §3.10.7.3)."""
        isn = self.isn
        if isn is None:
            return False
        nxt = isn + 1 if self.nxt is None else self.nxt
        return 0 < (ack - isn) % _MOD <= (nxt - isn) % _MOD

    def acks_fin(self, ack: int) -> bool:
        """The ACK of its FIN: ack = the FIN's seq + 1 (nothing follows a FIN, §3.6)."""
        return self.fin_seq is not None and ack == (self.fin_seq + 1) % _MOD

    def new_syn(self, seq: int, peer: _End) -> None:
        """Its SYN (a first one, or a new incarnation's): forget the old numbers."""
        if self.isn != seq:
            self.isn = seq
            self.nxt = None
            self.syn_acked = False
            self.fin_seq = None
            self.fin_acked = False
            self.before_peer_fin = None
            peer.acked_peer_syn = False


class _Steps:
    """One end's path and events through a segment, as they are applied."""

    __slots__ = ("end", "events", "path")

    def __init__(self, end: _End) -> None:
        self.end = end
        self.path: list[TcpState | None] = [end.state]
        self.events: list[Event] = []

    def apply(self, event: Event) -> None:
        end = self.end
        old = end.state
        new = TRANSITIONS.get((old, event), old)
        if not end.passive:
            new = _ACTIVE_OPEN.get((old, event), new)
        self.events.append(event)
        if new is not old:
            if new is S.SYN_RECEIVED:
                end.passive = old is not S.SYN_SENT
            elif new is S.CLOSE_WAIT:
                end.before_peer_fin = old
            end.state = new
            self.path.append(new)

    def reveal(self, state: TcpState) -> None:
        """The end turns out to be in ``state``: its unknown start, or a step of its own."""
        if len(self.path) == 1 and self.path[0] is None:
            self.path[0] = state
        elif state is not self.end.state:
            self.path.append(state)
        self.end.state = state

    def rewind(self, state: TcpState | None) -> None:
        """The end had not handled the last segment yet: restart its path from ``state``."""
        if len(self.path) == 1:
            self.path[0] = state
        else:
            self.path.append(state)
        self.end.state = state


def _event_free(s: _End, r: _End) -> bool:
    """No segment from ``s`` to ``r`` without SYN, FIN or RST is an event (segment()'s bulk test)."""
    return (not s.syn_waiting and (s.acked_peer_syn or r.isn is None)
            and (r.syn_acked or r.isn is None) and (r.fin_seq is None or r.fin_acked))


# Every flag string (decode's letters, in decode's order) without S, F or R: a plain segment.
_PLAIN_FLAGS = frozenset(
    "".join(letter for bit, letter in enumerate("FSRPAUECN") if value >> bit & 1)
    for value in range(512) if not value & 0b111
)


class Connection:
    """Both ends of one TCP connection, followed through the segments a capture shows.

    Ends are 0 and 1 (e.g. 0 for the endpoint that sorts first in the flow key);
    ``initial`` gives their states when known before the first segment.
    """

    __slots__ = ("_bulk", "_ends")

    def __init__(self, initial: tuple[TcpState | None, TcpState | None] = (None, None)) -> None:
        self._ends = (_End(initial[0]), _End(initial[1]))
        # While no segment without SYN, FIN or RST can be an event for either end (both
        # have sent, both SYNs acknowledged, no FIN waiting for its ACK, no SYN waiting for
        # an answer), the one Transition of such a segment from each end: the bulk of a
        # connection costs a set lookup and the sender's highest number (``_End.nxt``,
        # which judges the ACK of a SYN/ACK that may still come).
        self._bulk: tuple[Transition, Transition] | None = None

    def _quiet(self) -> None:
        """Set ``_bulk`` when no plain segment from either end can change a state."""
        a, b = self._ends
        if a.sent and b.sent and _event_free(a, b) and _event_free(b, a):
            self._bulk = (_unchanged(0, a.state, b.state), _unchanged(1, b.state, a.state))

    @property
    def states(self) -> tuple[TcpState | None, TcpState | None]:
        """Each end's current state (None: not known yet)."""
        return self._ends[0].state, self._ends[1].state

    def __repr__(self) -> str:
        return f"Connection(states={self.states!r})"

    def segment(self, sender: int, flags: str, seq: int, ack: int | None, payload_len: int) -> Transition:
        """Feed one segment sent by end ``sender`` (0 or 1); never raises on any flags or numbers.

        ``flags`` are letters as in ``decode.Decoded.tcp_flags`` ("S", "SA", "FA", "R", ...);
        ``seq`` and ``ack`` are the raw numbers (``ack`` is read only with the A flag).
        """
        bulk = self._bulk
        if bulk is not None and flags in _PLAIN_FLAGS and (sender == 0 or sender == 1):
            s = self._ends[sender]
            end_seq = (seq + payload_len) % _MOD
            if s.nxt is None or 0 < (end_seq - s.nxt) % _MOD < _HALF:
                s.nxt = end_seq
            return bulk[sender]
        if sender != 0 and sender != 1:
            raise ValueError(f"sender must be 0 or 1, not {sender!r}")
        self._bulk = None
        s, r = self._ends[sender], self._ends[1 - sender]
        syn, fin, rst = "S" in flags, "F" in flags, "R" in flags
        has_ack = ack is not None and "A" in flags
        seq %= _MOD
        if has_ack:
            ack %= _MOD
        if not (syn or fin or rst or s.syn_waiting) and (not has_ack or (
                (s.acked_peer_syn or r.isn is None) and (r.syn_acked or r.isn is None)
                and (r.fin_seq is None or r.fin_acked))):
            # The bulk of a connection, data and ACKs: no event for either end. The same
            # bookkeeping as below, and the one Transition of unchanged states.
            s.sent = True
            end_seq = (seq + payload_len) % _MOD
            if s.nxt is None or 0 < (end_seq - s.nxt) % _MOD < _HALF:
                s.nxt = end_seq
            self._quiet()
            return _unchanged(sender, s.state, r.state)
        ss, rs = _Steps(s), _Steps(r)
        # The receiver's FIN, read before the sender's part: does this segment cover it?
        covers_peer_fin = has_ack and r.acks_fin(ack)

        # -- the sender ------------------------------------------------------------
        if rst:
            if s.syn_waiting:  # a RST answers the SYN: nothing listened (§3.10.7.1)
                s.syn_waiting = False
                if s.state is None:
                    ss.reveal(S.CLOSED)
            ss.apply(E.SEND_RST)
        elif syn:
            if has_ack and s.syn_waiting:
                ss.reveal(S.LISTEN)  # its SYN,ACK shows a listener took the peer's SYN
            elif not has_ack and s.state is None and not s.sent:
                ss.reveal(S.CLOSED)  # its first segment, a SYN: an active OPEN (§3.10.1)
            s.new_syn(seq, r)
            if has_ack:
                if s.syn_waiting:
                    s.syn_waiting = False
                    ss.apply(E.RECV_SYN)  # rcv SYN / snd SYN,ACK
                if r.isn is not None and _covers(ack, r.isn):
                    s.acked_peer_syn = True
                ss.apply(E.SEND_SYNACK)
            else:
                ss.apply(E.SEND_SYN)
                if s.syn_waiting:  # the two SYNs crossed (Figure 7): it handles the peer's now
                    s.syn_waiting = False
                    ss.apply(E.RECV_SYN)
        else:
            s.syn_waiting = False  # an answer that does not tell (a challenge ACK, ...)
            if has_ack and not s.acked_peer_syn and r.isn is not None and _covers(ack, r.isn):
                s.acked_peer_syn = True
                ss.apply(E.SEND_ACK_OF_SYN)
        if fin and not rst:
            fin_seq = (seq + payload_len + syn) % _MOD
            crossed = (s.fin_seq is None and s.state is S.CLOSE_WAIT and s.before_peer_fin is not None
                       and not covers_peer_fin)
            if s.fin_seq != fin_seq:
                s.fin_seq = fin_seq
                s.fin_acked = False
            if crossed:
                # Its FIN does not acknowledge the peer's: it was sent before the peer's
                # FIN arrived (simultaneous close, Figure 13), which it handles now.
                ss.rewind(s.before_peer_fin)
                ss.apply(E.SEND_FIN)
                ss.apply(E.RECV_FIN)
            else:
                ss.apply(E.SEND_FIN)
        s.sent = True
        if not rst:  # a RST's number may be anything (§3.10.7.1)
            end_seq = (seq + payload_len + syn + fin) % _MOD
            if s.nxt is None or 0 < (end_seq - s.nxt) % _MOD < _HALF:
                s.nxt = end_seq

        # -- the receiver, in the order of §3.10.7.4: RST, SYN, ACK, FIN -------------
        if rst:
            # In SYN-SENT a RST counts only if it acknowledges the SYN (§3.10.7.3).
            if r.state is not S.SYN_SENT or (has_ack and (r.isn is None or r.acks_syn(ack))):
                r.syn_waiting = False
                rs.apply(E.RECV_RST)
        else:
            if syn and not has_ack:
                if r.state in _SYN_WAITS:
                    r.syn_waiting = True  # its answer will tell (module docstring)
                else:
                    rs.apply(E.RECV_SYN)
            elif syn:
                if r.isn is None or r.acks_syn(ack):  # else unacceptable, dropped (§3.10.7.3)
                    r.syn_acked = r.isn is not None
                    rs.apply(E.RECV_SYNACK)
            elif has_ack and not r.syn_acked and r.isn is not None and _covers(ack, r.isn):
                r.syn_acked = True
                rs.apply(E.RECV_ACK_OF_SYN)
            if has_ack and not r.fin_acked and r.acks_fin(ack):
                r.fin_acked = True
                rs.apply(E.RECV_ACK_OF_FIN)
            if fin:
                rs.apply(E.RECV_FIN)

        if sender == 0:
            paths = (tuple(ss.path), tuple(rs.path))
            events = (tuple(ss.events), tuple(rs.events))
        else:
            paths = (tuple(rs.path), tuple(ss.path))
            events = (tuple(rs.events), tuple(ss.events))
        self._quiet()
        return _new_transition(sender, paths, events)
