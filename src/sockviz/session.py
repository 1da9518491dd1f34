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

Two channels, so that a call costs its program no thread switch: the
sniffer's frames and drained times come through ``queue`` (the pipeline
sleeps on it; the capture says "drained" every 8 to 20 ms even when
idle), the program's marks through ``_calls``, a deque appended to without
waking anyone (a mark can be released only once a later "drained" or frame
has come anyway). The pipeline takes everything waiting in ``queue``, then
everything in ``_calls``, then releases once: a whole batch for one wake-up.
Only a mark someone waits for (a call's end in a live view, ``flush_until``)
wakes the pipeline.
"""

from __future__ import annotations

import collections
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
        self._calls: collections.deque = collections.deque()  # the program's side, see above
        self.sniffer = sniffer
        self.scope = scope
        self.sinks = sinks
        self.correlator = Correlator(role=role, dns=dns)
        self.capture_path = capture_path
        self._ids = itertools.count(1)
        self._marks: list = []
        self._tie = itertools.count()
        self._pending: list = []
        # call id -> a time (s): frames stamped at or after it wait for the call's end
        # mark (its start for a call that learns its endpoints at its end; else the
        # moment it began returning, see ending()).
        self._holds: dict[int, float] = {}
        self._watermark = 0.0
        # The program's calls under way (id -> start), and whether it is being watched
        # call by call (its last call waited for the view): see _let_calls_return().
        self._flying: dict[int, float] = {}
        self._interactive = False
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

    def beginning(self, call_id: int) -> None:
        """A traced call is starting; its start is stamped just after this and marked later.

        The program's thread may lose the GIL between the stamp and ``begin``
        (the pipeline's thread takes it): a frame stamped after the start and
        released before the start's mark would fall outside the call live, and
        inside it in a replay (replay/source.py compares it with the start). So
        frames stamped from now wait for the start's mark, as ``ending`` makes
        them wait for the end's.
        """
        self._calls.append(("hold from", (call_id, time.time())))

    def begin(self, call: Call, *, hold: bool = False) -> None:
        """A traced call has started. ``hold``: its endpoints are learnt only at its end
        (``connect()`` given a name), so frames after its start wait for it."""
        self._flying[call.id] = call.start
        self._mark(call.start, 0, call, hold=hold, waited=False)

    def ending(self, call_id: int) -> None:
        """A traced call is returning; its end is stamped just after this and marked later.

        The recorder reads the kernel's state between the two (TCP_INFO; after
        ``close()`` /proc/net/tcp, milliseconds). A frame stamped in that gap and
        released before the end's mark would fall under the still-open call live,
        and after it in a replay (replay/source.py compares it with the end). So
        frames stamped from now wait for the end's mark. This time is taken before
        the end is stamped, so a frame released before this item was queued is
        stamped before the call's end too.
        """
        self._flying.pop(call_id, None)
        self._calls.append(("hold from", (call_id, time.time())))

    def abandon(self, call_id: int) -> None:
        """A call whose end will never be marked (the recorder failed): nothing waits for it."""
        self._flying.pop(call_id, None)
        self._calls.append(("abandon", call_id))

    def end(self, call: Call, *, wait: float = 0.0) -> None:
        """A traced call has ended; ``wait`` seconds at most for its packets to be shown."""
        self._interactive = bool(wait)
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
        self._calls.append(("hold" if hold else "mark", (t, order, next(self._tie), event, done)))
        if waited:
            self.queue.put(_WAKE)  # after the mark: the pipeline finds it when it wakes
        return done

    # -- the pipeline thread -------------------------------------------------
    def _pipeline(self) -> None:
        get, get_nowait, empty = self.queue.get, self.queue.get_nowait, queue.Empty
        pending = self._pending
        try:
            while True:
                kind, item = get()
                stop = False
                while True:  # everything waiting: one release for the batch
                    if kind == "frames":
                        pending.extend(item)
                    elif kind == "drained":
                        if item > self._watermark:
                            self._watermark = item
                    elif kind == "stop":
                        stop = True  # the sniffer has stopped: nothing comes after it
                    try:
                        kind, item = get_nowait()
                    except empty:
                        break
                # The marks after the frames: a call's ending() queued later than a frame
                # taken here was said after that frame was stamped (see ending()).
                self._take_calls()
                self._release(final=stop)
                if stop:
                    return
        except BaseException as exc:  # raised again by finish(), as one sentence or --debug
            self.failure = exc

    def _take_calls(self) -> None:
        calls, marks, holds = self._calls, self._marks, self._holds
        popleft, push = calls.popleft, heapq.heappush
        while calls:
            kind, item = popleft()
            if kind == "mark":
                push(marks, item)
                event = item[3]
                if isinstance(event, Call):
                    # Learnt as soon as known: frames not yet released can be matched.
                    self._learn(event)
                    if holds:  # its start's mark, or its end's: what beginning() or
                        holds.pop(event.id, None)  # ending() held for it is released
            elif kind == "hold from":  # beginning() or ending()
                call_id, t = item
                holds.setdefault(call_id, t)  # a hold from its start stays
            elif kind == "hold":
                push(marks, item)
                holds[item[3].id] = item[0]
            elif kind == "abandon":
                holds.pop(item, None)

    def _release(self, final: bool = False) -> None:
        """Hand on, in time order, every frame and mark that nothing can come before.

        ``final``: nothing more will come (the sniffer has stopped): all of them,
        still in time order, and no frame waits for a call's end.
        """
        pending, marks = self._pending, self._marks
        pos = 0  # frames before it have been released
        # Frames stamped at or after this wait for a call's end (see _holds).
        held_from = min(self._holds.values()) if self._holds and not final else _NEVER
        watermark = _NEVER if final else self._watermark
        # A frame's time is compared as its Packet's time, ns / 1e9 in seconds, and a
        # mark's as the call's time: exactly what a replay of the capture compares
        # (replay/source.py), so that a packet a hair from a call's end falls on
        # the same side of it live and replayed.
        # What waits for a held call's end: frames stamped at or after held_from, and
        # marks after it (a note said after a call's end, before its mark is queued).
        while True:
            frame = pending[pos] if pos < len(pending) else None
            mark = marks[0] if marks else None
            if frame is None:
                if mark is not None and watermark >= mark[0] and mark[0] <= held_from:
                    heapq.heappop(marks)
                    self._emit_mark(mark)
                    continue
                break
            frame_time = frame[0] / 1e9
            if mark is not None and mark[0] <= frame_time:
                if mark[0] > held_from:
                    break
                heapq.heappop(marks)
                self._emit_mark(mark)
                continue
            if frame_time >= held_from:
                break
            pos += 1
            self._frame(frame)
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
            if self._flying and self._interactive:
                self._let_calls_return()
            for sink in self.sinks:
                sink.handle(entry)

    def _let_calls_return(self) -> None:
        """Sleep, without the GIL, while a call the program just made is under way.

        The pipeline shares the interpreter with the program. Rendering an entry
        in the view holds the GIL for a millisecond or more (rich), and a call
        whose syscall returns meanwhile waits for it (up to the 5 ms switch
        interval) before its end can be stamped: a packet arriving in that time,
        the server's echo, fell under send() (tests/test_session_order.py makes
        the case). Only while the program is watched call by call (WaitForView:
        a loop of calls does not wait, and the view must keep up with it), and
        for ``_YOUNG`` seconds at most after a call's start: a call that blocks
        longer (recv() waiting for data) does not hold the view back.
        """
        flying = self._flying
        while flying:
            oldest_young = time.time() - _YOUNG
            if not any(start > oldest_young for start in list(flying.values())):
                return
            time.sleep(_NAP)


_FLUSH = object()  # a mark that only says "everything before me has been shown"
_WAKE = ("wake", None)  # on the queue: a mark someone waits for is in _calls
_NEVER = float("inf")
_YOUNG = 0.002  # s: how long the view waits for a call under way to return
_NAP = 0.0001  # s: its steps (a call's syscall takes tens of µs)


class _NoWaiter:
    """The ``done`` of a mark nobody waits for (a traced call's start): no Event to make."""

    __slots__ = ()

    def set(self) -> None:
        pass


_NOBODY_WAITS = _NoWaiter()

