"""``sockviz replay FILE``: a saved capture through the same correlator and view."""

from __future__ import annotations

import gc

from sockviz.commands.common import Refusal, say, wants_diagram
from sockviz.core import phrases
from sockviz.status import ExitStatus


def run(args, env, argv) -> int:
    from sockviz.capfile.reader import NotACapture, open_capture

    if getattr(args, "packet", None):
        return _one_packet(args, env)
    if wants_diagram(args):
        from sockviz.commands.common import output_file

        output_file(getattr(args, "svg", None), "svg")  # before reading a big file
        output_file(getattr(args, "html", None), "html")
    try:
        reader = open_capture(args.file)
    except FileNotFoundError:
        say(env, phrases.no_such_file(args.file))
        return ExitStatus.BAD_FILE
    except IsADirectoryError:
        say(env, phrases.file_is_a_folder(args.file))
        return ExitStatus.BAD_FILE
    except PermissionError:
        say(env, phrases.file_not_readable(args.file))
        return ExitStatus.BAD_FILE
    except NotACapture as exc:
        say(env, str(exc))
        return ExitStatus.BAD_FILE
    with reader:
        if getattr(args, "step", False):
            from sockviz.render.stepper import step_through

            return step_through(reader, env, args)
        return replay(reader, env, args)


PROGRESS_MIN = 16 * 1024 * 1024  # files this big show progress on a terminal
PROGRESS_EVERY = 8192  # packets between two progress updates
GC_THRESHOLDS = (100_000, 50, 10)  # the cyclic collector's during a replay (gc.set_threshold)
_TIME, _COMMENTS = 0, 7  # a record's time and comments (capfile.reader.RECORD)


def replay(reader, env, args) -> int:
    from sockviz.commands import replay_worker
    from sockviz.core.correlate import Correlator, describe, tally
    from sockviz.core.dnsinfo import dns_info
    from sockviz.core.fastjson import PREPARED, PREPARED_TIME, FastJson, record_of
    from sockviz.core.timeline import Note
    from sockviz.sources.replay import ReplaySource

    source = ReplaySource(reader)
    sinks: list = []
    handlers: list = []
    correlator = None
    progress = _Progress(env, reader) if _wants_progress(env, args, reader) else None
    # --summary counts steps, never reads a packet's words: skip the wording.
    word = tally if getattr(args, "summary", False) else describe
    # --json: most packets' lines come straight from the frame (core/fastjson.py),
    # the frames made ready in batches (commands/replay_worker.py); the rest, and
    # every call, take the general path below.
    json_fast = args.json and not getattr(args, "summary", False)
    fast = write_fast = None
    tick = progress.update if progress is not None else None
    packet = source.packet
    marks = source.marks
    count = 0

    def start(meta: dict | None) -> tuple:
        """At the first event: the correlator, in the role the run played, and the sinks."""
        role = meta.get("role") if meta else None
        sinks = _sinks(env, args, reader, foreign=meta is None)
        return Correlator(role=role, dns=dns_info), sinks, [sink.handle for sink in sinks]

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
    if json_fast and replay_worker.wants_worker(reader, env.replay_worker):
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
                    correlator, sinks, handlers = start(source.meta)
                    packet_entries = correlator.packet
                    if json_fast:
                        fast = FastJson(correlator).take
                        write_fast = sinks[0].packet_texts
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
            correlator, sinks, handlers = start(source.meta if rest else None)
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
        for sink in sinks:
            sink.close()
    if reader.problem:
        return ExitStatus.DAMAGED_FILE
    return ExitStatus.OK


def _wants_progress(env, args, reader) -> bool:
    """On a terminal, for a big file whose output is not the packets on that terminal."""
    try:
        tty = env.stderr.isatty()
    except (AttributeError, ValueError):
        return False
    shows_packets = not args.json and not getattr(args, "summary", False) and env.stdout_isatty
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


def _sinks(env, args, reader, *, foreign: bool) -> list:
    from sockviz.commands.common import DiagramSink, wants_diagram

    diagram = [DiagramSink(env, args)] if wants_diagram(args) else []
    if diagram and not args.json and not getattr(args, "summary", False):
        return diagram  # the diagram drawn (--ladder) or written (--svg, --html): nothing else
    if getattr(args, "summary", False):
        from sockviz.render.summary import SummarySink

        return [*diagram, SummarySink(env, json_output=args.json)]
    if args.json:
        from sockviz.render.jsonlines import JsonLinesSink

        return [*diagram, JsonLinesSink(env.stdout, batch=True)]
    from sockviz.render.console import ConsoleSink

    if env.stdout_isatty and getattr(reader, "size", 0) >= PROGRESS_MIN:
        from rich.text import Text

        env.console.print(Text(phrases.big_file_notice(reader.path, reader.size / 1e6),
                               style="dim"))
    return [*diagram, ConsoleSink(env.console, foreign=foreign,
                                  layout=getattr(args, "layout", None))]


def _one_packet(args, env) -> int:
    """``--packet N``: one packet layer by layer (scapy's dissectors: the one place they pay)."""
    from sockviz.capfile.reader import NotACapture
    from sockviz.render.layers import PacketNotFound, frame_layers, read_frame

    try:
        frame = read_frame(args.file, args.packet)
    except FileNotFoundError:
        raise Refusal(phrases.no_such_file(args.file), ExitStatus.BAD_FILE) from None
    except (IsADirectoryError, PermissionError) as exc:
        raise Refusal(phrases.file_unreadable(args.file, exc.strerror), ExitStatus.BAD_FILE) from None
    except NotACapture as exc:
        raise Refusal(str(exc), ExitStatus.BAD_FILE) from None
    except PacketNotFound as exc:
        raise Refusal(str(exc), ExitStatus.USAGE) from None
    env.console.print(frame_layers(frame))
    return ExitStatus.OK
