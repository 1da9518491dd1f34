"""What renderers consume: the timeline, one entry at a time, in time order."""

from __future__ import annotations

from dataclasses import dataclass, field

from sockviz.core.events import Call, Packet


@dataclass(frozen=True, kw_only=True, slots=True)
class CallStarted:
    call: Call


@dataclass(frozen=True, kw_only=True, slots=True)
class CallEnded:
    call: Call
    packets: int  # packets seen during the call
    lesson: str | None = None  # what the call taught, from rules.AFTER / SILENT


@dataclass(frozen=True, kw_only=True, slots=True)
class PacketShown:
    packet: Packet
    direction: str | None  # 'out', 'in' or None when nobody can tell
    call_id: int | None  # the call during which it was captured
    call_name: str | None
    conversation: int | None
    new_conversation: bool  # first packet of its conversation
    step: str
    rel_seq: int | None = None
    rel_ack: int | None = None
    window: int | None = None
    summary: str
    explain: str
    dns: dict | None = None
    context: str | None = None  # why a packet outside any call happened
    # A TCP segment's ends once each has handled it, ``{"src": STATE, "dst": STATE}``
    # (RFC 9293 §3.3.2; None: not known), and the ends it moved: (end, its path of
    # states, its role: client, server or None). Shared between packets: read only.
    tcp_states: dict | None = None
    tcp_changes: tuple = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Note:
    time: float
    text: str
    # A note the run made (a lesson's, the tracer's) is saved as a comment in the
    # capture file; one the correlator derives from the packets is not, since a
    # replay derives it again.
    saved: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class Summary:
    packets: int
    calls: int
    kernel_drops: int | None  # None when the source cannot tell (a file)
    ignored: int = 0  # packets on the wire not part of the lesson
    capture: str | None = None
    conversations: list[dict] = field(default_factory=list)
    problem: str | None = None  # a damaged file: where reading stopped
    first_time: float | None = None
    last_time: float | None = None
    # Set when the capture had more conversations than ``conversations`` lists
    # (the busiest are kept: memory stays bounded whatever the file).
    conversations_total: int | None = None


Entry = CallStarted | CallEnded | PacketShown | Note | Summary
