"""The ``--json`` line of a common packet, straight from its frame's bytes.

A big capture is mostly TCP segments and UDP datagrams over Ethernet, and a
replay of a million of them must take less time than tshark's (issue 6).
The general path builds a ``Decoded``, a ``Packet``, the facts tuple and a
``PacketShown`` before writing the line: about 15 µs a packet. ``FastJson``
reads the few fields the line needs into locals and writes it in one
%-format, updating the very same correlator state through the very same
functions (``track_segment``, ``tcp_head``, ``meaning_of``, the line's format
and flow part), so that the two paths cannot drift apart.

It takes only what it fully understands and returns None, having changed
nothing, for anything else: another link type, IP options or fragments, SYN
and RST (options, refusals), TCP options other than Linux's NOP, NOP,
timestamps, DNS ports, a call running, a direction to infer. The caller then
takes the general path for that packet, on the same state.
tests/test_perf_fastpaths.py compares the two on synthetic traffic, the
lessons' captures and tcpdump's corpus.
"""

from __future__ import annotations

import struct
from json.encoder import encode_basestring as _string
from string import Formatter

from sockviz.core import rules
from sockviz.core.correlate import (
    Correlator,
    meaning_fields,
    meaning_of,
    tcp_head,
    track_data_and_acks,
)
from sockviz.core.decode import _FLAG_TEXT, _ip4_get, _ip4_new, _ip6_get, _ip6_new
from sockviz.core.flows import track_segment
from sockviz.core.jsonmodel import ELLIPSIS_MARK, PACKET_LINE, flow_part
from sockviz.core.text import endpoint, preview_json

# Ethernet, then IPv4 without options (TOS and checksum skipped) or IPv6,
# then the first 16 bytes of TCP (up to the window) or of UDP (ports, then
# length and checksum as one 'I'): the fields of decode._fast_ip4, one unpack.
_ETH_IP4 = struct.Struct("!16xHHHBB2x4s4sHHIIHH")
_ETH_IP6 = struct.Struct("!14xIHBB16s16sHHIIHH")
_II = struct.Struct("!II")
_ETHERNET = 1
_IPV4_NO_OPTIONS = b"\x08\x00\x45"  # ethertype IPv4, version 4 and IHL 5
_IPV6 = b"\x86\xdd"
_TS_NOPS = b"\x01\x01\x08\x0a"  # NOP, NOP, timestamps: Linux's options after the handshake
_DNS_PORTS = frozenset((53, 5353, 5355))  # as decode: these payloads are DNS, not here
_SYN_OR_RST = 0x06
# Steps whose context (Correlator._context) needs a direction: without one, none.
_QUIET = frozenset(("data", "udp", "ack"))
_STEP_TEXT = {step: _string(step) for step in ("data", "ack")}  # the bulk, encoded once
# The fields of a meaning that are the same for every packet of a flow
# direction with the same length: such meanings are worded once.
_FLOW_FIELDS = frozenset(("src", "dst", "sport", "dport", "n", "bytes", "peer", "proto"))
_CACHE_MAX = 8192
# Meanings: worded once per flow, around the acknowledged number, or each time.
_PER_FLOW, _AROUND_ACKED, _OTHER = 0, 1, 2
_CUT = "\x00"  # stands for the acknowledged number while a meaning is cut in two


