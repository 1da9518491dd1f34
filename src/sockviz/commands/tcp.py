"""``sockviz tcp HOST PORT``: the course's TCP client, run as the program a student writes.

socket(), settimeout(), connect() (a host *name* is resolved inside it, as
CPython does: its DNS comes under connect()), then send() and recv(1024) for
each message, and close() as the ``with`` block ends; then the teardown's last
packets. The program is sockviz.lessons.tcp_client's (``--code`` prints it).
"""

from __future__ import annotations

import socket

from sockviz.addresses import literal_family
from sockviz.commands.lesson import LessonProgram, lesson_argv, run_lesson, show_code
from sockviz.core import phrases
from sockviz.lessons import tcp_client
from sockviz.refusal import Refusal
from sockviz.status import ExitStatus
from sockviz.tracing.recorder import describe_error as describe


def run(args, env, argv) -> int:
    check_family(args.host, args.family)
    code = tcp_client.code(lesson_argv(argv), args.host, args.port, family=args.family,
                           timeout=args.timeout, messages=args.send,
                           typed=args.show_code or env.stdin_isatty,
                           send_bytes=args.send_bytes)
    if args.show_code:
        return show_code(env, code)

    def notes(session, call) -> str | None:
        if call.name == "recv" and call.error is None and call.result in ("", b""):
            return phrases.peer_closed("recv")
        return None

    def outcome(session, error: OSError, failed) -> tuple[int, str | None]:
        at = failed.name if failed is not None else "connect"
        if at == "connect":
            return ExitStatus.BAD_HOST if isinstance(error, socket.gaierror) else \
                ExitStatus.CALL_FAILED, connect_failed(args, error)
        if isinstance(error, TimeoutError) and at in ("recv", "recv_into"):
            session.note(phrases.no_reply(at, args.timeout))
            return ExitStatus.CALL_FAILED, None
        return ExitStatus.CALL_FAILED, phrases.call_failed(at, describe(error))

    lesson = LessonProgram(code, tcp_client.FILENAME, notes=notes, outcome=outcome)
    return run_lesson(env, args, argv, lesson, command="tcp", target=f"{args.host}-{args.port}")


def check_family(host: str, family: int | None) -> None:
    """An address of one family with the option of the other is bad input."""
    lit = literal_family(host)
    if lit is not None and family and family != lit:
        raise Refusal(phrases.family_conflict(host, lit, family), ExitStatus.USAGE)


def connect_failed(args, err: OSError) -> str:
    """The sentence after a failed connect() (or sendto()); the view above shows the packets."""
    if isinstance(err, socket.gaierror):
        return resolution_failed(args.host, args.family, err)
    if isinstance(err, ConnectionRefusedError):
        return phrases.connect_refused(args.host, args.port)
    if isinstance(err, TimeoutError):
        return phrases.connect_no_answer(args.host, args.port, args.timeout)
    return phrases.call_failed("connect", describe(err))


def resolution_failed(host: str, family: int | None, err: socket.gaierror) -> str:
    """Why a host name given to connect() or sendto() could not be used."""
    nodata = {getattr(socket, n, None) for n in ("EAI_NODATA", "EAI_ADDRFAMILY")} - {None}
    if err.errno in nodata:
        return phrases.name_without_family(host, family or 4)
    if err.errno == socket.EAI_AGAIN:
        return phrases.no_dns_answer(host, err.strerror)
    return phrases.name_does_not_resolve(host, err.strerror)
