"""Conversations: the flow key, relative TCP numbers and what step a packet is.

A conversation is keyed by its sorted endpoints (never a hash that could
collide): ``('TCP', ('192.0.2.1', 40312), ('192.0.2.2', 3001))``. For each one
we keep what Wireshark keeps to show relative sequence numbers: the initial
sequence number (ISN) of each side, and enough state to name each segment's
role in the connection's life (RFC 9293 §3.5 handshake, §3.6 closing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from sockviz.core.decode import FLAG_TEXT, Decoded
from sockviz.core.phrases import Step
from sockviz.core.tcpstates import Connection, Transition

Endpoint = tuple[str, int]
FlowKey = tuple

# The TCP header's flag bits the tracking reads (RFC 9293 §3.1), and every flags
# text (``Decoded.tcp_flags``) back to its bits.
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
FLAG_BITS: dict[str, int] = {text: bits for bits, text in enumerate(FLAG_TEXT)}

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
    # The traced program's end, once a packet told it (its direction, or on loopback
    # the socket of the call running): "you" in the words of its packets.
    ours: Endpoint | None = None
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
    # Its two directions' ``Ends`` (TCP), from key[1] and from key[2], made by ``ends``.
    ends_a: Ends | None = field(default=None, repr=False, compare=False)  # they hold conv
    ends_b: Ends | None = field(default=None, repr=False, compare=False)

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


class Ends(NamedTuple):
    """One direction of a TCP conversation: what the tracking of each of its segments reads.

    Made once per segment by the general path (``ends``), once per flow by the
    replay's fast path (core/json_fast_path.py): its ``Side`` objects stay the same
    for the conversation's life. A connection to itself has one side, both.
    """

    conv: Conversation
    sender: Endpoint
    receiver: Endpoint
    me: Side  # the sender's
    peer: Side  # the receiver's
    end: int  # the sender's end in ``conv.states``: 0 is ``conv.key[1]``, 1 ``conv.key[2]``


def ends(conv: Conversation, sender: Endpoint, receiver: Endpoint) -> Ends:
    """The ``Ends`` of segments from ``sender`` to ``receiver``: made once, kept by ``conv``."""
    if sender == conv.key[1]:
        e = conv.ends_a
        if e is None:
            e = conv.ends_a = Ends(conv, sender, receiver, conv.side(sender), conv.side(receiver), 0)
        return e
    e = conv.ends_b
    if e is None:
        e = conv.ends_b = Ends(conv, sender, receiver, conv.side(sender), conv.side(receiver), 1)
    return e


# What the tracking says of one TCP segment, a plain tuple of, in this order: its step,
# rel_seq (relative to the sender's ISN, RFC 9293 §3.4.1, as Wireshark shows it),
# rel_ack (to the receiver's ISN; None without the ACK flag), window (in bytes: scaled
# once the handshake announced a scale, RFC 7323 §2.2), interval and attempt (a
# repeated SYN's time since the one before and its number, else None and 1), and
# transition (what it did to each end's state; None without a sequence number).
# Not a NamedTuple: every segment's, unpacked at once, and a tuple subclass's
# construction and unpacking cost a replay's fast path 10 % more (measured).
Segment = tuple[Step, int | None, int | None, int | None, float | None, int, Transition | None]


def syn_begins_anew(conv: Conversation, sender: Endpoint, seq: int | None) -> bool:
    """Is a SYN without ACK from ``sender`` a new connection on the ports of ``conv``?

    When the old one is over (its FINs acknowledged, or reset; RFC 9293 §3.4: the
    ports may then be used again), and when this SYN is not the connection's own
    sent again, on one whose handshake was seen or on one joined in its middle (no
    SYN seen): its own would carry the ISN the sender began with (or that its first
    segment seen counted from), or that the other end acknowledged (ISN + 1).
    Wireshark says "TCP port numbers reused" of these.
    """
    if conv.closed:
        return True
    if not conv.packets or seq is None:
        return False
    me, peer = (conv.a, conv.b) if sender == conv.key[1] else (conv.b, conv.a)
    if me is not None and me.isn is not None and seq == me.isn:
        return False  # its own SYN again: Linux sends the same ISN each time
    if conv.initiator is not None:
        # A handshake seen, then a SYN with another ISN from the same port: the old
        # connection's end was not seen (its last ACK missed, or a host that restarted).
        return conv.handshake_done
    # Joined midway: the other end's first ACK acknowledged the ISN (ISN + 1) as long as
    # it had nothing of the sender's data to acknowledge (``acked`` is its highest).
    return peer is None or peer.acked != (seq + 1) & 0xFFFFFFFF


def track_segment(e: Ends, flags: int, seq: int | None, ack: int | None, window: int | None,
                  payload: int, options: tuple, time: float) -> Segment:
    """Count one segment in its conversation, update the conversation's state, name its step.

    ``flags`` are the header's flag bits; ``seq``, ``ack`` and ``window`` its
    raw fields (None when the frame was cut before them), ``payload`` its
    length, ``options`` as ``Decoded.tcp_options``. Also feeds the
    conversation's state machine (core/tcpstates.py). The general path and
    the replay's fast path both come here, so they cannot drift apart; the
    fast path passes the fields by position (keywords cost 85 ns a call more).
    """
    conv, src, receiver, me, peer, end = e
    conv.packets += 1
    conv.last_time = time
    d_seq, d_ack, d_window = seq, ack, window
    syn, ack, fin, rst = flags & SYN, flags & ACK, flags & FIN, flags & RST
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
        if conv.initiator is None:
            # A SYN/ACK seen first (the capture missed the SYN) answers the SYN its
            # receiver sent (RFC 9293 §3.5): the receiver began the connection.
            conv.initiator = src if not ack else receiver
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
    if next_seq is not None and not syn and (payload or fin):
        # A segment that begins before the next new byte carries bytes (or a
        # FIN) sent before: a retransmission, as Wireshark names it, even when
        # it ends exactly at the highest byte sent, as a tail-loss probe does
        # (RFC 8985 §7.3), or runs past it with new bytes.
        behind = (next_seq - seq) & 0xFFFFFFFF
        retransmit = 0 < behind < 0x80000000
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
        step = _RST_REFUSED if refused else _RST
        conv.reset = conv.closed = True
    elif syn and ack:
        step = _SYNACK_RETRANSMIT if len(me.syn_times) > 1 else _SYNACK
        if len(me.syn_times) > 1:
            interval = me.syn_times[-1] - me.syn_times[-2]
    elif syn:
        if len(me.syn_times) > 1:
            step = _SYN_RETRANSMIT
            interval = me.syn_times[-1] - me.syn_times[-2]
            attempt = len(me.syn_times)
        else:
            step = _SYN
    elif fin:
        if me.fin_seq is None:
            me.fin_seq = (seq + payload) & 0xFFFFFFFF
        if retransmit:
            step = _FIN_RETRANSMIT
        elif peer.fin_seq is not None:
            step = _FIN_SECOND
        else:
            step = _FIN_FIRST
    elif payload:
        step = _DATA_RETRANSMIT if retransmit else _DATA
    elif not conv.handshake_done and ack and src == conv.initiator and peer.isn is not None:
        step = _HANDSHAKE_ACK
    elif acks_fin and not peer.fin_acked:
        step = _FINAL_ACK if me.fin_seq is not None else _ACK_FIN
    elif payload == 0 and d_window == 0:
        step = _ZERO_WINDOW
    else:
        step = _ACK

    if acks_fin:
        peer.fin_acked = True
    if step is _HANDSHAKE_ACK or (ack and not syn and peer.isn is not None and me.isn is not None):
        conv.handshake_done = True
    if me.fin_acked and peer.fin_acked:
        conv.closed = True

    # Each end's RFC 9293 state (core/tcpstates.py), from the raw numbers.
    if d_seq is None:
        transition = None
    else:
        machine = conv.states
        if machine is None:
            machine = conv.states = Connection()
        transition = machine.segment(end, FLAG_TEXT[flags & 0x1FF], d_seq, d_ack, payload)
    return step, rel_seq, rel_ack, window, interval, attempt, transition


# The steps, bound once: an enum member read as ``Step.DATA`` costs ten times a module name.
_SYN, _SYN_RETRANSMIT, _SYNACK, _SYNACK_RETRANSMIT = (
    Step.SYN, Step.SYN_RETRANSMIT, Step.SYNACK, Step.SYNACK_RETRANSMIT)
_RST, _RST_REFUSED, _HANDSHAKE_ACK, _ZERO_WINDOW = (
    Step.RST, Step.RST_REFUSED, Step.HANDSHAKE_ACK, Step.ZERO_WINDOW)
_FIN_FIRST, _FIN_SECOND, _FIN_RETRANSMIT, _FINAL_ACK, _ACK_FIN = (
    Step.FIN_FIRST, Step.FIN_SECOND, Step.FIN_RETRANSMIT, Step.FINAL_ACK, Step.ACK_FIN)
_DATA, _DATA_RETRANSMIT, _ACK = Step.DATA, Step.DATA_RETRANSMIT, Step.ACK
