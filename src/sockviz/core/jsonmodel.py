"""The ``--json`` records: one dict per timeline entry (documented in the README)."""

from __future__ import annotations

from sockviz.core.callcomment import call_record
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


def summary_json(s: Summary) -> dict:
    return {
        "type": "summary",
        "packets": s.packets,
        "calls": s.calls,
        "kernel_drops": s.kernel_drops,
        "ignored": s.ignored,
        "capture": s.capture,
        "conversations": s.conversations,
        "problem": s.problem,
    }


def note_json(n: Note) -> dict:
    return {"type": "note", "time": n.time, "text": n.text}
