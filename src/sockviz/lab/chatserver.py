"""The course chat server's stand-in (``sockviz serve``): TCP and UDP on one port.

- TCP: every chunk a client sends is echoed to it and relayed to every other
  connected client, bytes unchanged. A chunk is what one ``recv`` on the
  server returned; it is written to each client whole, so chunks of different
  senders never interleave inside each other (TCP itself has no message
  boundaries: a sender's ``send`` may arrive in several chunks, or several
  ``send``s in one).
- UDP: every datagram is answered to its sender with the same bytes.

It holds a classroom: one asyncio event loop, no thread per client, so
hundreds of concurrent clients are cheap, and no write ever blocks. Writes
go to each client's own output buffer; nothing is dropped while a client
keeps reading. A client that stops reading cannot stall the others: once its
pending output passes :data:`HIGH_WATER` (1 MiB), the server disconnects it
(abortively, with a RST) and forgets its backlog.

By default it listens on ``::`` with ``IPV6_V6ONLY`` off, so IPv4 clients
arrive as IPv4-mapped addresses (``::ffff:192.0.2.1``); without IPv6 it falls
back to ``0.0.0.0``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import socket
import struct
from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_HOST = "::"
DEFAULT_PORT = 3001
#: Pending output (bytes) past which a client that does not read is disconnected.
HIGH_WATER = 1 << 20
BACKLOG = 1024

Log = Callable[[str], None]


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bind_pair(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """A listening TCP socket and a UDP socket on the same address and port.

    ``host`` '::' (or '') is dual-stack; when IPv6 is unavailable it falls back
    to '0.0.0.0'. ``port`` 0 picks one free for both."""
    if host in ("", "::"):
        candidates = [(socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")]
    else:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        candidates = [(infos[0][0], infos[0][4][0])]
    last: OSError | None = None
    for family, address in candidates:
        for _ in range(20 if port == 0 else 1):
            tcp = udp = None
            try:
                tcp = socket.socket(family, socket.SOCK_STREAM)
                udp = socket.socket(family, socket.SOCK_DGRAM)
                if family == socket.AF_INET6:
                    v6only = 0 if address == "::" else 1
                    for s in (tcp, udp):
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((address, port))
                udp.bind((address, tcp.getsockname()[1]))
                tcp.listen(BACKLOG)
                tcp.setblocking(False)
                udp.setblocking(False)
                return tcp, udp
            except OSError as exc:
                for s in (tcp, udp):
                    if s is not None:
                        s.close()
                last = exc
                if exc.errno == errno.EADDRINUSE and port == 0:
                    continue  # the UDP port was taken: try another pair
                break
        if last is not None and last.errno not in (
            errno.EAFNOSUPPORT,
            errno.EADDRNOTAVAIL,
            errno.EPROTONOSUPPORT,
        ):
            break  # a real error (port in use, permission): do not hide it
    assert last is not None
    raise last


class _TCPClient(asyncio.Protocol):
    def __init__(self, server: ChatServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.peer = "?"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer = format_address(peer[0], peer[1])
        self.server.clients.add(self)

    def data_received(self, data: bytes) -> None:
        # Echo first, then relay; every client (the sender too) gets the chunk whole.
        self.send(data)
        for other in tuple(self.server.clients):
            if other is not self:
                other.send(data)

    def send(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(data)
        if transport.get_write_buffer_size() > HIGH_WATER:
            # Not reading: drop it rather than let its backlog grow (and the others wait).
            if self.server.log:
                self.server.log(f"Disconnected {self.peer}: not reading (over {HIGH_WATER} bytes)")
            self.server.clients.discard(self)
            # SO_LINGER 0: close with a RST and drop what the kernel still holds for
            # it, rather than a FIN queued behind a backlog it will never read.
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()

    # asyncio calls these when this client's pending output crosses the
    # transport's high (64 KiB) and low water marks.
    def pause_writing(self) -> None:
        # Not keeping up with its output: stop reading its input meanwhile, so a
        # client that talks without listening is slowed down by TCP flow control
        # (only itself) instead of flooding everyone.
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.clients.discard(self)
        self.transport = None


class _UDPEcho(asyncio.DatagramProtocol):
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if data:
            self.transport.sendto(data, addr)
        else:
            # An empty datagram is valid (RFC 768) and is echoed too, but Python
            # 3.11's transport.sendto() silently drops empty data: send it ourselves.
            with contextlib.suppress(OSError):
                self.sock.sendto(b"", addr)

    def error_received(self, exc: Exception) -> None:
        pass  # e.g. ICMP port unreachable for an earlier answer


class ChatServer:
    """The server object: :meth:`start`, then :meth:`close`. ``host``/``port``
    are the bound ones once started (port 0 becomes a real port)."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log: Log | None = None):
        self.host, self.port, self.log = host, port, log
        self.clients: set[_TCPClient] = set()
        self._server: asyncio.base_events.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None

    @property
    def display(self) -> str:
        return format_address(self.host, self.port)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        tcp, udp = _bind_pair(self.host, self.port)
        self.host, self.port = tcp.getsockname()[:2]
        try:
            self._udp, _ = await loop.create_datagram_endpoint(lambda: _UDPEcho(udp), sock=udp)
            self._server = await loop.create_server(lambda: _TCPClient(self), sock=tcp)
        except BaseException:
            tcp.close()
            udp.close()
            raise

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for client in tuple(self.clients):
            if client.transport is not None:
                client.transport.abort()
        self.clients.clear()
        if self._udp is not None:
            self._udp.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)


async def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    ready: asyncio.Event | None = None,
    log: Log | None = None,
) -> None:
    """Run the chat server until cancelled. Logs one line through ``log``
    once listening, then only disconnections of clients that stopped reading."""
    server = ChatServer(host, port, log)
    await server.start()
    try:
        if log:
            log(f"Chat server listening on {server.display} (TCP and UDP)")
        if ready is not None:
            ready.set()
        await asyncio.Future()
    finally:
        await server.close()


def run_in_thread(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    netns_host: Any = None,
    log: Log | None = None,
) -> Any:
    """Start the server on its own loop in a thread (inside ``netns_host``'s
    network namespace when given). Returns a
    :class:`sockviz.lab.services.ServiceHandle` with ``.stop()``, ``.port``."""
    from sockviz.lab.services import run_service_thread

    async def amain(started: Callable[[Sequence[str], int], None], stop: asyncio.Event) -> None:
        server = ChatServer(host, port, log)
        await server.start()
        try:
            started([server.host], server.port)
            await stop.wait()
        finally:
            await server.close()

    return run_service_thread("sockviz-chat", amain, netns_host)


def run_forever(host: str, port: int, log: Log) -> None:
    """``sockviz serve``: listen, log one line, serve until Ctrl-C, return cleanly.

    Raises OSError when the port cannot be bound (e.g. in use)."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(host, port, log=log))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sockviz.lab.chatserver",
        description="Chat server: TCP echo + relay to the other clients, UDP echo.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    try:
        run_forever(args.host, args.port, lambda line: print(line, flush=True))
    except OSError as exc:
        parser.exit(
            1,
            f"error: cannot listen on {format_address(args.host, args.port)}: "
            f"{exc.strerror or exc}\n",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
