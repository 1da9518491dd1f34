"""Conversations: the flow key, relative TCP numbers and what step a packet is.

A conversation is keyed by its sorted endpoints (never a hash that could
collide): ``('TCP', ('192.0.2.1', 40312), ('192.0.2.2', 3001))``. For each one
we keep what Wireshark keeps to show relative sequence numbers: the initial
sequence number (ISN) of each side, and enough state to name each segment's
role in the connection's life (RFC 9293 §3.5 handshake, §3.6 closing).
"""

from __future__ import annotations

from dataclasses import dataclass

from sockviz.core.decode import Decoded
from sockviz.core.tcpstates import Connection, Transition

Endpoint = tuple[str, int]
FlowKey = tuple

# NDP (RFC 4861 §4): router/neighbour solicitation and advertisement, redirect.
NDP_TYPES = {133: "RS", 134: "RA", 135: "NS", 136: "NA", 137: "redirect"}

# Conversation.ack_kind's values.
ACK_NOTHING, ACK_NEW, ACK_WINDOW = 0, 1, 2


def flow_key(d: Decoded) -> FlowKey | None:
    """The conversation a packet belongs to, or None (ARP, NDP, garbage)."""
    if d.src is None or d.family is None:
        return None
    if d.sport is not None and d.proto in ("TCP", "UDP", "DNS"):
        transport = "TCP" if d.tcp_flags is not None else "UDP"
        a, b = (d.src, d.sport), (d.dst, d.dport)
        return (transport, a, b) if a <= b else (transport, b, a)
    if d.quoted is not None and d.quoted.sport is not None:
        # An ICMP error belongs to the conversation of the packet it quotes.
        q = d.quoted
        transport = "TCP" if q.proto == "TCP" else "UDP"
        a, b = (q.src, q.sport), (q.dst, q.dport)
        return (transport, a, b) if a <= b else (transport, b, a)
    return None


@dataclass(slots=True)
class Side:
    """What one endpoint of a TCP connection has shown so far."""

    isn: int | None = None
    next_seq: int | None = None  # highest seq + len seen: below it is a retransmission
    wscale: int | None = None
    fin_seq: int | None = None  # sequence number of its FIN, once sent
    fin_acked: bool = False
    syn_times: list[float] | None = None  # times of its SYNs (None until the first)
    acked: int | None = None  # the highest ack number it sent (raw): is the next one new?
    window_sent: int | None = None  # the window it last advertised (raw field)


@dataclass(slots=True)
class Conversation:
    """One conversation's state, small on purpose: a capture may hold millions.

    The two sides are two attributes rather than a dict keyed by endpoint
    (``a`` is ``key[1]``, ``b`` is ``key[2]``); a connection to itself has
    one side only, as before.
    """

    number: int
    key: FlowKey
    transport: str
    initiator: Endpoint | None = None
    a: Side | None = None
    b: Side | None = None
    handshake_done: bool = False
    closed: bool = False  # both FINs acknowledged, or reset
    reset: bool = False
    packets: int = 0
    first_time: float = 0.0
    last_time: float = 0.0
    a_data: float | None = None  # time of the last data sent by key[1] (delayed ACKs)
    b_data: float | None = None  # and by key[2]
    states: Connection | None = None  # each end's RFC 9293 state (TCP): end 0 is key[1]
    # What the ACK field of the segment tracked last did: ACK_NEW (acknowledged bytes or a
    # FIN not acknowledged before), ACK_WINDOW (nothing new, a larger window: a window
    # update) or ACK_NOTHING. The explanations read it right after (Correlator._context).
    ack_kind: int = 0

    def side(self, ep: Endpoint) -> Side:
        if ep == self.key[1]:
            s = self.a
            if s is None:
                s = self.a = Side()
            return s
        s = self.b
        if s is None:
            s = self.b = Side()
        return s

    def other(self, ep: Endpoint) -> Endpoint:
        for k in self.key[1:]:
            if k != ep:
                return k
        return ep  # a connection to itself


def track_tcp(conv: Conversation, d: Decoded, time: float) -> tuple:
    """Update ``conv`` with segment ``d`` and name the segment's step.

    Returns ``(step, rel_seq, rel_ack, window, interval, attempt)``: the
    window in bytes (scaled once the handshake announced a scale), and for a
    repeated SYN the time since the previous one and its attempt number
    (else None and 1). A plain tuple: this runs for every TCP segment.
    """
    src = (d.src, d.sport)
    me, peer = sides(conv, src, (d.dst, d.dport))
    flags = d.tcp_flags or ""
    return track_segment(conv, me, peer, src, "S" in flags, "A" in flags, "F" in flags,
                         "R" in flags, d.seq, d.ack, d.window, d.payload_len, d.tcp_options, time)


def track_states(conv: Conversation, src: Endpoint, flags: str, seq: int | None,
                 ack: int | None, payload: int) -> Transition | None:
    """Feed a segment to the conversation's state machine (core/tcpstates.py).

    End 0 is ``conv.key[1]``, end 1 ``conv.key[2]``; None for a segment cut
    before its sequence number.
    """
    if seq is None:
        return None
    machine = conv.states
    if machine is None:
        machine = conv.states = Connection()
    return machine.segment(0 if src == conv.key[1] else 1, flags, seq, ack, payload)


def sides(conv: Conversation, src: Endpoint, dst: Endpoint) -> tuple[Side, Side]:
    """(the sender's ``Side``, the receiver's): made at the conversation's first segment.

    Both stay the same objects for the conversation's life, so the replay's
    fast path (core/fastjson.py) looks them up once per flow. A connection
    to itself has one side, which is both.
    """
    if src == conv.key[1]:
        me = conv.a if conv.a is not None else conv.side(src)
        peer = conv.b if conv.b is not None else conv.side(dst)
    else:
        me = conv.b if conv.b is not None else conv.side(src)
        peer = conv.a if conv.a is not None else conv.side(dst)
    return me, peer


