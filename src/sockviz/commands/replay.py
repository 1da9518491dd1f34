"""``sockviz replay FILE``: a saved capture through the same correlator and view."""

from __future__ import annotations

from sockviz.commands.common import say
from sockviz.status import ExitStatus


def run(args, env, argv) -> int:
    from sockviz.capfile.reader import NotACapture, open_capture

    try:
        reader = open_capture(args.file)
    except FileNotFoundError:
        say(env, f"there is no file {args.file!r}; check the path")
        return ExitStatus.BAD_FILE
    except IsADirectoryError:
        say(env, f"{args.file} is a folder; give a .pcap or .pcapng file inside it")
        return ExitStatus.BAD_FILE
    except PermissionError:
        say(env, f"cannot read {args.file}: permission denied")
        return ExitStatus.BAD_FILE
    except NotACapture as exc:
        say(env, str(exc))
        return ExitStatus.BAD_FILE
    with reader:
        return replay(reader, env, args)


def replay(reader, env, args) -> int:
    from sockviz.core.correlate import Correlator
    from sockviz.dissect import dns_info
    from sockviz.sources.replay import ReplaySource

    source = ReplaySource(reader)
    events = source.events()
    sinks = None
    correlator = None
    try:
        for kind, obj in events:
            if correlator is None:
                meta = source.meta
                role = meta.get("role") if meta else None
                correlator = Correlator(role=role, dns=dns_info)
                sinks = _sinks(env, args, foreign=meta is None)
            if kind == "packet":
                entries = correlator.packet(obj)
            elif kind == "start":
                entries = correlator.call_started(obj)
            else:
                entries = correlator.call_ended(obj)
            for entry in entries:
                for sink in sinks:
                    sink.handle(entry)
        if correlator is None:
            correlator = Correlator(role=None, dns=dns_info)
            sinks = _sinks(env, args, foreign=True)
        summary = correlator.summary(kernel_drops=None, capture=None, problem=reader.problem)
        for sink in sinks:
            sink.handle(summary)
    finally:
        for sink in sinks or ():
            sink.close()
    if reader.problem:
        return ExitStatus.DAMAGED_FILE
    return ExitStatus.OK


def _sinks(env, args, *, foreign: bool) -> list:
    if args.json:
        from sockviz.render.jsonlines import JsonLinesSink

        return [JsonLinesSink(env.stdout, batch=True)]
    from sockviz.render.console import ConsoleSink

    return [ConsoleSink(env.console, foreign=foreign)]
