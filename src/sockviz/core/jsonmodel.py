"""The ``--json`` records: one dict per timeline entry (documented in the README)."""

from __future__ import annotations

import json
from json.encoder import encode_basestring as _string

from sockviz.core.callcomment import call_record
from sockviz.core.phrases import current_language
from sockviz.core.timeline import CallEnded, Note, PacketShown, Summary


def call_json(entry: CallEnded) -> dict:
    r = call_record(entry.call)
    return {
        "type": "call",
        "id": r["id"],
        "name": r["name"],
        "text": r["text"],
        "args": r["args"],
        "start": r["start"],
        "end": r["end"],
        "result": r["result"],
        "error": r["error"],
        "packets": entry.packets,
        "lesson": entry.lesson,
        "source": r["source"],
        "socket": r["socket"],
        "local": r["local"],
        "peer": r["peer"],
        "thread": r["thread"],
        "parent": r["parent"],
        "tcp_state": r["tcp_state"],
        **({"cell": r["cell"]} if r["cell"] is not None else {}),
    }


def packet_json(e: PacketShown) -> dict:
    p, d = e.packet, e.packet.decoded
    record = {
        "type": "packet",
        "index": p.index,
        "time": p.time,
        "dir": e.direction,
        "iface": p.iface,
        "proto": d.proto,
        "src": d.src,
        "dst": d.dst,
        "sport": d.sport,
        "dport": d.dport,
        "flags": d.tcp_flags,
        "seq": e.rel_seq,
        "ack": e.rel_ack,
        "window": e.window,
        "len": d.payload_len,
        "wirelen": p.wirelen,
        "conversation": e.conversation,
        "call": e.call_name,
        "call_id": e.call_id,
        "step": e.step,
        "summary": e.summary,
        "explain": e.explain,
        "context": e.context,
    }
    if e.tcp_states is not None:
        record["tcp_states"] = e.tcp_states  # every TCP segment's (issue 14)
    if d.tcp_flags is not None and "S" in d.tcp_flags:
        # The real initial sequence number: "seq" and "ack" are relative to it (RFC 9293 §3.4.1).
        record["isn"] = d.seq
    if d.tcp_options and "S" in (d.tcp_flags or ""):
        record["options"] = {name: value for name, value in d.tcp_options if name not in ("NOP", "EOL")}
    if d.icmp_type is not None:
        record["icmp"] = {"type": d.icmp_type, "code": d.icmp_code}
    if d.frag_offset is not None:
        record["fragment"] = {"id": d.ip_id, "offset": d.frag_offset, "more": d.more_fragments}
    if e.dns is not None:
        record["dns"] = e.dns
    if d.error:
        record["error"] = d.error
    return record


# The replay's fast path writes a payload preview's '…' as this mark, which
# the JSON sink turns back into '…' on a whole block of lines at once: lines
# that stay ASCII are joined and encoded several times faster. No JSON line
# holds a raw control character (encoders escape them), so the mark is
# never anything else.
ELLIPSIS_MARK = "\x01"

# Every record is written as json.dumps(record, ensure_ascii=False, default=repr)
# writes it; one encoder made once (dumps with options builds a new one each call).
encode = json.JSONEncoder(ensure_ascii=False, default=repr).encode

_FLOW_TEXT: dict[tuple, str] = {}
# The keys of a packet record written by one %-format, in packet_json's order;
# the text of "iface" is the whole flow part (interface to ports, _flow_text).
PACKET_KEYS = ("index", "time", "dir", "iface", "flags", "seq", "ack", "window", "len",
               "wirelen", "conversation", "call", "call_id", "step", "summary", "explain",
               "context")


# A TCP segment's record has one key more, after these: its ends' states.
TCP_PACKET_KEYS = (*PACKET_KEYS, "tcp_states")


def _skeleton(keys: tuple) -> str:
    """A packet line with one ``%s`` for each key's text."""
    return '{"type": "packet", ' + ", ".join(f'"{key}": %s' for key in keys) + "}"


_SKELETON, _TCP_SKELETON = _skeleton(PACKET_KEYS), _skeleton(TCP_PACKET_KEYS)


def packet_format(texts: dict[str, str]) -> str:
    """A packet record's line, each key's value written as ``texts`` says: a %-field or text.

    PACKET_LINE is one; the replay's fast path (core/json_fast_path.py) makes one
    per flow, with the flow's constant parts written in. With a "tcp_states"
    text, the line is a TCP segment's (TCP_PACKET_KEYS). One %-format of the
    keys' skeleton: a capture of short flows makes one of these per packet.
    """
    if "tcp_states" in texts:
        return _TCP_SKELETON % tuple(map(texts.__getitem__, TCP_PACKET_KEYS))
    return _SKELETON % tuple(map(texts.__getitem__, PACKET_KEYS))


# A packet record's line; %-formatting is done in C, in one call.
_LINE_TEXTS = dict.fromkeys(PACKET_KEYS, "%s") | {"index": "%d", "time": "%r", "len": "%d",
                                                  "wirelen": "%d"}
