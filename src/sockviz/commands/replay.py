"""``sockviz replay FILE``: the options read, the replay run (sockviz.replay), errors said."""

from __future__ import annotations

from sockviz.commands.output_paths import output_file
from sockviz.commands.sinks import DiagramSink, wants_diagram
from sockviz.core import phrases
from sockviz.refusal import Refusal
from sockviz.status import ExitStatus


def run(args, env, argv) -> int:
    from sockviz.capfile.reader import NotACapture, open_capture

    if args.packet:
        return _one_packet(args, env)
    # Where the diagram goes is checked before a big file is read.
    diagram = wants_diagram(args)
    output_file(args.svg, "svg")
    output_file(args.html, "html")
    try:
        reader = open_capture(args.file)
    except FileNotFoundError:
        raise Refusal(phrases.no_such_file(args.file), ExitStatus.BAD_FILE) from None
    except IsADirectoryError:
        raise Refusal(phrases.file_is_a_folder(args.file), ExitStatus.BAD_FILE) from None
    except PermissionError:
        raise Refusal(phrases.file_not_readable(args.file), ExitStatus.BAD_FILE) from None
    except NotACapture as exc:
        raise Refusal(str(exc), ExitStatus.BAD_FILE) from None
    with reader:
        if args.step:
            from sockviz.render.stepper import step_through

            return step_through(reader, env, conversation=args.conversation)
        from sockviz.replay import WorkerStopped, replay

        try:
            # A diagram alone (--ladder, --svg, --html without --json or --summary)
            # is all that is shown.
            return replay(reader, env, json=args.json, summary=args.summary, view=not diagram,
                          layout=args.layout, sinks=[DiagramSink(env, args)] if diagram else (),
                          worker=env.replay_worker)
        except WorkerStopped:
            raise Refusal(phrases.replay_worker_stopped(), ExitStatus.ERROR) from None


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
