"""The correlator: calls and packets in, a timeline out.

It is fed in time order (the sources guarantee it) and ties each packet to
the call during which it was captured (when several run, a traced program's
threads or a call inside another, to the one whose socket sent or received
it), tracks conversations and each end's TCP state, and gives every packet
its relative numbers and its meaning. Live and replay go through this
same object, so a replayed capture reads like the run that made it.

It decides what happened (a ``Step``, a ``Why``, a ``Lesson``, facts as named
fields); the phrasebook (``core/phrases.py``) says it, in the chosen language.
The summary line (``summarize``) is tcpdump's kind of line, the same in every
language, as the ``--json`` fields that programs match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise
from operator import attrgetter
from typing import NamedTuple

from sockviz.core import phrases, rules
from sockviz.core.decode import Decoded
from sockviz.core.events import Call, Packet
from sockviz.core.fast_init import positional
from sockviz.core.flows import (
    ACK_NEW,
    ACK_WINDOW,
    FLAG_BITS,
    NDP_TYPES,
    Conversation,
    FlowKey,
    ends,
    flow_key,
    syn_begins_anew,
    track_segment,
)
from sockviz.core.lookups import asked_names, asks
from sockviz.core.phrases import UNREACH6_CODES as UNREACH6_CODES
from sockviz.core.phrases import UNREACH_CODES as UNREACH_CODES
from sockviz.core.phrases import Direction, Lesson, Role, Step, Why
from sockviz.core.phrases import dns_answer as dns_answer
from sockviz.core.phrases import dns_question as dns_question
from sockviz.core.tcpstates import changes as state_changes
from sockviz.core.tcpstates import states_json
from sockviz.core.text import endpoint, flag_names, preview, tcp_options
from sockviz.core.timeline import (
    CallEnded,
    CallStarted,
    Entry,
    Note,
    PacketShown,
    Summary,
)

# UNREACH_CODES, UNREACH6_CODES, dns_answer and dns_question are the
# phrasebook's words; imported above so that they stay importable from here.

DnsDissector = Callable[[bytes, bool], "dict | None"]

# The recorder reads the kernel's state of a socket just after it stamps the
# call's end (tracing/recorder.py): a packet up to this long after the end may
# already be in what the kernel said.
STATE_READ_SLACK = 0.005

# A pure ACK this host sent this long after the data it acknowledges arrived
# was held back on purpose: Linux's delayed-ACK timer waits 40 ms at least
# (TCP_DELACK_MIN; RFC 1122 §4.2.3.2). Only an ACK sent here can be timed so:
# one that comes back from the peer took a round trip too.
DELAYED_ACK = 0.030

# What a step, a direction or a role read from elsewhere (a source, a capture's
# metadata) is: a typo in this code is a KeyError.
STEPS: dict[str, Step] = {s.value: s for s in Step}
_DIRECTIONS: dict[str | None, Direction | None] = {None: None, **{d.value: d for d in Direction}}
# What the per-packet code compares with, bound once: an enum member read as
# ``Step.ACK`` costs ten times a module name.
_ACK, _DATA, _UDP, _FRAGMENT = Step.ACK, Step.DATA, Step.UDP, Step.FRAGMENT
_PORT_UNREACHABLE = Step.PORT_UNREACHABLE
_DELAYED_ACK = Why.DELAYED_ACK
_NO_REASON = (None, None)  # unprompted()'s answer for most packets, made once
_IN, _OUT = Direction.IN, Direction.OUT
_CLIENT, _SERVER = Role.CLIENT, Role.SERVER
_BUFFERED_STEPS = frozenset((Step.DATA, Step.UDP))
_FIN_STEPS = frozenset((Step.FIN_FIRST, Step.FIN_SECOND, Step.FIN_RETRANSMIT))
_HANDSHAKE_STEPS = frozenset((Step.SYN, Step.SYNACK, Step.HANDSHAKE_ACK))
_TEARDOWN_STEPS = frozenset((Step.FIN_FIRST, Step.FIN_SECOND, Step.FINAL_ACK, Step.ACK_FIN))
_ARP_STEPS = frozenset((Step.ARP_REQUEST, Step.ARP_REPLY, Step.ARP_PROBE))
_NDP_STEPS = frozenset((Step.NDP_PROBE, Step.NDP_NS, Step.NDP_NA, Step.NDP))
# Steps without a context when nobody can tell their direction.
_QUIET_STEPS = frozenset((Step.DATA, Step.UDP, Step.ACK))
_ICMP_ERRORS = frozenset((Step.UNREACHABLE, Step.FRAG_NEEDED, Step.TIME_EXCEEDED))
# The calls that read a socket: data arriving under them is what they wait for.
_RECV_CALLS = frozenset(("recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg",
                         "recvmsg_into", "read", "readinto", "readline"))
_AF_INET, _AF_INET6 = 2, 10  # Linux's numbers, as getaddrinfo()'s result holds them
_ANY_ADDRESS = frozenset(("0.0.0.0", "::", ""))  # a socket bound to every address


def _lesson(call: Call, steps: list[str], transport: str | None,
            syn_intervals: Callable[[], list[float]] = list, icmp_seen: bool = False,
            rst_in: bool = False, listening: bool = False) -> str | None:
    """What a finished call taught (phrases.LESSONS), decided from how it ended.

    ``syn_intervals`` gives the gaps between the latest connection attempt's SYNs
    (asked for only when a connect() timed out: every call ends here);
    ``rst_in``: an RST came from the peer during the call (not from this host).
    """
    err = call.error or ""
    name = call.name
    say = phrases.lesson
    if name == "connect" and transport != "UDP":
        if err.startswith("ConnectionRefusedError"):
            return say(Lesson.REFUSED)
        if err.startswith(("TimeoutError", "timeout")):
            intervals = list(syn_intervals())
            # Python's own timeout says "timed out"; TCP giving up is ETIMEDOUT (errno 110).
            which = Lesson.TCP_GAVE_UP if "[Errno 110]" in err else Lesson.TIMED_OUT
            return say(which, backoff=rules.backoff_kind(intervals),
                       first=intervals[0] if intervals else 0.0)
        if err.startswith("OSError") and ("unreachable" in err.lower()):
            return say(Lesson.UNREACHABLE)
        if not err and Step.SYN in steps:
            return say(Lesson.CONNECTED, diagram=rules.diagram("connect", "TCP"))
    if name == "close" and transport == "TCP":
        if Step.RST in steps and listening:
            # Its own kernel's RSTs (a program that is also the client sees them "in").
            return say(Lesson.LISTENER_RESET)
        if Step.RST in steps:
            return say(Lesson.RESET_BY_PEER if rst_in else Lesson.ABORTED)
        if any(s in _FIN_STEPS for s in steps):
            return say(Lesson.TEARDOWN, diagram=rules.diagram("close", "TCP"))
    if name in ("send", "sendall") and transport == "TCP" and not err:
        return say(Lesson.SENT if name == "send" else Lesson.SENT_ALL)
    if name == "recv" and transport == "TCP" and not err and call.result_text == "b''":
        return say(Lesson.END_OF_STREAM)
    if name in ("sendto", "send") and transport == "UDP" and not err:
        if Step.FRAGMENT in steps:
            return say(Lesson.FRAGMENTED)
        if Step.UDP in steps:
            return say(Lesson.DATAGRAM_SENDTO if name == "sendto" else Lesson.DATAGRAM_SEND)
    if name == "recvfrom" and err.startswith(("TimeoutError", "timeout")):
        return say(Lesson.RECVFROM_TIMEOUT if icmp_seen else Lesson.RECVFROM_SILENT)
    if name == "recv" and transport == "UDP" and err.startswith("ConnectionRefusedError"):
        return say(Lesson.UDP_REFUSED)
    if not steps and not err:
        return phrases.silent(name, transport)
    return None


_ACCEPTED = re.compile(r"\(<socket fd=(\d+)>")


def _is_for(local, peer, ends: set, d: Decoded) -> int:
    """How surely a socket with these endpoints (either may be None) is ``d``'s: 0 not it,
    1 it may be (bound to every address, known by its port), 2 it received it (known by
    its peer only), 3 it received it, 4 it sent it (known by its peer only), 5 it sent it.

    Its local end decides (several sockets talk to one server; a program that is both
    ends has two sockets on one connection, and the sender's call caused the packet);
    a socket bound to every address goes by its port; one known only by its peer (a
    connect() or a first sendto() starting) by that: it sends to its peer.
    """
    if local is not None and len(local) >= 2:
        if local[0] in _ANY_ADDRESS:
            return 1 if local[1] in (d.sport, d.dport) else 0
        if (local[0], local[1]) not in ends or (
                peer is not None and len(peer) >= 2 and (peer[0], peer[1]) not in ends):
            return 0
        return 5 if (local[0], local[1]) == (d.src, d.sport) else 3
    if peer is None or len(peer) < 2 or (peer[0], peer[1]) not in ends:
        return 0
    return 4 if (peer[0], peer[1]) == (d.dst, d.dport) else 2


class _Running:
    """A call running: what the packets captured for it showed (its lesson is decided at its end)."""

    __slots__ = ("call", "dns", "packets", "rst", "steps")

    def __init__(self, call: Call) -> None:
        self.call = call
        self.steps: list[Step] = []
        self.packets = 0
        self.dns: list[tuple] = []  # (our port, info, time) of its DNS messages
        self.rst: list = []  # the directions of the RSTs captured during it


class PacketFacts(NamedTuple):
    """What the timeline says of a packet, before any wording (``Correlator.track``)."""

    direction: Direction | None
    call_id: int | None
    call_name: str | None
    conversation: int | None  # its number
    new_conversation: bool
    step: Step
    rel_seq: int | None
    rel_ack: int | None
    window: int | None
    dns: dict | None
    why: Why | None
    fields: dict  # the ``phrases.Facts`` a meaning reads
    transition: object  # what a TCP segment did to each end's state (``tcpstates.Transition``)


_new_facts = tuple.__new__  # PacketFacts' fields as one tuple: every packet's
_new_shown = positional(PacketShown)
_MISSING = object()
_DATA_STEPS = frozenset((Step.DATA, Step.UDP, Step.DNS_QUERY, Step.DNS_RESPONSE))


def _summary_row(c: Conversation) -> tuple:
    """A conversation's line in the summary; its endpoints written out only if it is shown."""
    tcp = c.transport == "TCP"
    return (c.number, c.transport, c.key[1], c.key[2], c.packets,
            c.handshake_done if tcp else None, c.closed if tcp else None,
            c.reset if tcp else None)


_LAST_TIME = attrgetter("last_time")
# (the packets' state, the kernel's after close()) while close()'s FIN waits behind data
_CLOSE_AHEAD = frozenset({("ESTABLISHED", "FIN-WAIT-1"), ("CLOSE-WAIT", "LAST-ACK")})


def _busiest(row: tuple) -> tuple:
    return (-row[4], row[0])


_say_meaning = phrases.meaning  # the words, per packet: module names (describe is the hot path)
_say_context = phrases.context


def describe(pkt: Packet, facts: PacketFacts) -> PacketShown:
    """The timeline entry of a packet from its facts (``Correlator.track``): the words.

    The summary line and the meaning cost about as much as the tracking
    itself; a renderer that only counts (``--summary``) uses ``count_only``.
    """
    (direction, call_id, call_name, conversation, new_conv, step, rel_seq, rel_ack, window,
     dns_info, why, fields, transition) = facts
    return _new_shown(pkt, direction, call_id, call_name, conversation, new_conv, step, rel_seq,
                      rel_ack, window, summarize(pkt.decoded, rel_seq, rel_ack, window),
                      _say_meaning(step, direction, fields), dns_info,
                      None if why is None else _say_context(why, fields),
                      *_states(transition, fields))


def count_only(pkt: Packet, facts: PacketFacts) -> PacketShown:
    """``describe`` without the words (empty summary and meaning), for counting renderers."""
    (direction, call_id, call_name, conversation, new_conv, step, rel_seq, rel_ack, window,
     dns_info, why, fields, transition) = facts
    return _new_shown(pkt, direction, call_id, call_name, conversation, new_conv, step, rel_seq,
                      rel_ack, window, "", "", dns_info,
                      None if why is None else _say_context(why, fields),
                      *_states(transition, fields))


_NO_STATES = (None, ())


def _states(transition, fields) -> tuple:
    """A segment's (tcp_states, tcp_changes) for its timeline entry; (None, ()) for others.

    Each change is (end, path, role): "src" or "dst", its states through the
    segment, and that end's role in the connection (the end that sent the first
    SYN is the client), or None when no SYN was seen.
    """
    if transition is None:
        return _NO_STATES
    changes = state_changes(transition)
    if changes:
        roles = fields.get("tcp_roles") or {}
        changes = tuple((end, path, roles.get(end)) for end, path in changes)
    return states_json(transition), changes


# The facts every meaning may use, for one packet (its words are the phrasebook's).
meaning_fields = phrases.packet_facts


def track_data_and_acks(conv: Conversation, step: str, direction: str | None, sender: tuple,
                        receiver: tuple, n: int, rel_ack: int | None, time: float) -> float | None:
    """Note when each side last sent data; a pure ACK sent long after it is a delayed ACK.

    Returns how long after the data a delayed ACK came (seconds), or None.
    Only this host's own ACKs (``direction`` 'out') are timed, and only one
    that acknowledges something new (``conv.ack_kind``, set by the tracking
    just before): the data's arrival and the ACK's departure are then both
    seen here. An ACK coming back from the peer also took a round trip.
    """
    if n and step in _DATA_STEPS:
        if sender == conv.key[1]:
            conv.a_data = time
        else:
            conv.b_data = time
    elif step == _ACK and direction == _OUT and rel_ack is not None and conv.ack_kind == ACK_NEW:
        # Which data this ACK answers: the receiver's last data.
        sent = conv.a_data if receiver == conv.key[1] else conv.b_data
        if sent is not None and time - sent >= DELAYED_ACK:
            return time - sent
    return None


class Correlator:
    """Feed it ``call_started``, ``packet`` and ``call_ended`` in time order.

    ``role`` is the side the lesson plays: 'client' (tcp, udp, resolve),
    'server' (serve --watch) or None for a capture from elsewhere, where
    nobody can say which side is "you" (a role this version does not know,
    read from a capture's metadata, counts as None).
    """

    def __init__(self, *, role: str | None = Role.CLIENT, dns: DnsDissector | None = None,
                 max_conversations: int = 20_000, summary_limit: int = 1_000) -> None:
        self.role: Role | None = Role(role) if role in tuple(Role) else None
        self.dns = dns
        self.conversations: dict[tuple, Conversation] = {}
        self.open_call: Call | None = None  # the latest started of the calls running
        # Every call running, in the order they started: a traced program's threads
        # overlap their calls, and a call may run inside another (create_connection).
        self._open: dict[int, _Running] = {}
        # A socket's endpoints (fd -> (local, peer)) as its calls' ends told them: which
        # running call a packet is for, when several run.
        self._sockets: dict[int, tuple] = {}
        self._listening: set[int] = set()  # the fds listen() was called on (their close resets)
        self.calls = 0
        self.packets = 0
        self.last_closed: Call | None = None
        self.transport: str | None = None
        self.first_time: float | None = None
        self.last_time: float | None = None
        # Memory stays bounded whatever the capture: at most this many
        # conversations keep their state (see _forget_idle), and the summary
        # lists at most summary_limit of them (the busiest) once some retired.
        self.max_conversations = max_conversations
        self.summary_limit = summary_limit
        self.retired: list[tuple] = []  # summary rows of retired conversations
        self._retired_cutoff: tuple | None = None  # _busiest of the last one kept, once full
        # Conversations retired so far: a cache of Conversation objects (the replay's fast
        # path) is stale once it grows.
        self.retired_total = 0
        # Conversations joined after their start whose beginning a later SYN then showed
        # (who began it: the words for the other end change); the fast path's worded
        # meanings are stale once it grows.
        self.late_starts = 0
        self._numbers = 0
        self._dns_cache: dict[tuple, dict | None] = {}
        self._udp_connected = False
        self._port_unreachable = False  # an ICMP port unreachable came back at some point
        # Addresses whose MAC address this host asked for (ARP, NDP): the next packet
        # sent to one of them is the one that waited for the answer.
        self._neighbours: dict[str, bool] = {}
        # Calls whose socket the kernel saw in another state than its packets show:
        # (deadline, call name, conversation, end, kernel's state), said at the deadline
        # unless a packet before it brings the packets' state to the kernel's.
        self._state_checks: list[tuple] = []

    def asking(self, question: str | None) -> bool:
        """Is a call running that may have sent a DNS query for ``question`` (lookups.asks)?"""
        return any(asks(asked_names(r.call), question) for r in self._open.values())

    @property
    def busy(self) -> bool:
        """Every packet must come through ``packet()`` now: a call runs, or a check waits."""
        return self.open_call is not None or bool(self._state_checks)

    # -- calls -------------------------------------------------------------
    def call_started(self, call: Call) -> list[Entry]:
        due = self._due_checks(call.start) if self._state_checks else []
        self.open_call = call
        self._open[call.id] = _Running(call)
        self.calls += 1
        if call.transport:
            self.transport = call.transport
        if call.name == "connect" and call.transport == "UDP":
            self._udp_connected = True
        return [*due, CallStarted(call=call)]

    def call_ended(self, call: Call) -> list[Entry]:
        due = self._due_checks(call.end if call.end is not None else call.start) \
            if self._state_checks else []
        transport = call.transport or self.transport
        running = self._open.pop(call.id, None) or _Running(call)
        steps = running.steps
        rst_in = _IN in running.rst and _OUT not in running.rst
        listening = call.socket is not None and call.socket in self._listening
        lesson = _lesson(call, steps, transport, self._syn_intervals, self._port_unreachable,
                         rst_in, listening)
        if (call.name == "close" and transport == "TCP" and not steps
                and any(c.transport == "TCP" and c.handshake_done and not c.closed
                        for c in self.conversations.values())):
            # Its FIN may simply be late (data still queued): claim no silence.
            lesson = None
        if call.note:
            lesson = call.note
        facts = dns_facts(running.dns)
        dns = phrases.dns_lesson(**facts) if facts is not None else None
        if call.name == "getaddrinfo" and not call.error:
            found = addrinfo_facts(call.result)
            shown = phrases.getaddrinfo_lesson(**found) if found is not None else None
            dns = phrases.joined(t for t in (dns, shown) if t) or None
        elif call.name == "getnameinfo":
            found = nameinfo_facts(call, running.dns)
            shown = phrases.getnameinfo_lesson(**found) if found is not None else None
            dns = phrases.joined(t for t in (dns, shown) if t) or None
        if dns:
            lesson = phrases.joined((lesson, dns)) if lesson else dns
        entry = CallEnded(call=call, packets=running.packets, lesson=lesson)
        self.open_call = next(reversed(self._open.values())).call if self._open else None
        self.last_closed = call
        if call.socket is not None:
            self._learn_socket(call)
            if call.name == "listen" and not call.error:
                self._listening.add(call.socket)
            elif call.name == "close":
                self._listening.discard(call.socket)
        if call.tcp_state is not None:
            self._check_state(call)
        return [*due, entry]

    def finish(self) -> list[Entry]:
        """At the end of the run, before ``summary``: what is still to say (waiting checks)."""
        return self._due_checks(float("inf"))

    # -- which running call a packet is for ------------------------------------------
    def _learn_socket(self, call: Call) -> None:
        """Keep what the call's end said of its socket's endpoints (a closed one is forgotten)."""
        if call.name == "close":
            self._sockets.pop(call.socket, None)
            return
        if call.name == "accept" and call.local is not None and call.result_text:
            # Its endpoints are the new connection's, whose socket the result names
            # ("(<socket fd=7>, (...))", as the recorder shows it), not the listener's.
            accepted = _ACCEPTED.match(call.result_text)
            if accepted:
                self._sockets[int(accepted.group(1))] = (call.local, call.peer)
            return
        if call.local is None and call.peer is None:
            return
        local, peer = self._sockets.get(call.socket, (None, None))
        self._sockets[call.socket] = (call.local or local, call.peer or peer)
        if len(self._sockets) > 4096:  # a program that never closes: the oldest go
            del self._sockets[next(iter(self._sockets))]

    def _running_for(self, d: Decoded, dns_info) -> _Running:
        """Of the calls running, the one a packet is for: the latest started whose socket's
        endpoints are the packet's (a DNS message: the latest resolver call), else the latest.

        Captured during several calls, a packet is told under the one it belongs to, so
        that two threads' calls (or a call inside another) each show their own packets.
        """
        running = list(self._open.values())
        ends = {(d.src, d.sport), (d.dst, d.dport)}
        best, best_score = running[-1], 0
        for r in reversed(running):
            call = r.call
            if dns_info is not None:
                if call.transport == "DNS":
                    return r
                continue
            local, peer = self._sockets.get(call.socket, (None, None)) \
                if call.socket is not None else (None, None)
            score = _is_for(call.local or local, call.peer or peer, ends, d)
            if score > best_score:  # the sender's call first (both ends on this host)
                best, best_score = r, score
        return best

    # -- the kernel's state beside the packets' -----------------------------------
    def _check_state(self, call: Call) -> None:
        """Compare the kernel's state of the call's socket with the one its packets show.

        The kernel's (``Call.tcp_state``: TCP_INFO, or the socket table after
        ``close()``) was read as the call returned; the packets' is that end's
        state in the conversation's RFC 9293 machine. A disagreement is said
        unless a packet within STATE_READ_SLACK after the end explains it.
        """
        local, peer = call.local, call.peer
        if local is None or peer is None or len(local) < 2 or len(peer) < 2:
            return
        local, peer = (local[0], local[1]), (peer[0], peer[1])
        key = ("TCP", local, peer) if local <= peer else ("TCP", peer, local)
        conv = self.conversations.get(key)
        if conv is None or conv.states is None:
            return
        end = 0 if local == key[1] else 1
        inferred = conv.states.states[end]
        if inferred is None or inferred == call.tcp_state:
            return
        if call.name == "close" and (inferred, call.tcp_state) in _CLOSE_AHEAD:
            # close() moves the socket at once (tcp_close(): FIN-WAIT-1, or LAST-ACK from
            # CLOSE-WAIT), but its FIN leaves only after the data queued before it: the
            # packets catch up with the kernel later, however long that takes.
            return
        finished = call.end if call.end is not None else call.start
        self._state_checks.append((finished + STATE_READ_SLACK, call.name, conv, end,
                                   call.tcp_state))

    def _settle_checks(self, conv: Conversation) -> None:
        """A packet of ``conv`` moved its states: the checks it now agrees with are done."""
        states = conv.states.states
        self._state_checks = [c for c in self._state_checks
                              if c[2] is not conv or states[c[3]] != c[4]]

    def _due_checks(self, now: float) -> list[Entry]:
        """The disagreements whose deadline has passed, as notes (not saved: derived again)."""
        due = [c for c in self._state_checks if c[0] < now]
        if not due:
            return []
        self._state_checks = [c for c in self._state_checks if c[0] >= now]
        notes = []
        for deadline, name, conv, end, kernel in due:
            inferred = conv.states.states[end]
            notes.append(Note(time=min(deadline, now),
                              text=phrases.kernel_disagrees(name, kernel, str(inferred)),
                              saved=False))
        return notes

    # -- packets -----------------------------------------------------------
    def packet(self, pkt: Packet, word: Callable[[Packet, PacketFacts], PacketShown] = describe,
               ) -> list[Entry]:
        """The packet's timeline entry: its facts (``track``) told by ``word``.

        ``describe`` words them; a renderer that only counts takes ``count_only``.
        """
        if self._state_checks:
            due = self._due_checks(pkt.time)
            facts = self.track(pkt)
            if facts.transition is not None and self._state_checks:
                self._settle_checks(self.conversations[flow_key(pkt.decoded)])
            return [*due, word(pkt, facts)]
        return [word(pkt, self.track(pkt))]

    def track(self, pkt: Packet) -> PacketFacts:
        """Track ``pkt`` and return what the timeline says of it, before any wording.

        Plain values, worded by ``describe`` (or only counted: ``count_only``). The
        per-packet state changes go through the same public operations the
        replay's fast path calls (``conversation``, ``segment``, ``datagram``,
        ``unprompted``, ``add_packets``): one path, of which the fast one is a
        cheap case. Every packet of a file comes through one or the other, so
        fields are read once into locals.
        """
        d = pkt.decoded
        time = pkt.time
        self.add_packets(1, time, time)

        key = flow_key(d)
        conv = None
        new_conv = False
        if key is not None:
            conv, new_conv = self.conversation(key, time)
            flags = d.tcp_flags
            if (flags and "S" in flags and "A" not in flags and not new_conv
                    and syn_begins_anew(conv, (d.src, d.sport), d.seq)):
                # A new connection (a SYN without ACK, with ECN's ECE and CWR or not) on
                # the ports of one that is over, or of one joined midway: a conversation
                # of its own, with its own numbers. The old one is retired.
                del self.conversations[key]
                self._retire(conv)
                conv, new_conv = self._new_conversation(key, time), True

        proto = d.proto
        n = d.payload_len
        fields = meaning_fields(proto, d.src or "?", d.dst or "?", d.sport, d.dport, n, self.role)
        rel_seq = rel_ack = window = None
        dns_info = None
        transition = None
        sender, receiver = (d.src, d.sport), (d.dst, d.dport)

        if d.tcp_flags is not None and conv is not None and (proto == "TCP" or proto == "DNS"):
            joined = conv.initiator is None and conv.packets
            step, rel_seq, rel_ack, window, interval, attempt, transition = self.segment(
                ends(conv, sender, receiver), FLAG_BITS[d.tcp_flags], seq=d.seq, ack=d.ack,
                window=d.window, payload=n, options=d.tcp_options, time=time)
            if joined and conv.initiator is not None:
                self.late_starts += 1
            if transition is not None and transition.changed and conv.initiator is not None:
                client = conv.initiator == sender
                fields["tcp_roles"] = {"src": _CLIENT if client else _SERVER,
                                       "dst": _SERVER if client else _CLIENT}
            fields["acked"] = rel_ack
            if interval is not None:
                fields["interval_s"] = interval
            fields["attempt"] = attempt
            if "S" in d.tcp_flags:
                # The real ISN: the numbers shown are relative to it (RFC 9293 §3.4.1).
                fields["isn"] = d.seq
                if step == Step.SYNACK:
                    fields["scaling"] = phrases.window_scaling(
                        conv.side(sender).wscale, conv.side(receiver).wscale)
            if proto == "DNS" and n and step == _DATA:
                dns_info = self._dns(d, tcp=True)
        elif proto == "DNS" and d.frag_offset in (None, 0):
            dns_info = self._dns(d, tcp=False)
            step = _UDP
            if conv is not None:
                self.datagram(conv, sender, time)
        elif d.sport is not None and d.tcp_flags is None and (proto == "UDP" or proto == "DNS"):
            step = _UDP
            if conv is not None:
                self.datagram(conv, sender, time)
        else:
            step = self._other_step(d, fields)
            if conv is not None:  # an ICMP error, in the conversation of the packet it quotes
                conv.packets += 1
                conv.last_time = time

        if d.frag_offset is not None:
            step = _FRAGMENT
            fields["offset"] = d.frag_offset
            fields["more_fragments"] = bool(d.more_fragments)
            fields["rfc"] = "RFC 8200 §4.5" if d.family == 6 else "RFC 791"

        if dns_info is not None:
            step = Step.DNS_RESPONSE if dns_info.get("qr") == "response" else Step.DNS_QUERY
            fields["dns"] = dns_info

        direction = _DIRECTIONS.get(pkt.direction, pkt.direction)
        call = self.open_call
        running = None
        if call is not None:
            running = self._open[call.id] if len(self._open) == 1 else self._running_for(d, dns_info)
        if self.role is not None:
            me = self._our_end(direction, sender, receiver, conv, running, d)
            if direction is None:
                if d.sport is not None and me is not None:
                    direction = _OUT if me == sender else _IN
                elif d.quoted is not None:
                    direction = _IN  # an ICMP error about a packet of ours
            if conv is not None and conv.initiator is not None:
                # Each conversation names the other end by the part the program plays in
                # it: a program may be the server of one and the client of another.
                role = self.role_of(conv, me)
                if role is not self.role:
                    fields["peer"] = phrases.peer(role)

        if step == _PORT_UNREACHABLE:
            self._port_unreachable = True
        if running is not None:
            call = running.call
            running.steps.append(step)
            running.packets += 1
            if dns_info is not None:
                port = d.sport if direction != _IN else d.dport
                running.dns.append((port, dns_info, time))
            if step == Step.RST:
                running.rst.append(direction)
            why = self._cause(call, step, direction, d, conv, fields)
            if conv is not None:  # its timing still counts for the packets after the call
                track_data_and_acks(conv, step, direction, sender, receiver, n, rel_ack, time)
        else:
            why, delay = self.unprompted(step, direction, conv, sender, receiver, n, rel_ack,
                                         time, d)
            if delay is not None:
                fields["delay"] = delay
        if direction == _OUT and (step == Step.ARP_REQUEST or step == Step.NDP_NS):
            self._asked_neighbour(d, step)

        return _new_facts(PacketFacts, (
            direction, call.id if call else None, call.name if call else None,
            conv.number if conv else None, new_conv, step, rel_seq, rel_ack, window,
            dns_info, why, fields, transition))

    # -- the per-packet operations, shared with the replay's fast path (core/json_fast_path.py) --
    def add_packets(self, count: int, first_time: float, last_time: float) -> None:
        """Count ``count`` packets, the first at ``first_time``, the last at ``last_time``."""
        self.packets += count
        if self.first_time is None:
            self.first_time = first_time
        self.last_time = last_time

    def conversation(self, key: FlowKey, time: float) -> tuple[Conversation, bool]:
        """The conversation of ``key``, made at its first packet: (it, whether it is new).

        Making one may retire idle ones (``retired_total`` grows: see
        ``_forget_idle``). Its packets are counted by ``segment`` and ``datagram``.
        """
        conv = self.conversations.get(key)
        if conv is not None:
            return conv, False
        return self._new_conversation(key, time), True

    # A TCP segment of ``e.conv``, counted and tracked: ``flows.track_segment(e, flags, seq,
    # ack, window, payload, options, time)``, bound here (the hot path: one call).
    segment = staticmethod(track_segment)

    @staticmethod
    def datagram(conv: Conversation, sender: tuple, time: float) -> None:
        """A UDP datagram of ``conv``, counted: the first one's sender began the conversation."""
        conv.packets += 1
        conv.last_time = time
        if conv.initiator is None:
            conv.initiator = sender

    def unprompted(self, step: Step, direction: Direction | None, conv: Conversation | None,
                   sender: tuple, receiver: tuple, payload: int, rel_ack: int | None,
                   time: float, d: Decoded | None = None) -> tuple[Why | None, float | None]:
        """Why a packet that no call was running for happened, after its tracking.

        ``(why, delay)``: ``delay`` is how long after the data it acknowledges
        a delayed ACK left (seconds; ``why`` is then ``Why.DELAYED_ACK``), else
        None. Without ``d`` (the fast path), what it says of a segment or a
        datagram is decided from the conversation alone, said without facts.
        """
        # Nobody can tell which way the data or ACKs of a capture from elsewhere went: no
        # context, and no call to find it out (the bulk of such a replay).
        if direction is None and step in _QUIET_STEPS:
            why = None
        else:
            # The program's part in the conversation, which only a handshake's words read
            # (Why.LISTENING): not asked of the bulk of a replay.
            role = self.role
            if step in _HANDSHAKE_STEPS:
                role = self.role_of(conv, sender if direction == _OUT else
                                    receiver if direction == _IN else None)
            why = self._context(step, direction, d, conv, role)
        if conv is not None and (delay := track_data_and_acks(
                conv, step, direction, sender, receiver, payload, rel_ack, time)) is not None:
            return _DELAYED_ACK, delay
        return _NO_REASON if why is None else (why, None)

    def _new_conversation(self, key: tuple, time: float) -> Conversation:
        convs = self.conversations
        if len(convs) >= self.max_conversations:
            self._forget_idle()
        self._numbers += 1
        conv = Conversation(number=self._numbers, key=key, transport=key[0])
        conv.first_time = time
        convs[key] = conv
        return conv

    def _forget_idle(self) -> None:
        """Bound the memory: retire the least recently active quarter of the conversations.

        A capture may hold millions of flows; keeping each one's state would
        grow without end (about 1 KiB a TCP connection). Closed connections
        go first, then the longest idle. A retired conversation keeps only
        its summary line (``Retired``) and only while it ranks among the
        busiest (``summary_limit``); should the same endpoints talk again, it
        is a new conversation with a new number, as after a long silence.
        """
        convs = self.conversations
        # sorted(key=(not closed, last_time)), in two stable sorts without a lambda: a capture
        # of short flows comes here every few thousand packets.
        closed = [c for c in convs.values() if c.closed]
        ranked = [c for c in convs.values() if not c.closed]
        closed.sort(key=_LAST_TIME)
        ranked.sort(key=_LAST_TIME)
        ranked[:0] = closed
        for conv in ranked[: max(1, len(ranked) // 4)]:
            del convs[conv.key]
            self._retire(conv)

    def _retire(self, conv: Conversation) -> None:
        self.retired_total += 1
        # Below the last of the busiest kept so far, it can never be listed: a capture of
        # short flows retires a conversation every other packet.
        cutoff = self._retired_cutoff
        if cutoff is not None and (-conv.packets, conv.number) > cutoff:
            return
        self.retired.append(_summary_row(conv))
        if len(self.retired) >= 2 * self.summary_limit:
            self.retired.sort(key=_busiest)
            del self.retired[self.summary_limit :]
            self._retired_cutoff = _busiest(self.retired[-1])

    def summary(self, *, kernel_drops: int | None, capture: str | None, ignored: int = 0,
                problem: str | None = None) -> Summary:
        rows = [_summary_row(c) for c in self.conversations.values()]
        total = None
        if self.retired_total:
            # Too many to list: the busiest summary_limit, in order of appearance.
            total = len(rows) + self.retired_total
            rows = sorted(rows + self.retired, key=_busiest)[: self.summary_limit]
            rows.sort()
        convs = [
            {
                "number": number,
                "proto": proto,
                "a": endpoint(*a),
                "b": endpoint(*b),
                "packets": packets,
                "handshake": handshake,
                "closed": closed,
                "reset": reset,
            }
            for number, proto, a, b, packets, handshake, closed, reset in rows
        ]
        return Summary(
            packets=self.packets,
            calls=self.calls,
            kernel_drops=kernel_drops,
            ignored=ignored,
            capture=capture,
            conversations=convs,
            problem=problem,
            first_time=self.first_time,
            last_time=self.last_time,
            conversations_total=total,
        )

    def tcp_closed(self) -> bool:
        """True once every TCP conversation seen is over (both FINs acked, or RST)."""
        tcp = [c for c in self.conversations.values() if c.transport == "TCP"]
        return bool(tcp) and all(c.closed for c in tcp)

    # -- helpers -----------------------------------------------------------
    def _syn_intervals(self) -> list[float]:
        """Gaps between the SYNs of the latest connection attempt."""
        for conv in reversed(list(self.conversations.values())):
            if conv.transport == "TCP" and conv.initiator is not None:
                times = conv.side(conv.initiator).syn_times or []
                return [b - a for a, b in pairwise(times)]
        return []

    def _dns(self, d: Decoded, *, tcp: bool) -> dict | None:
        payload = d.payload
        if self.dns is None or not payload:
            return None
        # The dissector (scapy) takes ~0.3 ms a message; captures repeat the
        # same questions and answers, under a new ID each time (RFC 1035
        # §4.1.1: the first two bytes, after the length prefix over TCP).
        at = 2 if tcp else 0
        if not at + 12 <= len(payload) <= 1024:  # the cache stays small: 4 MiB at most
            return self.dns(payload, tcp)
        key = (tcp, payload[:at], payload[at + 2 :])
        cache = self._dns_cache
        info = cache.get(key, _MISSING)
        if info is _MISSING:
            info = self.dns(payload, tcp)
            if len(cache) >= 4096:
                cache.clear()
            cache[key] = info
            return info
        if info is None:
            return None
        return {**info, "id": int.from_bytes(payload[at : at + 2], "big")}

    def role_of(self, conv: Conversation | None, me: tuple | None) -> Role | None:
        """The part the program plays in ``conv`` seen from its end ``me``: the client
        when that end began the conversation (its SYN, or its first datagram), else the
        server; the run's own role when nobody can tell (no role: a capture from
        elsewhere; a conversation joined after its start).
        """
        role = self.role
        if role is None or conv is None or conv.initiator is None:
            return role
        if me is None or (me != conv.key[1] and me != conv.key[2]):
            me = conv.ours  # an ICMP error's ends are addresses: its conversation's
            if me is None:
                return role
        return _CLIENT if me == conv.initiator else _SERVER

    def _our_end(self, direction: Direction | None, sender: tuple, receiver: tuple,
                 conv: Conversation | None, running: _Running | None, d: Decoded) -> tuple | None:
        """Which end of this packet is the program's (None: not known); the first one
        known is kept as its conversation's.

        Its direction tells, when the capture has one. On loopback each packet is both
        sent and received here: the socket of the call running decides (its local end,
        else a connect()'s or sendto()'s peer), then what the conversation's first
        packet showed, then the sockets the calls made, then the run's role (a client
        began the conversation).
        """
        if direction == _OUT:
            me = sender
        elif direction == _IN:
            me = receiver
        elif d.sport is None:
            return conv.ours if conv is not None else None
        else:
            me = self._end_of_call(running, sender, receiver) if running is not None else None
            if me is None and conv is not None:
                me = conv.ours or self._end_of_sockets(sender, receiver)
                if me is None and conv.initiator is not None:
                    # A guess from the run's role alone: said, not kept (a socket the
                    # program makes later may still tell).
                    first = conv.initiator
                    return first if self.role == _CLIENT else conv.other(first)
        if conv is not None and conv.ours is None and me is not None and d.sport is not None:
            conv.ours = me
        return me

    def _end_of_call(self, running: _Running, sender: tuple, receiver: tuple) -> tuple | None:
        """The packet's end that is the running call's socket, or None."""
        call = running.call
        local, peer = self._sockets.get(call.socket, (None, None)) \
            if call.socket is not None else (None, None)
        local, peer = call.local or local, call.peer or peer
        if local is not None and len(local) >= 2:
            local = (local[0], local[1])
            if local in (sender, receiver):
                return local
            if local[0] in _ANY_ADDRESS:  # bound to every address: its port
                return receiver if local[1] == receiver[1] else \
                    sender if local[1] == sender[1] else None
        if peer is not None and len(peer) >= 2:
            peer = (peer[0], peer[1])
            return sender if peer == receiver else receiver if peer == sender else None
        return None

    def _end_of_sockets(self, sender: tuple, receiver: tuple) -> tuple | None:
        """The packet's end that a socket of the program's calls has (a conversation's
        first packet on loopback, outside calls), or None; both ends are: the sender. A
        socket bound to every address (a server's) goes by its port: the receiver's
        first, as a listener's first packet is a SYN it receives."""
        locals_ = [(local[0], local[1]) for local, _peer in self._sockets.values()
                   if local is not None and len(local) >= 2]
        if sender in locals_:
            return sender
        if receiver in locals_:
            return receiver
        ports = {port for address, port in locals_ if address in _ANY_ADDRESS}
        return receiver if receiver[1] in ports else sender if sender[1] in ports else None

    def _other_step(self, d: Decoded, fields: dict) -> Step:
        if d.proto == "ARP":
            fields["mac"] = d.arp_sha or "?"
            if d.arp_op == 2:
                return Step.ARP_REPLY
            # A request sent to one MAC, not broadcast: a cached entry being checked.
            unicast = d.eth_dst is not None and d.eth_dst != "ff:ff:ff:ff:ff:ff"
            return Step.ARP_PROBE if unicast else Step.ARP_REQUEST
        if d.proto == "ICMP" and d.icmp_type is not None:
            return self._icmp_step(d, fields, v6=False)
        if d.proto == "ICMPv6" and d.icmp_type is not None:
            if d.icmp_type in NDP_TYPES:
                fields["target"] = d.nd_target or "?"
                fields["mac"] = d.eth_src or "?"
                fields["ndp"] = NDP_TYPES[d.icmp_type]
                if d.icmp_type == 135 and d.dst is not None and not d.dst.startswith("ff"):
                    return Step.NDP_PROBE  # unicast: reachability confirmation (RFC 4861 §7.3)
                return {135: Step.NDP_NS, 136: Step.NDP_NA}.get(d.icmp_type, Step.NDP)
            return self._icmp_step(d, fields, v6=True)
        return Step.OTHER

    @staticmethod
    def _icmp_step(d: Decoded, fields: dict, *, v6: bool) -> Step:
        """The step of an ICMP or ICMPv6 message; the facts its meaning reads go in ``fields``.

        (Its code, {icmp_code}, is the {what} of an unreachable destination.)
        """
        t, c = d.icmp_type, d.icmp_code
        fields["icmp_type"], fields["icmp_code"] = t, c
        q = d.quoted
        if q is not None:
            fields["qdst"] = q.dst or "?"
            fields["qdport"] = q.dport
            fields["qproto"] = q.proto or "?"
        fields["mtu"] = d.mtu
        if v6:
            if t == 1 and c == 4:
                fields["rfc"] = "ICMPv6 type 1 code 4, RFC 4443 §3.1"
                return Step.PORT_UNREACHABLE
            if t == 1:
                return Step.UNREACHABLE
            if t == 2:
                return Step.FRAG_NEEDED
            if t == 3:
                return Step.TIME_EXCEEDED
            if t in (128, 129):
                return Step.ECHO_REQUEST if t == 128 else Step.ECHO_REPLY
            return Step.ICMP
        if t == 3 and c == 3:
            fields["rfc"] = "ICMP type 3 code 3, RFC 792"
            return Step.PORT_UNREACHABLE
        if t == 3 and c == 4:
            return Step.FRAG_NEEDED
        if t == 3:
            return Step.UNREACHABLE
        if t == 11:
            return Step.TIME_EXCEEDED
        if t in (0, 8):
            return Step.ECHO_REQUEST if t == 8 else Step.ECHO_REPLY
        return Step.ICMP

    def _context(self, step: str, direction: str | None, d: Decoded | None, conv,
                 role: Role | None) -> Why | None:
        """Why a packet that no call was running for happened (phrases.WHY says it);
        ``role`` is the part the program plays in the packet's conversation."""
        if self._neighbours and self._waited_for_neighbour(direction, d, conv):
            return Why.NEIGHBOUR_WAITED
        if direction is None and step in _QUIET_STEPS:
            return None
        last = self.last_closed
        new_ack = conv is not None and conv.ack_kind == ACK_NEW
        if step in _HANDSHAKE_STEPS and role == _SERVER:
            return Why.LISTENING
        if step in _BUFFERED_STEPS and direction == _IN:
            return Why.BUFFERED_PIGGYBACK if new_ack and step == _DATA else Why.BUFFERED
        if step in _TEARDOWN_STEPS and last is not None and last.name == "close":
            # Our close() has returned: what still comes is the peer's program's doing,
            # or its kernel's; only our own last segments are our kernel acting alone.
            if step == Step.FIN_SECOND and new_ack:
                return Why.FIN_PIGGYBACK
            if direction == _IN:
                if step == Step.FIN_SECOND:
                    # Our FIN acknowledged before this one came (not FINs crossing: a
                    # simultaneous close, RFC 9293 §3.6 case 3): we sat in FIN-WAIT-2.
                    return Why.PEER_CLOSED if _first_fin_acked(conv) else None
                return Why.CLOSED_RST if step == Step.ACK_FIN else None
            return Why.AFTER_CLOSE if direction == _OUT else None
        if step == _ACK and direction == _OUT:
            return Why.KERNEL_ACK
        if step == _DATA and new_ack:
            return Why.PIGGYBACK
        if step == Step.FIN_SECOND and new_ack:
            return Why.FIN_PIGGYBACK
        if step in _ARP_STEPS:
            return Why.ARP
        if step in _NDP_STEPS:
            return Why.NDP
        if step == _PORT_UNREACHABLE and direction == _IN:
            return Why.ERROR_KEPT if self._udp_connected else Why.ERROR_UNHEARD
        return None

    def _cause(self, call: Call, step: str, direction: str | None, d: Decoded, conv,
               fields: dict) -> Why | None:
        """What caused a packet captured during ``call`` when that is not the call itself.

        "Captured during" is not "caused by": the peer's ACK under a send(),
        an ICMP error answering a datagram sent before, the ARP exchange a
        packet waits for. Only the general path comes here (the fast path
        takes no packet while a call runs), so the words may name the call.
        """
        fields["call"] = call.name
        if self._neighbours and self._waited_for_neighbour(direction, d, conv):
            return Why.NEIGHBOUR_WAITED
        if direction == _OUT and (step == Step.ARP_REQUEST or step == Step.NDP_NS):
            target = d.dst if step == Step.ARP_REQUEST else d.nd_target
            if target and self._neighbour_query(d, step):
                fields["needed_for"] = target
                return Why.NEIGHBOUR_FIRST
            return None
        kind = conv.ack_kind if conv is not None else 0
        name = call.name
        if step == Step.FIN_SECOND and kind == ACK_NEW:
            return Why.FIN_PIGGYBACK
        if direction == _IN:
            if step == _ACK and kind == ACK_NEW:
                if name == "send":
                    return Why.ACK_NOT_WAITED
                return Why.ACK_FREES_ROOM if name == "sendall" else Why.ACK_OF_EARLIER
            if step == _DATA and name not in _RECV_CALLS:
                return Why.DATA_NOT_CALL
            if step == _PORT_UNREACHABLE and fields.get("qproto") in ("UDP", "DNS"):
                return Why.ERROR_KEPT if self._udp_connected else Why.ERROR_UNHEARD
            if (step == _PORT_UNREACHABLE or step in _ICMP_ERRORS) and d.quoted is not None:
                return Why.ICMP_ANSWER
        if step == _DATA and kind == ACK_NEW:
            return Why.PIGGYBACK
        if (step == _ACK and direction == _OUT and kind == ACK_WINDOW
                and name in _RECV_CALLS):
            return Why.WINDOW_UPDATE
        if step == _ACK and direction == _OUT and kind == ACK_NEW and name not in _RECV_CALLS:
            # The peer's data came during the call (the echo under a send() whose thread
            # the scheduler preempted): the kernel acknowledges it by itself.
            return Why.KERNEL_ACK_DURING
        return None

    # -- neighbours: which packet an ARP or NDP exchange was for ---------------------
    @staticmethod
    def _neighbour_query(d: Decoded, step: str) -> bool:
        """A request for a neighbour's MAC address that a packet waits for.

        Not one about this host's own address: a gratuitous ARP (sender and
        target the same), an ARP probe from 0.0.0.0 (RFC 5227), or IPv6's
        duplicate address detection from :: (RFC 4862 §5.4).
        """
        if step == Step.ARP_REQUEST:
            return d.src not in (None, "0.0.0.0") and d.src != d.dst
        return d.src not in (None, "::") and d.dst is not None and d.dst.startswith("ff")

    def _asked_neighbour(self, d: Decoded, step: str) -> None:
        if not self._neighbour_query(d, step):
            return
        target = d.dst if step == Step.ARP_REQUEST else d.nd_target
        if target:
            if len(self._neighbours) >= 64:  # a gateway's packets never match: stay small
                self._neighbours.clear()
            self._neighbours[target] = True

    def _waited_for_neighbour(self, direction: str | None, d: Decoded | None, conv) -> bool:
        """Is this the first packet sent to an address whose MAC address was just asked for?

        Decided from the conversation's endpoints when there is one (the fast
        path has no ``d``), else from the packet's destination.
        """
        if direction != _OUT:
            return False
        pending = self._neighbours
        if conv is not None:
            for endpoint_ in conv.key[1:]:
                if endpoint_[0] in pending:
                    del pending[endpoint_[0]]
                    return True
            return False
        if d is not None and d.proto not in ("ARP", "ICMPv6") and d.dst in pending:
            del pending[d.dst]
            return True
        return False


def dns_facts(messages: list[tuple]) -> dict | None:
    """What the DNS traffic of one resolver call shows, as measured (glibc's habits).

    ``messages`` are the call's (our port, info, time); the facts are
    ``phrases.dns_lesson``'s fields, or None without a query.
    """
    queries = [(port, i, t) for port, i, t in messages if i.get("qr") == "query"]
    if not queries:
        return None
    answers = [(port, i, t) for port, i, t in messages if i.get("qr") == "response"]
    types = [q.get("type") for _, i, _ in queries for q in i.get("questions", [])]
    ports = sorted({port for port, _, _ in queries}, key=str)
    first_answer = min((t for _, _, t in answers), default=None)
    last_query = max(t for _, _, t in queries)
    distinct = {(q.get("type"), q.get("name")) for _, i, _ in queries for q in i.get("questions", [])}
    return {
        "both_families": "A" in types and "AAAA" in types,
        # Sent together: the last query went before the first answer came.
        "together": first_answer is None or last_query <= first_answer,
        "ports": ports,
        "retried": len(types) > len(distinct),
        "answered": bool(answers),
    }


def _first_fin_acked(conv: Conversation | None) -> bool:
    """Was the first FIN of ``conv`` acknowledged (before the second, just tracked, came)?"""
    return conv is not None and any(side is not None and side.fin_acked
                                    for side in (conv.a, conv.b))


def addrinfo_facts(result) -> dict | None:
    """What getaddrinfo()'s list shows: ``phrases.getaddrinfo_lesson``'s fields, or None.

    ``result`` is the list of (family, type, proto, canonname, sockaddr) as the
    call returned it, or as a capture's comment keeps it (lists of lists).
    """
    if not isinstance(result, (list, tuple)) or not result:
        return None
    rows = [r for r in result if isinstance(r, (list, tuple)) and len(r) == 5]
    if len(rows) != len(result):
        return None
    families = [int(r[0]) if isinstance(r[0], int) else None for r in rows]
    per: dict = {}
    for r in rows:
        sockaddr = r[4]
        address = sockaddr[0] if isinstance(sockaddr, (list, tuple)) and sockaddr else sockaddr
        per[str(address)] = per.get(str(address), 0) + 1
    counts = set(per.values())
    first = {_AF_INET: "AF_INET", _AF_INET6: "AF_INET6"}.get(families[0])
    return {
        "first_family": first,
        "both_families": _AF_INET in families and _AF_INET6 in families,
        "canonname_empty": all(r[3] == "" for r in rows),
        "per_address": counts.pop() if len(counts) == 1 else None,
    }


def nameinfo_facts(call: Call, messages: list[tuple]) -> dict | None:
    """What one getnameinfo() showed: ``phrases.getnameinfo_lesson``'s fields, or None.

    From its DNS messages (``messages``: our port, info, time) and how it
    ended: the PTR name asked, the answer's code, whether glibc gave the
    number back as text, or failed with EAI_AGAIN (errno -3).
    """
    ptr = rcode = None
    answered = False
    for _port, info, _time in messages:
        if info.get("qr") == "query" and ptr is None:
            ptr = next((q.get("name") for q in info.get("questions") or ()
                        if q.get("type") == "PTR"), None)
        elif info.get("qr") == "response":
            answered = True
            rcode = info.get("rcode") if rcode in (None, "NOERROR") else rcode
    args = call.args
    address = None
    if args and isinstance(args[0], (list, tuple)) and args[0]:
        address = str(args[0][0])
    result = call.result
    host = service = None
    if isinstance(result, (list, tuple)) and len(result) == 2:
        host, service = str(result[0]), str(result[1])
    err = call.error or ""
    return {
        "ptr": ptr,
        "rcode": rcode,
        "answered": answered,
        "gave_number": host is not None and address is not None
        and host == address.split("%")[0],
        "again": err.startswith("gaierror") and "-3" in err,
        "service": service if service and not service.isdigit() else None,
    }


_HEADS: dict[tuple, str] = {}


def tcp_head(src: str | None, sport: int | None, dst: str | None, dport: int | None,
             flags: str | None) -> str:
    """'TCP a:1 > b:2 [ACK]': the same for every segment of a flow with these flags."""
    key = (src, sport, dst, dport, flags)
    head = _HEADS.get(key)
    if head is None:
        if len(_HEADS) > 8192:
            _HEADS.clear()
        head = _HEADS[key] = (f"TCP {endpoint(src, sport)} > {endpoint(dst, dport)} "
                              f"[{flag_names(flags)}]")
    return head


# Which options a TCP summary shows: none, Linux's timestamps, or others (as text).
NO_OPTIONS, TIMESTAMPS, OTHER_OPTIONS = 0, 1, 2
_TCP_NUMBERS: dict[tuple, str] = {}


def tcp_numbers(seq: bool, ack: bool, window: bool, options: int) -> str:
    """The %-format of a TCP summary's numbers, after ``tcp_head``: what it shows of them.

    ' seq=%d ack=%d win=%d <TSval %d TSecr %d> len=%d', without the numbers a
    frame cut short lacks; ``options``: NO_OPTIONS, TIMESTAMPS (what Linux puts
    in every segment after the handshake: NOP, NOP, timestamps, RFC 7323 §3)
    or OTHER_OPTIONS (' <%s>'). ``summarize`` and the replay's fast path
    (core/json_fast_path.py) both write with it.
    """
    key = (seq, ack, window, options)
    fmt = _TCP_NUMBERS.get(key)
    if fmt is None:
        fmt = _TCP_NUMBERS[key] = (
            (" seq=%d" if seq else "") + (" ack=%d" if ack else "") + (" win=%d" if window else "")
            + ("", " <TSval %d TSecr %d>", " <%s>")[options] + " len=%d")
    return fmt


def summarize(d: Decoded, rel_seq: int | None, rel_ack: int | None, window: int | None) -> str:
    """A one-line, tcpdump-like description of a packet."""
    if d.tcp_flags is not None and not d.frag_offset:  # the common case first
        numbers = [n for n in (rel_seq, rel_ack, window) if n is not None]
        options = d.tcp_options
        shown = NO_OPTIONS
        if options:
            if len(options) == 3 and options[2][0] == "Timestamp" and options[0][0] == "NOP" \
                    and options[1][0] == "NOP":
                shown = TIMESTAMPS
                numbers += options[2][1]
            else:
                opts = tcp_options(options)
                if opts:
                    shown = OTHER_OPTIONS
                    numbers.append(opts)
        numbers.append(d.payload_len)
        text = tcp_head(d.src, d.sport, d.dst, d.dport, d.tcp_flags) + tcp_numbers(
            rel_seq is not None, rel_ack is not None, window is not None, shown) % tuple(numbers)
        if d.payload:
            text += f' "{preview(d.payload)}"'
        return text
    if d.proto == "ARP":
        if d.arp_op == 2:
            return f"ARP reply {d.src} is at {d.arp_sha}"
        return f"ARP who has {d.dst}? tell {d.src}"
    src = endpoint(d.src, d.sport)
    dst = endpoint(d.dst, d.dport)
    if d.frag_offset:
        return f"{d.proto} {d.src} > {d.dst} fragment id {d.ip_id} offset {d.frag_offset}" + (
            " MF" if d.more_fragments else ""
        ) + f" len={d.payload_len}"
    if d.sport is not None:
        text = f"{d.proto} {src} > {dst} len={d.payload_len}"
        if d.payload and d.proto == "UDP":
            text += f' "{preview(d.payload)}"'
        return text
    if d.proto in ("ICMP", "ICMPv6"):
        text = f"{d.proto} {d.src} > {d.dst} type {d.icmp_type} code {d.icmp_code}"
        if d.nd_target:
            text += f" target {d.nd_target}"
        if d.quoted is not None:
            q = d.quoted
            text += f" (about {q.proto} {endpoint(q.src, q.sport)} > {endpoint(q.dst, q.dport)})"
        return text
    if d.src is not None:
        return f"{d.proto} {d.src} > {d.dst}"
    if d.eth_src is not None:
        return f"{d.proto} {d.eth_src} > {d.eth_dst}"
    return d.proto + (f" ({d.error})" if d.error else "")
