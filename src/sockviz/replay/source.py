"""The file source: a saved capture as the same events a live run produced.

Streams the file (constant memory). Calls come back from sockviz's own
comments: a start mark sits on the first packet after the call began, the
end record on the first packet after it ended (or, at the very end of a run,
on the last packet; with no packet at all, in the section header). Marks are
put back in time order against the packets around them with a small heap.
"""

from __future__ import annotations

import heapq
import itertools

from sockviz.capfile.reader import CaptureReader
from sockviz.core.callcomment import decode_comment, decode_meta
from sockviz.core.decode import decode
from sockviz.core.events import Call, Packet
from sockviz.core.fast_init import positional

Event = tuple[str, Call]  # ('start' | 'end', Call)
_new_packet = positional(Packet)


class ReplaySource:
    """The call events of a capture file, frame by frame, for the replay loop.

    ``commands/replay.py`` walks the reader's records itself (one generator
    less per packet) and asks, for each, ``calls_before(time, comments)``
    when the frame has comments or marks are waiting (``marks``), then
    ``packet(record)`` unless its fast path took the frame; ``calls_after()``
    at the end.
    """

    def __init__(self, reader: CaptureReader) -> None:
        self.reader = reader
        self.meta: dict | None = None
        self.marks: list = []  # a heap of (time, 0 start / 1 end, tie, kind, call)
        self._tie = itertools.count()
        self._starts_seen: set[int] = set()

    def _meta_from(self, comments) -> None:
        if self.meta is None:
            for c in comments:
                m = decode_meta(c)
                if m is not None:
                    self.meta = m
                    return

    def read_meta(self) -> None:
        """The run's metadata (role...), from the section header once the reader has it."""
        if self.meta is None and self.reader.shb_comments:
            self._meta_from(self.reader.shb_comments)

    def _add_marks(self, comments) -> None:
        marks, tie, starts_seen = self.marks, self._tie, self._starts_seen
        for comment in comments:
            found = _read_mark(comment)
            if found is None:
                continue
            kind, call = found
            if kind == "note":
                heapq.heappush(marks, (call[0], 2, next(tie), "note", call))
            elif kind == "start":
                starts_seen.add(call.id)
                heapq.heappush(marks, (call.start, 0, next(tie), "start", call))
            else:
                if call.id not in starts_seen:
                    # The start mark was lost (a damaged file): put it back.
                    starts_seen.add(call.id)
                    heapq.heappush(marks, (call.start, 0, next(tie), "start", call))
                end = call.end if call.end is not None else call.start
                heapq.heappush(marks, (end, 1, next(tie), "end", call))

    def calls_before(self, time: float, comments: tuple) -> list[Event]:
        """The call events due before a frame at ``time`` (its own ``comments`` read first)."""
        if comments:
            self._add_marks(comments)
        return self._pop(time)

    @staticmethod
    def packet(record: tuple) -> Packet:
        """The ``Packet`` of a reader record (``CaptureReader.records``: a frame as a tuple)."""
        # Packet(index=, time=, iface=, direction=, linktype=, wirelen=,
        # data=, decoded=, comments=, time_ns=), built without the frozen
        # dataclass's slow __init__ (core/fast_init.py).
        time, data, wirelen, linktype, iface, _iface_id, direction, comments, index, ns, _at = record
        return _new_packet(index, time, iface, direction, linktype, wirelen, data,
                           decode(data, linktype), comments, ns or 0)

    def calls_after(self) -> list[Event]:
        """After the last frame: the calls still waiting, and those of a run with no packet."""
        # A run with no packet keeps its calls in the section header.
        self._meta_from(self.reader.shb_comments)
        self._add_marks(self.reader.shb_comments)
        return self._pop(float("inf"))

    def _pop(self, until: float) -> list[Event]:
        """The call events marked at or before ``until``, in time order."""
        marks = self.marks
        due = []
        while marks and marks[0][0] <= until:
            _, _, _, kind, call = heapq.heappop(marks)
            due.append((kind, _ended_start(call) if kind == "start" else call))  # note: (t, text)
        return due


def _read_mark(comment: str) -> tuple[str, Call] | None:
    """A call mark of a comment, or None when the comment is none or is damaged.

    ``decode_comment`` checks the record's keys, not the types of its values,
    and a damaged or hand-edited file can hold anything there: ``"id": 1e400``
    (int() raises OverflowError), ``"error": 1`` or ``"result_text": []`` (the
    correlator and the views take them for text and raise).  Such a mark is
    dropped, as an unreadable one is, instead of stopping the replay.
    """
    try:
        found = decode_comment(comment)
    except ArithmeticError:
        return None
    if found is None:
        return None
    if found[0] == "note":
        return found
    call = found[1]
    texts = (call.result_text, call.error, call.note, call.transport)
    if not all(t is None or isinstance(t, str) for t in texts):
        return None
    for endpoint in (call.local, call.peer):  # (address, port, ...) as socket gives them
        if endpoint is not None and not (
            len(endpoint) >= 2 and isinstance(endpoint[0], str) and type(endpoint[1]) is int
        ):
            return None
    return found


def _ended_start(call: Call) -> Call:
    """The call as it looked when it started: no end, no result yet."""
    if call.end is None:
        return call
    return Call(id=call.id, name=call.name, text=call.text, args=call.args, start=call.start,
                transport=call.transport, peer=call.peer)
