"""``sockviz tcp HOST PORT``: the seed's TCP client, each call for real.

getaddrinfo (when HOST is a name), socket, connect, send and recv for each
message, close; then wait for the teardown's last packet.
"""

from __future__ import annotations

import socket
import threading

from sockviz.commands.common import (
    Refusal,
    addrinfo_text,
    family_constant,
    family_name,
    literal_family,
    local_address_towards,
    run_live,
    say,
)
from sockviz.core.scope import Scope
from sockviz.status import ExitStatus

TEARDOWN_GRACE = 2.0  # seconds to wait for the peer's FIN and the last ACK


def resolve(session, host: str, port: int, family: int | None, kind: int) -> tuple[int, tuple]:
    """getaddrinfo() as a recorded call, or nothing to do for an address literal."""
    lit = literal_family(host)
    if lit is not None:
        if family and family != lit:
            raise Refusal(f"{host} is an IPv{lit} address but -{family} asks for IPv{family}; "
                          "drop the option or give an IPv{family} address", ExitStatus.USAGE)
        af = family_constant(lit)
        return af, (host, port) if lit == 4 else (host, port, 0, 0)
    af = family_constant(family)
    text = f"getaddrinfo({host!r}, {port}, {family_name(af)}, {_kind(kind)})"
    infos, err = session.call("getaddrinfo", socket.getaddrinfo, host, port, af, kind,
                              text=text, transport="DNS", result_text=addrinfo_text)
    if err is not None:
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


def run(args, env, argv) -> int:
    scope = Scope(dns=literal_family(args.host) is None)

    def body(session) -> int:
        af, addr = resolve(session, args.host, args.port, args.family, socket.SOCK_STREAM)
        scope.watch(addr[0], args.port)
        local = local_address_towards(addr[0], af)
        if local:
            scope.local.add(local)
        fam = family_name(af)
        sock, err = session.call("socket", socket.socket, af, socket.SOCK_STREAM,
                                 text=f"socket({fam}, SOCK_STREAM)", transport="TCP",
                                 result_text=lambda s: f"<socket fd={s.fileno()}>")
        if err is not None:
            raise Refusal(f"socket() failed: {err}", ExitStatus.ERROR)
        sock.settimeout(args.timeout)
        try:
            _, err = session.call("connect", sock.connect, addr, text=f"connect({addr!r})",
                                  transport="TCP", peer=(addr[0], args.port),
                                  local=sock.getsockname)
            if err is not None:
                session.call("close", sock.close, text="close()", transport="TCP")
                raise Refusal(_connect_failed(args, addr, err), ExitStatus.CALL_FAILED)
            status = ExitStatus.OK
            if args.send_bytes:
                _bulk(session, sock, args.send_bytes, args.timeout)
            for text in messages(env, args):
                data = text.encode()
                _, err = session.call("send", sock.send, data, text=f"send({data!r})",
                                      transport="TCP")
                if err is not None:
                    say(env, f"send() failed: {err}")
                    status = ExitStatus.CALL_FAILED
                    break
                reply, err = session.call("recv", sock.recv, 1024, text="recv(1024)",
                                          transport="TCP")
                if isinstance(err, TimeoutError):
                    session.note(f"no reply within {args.timeout:g} s: recv() gave up "
                                 "(the --timeout); the server may simply not answer")
                elif err is not None:
                    status = ExitStatus.CALL_FAILED
                    break
                elif reply == b"":
                    session.note("recv() returned b'': the server closed the connection")
                    break
        finally:
            if sock.fileno() != -1:
                session.call("close", sock.close, text="close()", transport="TCP")
        session.wait_until(session.teardown_done, TEARDOWN_GRACE)
        return status

    try:
        return run_live(env, args, argv, command="tcp", target=f"{args.host}-{args.port}",
                        role="client", scope=scope, body=body)
    except Refusal as r:
        say(env, r.sentence)
        return r.status


def _connect_failed(args, addr, err: BaseException) -> str:
    """The sentence after a failed connect(); the summary above shows the packets."""
    where = f"{addr[0]} port {args.port}"
    if isinstance(err, ConnectionRefusedError):
        return f"connect() was refused: nobody listens on {where} (the RST above says so)"
    if isinstance(err, TimeoutError):
        return (f"connect() got no answer from {where} within {args.timeout:g} s (see the SYN "
                "retransmissions above); the host may be down or filtered")
    return f"connect() to {where} failed: {err}"


def _bulk(session, sock, size: int, timeout: float) -> None:
    """sendall() SIZE generated bytes while a thread reads the echo back."""
    received = [0]

    def drain() -> None:
        while received[0] < size:
            try:
                chunk = sock.recv(1 << 20)
            except OSError:
                return
            if not chunk:
                return
            received[0] += len(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    block = bytes(range(256)) * 4096  # 1 MiB of a recognisable pattern
    data = (block * (size // len(block) + 1))[:size]
    session.call("sendall", sock.sendall, data, text=f"sendall(<{size} bytes>)", transport="TCP",
                 result_text=repr)
    reader.join(timeout=timeout)
    session.note(f"read back {received[0]} of {size} bytes of echo while sending")
