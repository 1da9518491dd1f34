"""API calls stored as pcapng comments, and read back.

Each comment has a line for people (what Wireshark shows under the packet)
and a line for sockviz (``sockviz-call {json}``) from which replay restores
the call exactly as it was shown live.
"""

from __future__ import annotations

import json

from sockviz.core import phrases
from sockviz.core.events import Call
from sockviz.core.text import duration

CALL_PREFIX = "sockviz-call "
START_PREFIX = "sockviz-call-start "
META_PREFIX = "sockviz-meta "
NOTE_PREFIX = "sockviz-note "


def jsonable(value):
    """Python values as JSON can hold them: tuples as lists, bytes as text."""
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def call_record(call: Call) -> dict:
    return {
        "id": call.id,
        "name": call.name,
        "text": call.text,
        "args": jsonable(call.args),
        "start": call.start,
        "end": call.end,
        "result": jsonable(call.result),
        "result_text": call.result_text,
        "error": call.error,
        "note": call.note,
        **_note_key(call.note),
        "transport": call.transport,
        "local": list(call.local) if call.local else None,
        "peer": list(call.peer) if call.peer else None,
        "source": source_record(call.source),
        "socket": call.socket,
        "thread": call.thread,
        "parent": call.parent,
        "cell": call.cell,
        "tcp_state": call.tcp_state,
    }


def _note_key(note) -> dict:
    """A lesson's note as its phrase and fields (``phrases.Said``), so a replay says it again."""
    key = getattr(note, "key", None)
    return {} if key is None else {"note_key": key, "note_fields": jsonable(note.fields)}


def _said(text, key, fields):
    """The stored ``text`` said again in the current language, when its phrase is known."""
    if key is None:
        return text
    again = phrases.said_again(key, fields)
    return text if again is None else again


def source_record(source: tuple[str, int, str] | None) -> dict | None:
    if source is None:
        return None
    file, line, text = source
    return {"file": file, "line": line, "text": text}


def _source(value) -> tuple[str, int, str] | None:
    if not isinstance(value, dict):
        return None
    return (str(value.get("file")), int(value.get("line") or 0), str(value.get("text") or ""))


def _int_or_none(value) -> int | None:
    return None if value is None else int(value)


def human_line(call: Call) -> str:
    outcome = call.error if call.error else f"→ {call.result_text}"
    return f"{call.text} {outcome} ({duration(call.duration)})"


def encode_call(call: Call) -> str:
    return human_line(call) + "\n" + CALL_PREFIX + json.dumps(call_record(call), ensure_ascii=False)


def encode_start(call: Call) -> str:
    """The comment marking where a call began (its packets follow)."""
    record = {"id": call.id, "name": call.name, "text": call.text, "start": call.start,
              "transport": call.transport}
    for key in ("socket", "thread", "parent", "cell"):
        if getattr(call, key) is not None:
            record[key] = getattr(call, key)
    # The endpoints known as it began (a connect()'s numeric peer): on loopback, where
    # every packet is both sent and received, they tell which end a packet of the call
    # is ours while it runs, in a replay as live (Correlator._our_end).
    for key in ("local", "peer"):
        if getattr(call, key):
            record[key] = list(getattr(call, key))
    if call.source is not None:
        record["source"] = source_record(call.source)
    return f"▶ {call.text}\n{START_PREFIX}{json.dumps(record, ensure_ascii=False)}"


def encode_note(time: float, text: str) -> str:
    """A line of explanation the run added, kept so that a replay says it too (in its own
    language when the text is a ``phrases.Said``: its key and fields are kept)."""
    record = {"time": time, "text": text}
    key = getattr(text, "key", None)
    if key is not None:
        record.update(key=key, fields=jsonable(text.fields))
    return f"{text}\n{NOTE_PREFIX}{json.dumps(record, ensure_ascii=False)}"


def decode_comment(comment: str) -> tuple[str, Call] | tuple[str, tuple[float, str]] | None:
    """('start' | 'end', call) or ('note', (time, text)) for a sockviz comment, else None."""
    for line in comment.splitlines():
        if line.startswith(NOTE_PREFIX):
            try:
                r = json.loads(line[len(NOTE_PREFIX):])
                return "note", (float(r["time"]), _said(str(r["text"]), r.get("key"),
                                                        r.get("fields")))
            except (ValueError, KeyError, TypeError, OverflowError):
                return None
        if line.startswith(START_PREFIX):
            kind, body = "start", line[len(START_PREFIX):]
        elif line.startswith(CALL_PREFIX):
            kind, body = "end", line[len(CALL_PREFIX):]
        else:
            continue
        try:
            r = json.loads(body)
            return kind, Call(
                id=int(r["id"]),
                name=str(r["name"]),
                text=str(r["text"]),
                args=tuple(r.get("args") or ()),
                start=float(r["start"]),
                end=None if r.get("end") is None else float(r["end"]),
                result=r.get("result"),
                result_text=r.get("result_text"),
                error=r.get("error"),
                note=_said(r.get("note"), r.get("note_key"), r.get("note_fields")),
                transport=r.get("transport"),
                local=tuple(r["local"]) if r.get("local") else None,
                peer=tuple(r["peer"]) if r.get("peer") else None,
                source=_source(r.get("source")),
                socket=_int_or_none(r.get("socket")),
                thread=r.get("thread"),
                parent=_int_or_none(r.get("parent")),
                cell=_int_or_none(r.get("cell")),
                tcp_state=r.get("tcp_state") if isinstance(r.get("tcp_state"), str) else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
            return None
    return None


def encode_meta(meta: dict) -> str:
    title = meta.get("title", "")
    return f"sockviz capture: {title}\n{META_PREFIX}{json.dumps(meta, ensure_ascii=False)}"


def decode_meta(comment: str) -> dict | None:
    for line in comment.splitlines():
        if line.startswith(META_PREFIX):
            try:
                meta = json.loads(line[len(META_PREFIX):])
            except ValueError:
                return None
            return meta if isinstance(meta, dict) else None
    return None
