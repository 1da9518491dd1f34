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
from collections.abc import Iterator

from sockviz.capfile.reader import CaptureReader
from sockviz.core.callcomment import decode_comment, decode_meta
from sockviz.core.decode import decode
from sockviz.core.events import Call, Packet
from sockviz.core.fastnew import positional

Event = tuple[str, object]  # ('start' | 'end', Call) or ('packet', Packet)
_new_packet = positional(Packet)


class ReplaySource:
    def __init__(self, reader: CaptureReader) -> None:
        self.reader = reader
        self.meta: dict | None = None
        self.foreign_comments = 0

    def _meta_from(self, comments) -> None:
        if self.meta is None:
            for c in comments:
                m = decode_meta(c)
                if m is not None:
                    self.meta = m
                    return

    def events(self) -> Iterator[Event]:
        marks: list = []
        tie = itertools.count()
        starts_seen: set[int] = set()

        def add_marks(comments) -> None:
            for comment in comments:
                found = decode_comment(comment)
                if found is None:
                    continue
                kind, call = found
                if kind == "start":
                    starts_seen.add(call.id)
                    heapq.heappush(marks, (call.start, 0, next(tie), "start", call))
                else:
                    if call.id not in starts_seen:
                        # The start mark was lost (a damaged file): put it back.
                        starts_seen.add(call.id)
                        heapq.heappush(marks, (call.start, 0, next(tie), "start", call))
                    end = call.end if call.end is not None else call.start
                    heapq.heappush(marks, (end, 1, next(tie), "end", call))

        reader = self.reader
        new_packet = _new_packet
        for frame in reader:
            if self.meta is None and reader.shb_comments:
                self._meta_from(reader.shb_comments)
            comments = frame.comments
            if comments:
                add_marks(comments)
            time = frame.time
            while marks and marks[0][0] <= time:
                _, _, _, kind, call = heapq.heappop(marks)
                yield kind, _ended_start(call) if kind == "start" else call
            data = frame.data
            linktype = frame.linktype
            # Packet(index=, time=, iface=, direction=, linktype=, wirelen=,
            # data=, decoded=, comments=, time_ns=), built without the frozen
            # dataclass's slow __init__ (core/fastnew.py).
            yield "packet", new_packet(frame.index, time, frame.iface, frame.direction, linktype,
                                       frame.wirelen, data, decode(data, linktype), comments,
                                       frame.time_ns or 0)
        # A run with no packet keeps its calls in the section header.
        self._meta_from(self.reader.shb_comments)
        add_marks(self.reader.shb_comments)
        while marks:
            _, _, _, kind, call = heapq.heappop(marks)
            yield kind, _ended_start(call) if kind == "start" else call


def _ended_start(call: Call) -> Call:
    """The call as it looked when it started: no end, no result yet."""
    if call.end is None:
        return call
    return Call(id=call.id, name=call.name, text=call.text, args=call.args, start=call.start,
                transport=call.transport, peer=call.peer)
