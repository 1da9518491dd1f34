"""The two kinds of event sockviz deals in: an API call and a captured packet.

Frozen, keyword-only dataclasses (after h11's ``_events.py``): an event is a
fact that happened, never something to mutate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Only for the annotations (strings here): a lesson imports these events before the
# capture process starts, and the decoder and typing load behind that start (issue 12).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sockviz.core.decode import Decoded


@dataclass(frozen=True, kw_only=True, slots=True)
class Call:
    """One socket API call as the lesson performed it.

    ``text`` is the call as Python source (``connect(('192.0.2.2', 3001))``) and
    ``result_text`` its result as ``repr`` shows it, so that a call restored
    from a capture file's comments reads exactly as it did live.
    """

    id: int
    name: str
    text: str
    args: tuple[Any, ...] = ()
    start: float
    end: float | None = None
    result: Any = None
    result_text: str | None = None
    error: str | None = None
    note: str | None = None
    transport: str | None = None  # 'TCP', 'UDP' or 'DNS': what kind of socket or lookup
    # Flow hints: the socket's endpoints once the call knows them, so packets
    # can be tied to the call's connection (``(address, port)``).
    local: tuple[str, int] | None = None
    peer: tuple[str, int] | None = None
    # Where the call came from, for a traced program: the innermost frame of the
    # program's own code (file, line, text), the socket's fd, the thread's name,
    # the call it was made inside (create_connection -> connect), the notebook cell.
    source: tuple[str, int, str] | None = None
    socket: int | None = None
    thread: str | None = None
    parent: int | None = None
    cell: int | None = None
    tcp_state: str | None = None  # the kernel's state of a TCP socket when the call returned

    @property
    def duration(self) -> float | None:
        return None if self.end is None else self.end - self.start


@dataclass(frozen=True, kw_only=True, slots=True)
class Packet:
    """One captured frame: capture metadata, raw bytes, decoded header fields.

    ``direction`` is what the capture itself knows ('out', 'in' or None: a
    classic pcap, or loopback where each packet is both); the correlator
    infers the rest.
    """

    index: int
    time: float
    iface: str
    direction: str | None
    linktype: int
    wirelen: int
    data: bytes = field(repr=False)
    decoded: Decoded
    comments: tuple[str, ...] = ()
    time_ns: int = 0  # the exact stamp, when the source has it (pcapng keeps nanoseconds)
