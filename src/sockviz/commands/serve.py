"""``sockviz serve``: the course chat server; ``--watch`` shows its side of the lesson.

Without ``--watch`` it is the classroom server (sockviz.lab.chatserver: one
asyncio loop, hundreds of clients). With ``--watch`` it is the seed's server
diagram performed call by call (socket, bind, listen, then accept, recv and
send around a select() loop) while the sniffer shows the packets each call
saw: the handshake the kernel completes before accept(), the data, the
teardown. One process, readable rather than fast.
"""

from __future__ import annotations

import select
import socket

from sockviz.commands.common import Refusal, host_addresses, run_live, say
from sockviz.core.scope import Scope
from sockviz.status import ExitStatus

RECV_SIZE = 1024


def run(args, env, argv) -> int:
    if args.watch:
        return _watch(args, env, argv)
    from sockviz.lab.chatserver import format_address, run_forever

    def log(line: str) -> None:
        env.stdout.write(line + "\n")
        env.stdout.flush()

    try:
        run_forever(args.host, args.port, log)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        hint = " (is another server already using it?)" if exc.errno == 98 else ""
        say(env, f"cannot listen on {format_address(args.host, args.port)}: {reason}{hint}")
        return ExitStatus.ERROR
    return ExitStatus.OK


def _families(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _watch(args, env, argv) -> int:
    scope = Scope(dns=False)
    scope.watch_port(args.port)
    scope.local.update(host_addresses())  # so clients' ARP/NDP requests for us are kept

    def body(session) -> int:
        af = _families(args.host)
        fam = "AF_INET6" if af == socket.AF_INET6 else "AF_INET"
        addr = (args.host, args.port)
        tcp, err = session.call("socket", socket.socket, af, socket.SOCK_STREAM,
                                text=f"socket({fam}, SOCK_STREAM)", transport="TCP",
                                result_text=lambda s: f"<socket fd={s.fileno()}>")
        if err:
            raise Refusal(f"socket() failed: {err}", ExitStatus.ERROR)
        if af == socket.AF_INET6:
            # Dual stack: IPv4 clients arrive as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
            tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        session.call("setsockopt", tcp.setsockopt, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1,
                     text="setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)", transport="TCP")
        _, err = session.call("bind", tcp.bind, addr, text=f"bind({addr!r})", transport="TCP")
        if err:
            raise Refusal(f"cannot listen on port {args.port}: {err}", ExitStatus.ERROR)
        session.call("listen", tcp.listen, 16, text="listen(16)", transport="TCP")
        udp, _ = session.call("socket", socket.socket, af, socket.SOCK_DGRAM,
                              text=f"socket({fam}, SOCK_DGRAM)", transport="UDP",
                              result_text=lambda s: f"<socket fd={s.fileno()}>")
        if af == socket.AF_INET6:
            udp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        _, err = session.call("bind", udp.bind, addr, text=f"bind({addr!r})", transport="UDP")
        if err:
            raise Refusal(f"cannot use UDP port {args.port}: {err}", ExitStatus.ERROR)
        session.note(f"listening on port {args.port} (TCP and UDP); connect a client, e.g. "
                     f"sockviz tcp HOST {args.port}; Ctrl-C stops")
        clients: dict[socket.socket, tuple] = {}
        try:
            _serve(session, tcp, udp, clients)
        finally:
            for c in list(clients):
                session.call("close", c.close, text="close()", transport="TCP")
            session.call("close", udp.close, text="close()", transport="UDP")
            session.call("close", tcp.close, text="close()", transport="TCP")
        return ExitStatus.OK

    return run_live(env, args, argv, command="serve", target=f"watch-{args.port}", role="server",
                    scope=scope, body=body)


def _serve(session, tcp, udp, clients) -> None:
    while True:
        ready, _, _ = select.select([tcp, udp, *clients], [], [], 0.5)
        for s in ready:
            if s is tcp:
                result, err = session.call(
                    "accept", tcp.accept, text="accept()", transport="TCP",
                    result_text=lambda r: f"(<socket fd={r[0].fileno()}>, {r[1]!r})")
                if not err:
                    conn, peer = result
                    clients[conn] = peer
            elif s is udp:
                result, err = session.call("recvfrom", udp.recvfrom, RECV_SIZE,
                                           text=f"recvfrom({RECV_SIZE})", transport="UDP")
                if not err:
                    data, peer = result
                    session.call("sendto", udp.sendto, data, peer,
                                 text=f"sendto({data!r}, {peer!r})", transport="UDP")
            else:
                data, err = session.call("recv", s.recv, RECV_SIZE, text=f"recv({RECV_SIZE})",
                                         transport="TCP")
                if err or not data:
                    clients.pop(s, None)
                    session.call("close", s.close, text="close()", transport="TCP")
                    continue
                # The chat: echo to the sender, relay to everybody else.
                for other in list(clients):
                    session.call("sendall", other.sendall, data, text=f"sendall({data!r})",
                                 transport="TCP")
