"""The kernel's own TCP state of a socket, to set beside the one read from the packets.

While the fd is open, ``TCP_INFO`` (its first byte is ``tcpi_state``); after
``close()``, the kernel's socket table (``/proc/net/tcp``, ``tcp6``), which
still holds the connection in FIN-WAIT-2 or TIME-WAIT once the fd is gone.
Linux's numbering (include/net/tcp_states.h), spelled as RFC 9293 spells them.
"""

from __future__ import annotations

import ipaddress
import socket
import struct

LINUX_STATES = {
    1: "ESTABLISHED", 2: "SYN-SENT", 3: "SYN-RECEIVED", 4: "FIN-WAIT-1", 5: "FIN-WAIT-2",
    6: "TIME-WAIT", 7: "CLOSED", 8: "CLOSE-WAIT", 9: "LAST-ACK", 10: "LISTEN", 11: "CLOSING",
    12: "SYN-RECEIVED",  # TCP_NEW_SYN_RECV: a request socket, not yet a full one
}
TCP_INFO = getattr(socket, "TCP_INFO", 11)


def of_socket(sock) -> str | None:
    """The state of an open TCP socket's connection, or None (not TCP, not Linux).

    When a connection reaches TIME-WAIT while its fd is still open (after
    ``shutdown(SHUT_WR)``, the peer's FIN), Linux hands it to a time-wait
    socket and sets the fd's own socket to CLOSE (``tcp_time_wait()`` then
    ``tcp_done()``): TCP_INFO then says CLOSED while the connection is in
    TIME-WAIT. The kernel's table still holds it, found by its local end.
    """
    try:
        raw = sock.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 8)
    except (OSError, ValueError):
        return None
    state = LINUX_STATES.get(raw[0]) if raw else None
    if state == "CLOSED":
        try:
            local = sock.getsockname()
        except OSError:
            return state
        if isinstance(local, tuple) and len(local) >= 2 and local[1]:
            return of_connection((local[0], local[1]), None) or state
    return state


def _address(hexaddr: str) -> str:
    """/proc/net/tcp writes each 32-bit word of the address in host byte order."""
    raw = bytes.fromhex(hexaddr)
    words = b"".join(struct.pack("=I", int.from_bytes(raw[i:i + 4], "big"))
                     for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def _endpoint(text: str) -> tuple[str, int]:
    addr, port = text.split(":")
    return _address(addr), int(port, 16)


def _same(a: tuple[str, int], b: tuple[str, int]) -> bool:
    if a[1] != b[1]:
        return False
    x, y = ipaddress.ip_address(a[0].split("%")[0]), ipaddress.ip_address(b[0].split("%")[0])
    if x.version != y.version:  # an IPv4-mapped IPv6 socket shows in tcp6
        x = getattr(x, "ipv4_mapped", None) or x
        y = getattr(y, "ipv4_mapped", None) or y
    return x == y


def of_connection(local: tuple[str, int], peer: tuple[str, int] | None) -> str | None:
    """The state of the connection ``local``-``peer`` in the kernel's table, or None.

    Without ``peer`` (a socket whose peer is gone: getpeername() fails once it
    is closed), the one connection of ``local``; None if there are several.
    """
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if len(fields) < 4:
                        continue
                    try:
                        here, there = _endpoint(fields[1]), _endpoint(fields[2])
                    except ValueError:
                        continue
                    if _same(here, local) and (peer is None or _same(there, peer)):
                        state = LINUX_STATES.get(int(fields[3], 16))
                        if peer is not None:
                            return state
                        if state != "LISTEN":
                            found.append(state)
        except OSError:
            continue
    return found[0] if len(found) == 1 else None
