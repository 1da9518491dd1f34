"""The ``--json`` line of a common packet, straight from its frame's bytes.

A big capture is mostly TCP segments and UDP datagrams over Ethernet, and a
replay of a million of them must take less time than tshark's (issue 6).
The general path builds a ``Decoded``, a ``Packet``, the ``PacketFacts`` and a
``PacketShown`` before writing the line: about 15 µs a packet. Here the
work is cut in two:

- ``prepare`` does what depends on the frame alone: which frames this path
  takes, the few header fields the line needs, the flow's key, the
  payload's preview and the time's text. It may run in another process
  (replay/worker.py).
- ``JsonFastPath.write_run`` does the rest, in the order of the file: it changes the
  correlator's state only through the correlator's own per-packet operations,
  the very ones ``Correlator.track`` calls (``conversation``, ``segment``,
  ``datagram``, ``unprompted``, ``add_packets``), words with the same
  functions (``tcp_head``, ``phrases.meaning``, the line's flow part), and
  writes the line in one %-format: one path, of which this is a cheap case.

Most of a line is the same for every packet of one flow direction: the
addresses, the conversation, the flags, the summary's head. A ``_Flow``,
found by the frame's raw address and port bytes, holds them encoded once,
with the conversation and its two TCP sides; a packet then costs one dict
lookup, the tracking, and one %-format of the numbers that change.

Only what it fully understands comes this way; everything else is left, with
nothing changed, to the general path, on the same state: another link type,
IP options or fragments, SYN and RST (options, refusals), TCP options other
than Linux's NOP, NOP, timestamps, DNS ports, packet comments (calls), and
any packet while a call runs or when a direction must be inferred.
tests/test_perf_fastpaths.py compares the two on synthetic traffic, the
lessons' captures and tcpdump's corpus, with and without the worker.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from itertools import islice
from json.encoder import encode_basestring as _string
from string import Formatter
from typing import NamedTuple

from sockviz.capfile.reader import Record
from sockviz.core import phrases
from sockviz.core.correlate import NO_OPTIONS, TIMESTAMPS, Correlator, meaning_fields, tcp_head, tcp_numbers
from sockviz.core.decode import FLAG_TEXT, format_ipv4, format_ipv6
from sockviz.core.dnsinfo import dns_info
from sockviz.core.flows import Conversation, ends
from sockviz.core.jsonmodel import (
    ELLIPSIS_MARK,
    PACKET_KEYS,
    encode,
    flow_part,
    packet_format,
    states_text,
)
from sockviz.core.tcpstates import states_json
from sockviz.core.text import endpoint, preview_json

# Ethernet from its type, then IPv4 without options (id, TTL, checksum and
# addresses skipped: the flow has them) or IPv6, then the first 16 bytes of TCP (up to
# the window) or of UDP (ports, then length and checksum as one 'I').
_ETH_IP4 = struct.Struct("!12xIH2xH1xB10xHHIIHH")
_ETH_IP6 = struct.Struct("!14xIHB33xHHIIHH")
_II = struct.Struct("!II")
_ETHERNET = 1
_IPV4_NO_OPTIONS = 0x0800_45  # ethertype IPv4, then version 4 and IHL 5
_IPV6 = 0x86DD
_TS_NOPS = b"\x01\x01\x08\x0a"  # NOP, NOP, timestamps: Linux's options after the handshake
_DNS_PORTS = frozenset((53, 5353, 5355))  # as decode: these payloads are DNS, not here
_SYN_OR_RST = 0x06
_UDP = phrases.Step.UDP  # every datagram's step (a module name: write_run() is the hot path)
_DNS_QUERY, _DNS_RESPONSE = phrases.Step.DNS_QUERY, phrases.Step.DNS_RESPONSE
_DNS = "DNS"  # beside a DNS message's addresses in its flow's key
_DELAYED_ACK = phrases.Why.DELAYED_ACK
_STEP_TEXT: dict[str, str] = {}  # step -> its JSON string
# The fields of a meaning that are the same for every packet of a flow
# direction with the same length: such meanings are worded once.
_FLOW_FIELDS = frozenset(("src", "dst", "sport", "dport", "n", "bytes", "peer", "proto"))
_CACHE_MAX = 8192  # meanings kept
# Flows kept, per protocol: each holds its formats (about 1.5 KiB); a capture
# interleaves far fewer flows at a time, and memory stays small (issue 6).
_FLOWS_MAX = 1024
# Meanings: worded once per flow, around the acknowledged number, or each time.
_PER_FLOW, _AROUND_ACKED, _OTHER = 0, 1, 2
# A fast line's fields that change from packet to packet, as write_run() gives them.
_HOLES = dict.fromkeys(PACKET_KEYS, "%s") | {
    "index": "%d", "seq": "%d", "window": "%d", "len": "%d", "wirelen": "%d"}
_CUT = "\x00"  # stands for the acknowledged number while a meaning is cut in two


class Prepared(NamedTuple):
    """The fields of a frame made ready by ``prepare`` for ``JsonFastPath.write_run``.

    A batch carries them as a plain tuple in this order, told from a
    ``Record`` by its length (``PREPARED``) and read by position: a worker
    sends batches on a pipe, where marshal takes exact tuples only, and one
    shape in both ways keeps one reader of them (in one process, a
    NamedTuple's construction and unpacking cost 3.5 % of a replay's
    instructions, measured with cachegrind). ``Prepared(*item)`` names them
    where speed does not matter.
    """

    key: tuple  # (address and port bytes, direction, interface): its flow's (_Flow)
    proto: int  # IP protocol: 6 TCP, 17 UDP
    sport: int
    dport: int
    seq: int  # TCP's raw fields (a UDP datagram: its length and checksum as one number)
    ack: int
    offflags: int  # TCP's data offset and flags
    window: int
    payload: int  # the payload's length
    timestamps: tuple[int, int] | None  # TCP's TSval and TSecr (Linux's NOP, NOP, timestamps)
    preview: str  # the summary's payload preview, encoded (empty without payload)
    time: float
    time_text: str  # as the line writes it: repr(time)
    index: int
    wirelen: int
    # The frame's Record in one process; for the pipe, its length, interface id, time in
    # ns and offset, packed (_REBUILD): its bytes stay in the file (``record_of``).
    source: Record | bytes


PREPARED = len(Prepared._fields)  # a batch's item of this length is a Prepared's fields
PREPARED_TIME = Prepared._fields.index("time")
_REBUILD = struct.Struct("!IIqq")  # size, interface id, time in ns, offset


def prepare(records: Iterator[Record], limit: int, *, for_pipe: bool = False) -> list[tuple]:
    """The next ``limit`` records (fewer at the end), each made ready for ``JsonFastPath.write_run``.

    The part of the work that depends on the frame alone: which frames the
    fast path takes (see the module's text), their header fields, the flow's
    key, the payload's preview and the time's text. A replay on a machine
    with a second core does it in another process (replay/worker.py).

    A frame it takes becomes a ``Prepared``'s fields; any other frame stays
    the reader's ``Record``, as it was. ``for_pipe``: both as plain tuples,
    without the frames' bytes (see ``Prepared``).
    """
    items: list = []
    add = items.append
    unpack4, unpack6, unpack_ts = _ETH_IP4.unpack_from, _ETH_IP6.unpack_from, _II.unpack_from
    pack_rebuild = _REBUILD.pack
    for record in islice(records, limit):
        time, data, wirelen, linktype, iface, iface_id, direction, comments, index, ns, at = record
        size = len(data)
        if linktype != _ETHERNET or comments:
            add(tuple(record) if for_pipe else record)
            continue
        if size < 50:
            add(tuple(record) if for_pipe else record)
            continue
        # The ethertype, IPv4's version and IHL, and TOS as one number, read with the rest:
        # slices of the frame to compare with cost about as much as the whole unpack.
        kind, tot, frag, p, sport, dport, seq, ack, offflags, window = unpack4(data)
        if kind >> 8 == _IPV4_NO_OPTIONS:
            if frag & 0x3FFF or (p != 6 and p != 17) or (tot < 20 and tot != 0):
                add(tuple(record) if for_pipe else record)
                continue
            if tot == 0:  # TCP segmentation offload: the captured length (as decode)
                tot = size - 14
            end = 14 + tot
            head = 34
            addresses = data[26:38]  # source, destination, ports
        elif size >= 70 and kind >> 16 == _IPV6:
            vtf, plen, p, sport, dport, seq, ack, offflags, window = unpack6(data)
            if vtf >> 28 != 6 or not plen or (p != 6 and p != 17):
                add(tuple(record) if for_pipe else record)
                continue
            end = 54 + plen
            head = 54
            addresses = data[22:58]
        else:
            add(tuple(record) if for_pipe else record)
            continue
        cap = end if end < size else size
        if p == 6:
            hlen = (offflags >> 12) << 2
            if offflags & _SYN_OR_RST or hlen > cap - head or hlen > end - head:
                add(tuple(record) if for_pipe else record)
                continue
            if hlen == 20:
                ts = None
            elif hlen == 32 and data[head + 20 : head + 24] == _TS_NOPS:
                ts = unpack_ts(data, head + 24)
            else:
                add(tuple(record) if for_pipe else record)
                continue
            start = head + hlen
        else:
            if cap - head < 8 or end - head < 8 or seq >> 16 != end - head:  # seq >> 16: UDP length
                add(tuple(record) if for_pipe else record)
                continue
            start = head + 8
            ts = None
        n = end - start
        if n and (sport in _DNS_PORTS or dport in _DNS_PORTS):
            # A whole DNS message over UDP is read here (in the worker, when there is one):
            # its fields and their JSON text stand for the preview, which a DNS line has
            # none of. Over TCP, cut short or unreadable: the general path.
            more = _dns_message(data[start:end]) if p == 17 and cap == end else None
            if more is None:
                add(tuple(record) if for_pipe else record)
                continue
            addresses = (addresses, _DNS)  # its own flow: the line says "DNS", not "UDP"
        else:
            more = f' \\"{preview_json(data, start, cap, 40, ELLIPSIS_MARK)}\\"' if cap > start else ""
        add(((addresses, direction, iface), p, sport, dport, seq, ack, offflags, window, n, ts,
             more, time, repr(time), index, wirelen,
             pack_rebuild(size, iface_id, ns, at) if for_pipe else record))
    return items


_DNS_READ: dict[bytes, tuple] = {}  # a DNS message but its ID -> (fields, JSON text after the ID)
_DNS_READ_MAX = 4096  # messages kept (1 KiB at most each: 4 MiB)


def _dns_message(payload: bytes) -> tuple[dict, str] | None:
    """A DNS message's fields (``dnsinfo.dns_info``, as Correlator._dns gives them) and their
    JSON text, or None: unreadable (the general path says why).

    Captures repeat the same questions and answers under a new ID each time
    (RFC 1035 §4.1.1: the first two bytes): each is read and encoded once.
    """
    if len(payload) < 12:
        return None
    ident = (payload[0] << 8) | payload[1]
    rest = payload[2:] if len(payload) <= 1024 else None
    known = _DNS_READ.get(rest) if rest is not None else None
    if known is None:
        info = dns_info(payload)
        if info is None:
            return None
        text = encode(info)
        known = (info, text[text.index(","):])  # '{"id": N' first (dns_info's order)
        if rest is not None:
            if len(_DNS_READ) >= _DNS_READ_MAX:
                _DNS_READ.clear()
            _DNS_READ[rest] = known
    info, tail = known
    return {**info, "id": ident}, f'{{"id": {ident}{tail}'


def record_of(item: tuple, read_at: Callable[[int, int], bytes]) -> Record:
    """The reader's record of a ``Prepared``'s fields: ``read_at(offset, size)`` reads its bytes."""
    prepared = Prepared(*item)
    if type(prepared.source) is not bytes:
        return prepared.source
    size, iface_id, ns, offset = _REBUILD.unpack(prepared.source)
    key = prepared.key
    return Record(prepared.time, read_at(offset, size), prepared.wirelen, _ETHERNET, key[2],
                  iface_id, key[1], (), prepared.index, ns, offset)


class _Flow:
    """One direction of one conversation, as its lines repeat it (see the module's text)."""

    __slots__ = ("conv", "direction", "dport", "dst", "ends", "head", "lines", "proto",
                 "receiver", "sender", "sport", "src", "states", "transition")

    def __init__(self, conv: Conversation, proto: str, src: str, sport: int, dst: str,
                 dport: int, direction: str | None, iface: str) -> None:
        self.conv = conv
        self.sender, self.receiver = (src, sport), (dst, dport)
        # A TCP flow's Ends (flows.py), the same for the conversation's life.
        self.ends = ends(conv, self.sender, self.receiver) if proto == "TCP" else None
        self.proto, self.src, self.dst, self.sport, self.dport = proto, src, dst, sport, dport
        self.direction = direction
        # What every line of the flow holds (jsonmodel.packet_format's texts, %-escaped):
        # the direction, the flow part and the conversation, no call.
        self.head = {
            "dir": "null" if direction is None else _escaped(_string(direction)),
            "iface": _escaped(flow_part((iface, proto, src, dst, sport, dport))),
            "conversation": str(conv.number), "call": "null", "call_id": "null",
        }
        self.lines: dict[int, str] = {}  # TCP flags and timestamps, or 0 (UDP) -> line format
        self.transition = None  # the last segment's Transition (tcpstates), and its JSON text
        self.states = "null"


class JsonFastPath:
    """``write_run``: the ``--json`` lines of prepared frames, until one the general path must take."""

    def __init__(self, correlator: Correlator) -> None:
        self.c = correlator
        # (address and port bytes, direction, interface) -> _Flow, for TCP and for UDP
        self._tcp: dict[tuple, _Flow] = {}
        self._udp: dict[tuple, _Flow] = {}
        self._retired = correlator.retired_total
        self._late_starts = correlator.late_starts
        # (flow, step, length) -> the encoded meaning, or its two halves
        self._meanings: dict[tuple, str | tuple] = {}
        self._kinds: dict[tuple, int] = {}  # (step, direction) -> _PER_FLOW...
        # Why -> its context, encoded (phrases.context, in the run's language)
        self._contexts: dict = {None: "null"}

    def write_run(self, items: list, i: int, pending, count: int, write: Callable,
             tick: Callable | None = None, every: int = 8192) -> tuple[int, int]:
        """The lines of ``items[i]`` and of the items after it, as long as it can take them.

        ``items`` is a batch from ``prepare`` (Prepared's fields and Records).
        Lines go to ``write`` in lists. It stops at a record (``prepare`` left
        it as it was), before an item while ``pending`` (the replay's call
        marks) holds any, and at an item it does not take (a call running, a
        direction to infer). ``count`` counts the items done:
        ``tick(count)`` every ``every`` of them (progress). Returns
        ``(position, count)``: the position of the item left to the caller, not
        counted (``len(items)`` when all were taken).

        One loop for the whole run of items: the hot path of a replay, every
        name it uses is a local.
        """
        c = self.c
        end = len(items)
        if c.busy or i >= end:
            return i, count
        if c.retired_total != self._retired:  # conversations were forgotten: their flows too
            self._forget()
        if c.late_starts != self._late_starts:  # meanings name the other end anew
            self._late_starts = c.late_starts
            self._meanings.clear()
        role = c.role
        first, start = count, i
        tcp_flows, udp_flows = self._tcp, self._udp
        meanings = self._meanings
        segment, datagram, unprompted = c.segment, c.datagram, c.unprompted
        contexts = self._contexts
        step_texts = _STEP_TEXT
        next_tick = count - count % every + every if tick is not None else -1
        out: list[str] = []
        add = out.append
        while True:
            item = items[i]
            if len(item) != PREPARED:
                break
            (key, p, sport, dport, seq, ack, offflags, window, n, ts, more, time, time_text,
             index, wirelen, _source) = item
            direction = key[1]
            if direction is None and role is not None:
                break

            # From here on, the correlator's state changes, through its own operations.
            flow = (tcp_flows if p == 6 else udp_flows).get(key)
            if flow is None:
                flow = self._new_flow(key, p, sport, dport, time)
            conv = flow.conv
            dns = None
            if p == 17:
                step = _UDP
                rel_ack = None
                datagram(conv, flow.sender, time)
                if type(more) is tuple:  # a DNS message (prepare): its fields, their JSON text
                    dns, more = more
                    step = _DNS_RESPONSE if dns["qr"] == "response" else _DNS_QUERY
            else:
                # No SYN comes this way (prepare leaves them to the general path, which
                # counts Correlator.late_starts): who began a conversation is not new here.
                step, rel_seq, rel_ack, window, _interval, _attempt, transition = segment(
                    flow.ends, offflags, seq, ack, window, n, (), time)
                # In the bulk of a connection, the same Transition object each time
                # (core/tcpstates.py), whose text the flow keeps.
                if transition is flow.transition:
                    states = flow.states
                else:
                    states = flow.states = states_text(states_json(transition))
                    flow.transition = transition
            # The meaning (see _meaning), then the context.
            explain = meanings.get((flow, step, n)) or self._meaning(flow, step, n)
            if type(explain) is tuple:
                explain = f"{explain[0]}{rel_ack}{explain[1]}"  # as format_map writes {acked}
            elif explain is None:
                fields = self._fields(flow, n, rel_ack)
                if dns is not None:
                    fields["dns"] = dns
                explain = _string(phrases.meaning(step, flow.direction, fields))
            why, delay = unprompted(step, direction, conv, flow.sender, flow.receiver, n,
                                    rel_ack, time)
            if why is _DELAYED_ACK:
                context = _string(phrases.delayed_ack(delay))
            else:
                context = contexts.get(why) or self._context(why)

            if dns is not None:
                fmt = flow.lines.get(0) or self._dns_line(flow)
                add(fmt % (index, time_text, n, wirelen, step_texts.get(step) or _step_text(step),
                           n, explain, context, more))
            elif p == 17:
                fmt = flow.lines.get(0) or self._udp_line(flow)
                add(fmt % (index, time_text, n, wirelen, n, more, explain, context))
            else:
                shape = (offflags & 0x1FF) << 1 | (ts is not None)
                fmt = flow.lines.get(shape) or self._tcp_line(flow, shape)
                step_text = step_texts.get(step) or _step_text(step)
                # The numbers in the order of _tcp_line's format: with or without ack and
                # timestamps.
                if rel_ack is None:
                    if ts is None:
                        add(fmt % (index, time_text, rel_seq, window, n, wirelen, step_text,
                                   rel_seq, window, n, more, explain, context, states))
                    else:
                        add(fmt % (index, time_text, rel_seq, window, n, wirelen, step_text,
                                   rel_seq, window, ts[0], ts[1], n, more, explain, context,
                                   states))
                elif ts is None:
                    add(fmt % (index, time_text, rel_seq, rel_ack, window, n, wirelen, step_text,
                               rel_seq, rel_ack, window, n, more, explain, context, states))
                else:
                    add(fmt % (index, time_text, rel_seq, rel_ack, window, n, wirelen, step_text,
                               rel_seq, rel_ack, window, ts[0], ts[1], n, more, explain, context,
                               states))
            count += 1
            if count == next_tick:
                tick(count)
                next_tick += every
            i += 1
            if i == end or pending:
                break
        if count != first:
            c.add_packets(count - first, items[start][PREPARED_TIME], time)
            write(out)
        return i, count

    def _context(self, why) -> str:
        """The encoded context of ``why`` (a cache miss)."""
        text = self._contexts[why] = _string(phrases.context(why))
        return text

    def _forget(self) -> None:
        self._retired = self.c.retired_total
        self._tcp.clear()
        self._udp.clear()
        self._meanings.clear()

    def _new_flow(self, key: tuple, p: int, sport: int, dport: int, time: float) -> _Flow:
        """The flow of ``key``: its conversation found or made (``Correlator.conversation``)."""
        addresses = key[0]
        proto = "TCP" if p == 6 else "UDP"
        transport = proto
        if type(addresses) is tuple:  # a DNS message's flow (prepare)
            addresses, proto = addresses[0], _DNS
        if len(addresses) == 12:  # IPv4: source, destination, ports
            src, dst = format_ipv4(addresses[:4]), format_ipv4(addresses[4:8])
        else:
            src, dst = format_ipv6(addresses[:16]), format_ipv6(addresses[16:32])
        a, b = (src, sport), (dst, dport)
        conv_key = (transport, a, b) if a <= b else (transport, b, a)
        c = self.c
        conv, new = c.conversation(conv_key, time)
        if new and c.retired_total != self._retired:  # it made room: the flows of those forgotten go
            self._forget()
        flows = self._tcp if p == 6 else self._udp
        if len(flows) >= _FLOWS_MAX:
            flows.clear()
            self._meanings.clear()
        flow = flows[key] = _Flow(conv, proto, src, sport, dst, dport, key[1], key[2])
        if conv.ours is None and c.role is not None:  # as Correlator._our_end keeps it
            conv.ours = flow.sender if key[1] == "out" else flow.receiver
        return flow

    def _tcp_line(self, flow: _Flow, shape: int) -> str:
        """The %-format of a TCP line of ``flow`` with these flags, with or without timestamps.

        A packet line (jsonmodel.packet_format) with the flow's constant parts
        written in, the flags, and summarize's words (``tcp_head``, then
        ``tcp_numbers``: plain ASCII, the same in JSON).
        """
        flags = FLAG_TEXT[shape >> 1]
        acked = "A" in flags
        summary = _string(tcp_head(flow.src, flow.sport, flow.dst, flow.dport, flags))[:-1]
        fmt = packet_format(_HOLES | flow.head | {
            "flags": _escaped(_string(flags)), "ack": "%d" if acked else "null",
            "summary": _escaped(summary)
            + tcp_numbers(True, acked, True, TIMESTAMPS if shape & 1 else NO_OPTIONS) + '%s"',
            "tcp_states": "%s",
        })
        flow.lines[shape] = fmt
        return fmt

    def _udp_line(self, flow: _Flow) -> str:
        """The %-format of a UDP line of ``flow`` (see _tcp_line): its skeleton filled in.

        A capture of short flows makes one for nearly every datagram.
        """
        head = flow.head
        fmt = flow.lines[0] = _UDP_SKELETON % (head["dir"], head["iface"], head["conversation"],
                                               _summary_head(flow))
        return fmt

    def _dns_line(self, flow: _Flow) -> str:
        """The %-format of a DNS message's line of ``flow``: its step, its "dns" key last
        (jsonmodel's DNS line)."""
        head = flow.head
        fmt = flow.lines[0] = _DNS_SKELETON % (head["dir"], head["iface"], head["conversation"],
                                               _summary_head(flow))
        return fmt

    def _meaning(self, flow: _Flow, step: str, n: int) -> str | tuple | None:
        """The encoded meaning of ``step`` in ``flow`` for this length, worded once (a cache miss).

        As Correlator.track's fields and phrases.meaning word it: whole when nothing
        else shows in it; around the acknowledged number (an ACK's meaning),
        the one field that changes from packet to packet, as its two encoded
        halves in a tuple; None when it must be worded each time.
        """
        direction = flow.direction
        kind = self._kinds.get((step, direction))
        if kind is None:
            kind = self._kinds[(step, direction)] = _template_kind(step, direction)
        if kind == _OTHER:
            return None
        if kind == _PER_FLOW:
            text = _string(phrases.meaning(step, direction, self._fields(flow, n, None)))
        else:
            whole = phrases.meaning(step, direction, self._fields(flow, n, _CUT))
            before, _, after = whole.partition(_CUT)
            text = (_string(before)[:-1], _string(after)[1:])
        if len(self._meanings) > _CACHE_MAX:
            self._meanings.clear()
        self._meanings[(flow, step, n)] = text
        return text

    def _fields(self, flow: _Flow, n: int, acked) -> dict:
        """Correlator.track's fields for a TCP segment or a UDP datagram."""
        role = self.c.role_of(flow.conv, flow.sender if flow.direction == "out" else flow.receiver)
        fields = meaning_fields(flow.proto, flow.src, flow.dst, flow.sport, flow.dport, n, role)
        if flow.proto == "TCP":
            fields["acked"] = acked
            fields["attempt"] = 1
        return fields


def _summary_head(flow: _Flow) -> str:
    """The encoded summary of a datagram of ``flow`` up to its length, %-escaped, unclosed."""
    return _escaped(_string(f"{flow.proto} {endpoint(flow.src, flow.sport)} > "
                            f"{endpoint(flow.dst, flow.dport)} len=")[:-1])


# A UDP or DNS line's format with the flow's parts as %s (direction, flow part, conversation,
# the summary's head: _udp_line, _dns_line) and the packet's holes as %%-fields: one
# %-format makes a flow's line (no TCP fields in a datagram's).
_FLOW_HOLES = {key: hole.replace("%", "%%") for key, hole in _HOLES.items()} | {
    "dir": "%s", "iface": "%s", "conversation": "%s", "call": "null", "call_id": "null",
    "flags": "null", "seq": "null", "ack": "null", "window": "null"}
_UDP_SKELETON = packet_format(_FLOW_HOLES | {"step": _string(_UDP), "summary": '%s%%d%%s"'})
_DNS_SKELETON = packet_format(_FLOW_HOLES | {"summary": '%s%%d"'})[:-1] + ', "dns": %%s}'


def _escaped(text: str) -> str:
    """``text`` as a constant part of a %-format."""
    return text.replace("%", "%%")


def _step_text(step: str) -> str:
    text = _STEP_TEXT[step] = _string(step)
    return text


def _template_kind(step: str, direction: str | None) -> int:
    """How the meaning of ``step`` seen from ``direction`` can be cached (in this language)."""
    template = phrases.meaning_template(step, direction)
    parsed = [(name, spec, conv) for _, name, spec, conv in Formatter().parse(template)
              if name is not None]
    if any(spec or conv for _, spec, conv in parsed):
        return _OTHER  # a format spec or conversion: worded by phrases.meaning each time
    names = [name for name, _, _ in parsed]
    if set(names) <= _FLOW_FIELDS:
        return _PER_FLOW
    if names.count("acked") == 1 and set(names) - _FLOW_FIELDS == {"acked"}:
        return _AROUND_ACKED
    return _OTHER
