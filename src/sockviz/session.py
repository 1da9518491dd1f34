"""A live run: sniffer, merge in time order, correlator, renderers; and the calls.

Three threads meet here. The sniffer thread reads raw frames; the pipeline
thread decodes them, merges them with the program's call marks in timestamp
order, and feeds the correlator and the renderers; the program's threads make
their socket calls, which the recorder (sockviz.tracing.recorder) hands over
through ``begin()`` and ``end()``: a built-in lesson's and a learner's alike.

Ordering: a call mark carries the wall-clock time of the call's start or end;
frames carry kernel timestamps (the same clock). A mark is released once a
later frame has been seen, or once the sniffer has found its socket empty
after the mark's time ("drained"), so no frame stamped before the mark can
still arrive.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections.abc import Callable

from sockviz.core.correlate import Correlator
from sockviz.core.decode import decode
from sockviz.core.events import Call, Packet
from sockviz.core.scope import Scope
from sockviz.core.timeline import Entry, Note, Summary
from sockviz.sources.live import CaptureFailed, Sniffer


class LiveSession:
    """``sniffer`` is listening already and feeds ``frames`` (see :mod:`sockviz.sources.live`)."""

    def __init__(self, *, role: str, scope: Scope, sinks: list, dns: Callable | None,
                 sniffer: Sniffer, frames: queue.SimpleQueue,
                 capture_path: str | None = None) -> None:
        self.queue = frames
        self.sniffer = sniffer
        self.scope = scope
        self.sinks = sinks
        self.correlator = Correlator(role=role, dns=dns)
        self.capture_path = capture_path
        self._ids = itertools.count(1)
        self._marks: list = []
        self._tie = itertools.count()
        self._pending: list = []
        self._holds: dict[int, float] = {}  # call id -> its start (s): frames after it wait
        self._watermark = 0.0
        self._index = 0
        self._thread = threading.Thread(target=self._pipeline, name="sockviz-pipeline",
                                        daemon=True)
        self.failure: BaseException | None = None
        self._finished = False
        self.sniffer.consumer_alive = self._thread.is_alive
        self._thread.start()
        self.sniffer.start()

    # -- a traced program's side (sockviz.trace) ------------------------------
    def next_id(self) -> int:
        return next(self._ids)

    def begin(self, call: Call, *, hold: bool = False) -> None:
        """A traced call has started. ``hold``: its endpoints are learnt only at its end
        (``connect()`` given a name), so frames after its start wait for it."""
        self._mark(call.start, 0, call, hold=hold, waited=False)

    def end(self, call: Call, *, wait: float = 0.0) -> None:
        """A traced call has ended; ``wait`` seconds at most for its packets to be shown."""
        done = self._mark(call.end, 1, call, waited=bool(wait))
        if wait:
            done.wait(timeout=wait)

    def flush_until(self, until: float, timeout: float = 1.0) -> bool:
        """Wait until every frame stamped before ``until`` has gone to the renderers."""
        return self._mark(until, 3, _FLUSH).wait(timeout=timeout)

    def note(self, text: str) -> None:
        """A line of explanation in the timeline, at this moment."""
        now = time.time()
        self._mark(now, 2, Note(time=now, text=text))

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.01)
        return condition()

    def teardown_done(self) -> bool:
        return self.correlator.tcp_closed()

    def finish(self) -> Summary:
        """Stop capturing, flush everything in order, close the renderers."""
        if self._finished:
            return self._summary
        self._finished = True
        self.sniffer.stop()  # every frame captured has been handed on
        self.queue.put(("stop", None))
        self._thread.join()  # however far behind the view is: nothing is dropped
        if self.failure is None:
            self._dispatch(self.correlator.finish())
        summary = self.correlator.summary(kernel_drops=self.sniffer.drops,
                                          capture=self.capture_path, ignored=self.scope.ignored)
        self._summary = summary
        errors = []
        for sink in self.sinks:
            try:
                sink.handle(summary)
            except Exception as exc:  # one broken renderer must not lose the file
                errors.append(exc)
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as exc:
                errors.append(exc)
        if self.failure is not None:
            raise self.failure
        if errors:
            raise errors[0]
        if self.sniffer.failure is not None:
            raise CaptureFailed(self.sniffer.failure)
        return summary

    def _mark(self, t: float, order: int, event, hold: bool = False,
              waited: bool = True) -> threading.Event:
        """Queue a mark; ``waited``: someone will wait for it to be shown (an Event is made)."""
        done = threading.Event() if waited else _NOBODY_WAITS
        self.queue.put(("hold" if hold else "mark", (t, order, next(self._tie), event, done)))
        return done

    # -- the pipeline thread -------------------------------------------------
    def _pipeline(self) -> None:
        try:
            while True:
                kind, item = self.queue.get()
                if kind == "frames":
                    self._pending.extend(item)
                elif kind == "drained":
                    self._watermark = max(self._watermark, item)
                elif kind == "mark":
                    heapq.heappush(self._marks, item)
                    event = item[3]
                    if isinstance(event, Call):
                        # Learnt as soon as known: frames not yet released can be matched.
                        self._learn(event)
                        if event.end is not None:
                            self._holds.pop(event.id, None)
                elif kind == "hold":
                    heapq.heappush(self._marks, item)
                    self._holds[item[3].id] = item[0]
                elif kind == "stop":
                    self._release(final=True)
                    return
                self._release()
        except BaseException as exc:  # raised again by finish(), as one sentence or --debug
            self.failure = exc

    def _release(self, final: bool = False) -> None:
        pending, marks = self._pending, self._marks
        pos = 0  # frames before it have been released
        # A frame's time is compared as its Packet's time, ns / 1e9 in seconds, and a
        # mark's as the call's time: exactly what a replay of the capture compares
        # (sources/replay.py), so that a packet a hair from a call's end falls on
        # the same side of it live and replayed.
        while True:
            frame = pending[pos] if pos < len(pending) else None
            frame_time = frame[0] / 1e9 if frame is not None else None
            mark = marks[0] if marks else None
            if mark is not None and (
                final
                or (frame is not None and mark[0] <= frame_time)
                or (frame is None and self._watermark >= mark[0])
            ):
                heapq.heappop(marks)
                self._emit_mark(mark)
                continue
            if frame is not None and (mark is None or frame_time < mark[0] or final):
                if self._holds and not final and frame_time >= min(self._holds.values()):
                    break  # a held call's end will say which of these are ours
                pos += 1
                self._frame(frame)
                continue
            break
        if pos:
            del pending[:pos]

    def _emit_mark(self, mark) -> None:
        _t, _order, _tie, event, done = mark
        if event is _FLUSH:
            done.set()
            return
        if isinstance(event, Note):
            self._dispatch([event])
            done.set()
            return
        if event.end is None:
            self._dispatch(self.correlator.call_started(event))
        else:
            self._dispatch(self.correlator.call_ended(event))
        done.set()

    def _learn(self, call: Call) -> None:
        """A traced program's scope grows as its sockets' endpoints become known."""
        for endpoint in (call.peer, call.local):
            if not endpoint or not endpoint[1]:
                continue
            address, port = endpoint[0], endpoint[1]
            if address in ("0.0.0.0", "::", ""):
                self.scope.watch_port(port)  # a server bound to every address
            else:
                self.scope.watch(address, port)

    def _frame(self, frame) -> None:
        ts, data, wirelen, linktype, iface, direction = frame  # a sources.live.LiveFrame
        d = decode(data, linktype)
        if not self.scope.wants(d, direction):
            return
        self._index += 1
        pkt = Packet(index=self._index, time=ts / 1e9, time_ns=ts, iface=iface,
                     direction=direction, linktype=linktype, wirelen=wirelen, data=data,
                     decoded=d)
        self._dispatch(self.correlator.packet(pkt))

    def _dispatch(self, entries: list[Entry]) -> None:
        for entry in entries:
            for sink in self.sinks:
                sink.handle(entry)


_FLUSH = object()  # a mark that only says "everything before me has been shown"


class _NoWaiter:
    """The ``done`` of a mark nobody waits for (a traced call's start): no Event to make."""

    __slots__ = ()

    def set(self) -> None:
        pass


_NOBODY_WAITS = _NoWaiter()

