"""A traced stretch of a program: the capture, the recorder, the timeline, the renderers.

Used by ``sockviz run``, by ``sockviz.trace()`` and by the notebook extension:
one way to record a call for all three. The capture is listening before the
first recorded call; the scope (which packets are the program's) grows as its
sockets' endpoints become known.
"""

from __future__ import annotations

import collections
import itertools
import operator
import queue
import time
from collections.abc import Callable

from sockviz.core.events import Call
from sockviz.core.scope import Scope
from sockviz.core.timeline import CallEnded, CallStarted, Entry, Note, PacketShown, Summary
from sockviz.tracing.recorder import _CALL_FIELDS, ADDRESSED, Recorder, _new_call, _numeric


def resolution_note(call: Call) -> str | None:
    """The line that says a name was resolved inside connect()/sendto()."""
    where = ADDRESSED.get(call.name)
    if where is None or not call.args:
        return None
    addr = call.args[where]
    if not isinstance(addr, tuple) or len(addr) < 2 or _numeric(addr[0]):
        return None
    from sockviz.core import phrases

    # CPython resolves a name given where an address is expected inside the call
    # (Modules/socketmodule.c, setipaddr(): getaddrinfo()).
    if call.name == "sendto":
        return phrases.name_resolved_each_sendto(addr[0])
    return phrases.name_resolved_inside(call.name, addr[0])


class WaitForView:
    """How long a call's end waits for its packets to be shown in a live view.

    A student's call waits (up to ``longest``) so its packets print before
    the program goes on; a loop of calls (more than ``burst`` a second) does
    not, or tracing would slow it down by that much per call.
    """

    def __init__(self, longest: float = 0.25, burst: int = 20) -> None:
        self.longest = longest
        self.burst = burst
        self._recent: collections.deque[float] = collections.deque(maxlen=burst)

    def __call__(self, call: Call) -> float:
        now = time.monotonic()
        self._recent.append(now)
        if len(self._recent) == self.burst and now - self._recent[0] < 1.0:
            return 0.0
        return self.longest


class RecordsSink:
    """The timeline as the ``--json`` records (dicts), for scripts and graders.

    The records are made when they are read, not as the entries come: the
    pipeline thread shares the interpreter with the traced program, and making a
    call's record there (8 µs) would be paid by the program's next call. The
    entries are frozen, so a record made later is the same; only the summary's
    language is the moment's (``lang``), so its record is made at once.

    A call's two entries are kept as plain tuples of their fields and made
    again when read, equal to the originals. Kept as objects, a call's four
    (two Calls, their two entries) are what the garbage collector's full
    passes walk, again and again as a block of many calls goes on: 4.6 µs a
    call in those passes (``gc.callbacks``, benchmarks/trace_overhead.py),
    against 1.9 µs kept as tuples, which the collector stops following after
    its first pass; a traced call took 1.4 µs less (medians of 20 trials).
    """

    def __init__(self) -> None:
        from sockviz.core import jsonmodel

        self._model = jsonmodel
        self._kept: list = []  # entries, a call's as (_STARTED | _ENDED, fields...)
        self._records: list[dict] = []
        self._made = 0  # entries whose record (if any) is in _records
        self._summaries: dict[int, dict] = {}  # entry index -> its record, made at once

    def handle(self, entry: Entry) -> None:
        kind = type(entry)
        if kind is CallStarted:
            self._kept.append((_STARTED, _call_fields(entry.call)))
            return
        if kind is CallEnded:
            self._kept.append((_ENDED, _call_fields(entry.call), entry.packets, entry.lesson))
            return
        if kind is Summary:
            self._summaries[len(self._kept)] = self._model.summary_json(entry)
        self._kept.append(entry)

    @property
    def entries(self) -> list[Entry]:
        """Every entry so far (a call's made again: equal to the one the timeline gave)."""
        return list(self._entries(0))

    def _entries(self, start: int):
        for kept in itertools.islice(self._kept, start, None):
            if type(kept) is tuple:
                if kept[0] is _STARTED:
                    yield CallStarted(call=_new_call(*kept[1]))
                else:
                    yield CallEnded(call=_new_call(*kept[1]), packets=kept[2], lesson=kept[3])
            else:
                yield kept

    @property
    def records(self) -> list[dict]:
        m, out = self._model, self._records
        for index, entry in enumerate(self._entries(self._made), self._made):
            if type(entry) is PacketShown:
                out.append(m.packet_json(entry))
            elif type(entry) is CallEnded:
                out.append(m.call_json(entry))
            elif isinstance(entry, Note):
                out.append(m.note_json(entry))
            elif index in self._summaries:
                out.append(self._summaries[index])
        self._made = len(self._kept)
        return out

    def close(self) -> None:
        pass