def track_segment(conv: Conversation, me: Side, peer: Side, src: Endpoint, syn: bool, ack: bool,
                  fin: bool, rst: bool, d_seq: int | None, d_ack: int | None,
                  d_window: int | None, payload: int, options: tuple, time: float) -> tuple:
    """``track_tcp`` on the segment's fields as plain values: its sides and flags.

    The replay's fast path (core/fastjson.py) reads them from the frame's
    bytes without building a ``Decoded``; both paths share this one
    tracking, so they cannot drift apart.
    """
    seq = d_seq or 0
    interval = None
    attempt = 1

    if syn:
        if me.isn is None or (not ack and seq != me.isn and not conv.handshake_done):
            me.isn = seq
            me.next_seq = (seq + 1) & 0xFFFFFFFF
        for name, value in options:
            if name == "WScale":
                me.wscale = value
        if not ack and conv.initiator is None:
            conv.initiator = src
        if me.syn_times is None:
            me.syn_times = []
        me.syn_times.append(time)
    elif me.isn is None and not rst:
        # Joined mid-stream (a capture that began late): numbers relative to
        # the first one seen, as Wireshark does.
        me.isn = (seq - 1) & 0xFFFFFFFF
        me.next_seq = seq
    # An RST from a side never seen before (one answering a SYN carries seq 0,
    # RFC 9293 §3.10.7.1) has no ISN to count from: its seq is shown as sent.

    # _rel, inlined: every segment of a replay comes through here.
    base = me.isn
    rel_seq = d_seq if d_seq is None or base is None else (d_seq - base) & 0xFFFFFFFF
    base = peer.isn
    rel_ack = (d_ack if d_ack is None or base is None else (d_ack - base) & 0xFFFFFFFF) if ack else None
    window = d_window
    # RFC 7323 §2.2: the scale applies only once both sides announced it, and
    # never to the window of a SYN segment itself.
    if window is not None and not syn and me.wscale is not None and peer.wscale is not None:
        window <<= me.wscale

    seg_end = (seq + payload + (1 if syn else 0) + (1 if fin else 0)) & 0xFFFFFFFF
    retransmit = False
    next_seq = me.next_seq
    if next_seq is not None and not syn:
        ahead = (next_seq - seg_end) & 0xFFFFFFFF
        if (payload or fin) and 0 < ahead < 0x80000000:
            retransmit = True
        elif (payload or fin) and seg_end == next_seq and me.fin_seq is not None and fin:
            retransmit = True  # the same FIN again
    if next_seq is None or ((seg_end - next_seq) & 0xFFFFFFFF) < 0x80000000:
        me.next_seq = seg_end

    # Does this ACK cover the peer's FIN?
    acks_fin = ack and peer.fin_seq is not None and d_ack == ((peer.fin_seq + 1) & 0xFFFFFFFF)
    # Is this ACK new (bytes or a FIN not acknowledged before), or a window update?
    kind = ACK_NOTHING
    if ack and d_ack is not None and not syn and not rst:
        before = me.acked
        if before is None or 0 < ((d_ack - before) & 0xFFFFFFFF) < 0x80000000:
            kind = ACK_NEW if before is not None else ACK_NOTHING
            me.acked = d_ack
        elif (d_ack == before and not payload and not fin and d_window is not None
              and me.window_sent is not None and d_window > me.window_sent):
            kind = ACK_WINDOW
    elif syn and ack and d_ack is not None:
        me.acked = d_ack  # the SYN/ACK's own ACK: the first, nothing to compare with
    if d_window is not None and not syn:
        me.window_sent = d_window
    conv.ack_kind = kind

    if rst:
        # A RST answering a SYN, from a side that never sent one: nobody
        # listens on that port (RFC 9293 §3.10.7.1).
        refused = not conv.handshake_done and not me.syn_times and bool(peer.syn_times)
        step = "rst-refused" if refused else "rst"
        conv.reset = conv.closed = True
    elif syn and ack:
        step = "synack-retransmit" if len(me.syn_times) > 1 else "synack"
        if len(me.syn_times) > 1:
            interval = me.syn_times[-1] - me.syn_times[-2]
    elif syn:
        if len(me.syn_times) > 1:
            step = "syn-retransmit"
            interval = me.syn_times[-1] - me.syn_times[-2]
            attempt = len(me.syn_times)
        else:
            step = "syn"
    elif fin:
        if me.fin_seq is None:
            me.fin_seq = (seq + payload) & 0xFFFFFFFF
        if retransmit:
            step = "fin-retransmit"
        elif peer.fin_seq is not None:
            step = "fin-second"
        else:
            step = "fin-first"
    elif payload:
        step = "data-retransmit" if retransmit else "data"
    elif not conv.handshake_done and ack and src == conv.initiator and peer.isn is not None:
        step = "handshake-ack"
    elif acks_fin and not peer.fin_acked:
        step = "final-ack" if me.fin_seq is not None else "ack-fin"
    elif payload == 0 and d_window == 0:
        step = "zero-window"
    else:
        step = "ack"

    if acks_fin:
        peer.fin_acked = True
    if step == "handshake-ack" or (ack and not syn and peer.isn is not None and me.isn is not None):
        conv.handshake_done = True
    if me.fin_acked and peer.fin_acked:
        conv.closed = True
    return step, rel_seq, rel_ack, window, interval, attempt
