"""The replay: a saved capture through the same correlator and sinks as a live run.

``run(path)`` opens the file and replays it; ``replay(reader)`` replays one
already open. The output is chosen by keyword: the terminal view, ``json``
lines, or the ``summary``; ``sinks`` are fed every entry besides (a diagram,
a test's collector). Errors are left to the caller, which says them
(``commands/replay.py``): the reader's own (``FileNotFoundError``,
``NotACapture``...) and ``WorkerStopped``. The status is ``OK``, or
``DAMAGED_FILE`` when the file stopped being readable part way.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence

from sockviz.core import phrases
from sockviz.environment import Environment
from sockviz.status import ExitStatus


def run(path: str, env: Environment | None = None, *, json: bool = False,
        summary: bool = False, view: bool = True, layout: str | None = None,
        sinks: Sequence = (), worker: bool | None = None, lang: str | None = None) -> int:
    """Replay the capture at ``path`` (see ``replay`` for the keywords).

    ``lang`` ('en', 'fr') speaks that language for this replay alone; None keeps
    the one spoken now.
    """
    from sockviz.capfile.reader import open_capture

    previous = phrases.current_language() if lang is not None else None
    if lang is not None:
        phrases.set_language(lang)
    try:
        with open_capture(path) as reader:
            return replay(reader, env, json=json, summary=summary, view=view, layout=layout,
                          sinks=sinks, worker=worker)
    finally:
        if previous is not None:
            phrases.set_language(previous)


PROGRESS_MIN = 16 * 1024 * 1024  # files this big show progress on a terminal
PROGRESS_EVERY = 8192  # packets between two progress updates
GC_THRESHOLDS = (100_000, 50, 10)  # the cyclic collector's during a replay (gc.set_threshold)
_TIME, _COMMENTS = 0, 7  # a record's time and comments (capfile.reader.Record's fields)


def replay(reader, env: Environment | None = None, *, json: bool = False,
           summary: bool = False, view: bool = True, layout: str | None = None,
           sinks: Sequence = (), worker: bool | None = None) -> int:
    """Replay an open ``reader`` (``capfile.reader.open_capture``) to ``env``'s streams.

    ``summary``: the overview alone (with ``json``, as JSON); else ``json``: a
    JSON line per record; else, with ``view``, the terminal view. ``sinks`` also
    receive every entry. ``worker``: True or False forces the second process of
    a big ``--json`` replay on or off; None decides by the file and the cores.
    """
    from sockviz.core.correlate import Correlator, count_only, describe
    from sockviz.core.dnsinfo import dns_info
    from sockviz.core.json_fast_path import PREPARED, PREPARED_TIME, JsonFastPath, record_of
    from sockviz.core.timeline import Note
    from sockviz.replay import worker as replay_worker
    from sockviz.replay.source import ReplaySource

    if env is None:
        env = Environment()
    given = list(sinks)
    source = ReplaySource(reader)
    active: list = []  # every sink, once the first event says how to make the view
    handlers: list = []
    correlator = None
    progress = _Progress(env, reader) if _wants_progress(env, json, summary, reader) else None
    # --summary counts steps, never reads a packet's words: skip the wording.
    word = count_only if summary else describe
    # --json: most packets' lines come straight from the frame (core/json_fast_path.py),
    # the frames made ready in batches (replay/worker.py); the rest, and every
    # call, take the general path below. Other sinks (a diagram) need every
    # packet's entry, which the fast path never makes.
    json_fast = json and not summary and not given
    fast = write_fast = None
    tick = progress.update if progress is not None else None
    packet = source.packet
    marks = source.marks
    count = 0

    def start(meta: dict | None) -> tuple:
        """At the first event: the correlator, in the role the run played, and the sinks."""
        role = meta.get("role") if meta else None
        made = [*given, *_outputs(env, reader, json=json, summary=summary, view=view,
                                  layout=layout, foreign=meta is None)]
        return Correlator(role=role, dns=dns_info), made, [sink.handle for sink in made]

    def call_events(events) -> None:
        for kind, call in events:
            if kind == "note":  # a note the run added, restored from its comment
                note = Note(time=call[0], text=call[1])
                for handle in handlers:
                    handle(note)
                continue
            call_event = correlator.call_started if kind == "start" else correlator.call_ended
            for entry in call_event(call):
                for handle in handlers:
                    handle(entry)

    # Few of a replay's objects make cycles, but a capture of short flows keeps thousands of
    # conversations alive: the collector's default pace walks them every few hundred
    # allocations (a tenth of the time). Its own pace again when the replay ends.
    collector = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    if json_fast and replay_worker.wants_worker(reader, worker):
        batches = replay_worker.batches_from_worker(reader)
    else:
        batches = replay_worker.batches(reader, fast=json_fast)
    try:
        # One loop over the frames, a batch at a time: the hot path of a replay.
        for items in batches:
            i = 0
            end = len(items)
            while i < end:
                item = items[i]
                if correlator is None:
                    source.read_meta()
                    correlator, active, handlers = start(source.meta)
                    packet_entries = correlator.packet
                    if json_fast:
                        fast = JsonFastPath(correlator).write_run
                        write_fast = active[-1].packet_texts  # the JSON lines' sink
                if len(item) == PREPARED:  # made ready for the fast path, which takes most
                    if marks:
                        call_events(source.calls_before(item[PREPARED_TIME], ()))
                    taken, count = fast(items, i, marks, count, write_fast, tick, PROGRESS_EVERY)
                    if taken != i:
                        i = taken
                        continue
                    record = record_of(item, reader.read_at)
                else:  # a record of the reader's
                    record = item
                    if record[_COMMENTS] or marks:
                        call_events(source.calls_before(record[_TIME], record[_COMMENTS]))
                count += 1
                if progress is not None and not count % PROGRESS_EVERY:
                    progress.update(count)
                pkt = packet(record)
                for entry in packet_entries(pkt, word):
                    for handle in handlers:
                        handle(entry)
                i += 1
        rest = source.calls_after()
        if correlator is None:
            # No packet: the calls kept in the section header, if any, with the run's role.
            correlator, active, handlers = start(source.meta if rest else None)
        call_events(rest)
        for entry in correlator.finish():
            for handle in handlers:
                handle(entry)
        if progress is not None:
            progress.done()
        summary = correlator.summary(kernel_drops=None, capture=None, problem=reader.problem)
        for handle in handlers:
            handle(summary)
    finally:
        gc.set_threshold(*collector)
        close = getattr(batches, "close", None)
        if close is not None:
            close()  # a worker process ends now, whatever happened
        for sink in active:
            sink.close()
    if reader.problem:
        return ExitStatus.DAMAGED_FILE
    return ExitStatus.OK


def _wants_progress(env, json: bool, summary: bool, reader) -> bool:
    """On a terminal, for a big file whose output is not the packets on that terminal."""
    try:
        tty = env.stderr.isatty()
    except (AttributeError, ValueError):
        return False
    shows_packets = not json and not summary and env.stdout_isatty
    return tty and not shows_packets and getattr(reader, "size", 0) >= PROGRESS_MIN


class _Progress:
    """One line on stderr, rewritten in place: how far through the file, how many packets."""

    def __init__(self, env, reader) -> None:
        self.stream = env.stderr
        self.reader = reader
        self.name = reader.path

    def update(self, packets: int) -> None:
        size = self.reader.size or 1
        pct = min(100, 100 * self.reader.bytes_read // size)
        self.stream.write("\r\x1b[2K" + phrases.replay_progress(self.name, pct, packets))
        self.stream.flush()

    def done(self) -> None:
        self.stream.write("\r\x1b[2K")
        self.stream.flush()


def _outputs(env, reader, *, json: bool, summary: bool, view: bool, layout: str | None,
             foreign: bool) -> list:
    """The sink of the output asked for: the summary, JSON lines or the view (or none)."""
    if summary:
        from sockviz.render.summary import SummarySink

        return [SummarySink(env, json_output=json)]
    if json:
        from sockviz.render.jsonlines import JsonLinesSink

        return [JsonLinesSink(env.stdout, batch=True)]
    if not view:
        return []
    from sockviz.render.console import ConsoleSink

    if env.stdout_isatty and getattr(reader, "size", 0) >= PROGRESS_MIN:
        from rich.text import Text

        env.console.print(Text(phrases.big_file_notice(reader.path, reader.size / 1e6),
                               style="dim"))
    return [ConsoleSink(env.console, foreign=foreign, layout=layout)]