_STARTED, _ENDED = "started", "ended"  # a kept call entry's first item
_call_fields = operator.attrgetter(*_CALL_FIELDS)  # the recorder's order, which _new_call takes


class Tracing:
    """Capture and record from :meth:`start` to :meth:`stop`.

    ``sniffer`` and ``frames`` come from :func:`open_sniffer` (opened before
    any privilege is given up); ``sinks`` are the renderers; ``cell`` names
    the notebook cell of each call; ``wait`` is a :class:`WaitForView` when a
    live view is on. A built-in lesson also gives its ``role``, its ``scope``
    (a server's ports and addresses) and ``notes``: called at each call's end,
    it may add notes and returns the call's own note (or None).
    """

    def __init__(self, *, sniffer, frames: queue.SimpleQueue, sinks: list,
                 capture_path: str | None = None, cell: Callable[[], int | None] | None = None,
                 wait: Callable[[Call], float] | None = None, role: str = "client",
                 scope: Scope | None = None,
                 notes: Callable[[Call], str | None] | None = None) -> None:
        from sockviz.core.dnsinfo import dns_info
        from sockviz.session import LiveSession

        self.scope = scope if scope is not None else Scope(dns=True)
        self.session = LiveSession(role=role, scope=self.scope, sinks=sinks, dns=dns_info,
                                   sniffer=sniffer, frames=frames, capture_path=capture_path)
        if self.scope.asking is None:  # the program's DNS: what its lookups running ask
            self.scope.asking = self.session.correlator.asking
        self._lesson_notes = notes
        self.recorder = Recorder(self.session, cell=cell or (lambda: None),
                                 wait=wait or (lambda call: 0.0), notes=self._note)
        self.summary: Summary | None = None

    def _note(self, call: Call) -> str | None:
        if call.name in ADDRESSED:  # asked at every call's end: most have no address
            note = resolution_note(call)
            if note is not None:
                self.session.note(note)
        return self._lesson_notes(call) if self._lesson_notes is not None else None

    def start(self) -> Tracing:
        self.recorder.install()
        return self

    def stop(self, *, teardown_grace: float = 0.0) -> Summary:
        """Stop recording and capturing; every renderer is closed. Idempotent.

        ``teardown_grace``: how long to wait for the TCP teardowns the program
        started (the peer's FIN and our last ACK come after its ``close()``).
        """
        self.recorder.uninstall()
        if teardown_grace and self.summary is None:
            correlator = self.session.correlator
            if any(c.transport == "TCP" for c in list(correlator.conversations.values())):
                self.session.wait_until(self.session.teardown_done, teardown_grace)
        if self.summary is None:
            self.summary = self.session.finish()
        return self.summary

    def wait_for_packets(self, until: float, timeout: float = 1.0) -> None:
        """Wait until every frame stamped before ``until`` has gone through the timeline."""
        self.session.flush_until(until, timeout)


def open_sniffer(*, ring_mb: int = 128, use_ring: bool = True,
                 drop_to: tuple[int, int] | None = None):
    """The capture process, listening, and the queue it feeds."""
    from sockviz.sources.live import Sniffer

    frames: queue.SimpleQueue = queue.SimpleQueue()
    return Sniffer(frames, ring_mb=ring_mb, use_ring=use_ring, drop_to=drop_to), frames
