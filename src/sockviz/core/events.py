"""The two kinds of event sockviz deals in: an API call and a captured packet.

Frozen, keyword-only dataclasses (after h11's ``_events.py``): an event is a
fact that happened, never something to mutate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Only for the annotations (strings here): a lesson imports these events before the
# capture process starts, and the decoder and typing load behind that start (issue 12).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sockviz.core.decode import Decoded


@dataclass(frozen=True, kw_only=True, slots=True)
class Call:
    """One socket API call as the lesson performed it.

    ``text`` is the call as Python source (``connect(('192.0.2.2', 3001))``) and
    ``result_text`` its result as ``repr`` shows it, so that a call restored
    from a capture file's comments reads exactly as it did live.
    """

    id: int
    name: str
    text: str
    args: tuple[Any, ...] = ()
    start: float
    end: float | None = None
    result: Any = None
    result_text: str | None = None
    error: str | None = None
    note: str | None = None
    transport: str | None = None  # 'TCP', 'UDP' or 'DNS': what kind of socket or lookup
    # Flow hints: the socket's endpoints once the call knows them, so packets
    # can be tied to the call's connection (``(address, port)``).
    local: tuple[str, int] | None = None
    peer: tuple[str, int] | None = None
    # Where the call came from, for a traced program: the innermost frame of the
    # program's own code (file, line, text), the socket's fd, the thread's name,
    # the call it was made inside (create_connection -> connect), the notebook cell.
    source: tuple[str, int, str] | None = None
    socket: int | None = None
    thread: str | None = None
    parent: int | None = None
    cell: int | None = None
    tcp_state: str | None = None  # the kernel's state of a TCP socket when the call returned

    @property
    def duration(self) -> float | None:
        return None if self.end is None else self.end - self.start


@dataclass(frozen=True, kw_only=True, slots=True)
class Packet:
    """One captured frame: capture metadata, raw bytes, decoded header fields.

    ``direction`` is what the capture itself knows ('out', 'in' or None: a
    classic pcap, or loopback where each packet is both); the correlator
    infers the rest.
    """

    index: int
    time: float
    iface: str
    direction: str | None
    linktype: int
    wirelen: int
    data: bytes = field(repr=False)
    decoded: Decoded
    comments: tuple[str, ...] = ()
    time_ns: int = 0  # the exact stamp, when the source has it (pcapng keeps nanoseconds)


# The calls that look names up: the resolver functions, and the helpers that call
# getaddrinfo() (socket.py: create_connection, create_server).
RESOLVERS = frozenset({"getaddrinfo", "getnameinfo", "gethostbyname", "gethostbyname_ex",
                       "gethostbyaddr"})
LOOKS_UP = RESOLVERS | {"create_connection", "create_server"}


def asked_names(call: Call) -> tuple[str, ...] | None:
    """The names ``call`` may ask the DNS about (as on the wire: lower case, no final dot);
    None: some it cannot tell (``gethostbyaddr`` of a name asks for the PTR of an
    address it finds).

    A resolver's name or address is its first argument; ``create_connection`` and
    ``create_server`` look their address up; and CPython resolves a host name given
    where an address goes (``connect(('chat.example', 3001))``, ``sendto``, ``bind``)
    inside the call (Modules/socketmodule.c, setipaddr(): getaddrinfo).
    """
    name, args = call.name, call.args
    if name in LOOKS_UP:
        first = args[0] if args else _UNKNOWN
        if name in ("create_connection", "create_server"):
            first = first[0] if type(first) in (tuple, list) and first else _UNKNOWN
        elif name == "getnameinfo":
            first = _reverse(first[0]) if type(first) in (tuple, list) and first else _UNKNOWN
        elif name == "gethostbyaddr" and type(first) is str:
            reverse = _reverse(first)
            return (reverse,) if reverse else None
        if first is None:
            return ()
        host = _wire_name(first)
        if host is None:
            return None
        return () if is_numeric_host(host) and name != "getnameinfo" else (host,)
    hosts = []
    for arg in args:
        if type(arg) in (tuple, list) and len(arg) >= 2 and type(arg[0]) in (str, bytes):
            host = _wire_name(arg[0])
            if host is None:
                return None
            if not is_numeric_host(host):
                hosts.append(host)
    return tuple(hosts)


def _wire_name(host) -> str | None:
    """A host argument as the DNS question carries it, or None when it cannot be told.

    CPython encodes a ``str`` host with the ``idna`` codec before resolving it
    (socketmodule.c, idna_converter: ``bücher.example`` is asked as
    ``xn--bcher-kva.example``) and takes a ``bytes`` one as it is.
    """
    try:
        if type(host) is str:
            host = host.encode("idna") if not host.isascii() else host.encode()
        if type(host) is not bytes:
            return None
        return _plain(host.decode("ascii"))
    except UnicodeError:
        return None


def asks(names: tuple[str, ...] | None, question: str | None) -> bool:
    """May a call that asks about ``names`` (see asked_names) have sent a query for
    ``question`` (None: a message whose question cannot be read)? The stub resolver may
    try the name under each domain of its search list first (resolv.conf(5): search)."""
    if names is None:
        return True
    if not names:
        return False
    if question is None:
        return True
    q = _plain(question)
    return any(q == n or q.startswith(n + ".") for n in names)


_UNKNOWN = object()
_MAPPED, _TUNNELLED = b"\0" * 10 + b"\xff\xff", b"\0" * 12


def _plain(name: str) -> str:
    return name.rstrip(".").lower()


def _reverse(address) -> str | None:
    """The name in the reverse tree under which the PTR of ``address`` lives (RFC 1035
    §3.5, RFC 3596 §2.5), or None when it is no address."""
    import ipaddress

    if type(address) is not str:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    # An IPv4-mapped address (::ffff:192.0.2.7), or an IPv4-compatible one (::192.0.2.7,
    # not ::1), is asked for as the IPv4 address it holds: glibc's resolver unmaps them
    # (resolv/nss_dns/dns-host.c, _nss_dns_gethostbyaddr2_r: "mapped", "tunnelled").
    if ip.version == 6:
        packed = ip.packed
        if packed[:12] in (_MAPPED, _TUNNELLED) and packed != _TUNNELLED + b"\0\0\0\1":
            ip = ipaddress.IPv4Address(packed[12:])
    return ip.reverse_pointer


def is_numeric_host(host: str) -> bool:
    """An address written as numbers, which CPython passes on without a lookup (so do
    "", any address, and "<broadcast>": Modules/socketmodule.c, setipaddr())."""
    if host == "" or host == "<broadcast>":
        return True
    import ipaddress  # the core opens no socket: no socket module here (test_core_purity)

    try:
        ipaddress.ip_address(host.split("%", 1)[0])  # fe80::1%eth0: the zone is no name
    except ValueError:
        return False
    return True
