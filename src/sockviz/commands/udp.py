"""``sockviz udp HOST PORT``: the course's UDP client, run as the program a student writes.

socket(SOCK_DGRAM), settimeout(), then sendto() and recvfrom(1024) for each
message (a host *name* is resolved inside every sendto(), as CPython does),
and close() as the ``with`` block ends. With ``--connect``: connect(), send(),
recv(), to show how a connected socket hears ICMP errors. The program is
sockviz.lessons.udp_client's (``--code`` prints it).
"""

from __future__ import annotations

import errno
import socket

from sockviz.commands.lesson import LessonProgram, lesson_argv, run_lesson, show_code
from sockviz.commands.tcp import check_family, resolution_failed
from sockviz.core import phrases
from sockviz.lessons import udp_client
from sockviz.status import ExitStatus
from sockviz.tracing.recorder import describe_error


def run(args, env, argv) -> int:
    check_family(args.host, args.family)
    code = udp_client.code(lesson_argv(argv), args.host, args.port, family=args.family,
                           timeout=args.timeout, messages=args.send,
                           typed=args.show_code or env.stdin_isatty, size=args.size,
                           connect=args.connect)
    if args.show_code:
        return show_code(env, code)
    sent = args.size

    def notes(session, call) -> str | None:
        if call.name in ("recvfrom", "recv") and call.error is None and sent:
            data = call.result[0] if call.name == "recvfrom" else call.result
            if len(data) == udp_client.RECV_SIZE < sent:
                session.note(phrases.datagram_truncated(call.name, udp_client.RECV_SIZE))
        return None

    def outcome(session, error: OSError, failed) -> tuple[int, str | None]:
        at = failed.name if failed is not None else "sendto"
        if isinstance(error, socket.gaierror):
            return ExitStatus.BAD_HOST, resolution_failed(args.host, args.family, error)
        if error.errno == errno.EMSGSIZE:
            session.note(phrases.datagram_too_big(sent or 0))
        elif isinstance(error, ConnectionRefusedError):
            session.note(phrases.icmp_error_waiting(at))
        elif isinstance(error, TimeoutError):
            session.note(phrases.gave_up(at, args.timeout))
        else:
            return ExitStatus.CALL_FAILED, phrases.call_failed(at, describe_error(error))
        return ExitStatus.CALL_FAILED, None

    lesson = LessonProgram(code, udp_client.FILENAME, notes=notes, outcome=outcome)
    return run_lesson(env, args, argv, lesson, command="udp", target=f"{args.host}-{args.port}")
