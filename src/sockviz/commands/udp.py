"""``sockviz udp HOST PORT``: the seed's UDP client, each call for real.

getaddrinfo (when HOST is a name), socket(SOCK_DGRAM), then sendto() and
recvfrom(1024) for each message, close(). With ``--connect``: connect(),
send(), recv(), to show how a connected socket hears ICMP errors.
"""

from __future__ import annotations

import socket
import time

from sockviz.commands.client import client_socket, messages
from sockviz.commands.common import (
    Refusal,
    literal_family,
    run_live,
)
from sockviz.core.scope import Scope
from sockviz.status import ExitStatus

RECV_SIZE = 1024  # the seed's recvfrom(1024)
ICMP_GRACE = 0.3  # seconds: an ICMP error may still be on its way after the last call


def _payloads(env, args):
    if args.size is not None:
        pattern = b"sockviz " * (args.size // 8 + 1)
        yield pattern[: args.size]
        return
    for text in messages(env, args):
        yield text.encode()


def run(args, env, argv) -> int:
    scope = Scope(dns=literal_family(args.host) is None)

    def body(session) -> int:
        sock, addr = client_socket(session, scope, args, socket.SOCK_DGRAM)
        status = ExitStatus.OK
        target = (addr[0], args.port)
        try:
            if args.connect:
                _, err = session.call("connect", sock.connect, target, text=f"connect({target!r})",
                                      transport="UDP", peer=target, local=sock.getsockname)
                if err is not None:
                    raise Refusal(f"connect() failed: {err}", ExitStatus.CALL_FAILED)
            for data in _payloads(env, args):
                status = max(status, _exchange(session, sock, data, target, args))
        finally:
            time.sleep(ICMP_GRACE)
            session.call("close", sock.close, text="close()", transport="UDP")
        return status

    return run_live(env, args, argv, command="udp", target=f"{args.host}-{args.port}",
                    role="client", scope=scope, body=body)


def _shown(data: bytes) -> str:
    return repr(data) if len(data) <= 48 else f"<{len(data)} bytes>"


def _exchange(session, sock, data: bytes, target, args) -> int:
    if args.connect:
        _, err = session.call("send", sock.send, data, text=f"send({_shown(data)})",
                              transport="UDP")
    else:
        _, err = session.call("sendto", sock.sendto, data, target,
                              text=f"sendto({_shown(data)}, {target!r})", transport="UDP")
    if err is not None:
        if isinstance(err, OSError) and err.errno == 90:  # EMSGSIZE
            session.note(f"{len(data)} bytes do not fit in one UDP datagram "
                         "(at most 65,507 over IPv4, 65,527 over IPv6: the IP length field is 16 bits)")
        elif isinstance(err, ConnectionRefusedError):
            session.note("an earlier ICMP port unreachable was waiting on the connected socket: "
                         "this call reports it as ConnectionRefusedError")
        return ExitStatus.CALL_FAILED
    if args.connect:
        reply, err = session.call("recv", sock.recv, RECV_SIZE, text=f"recv({RECV_SIZE})",
                                  transport="UDP", result_text=_shown)
    else:
        reply, err = session.call("recvfrom", sock.recvfrom, RECV_SIZE,
                                  text=f"recvfrom({RECV_SIZE})", transport="UDP",
                                  result_text=lambda r: f"({_shown(r[0])}, {r[1]!r})")
    if err is None:
        got = reply if args.connect else reply[0]
        if len(got) == RECV_SIZE and len(data) > RECV_SIZE:
            session.note(f"recvfrom({RECV_SIZE}) returned only the first {RECV_SIZE} bytes: the rest "
                         "of the datagram is discarded, never returned by a later call")
        return ExitStatus.OK
    if isinstance(err, TimeoutError):
        session.note(f"recvfrom() gave up after {args.timeout:g} s (the --timeout)")
    return ExitStatus.CALL_FAILED
