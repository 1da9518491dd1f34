"""``sockviz resolve NAME [SERVICE]`` / ``sockviz resolve ADDRESS [PORT]``.

getaddrinfo() on a name, or getnameinfo() on an address literal, as the
course's cells call them (sockviz.lessons.names: ``--code`` prints the
program), with the sniffer on every interface (a stub resolver on 127.0.0.53
talks over loopback), and where the answer came from: /etc/hosts, a numeric
address, /etc/services, or the DNS server of resolv.conf.
"""

from __future__ import annotations

import socket

from sockviz.addresses import literal_family
from sockviz.commands.lesson import LessonProgram, lesson_argv, run_lesson, show_code
from sockviz.core import phrases
from sockviz.core.resolver_files import (
    hosts_lookup,
    nameservers,
    nsswitch_hosts,
    reverse_name,
    service_port,
)
from sockviz.core.scope import Scope
from sockviz.lessons import names
from sockviz.refusal import Refusal
from sockviz.status import ExitStatus
from sockviz.tracing.recorder import describe_error

_EAI = ("EAI_NONAME", "EAI_AGAIN", "EAI_SERVICE", "EAI_NODATA")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def run(args, env, argv) -> int:
    if literal_family(args.name) is not None and not args.getaddrinfo:
        lesson, call = _getnameinfo(args, argv), "getnameinfo"
    else:
        lesson, call = _getaddrinfo(args, argv), "getaddrinfo"
    if args.show_code:
        return show_code(env, lesson.code)
    order = nsswitch_hosts(_read("/etc/nsswitch.conf"))
    servers = nameservers(_read("/etc/resolv.conf"))
    scope = Scope(dns=True)
    for server in servers:
        scope.watch(server, 53)
    first = lesson.before

    def before(session) -> None:
        session.note(phrases.resolver_setup(order, servers))
        if first is not None:
            first(session)

    def give_up(session) -> str:
        # glibc's resolver cannot be interrupted: its retries go on whatever a signal says.
        said = phrases.resolver_given_up(call, args.timeout)
        session.note(said)
        return said

    lesson.before = before
    lesson.deadline, lesson.give_up = args.timeout, give_up
    return run_lesson(env, args, argv, lesson, command="resolve", target=args.name,
                      scope=scope)


def _getaddrinfo(args, argv) -> LessonProgram:
    service = args.service
    port = None
    if service is not None:
        port = service_port(service, _read("/etc/services"))
        if port is None and not service.isdigit():
            raise Refusal(phrases.service_unknown(service), ExitStatus.BAD_HOST)
    code = names.getaddrinfo_code(lesson_argv(argv), args.name,
                                  int(service) if service and service.isdigit() else service,
                                  family=args.family, kind=args.type)
    literal = literal_family(args.name) is not None
    order = nsswitch_hosts(_read("/etc/nsswitch.conf"))
    hosts = hosts_lookup(args.name, _read("/etc/hosts")) if order[:1] == ["files"] else []
    named = service is not None and not service.isdigit()

    def notes(session, call) -> str | None:
        if call.name != "getaddrinfo" or call.error is not None:
            return None
        if not (literal or hosts or named):
            return None
        return phrases.getaddrinfo_answered(args.name, literal, hosts,
                                            service if named else None, port)

    def outcome(session, error: OSError, failed) -> tuple[int, str | None]:
        if isinstance(error, socket.gaierror):
            session.note(_gai_meaning(error))
            return ExitStatus.BAD_HOST, phrases.lookup_failed("getaddrinfo", repr(args.name),
                                                              error.strerror)
        return ExitStatus.CALL_FAILED, phrases.lookup_failed("getaddrinfo", repr(args.name),
                                                             describe_error(error))

    return LessonProgram(code, names.FILENAME, notes=notes, outcome=outcome)


def _gai_meaning(err: socket.gaierror) -> str:
    code = next((n for n in _EAI if getattr(socket, n, None) == err.errno), "")
    return phrases.gai_meaning(code, err.errno, err.strerror)


def _getnameinfo(args, argv) -> LessonProgram:
    address = args.name
    if args.service and not args.service.isdigit():
        raise Refusal(phrases.address_needs_port(args.service), ExitStatus.USAGE)
    port = int(args.service) if args.service else 0
    ptr = reverse_name(address)
    code = names.getnameinfo_code(lesson_argv(argv), address, port)

    def before(session) -> None:
        session.note(phrases.ptr_lookup(ptr, literal_family(address) == 6))

    def notes(session, call) -> str | None:
        if call.name != "getnameinfo" or call.error is not None or not call.result:
            return None
        host = call.result[0]
        if host in (address, address.split("%")[0]):
            return phrases.ptr_missing(address, ptr)
        return phrases.ptr_found(address, host, ptr)

    def outcome(session, error: OSError, failed) -> tuple[int, str | None]:
        return ExitStatus.CALL_FAILED, phrases.lookup_failed("getnameinfo", address,
                                                             describe_error(error))

    return LessonProgram(code, names.FILENAME, notes=notes, before=before, outcome=outcome)