PACKET_LINE = packet_format(_LINE_TEXTS)
TCP_PACKET_LINE = packet_format(_LINE_TEXTS | {"tcp_states": "%s"})
# A DNS message's record: the same with its "dns" key last (the encoded dict).
_DNS_LINE, _TCP_DNS_LINE = PACKET_LINE[:-1] + ', "dns": %s}', TCP_PACKET_LINE[:-1] + ', "dns": %s}'
_STATES_TEXT: dict[tuple, str] = {}  # (src state, dst state) -> the field's JSON text


def states_text(states: dict) -> str:
    """``encode(states)`` for a ``{"src": STATE, "dst": STATE}`` field, cached by its states."""
    key = (states.get("src"), states.get("dst"))
    text = _STATES_TEXT.get(key)
    if text is None:
        text = encode(states)
        if len(states) == 2 and all(v is None or type(v) is str for v in key):
            _STATES_TEXT[key] = text  # 13 x 13 pairs of RFC 9293 states at most
    return text


def _flow_text(key: tuple) -> str:
    """The record's part from the interface to the ports, as ``encode`` writes it."""
    iface, proto, src, dst, sport, dport = key
    # Each test written out: a replay of many short conversations comes here per flow.
    if not ((type(iface) is str or iface is None) and (type(proto) is str or proto is None)
            and (type(src) is str or src is None) and (type(dst) is str or dst is None)
            and (type(sport) is int or sport is None) and (type(dport) is int or dport is None)):
        raise TypeError("a flow field of another type")
    flow = (
        f'{"null" if iface is None else _string(iface)}, '
        f'"proto": {"null" if proto is None else _string(proto)}, '
        f'"src": {"null" if src is None else _string(src)}, '
        f'"dst": {"null" if dst is None else _string(dst)}, '
        f'"sport": {"null" if sport is None else sport}, '
        f'"dport": {"null" if dport is None else dport}'
    )
    if len(_FLOW_TEXT) > 8192:
        _FLOW_TEXT.clear()
    _FLOW_TEXT[key] = flow
    return flow


def flow_part(key: tuple) -> str:
    """``_flow_text(key)``, encoded once per flow: (iface, proto, src, dst, sport, dport)."""
    return _FLOW_TEXT.get(key) or _flow_text(key)


def packet_line(e: PacketShown) -> str:
    """``encode(packet_json(e))``, byte for byte, about four times faster.

    A replay writes one of these per packet. The record's shape is fixed, so
    the common one (no options, ICMP, fragment or error keys; a DNS message's
    fields encoded apart) is written by one %-format; the part that is the same for every packet of a flow
    (interface, protocol, addresses, ports) is encoded once per flow. Anything
    unusual (an extra key, a string field holding another type) takes the
    general encoder. Numbers are written as ``%d``/``%s`` of a plain int,
    which is what the decoder and the correlator make (never a bool).
    tests/test_perf_fastpaths.py compares with json.dumps on many packets.
    """
    p = e.packet
    d = p.decoded
    t = p.time
    flags = d.tcp_flags
    dns = e.dns
    if (
        type(t) is not float
        or d.error
        or d.icmp_type is not None
        or d.frag_offset is not None
        or (flags is not None and "S" in flags)  # a SYN's record has its "isn"
    ):
        return encode(packet_json(e))
    key = (p.iface, d.proto, d.src, d.dst, d.sport, d.dport)
    flow = _FLOW_TEXT.get(key)
    try:
        if flow is None:
            flow = _flow_text(key)
        direction, seq, ack, window = e.direction, e.rel_seq, e.rel_ack, e.window
        conv, call, call_id, context = e.conversation, e.call_name, e.call_id, e.context
        values = (
            p.index, t, "null" if direction is None else _string(direction), flow,
            "null" if flags is None else _string(flags),
            "null" if seq is None else seq, "null" if ack is None else ack,
            "null" if window is None else window, d.payload_len, p.wirelen,
            "null" if conv is None else conv, "null" if call is None else _string(call),
            "null" if call_id is None else call_id, _string(e.step), _string(e.summary),
            _string(e.explain), "null" if context is None else _string(context),
        )
        states = e.tcp_states
        if dns is not None:  # the message's fields encoded alone: a third of the line's cost
            if states is None:
                return _DNS_LINE % (*values, encode(dns))
            return _TCP_DNS_LINE % (*values, states_text(states), encode(dns))
        if states is None:
            return PACKET_LINE % values
        return TCP_PACKET_LINE % (*values, states_text(states))  # a TCP segment's: one key more
    except (TypeError, ValueError):  # a value of another type: the general encoder
        return encode(packet_json(e))


def summary_json(s: Summary) -> dict:
    record = {
        "type": "summary",
        "packets": s.packets,
        "calls": s.calls,
        "kernel_drops": s.kernel_drops,
        "ignored": s.ignored,
        "capture": s.capture,
        "conversations": s.conversations,
        "problem": s.problem,
    }
    if s.conversations_total is not None:
        record["conversations_total"] = s.conversations_total
    record["lang"] = current_language()  # the language of the run's words: "en" or "fr"
    return record


def note_json(n: Note) -> dict:
    return {"type": "note", "time": n.time, "text": n.text}