class FastJson:
    """``line(frame)``: the packet's ``--json`` line, or None for the general path."""

    def __init__(self, correlator: Correlator) -> None:
        self.c = correlator
        # (step, direction, flow, n) -> the encoded meaning, or its two halves
        self._meanings: dict[tuple, str | tuple] = {}
        self._kinds: dict[tuple, int] = {}  # (step, direction) -> _PER_FLOW...
        self._texts: dict[tuple, tuple] = {}  # see _flow_texts

    def line(self, frame) -> str | None:
        """``frame`` is a ``capfile.reader.Frame`` (or anything with its attributes)."""
        c = self.c
        direction = frame.direction
        if frame.linktype != _ETHERNET or c.open_call is not None or (
                direction is None and c.role is not None):
            return None
        data = frame.data
        size = len(data)
        if size >= 50 and data[12:15] == _IPV4_NO_OPTIONS:
            (tot, _ipid, frag, _ttl, p, s, d, sport, dport, seq, ack, offflags,
             window) = _ETH_IP4.unpack_from(data)
            if frag & 0x3FFF or (p != 6 and p != 17):
                return None
            if tot == 0:  # TCP segmentation offload: the captured length (as decode)
                tot = size - 14
            elif tot < 20:
                return None
            end = 14 + tot
            head = 34
            src = _ip4_get(s) or _ip4_new(s)
            dst = _ip4_get(d) or _ip4_new(d)
        elif size >= 70 and data[12:14] == _IPV6:
            (vtf, plen, p, _hlim, s, d, sport, dport, seq, ack, offflags,
             window) = _ETH_IP6.unpack_from(data)
            if vtf >> 28 != 6 or not plen or (p != 6 and p != 17):
                return None
            end = 54 + plen
            head = 54
            src = _ip6_get(s) or _ip6_new(s)
            dst = _ip6_get(d) or _ip6_new(d)
        else:
            return None
        cap = end if end < size else size
        if p == 6:
            return self._tcp(frame, data, direction, src, dst, sport, dport, seq, ack, offflags,
                             window, head, end, cap)
        if cap - head < 8 or end - head < 8 or seq >> 16 != end - head:  # seq >> 16: UDP length
            return None
        return self._udp(frame, data, direction, src, dst, sport, dport, head + 8, end, cap)

    def _tcp(self, frame, data, direction, src, dst, sport, dport, seq, ack, offflags, window,
             head, end, cap) -> str | None:
        hlen = (offflags >> 12) << 2
        if offflags & _SYN_OR_RST or hlen > cap - head or hlen > end - head:
            return None
        if hlen == 20:
            ts = None
        elif hlen == 32 and data[head + 20 : head + 24] == _TS_NOPS:
            ts = _II.unpack_from(data, head + 24)
        else:
            return None
        start = head + hlen
        n = end - start
        if n and (sport in _DNS_PORTS or dport in _DNS_PORTS):
            return None
        flags = _FLAG_TEXT[offflags & 0x1FF]
        # From here on, the correlator's state changes as Correlator.facts would change it.
        time = frame.time
        a, b = (src, sport), (dst, dport)
        conv = self._conversation("TCP", a, b, time)
        step, rel_seq, rel_ack, window, _interval, _attempt = track_segment(
            conv, a, b, flags, seq, ack, window, n, (), time)

        # summarize's words, encoded as the line holds them (core/text.py's
        # preview_json): the head once per flow and flags, then seq, ack, win,
        # timestamps, len and the payload's preview.
        key = (direction, frame.iface, src, sport, dst, dport, flags)
        dir_text, flow, flags_text, text = self._texts.get(key) or self._flow_texts(key)
        acked = "" if rel_ack is None else f" ack={rel_ack}"
        if ts is not None:
            text += f" seq={rel_seq}{acked} win={window} <ts {ts[0]}/{ts[1]}> len={n}"
        else:
            text += f" seq={rel_seq}{acked} win={window} len={n}"
        text += f' \\"{preview_json(data, start, cap, 40, ELLIPSIS_MARK)}\\""' if cap > start else '"'

        explain = self._meaning(step, direction, "TCP", src, dst, sport, dport, n, rel_ack)
        context = self._context(conv, step, direction, a, b, n, rel_ack, time)
        return PACKET_LINE % (
            frame.index, time, dir_text, flow, flags_text, rel_seq,
            "null" if rel_ack is None else rel_ack, window, n, frame.wirelen, conv.number,
            "null", "null", _STEP_TEXT.get(step) or _string(step), text, explain,
            "null" if context is None else _string(context),
        )

    def _udp(self, frame, data, direction, src, dst, sport, dport, start, end, cap) -> str | None:
        n = end - start
        if n and (sport in _DNS_PORTS or dport in _DNS_PORTS):
            return None
        time = frame.time
        a, b = (src, sport), (dst, dport)
        conv = self._conversation("UDP", a, b, time)
        if conv.initiator is None:
            conv.initiator = a
        key = (direction, frame.iface, src, sport, dst, dport, None)
        dir_text, flow, _, text = self._texts.get(key) or self._flow_texts(key)
        text += str(n)
        text += f' \\"{preview_json(data, start, cap, 40, ELLIPSIS_MARK)}\\""' if cap > start else '"'
        explain = self._meaning("udp", direction, "UDP", src, dst, sport, dport, n, None)
        context = self._context(conv, "udp", direction, a, b, n, None, time)
        return PACKET_LINE % (
            frame.index, time, dir_text, flow, "null", "null", "null",
            "null", n, frame.wirelen, conv.number, "null", "null", '"udp"', text,
            explain, "null" if context is None else _string(context),
        )

    def _conversation(self, transport, a, b, time):
        """Correlator.facts' bookkeeping: the packet counted, its conversation found or made."""
        c = self.c
        c.packets += 1
        if c.first_time is None:
            c.first_time = time
        c.last_time = time
        key = (transport, a, b) if a <= b else (transport, b, a)
        conv = c.conversations.get(key)
        if conv is None:
            conv = c._new_conversation(key, time)
        conv.packets += 1
        conv.last_time = time
        return conv

    def _flow_texts(self, key: tuple) -> tuple:
        """The encoded parts of a line that one flow direction repeats, worded once.

        ``key`` is (direction, iface, src, sport, dst, dport, TCP flags or None
        for UDP); the parts: the direction, the flow (jsonmodel.flow_part), the
        flags, and the summary's head without its closing quote (summarize's
        words up to the numbers: ``tcp_head``, or 'UDP a:1 > b:2 len=').
        """
        direction, iface, src, sport, dst, dport, flags = key
        if flags is None:
            proto = "UDP"
            head = f"UDP {endpoint(src, sport)} > {endpoint(dst, dport)} len="
        else:
            proto = "TCP"
            head = tcp_head(src, sport, dst, dport, flags)
        texts = (
            "null" if direction is None else _string(direction),
            flow_part((iface, proto, src, dst, sport, dport)),
            "null" if flags is None else _string(flags),
            _string(head)[:-1],
        )
        if len(self._texts) > _CACHE_MAX:
            self._texts.clear()
        self._texts[key] = texts
        return texts

    def _meaning(self, step, direction, proto, src, dst, sport, dport, n, acked) -> str:
        """The encoded meaning, as Correlator.facts' fields and meaning_of word it.

        Worded once per step, direction, flow and length: whole when nothing
        else shows in it, else around the acknowledged number (an ACK's
        meaning), the one field that changes from packet to packet.
        """
        key = (step, direction, proto, src, dst, sport, dport, n)
        text = self._meanings.get(key)
        if text is None:
            kind = self._kinds.get((step, direction))
            if kind is None:
                kind = self._kinds[(step, direction)] = _template_kind(step, direction)
            if kind == _OTHER:
                return _string(meaning_of(step, direction, self._fields(proto, src, dst, sport,
                                                                        dport, n, acked)))
            if len(self._meanings) > _CACHE_MAX:
                self._meanings.clear()
            if kind == _PER_FLOW:
                text = _string(meaning_of(step, direction, self._fields(proto, src, dst, sport,
                                                                        dport, n, None)))
            else:  # _AROUND_ACKED: the two encoded halves, in a tuple
                whole = meaning_of(step, direction, self._fields(proto, src, dst, sport, dport,
                                                                 n, _CUT))
                before, _, after = whole.partition(_CUT)
                text = (_string(before)[:-1], _string(after)[1:])
            self._meanings[key] = text
        if type(text) is tuple:
            return f"{text[0]}{acked}{text[1]}"  # as format_map writes {acked}
        return text

    def _fields(self, proto, src, dst, sport, dport, n, acked) -> dict:
        """Correlator.facts' fields for a TCP segment or a UDP datagram."""
        fields = meaning_fields(proto, src, dst, sport, dport, n, self.c.peer_word)
        if proto == "TCP":
            fields["acked"] = acked
            fields["attempt"] = 1
        return fields

    def _context(self, conv, step, direction, a, b, n, rel_ack, time) -> str | None:
        """Correlator.facts' context and delayed-ACK bookkeeping, no call running."""
        if direction is None and step in _QUIET:
            context = None
        else:
            context = self.c._context(step, direction, None, conv, time)
        delayed = track_data_and_acks(conv, step, direction, a, b, n, rel_ack, time)
        return context if delayed is None else delayed


def _template_kind(step: str, direction: str | None) -> int:
    """How the meaning of ``step`` seen from ``direction`` can be cached."""
    texts = rules.MEANING.get(step) or rules.MEANING["other"]
    template = texts.get(direction or "any") or texts["any"]
    parsed = [(name, spec, conv) for _, name, spec, conv in Formatter().parse(template)
              if name is not None]
    if any(spec or conv for _, spec, conv in parsed):
        return _OTHER  # a format spec or conversion: worded by meaning_of each time
    names = [name for name, _, _ in parsed]
    if set(names) <= _FLOW_FIELDS:
        return _PER_FLOW
    if names.count("acked") == 1 and set(names) - _FLOW_FIELDS == {"acked"}:
        return _AROUND_ACKED
    return _OTHER
