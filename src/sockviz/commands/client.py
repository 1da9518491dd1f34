"""What the TCP and UDP client lessons share: resolving HOST, the socket, the messages."""

from __future__ import annotations

import socket

from sockviz.commands.common import (
    Refusal,
    addrinfo_text,
    family_constant,
    family_name,
    literal_family,
    local_address_towards,
)
from sockviz.status import ExitStatus


def resolve(session, host: str, port: int, family: int | None, kind: int) -> tuple[int, tuple]:
    """getaddrinfo() as a recorded call, or nothing to do for an address literal."""
    lit = literal_family(host)
    if lit is not None:
        if family and family != lit:
            raise Refusal(f"{host} is an IPv{lit} address but -{family} asks for IPv{family}; "
                          f"drop the option or give an IPv{family} address", ExitStatus.USAGE)
        af = family_constant(lit)
        return af, (host, port) if lit == 4 else (host, port, 0, 0)
    af = family_constant(family)
    text = f"getaddrinfo({host!r}, {port}, {family_name(af)}, {_kind(kind)})"
    infos, err = session.call("getaddrinfo", socket.getaddrinfo, host, port, af, kind,
                              text=text, transport="DNS", result_text=addrinfo_text)
    if err is not None:
        nodata = {getattr(socket, n, None) for n in ("EAI_NODATA", "EAI_ADDRFAMILY")} - {None}
        if isinstance(err, socket.gaierror) and family and err.errno in nodata:
            raise Refusal(f"the name {host!r} exists but has no IPv{family} address; try "
                          f"without -{family}", ExitStatus.BAD_HOST)
        if isinstance(err, socket.gaierror) and err.errno == socket.EAI_AGAIN:
            raise Refusal(f"no DNS server answered for {host!r} ({err.strerror}); check the "
                          "network and /etc/resolv.conf, or give an address", ExitStatus.BAD_HOST)
        if isinstance(err, socket.gaierror):
            raise Refusal(f"the name {host!r} does not resolve ({err.strerror}); check the "
                          "spelling, or give an address", ExitStatus.BAD_HOST)
        raise Refusal(f"resolving {host!r} failed: {err}", ExitStatus.BAD_HOST)
    f, _t, _p, _c, sockaddr = infos[0]
    return f, sockaddr


def _kind(kind: int) -> str:
    return "SOCK_STREAM" if kind == socket.SOCK_STREAM else "SOCK_DGRAM"


def messages(env, args):
    """What to send: --send texts, else lines typed on a terminal, else piped lines."""
    if args.send:
        yield from args.send
        return
    if env.stdin is None:
        return
    if env.stdin_isatty:
        while True:
            try:
                line = env.console.input("[bold]message to send[/] (empty line or Ctrl-D to close) > ")
            except EOFError:
                return
            if not line:
                return
            yield line
    else:
        for line in env.stdin:
            yield line.rstrip("\n")


def client_socket(session, scope, args, kind: int):
    """Resolve HOST, then socket(): the first calls of both client lessons.

    Returns the socket (its timeout set) and the peer's address.
    """
    af, addr = resolve(session, args.host, args.port, args.family, kind)
    scope.watch(addr[0], args.port)
    local = local_address_towards(addr[0], af)
    if local:
        scope.local.add(local)
    transport, kind_name = ("TCP", "SOCK_STREAM") if kind == socket.SOCK_STREAM else ("UDP", "SOCK_DGRAM")
    sock, err = session.call("socket", socket.socket, af, kind,
                             text=f"socket({family_name(af)}, {kind_name})", transport=transport,
                             result_text=lambda s: f"<socket fd={s.fileno()}>")
    if err is not None:
        raise Refusal(f"socket() failed: {err}", ExitStatus.ERROR)
    sock.settimeout(args.timeout)
    return sock, addr
