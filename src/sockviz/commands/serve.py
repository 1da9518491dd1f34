"""``sockviz serve``: the course chat server; ``--watch`` shows its side of the lesson.

Without ``--watch`` it is the classroom server (sockviz.lab.chatserver: one
asyncio loop, hundreds of clients). With ``--watch`` it is the seed's server
diagram as the program a student writes (sockviz.lessons.chat_server: socket,
bind, listen, then accept, recv and sendall around a select() loop; ``--code``
prints it), traced while the sniffer shows the packets each call saw: the
handshake the kernel completes before accept(), the data, the teardown. One
process, readable rather than fast.
"""

from __future__ import annotations

from sockviz.addresses import host_addresses
from sockviz.commands.lesson import LessonProgram, lesson_argv, run_lesson, show_code
from sockviz.core import phrases
from sockviz.core.scope import Scope
from sockviz.lessons import chat_server
from sockviz.refusal import say
from sockviz.status import ExitStatus
from sockviz.tracing.recorder import describe_error


def run(args, env, argv) -> int:
    if args.watch or args.show_code:
        return _watch(args, env, argv)
    from sockviz.lab.chatserver import format_address, run_forever

    def log(line: str) -> None:
        env.stdout.write(line + "\n")
        env.stdout.flush()

    try:
        run_forever(args.host, args.port, log)
    except OSError as exc:
        say(env, phrases.cannot_listen(format_address(args.host, args.port),
                                       exc.strerror or str(exc), exc.errno == 98))
        return ExitStatus.ERROR
    return ExitStatus.OK


def _watch(args, env, argv) -> int:
    command = lesson_argv(argv if args.watch else [*argv, "--watch"])
    code = chat_server.code(command, args.host, args.port)
    if args.show_code:
        return show_code(env, code)
    scope = Scope(dns=False)
    scope.watch_port(args.port)
    scope.local.update(host_addresses())  # so clients' ARP/NDP requests for us are kept

    def notes(session, call) -> str | None:
        if call.name == "bind" and call.transport == "UDP" and call.error is None:
            session.note(phrases.server_listening(args.port))
        return None

    def outcome(session, error: OSError, failed) -> tuple[int, str | None]:
        from sockviz.lab.chatserver import format_address

        if failed is not None and failed.name == "bind":
            return ExitStatus.ERROR, phrases.cannot_listen(
                format_address(args.host, args.port), error.strerror or str(error),
                error.errno == 98)
        at = failed.name if failed is not None else "socket"
        return ExitStatus.ERROR, phrases.call_failed(at, describe_error(error))

    lesson = LessonProgram(code, chat_server.FILENAME, notes=notes, outcome=outcome)
    return run_lesson(env, args, argv, lesson, command="serve", target=f"watch-{args.port}",
                      role="server", scope=scope)
