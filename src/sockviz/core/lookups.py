"""Which names a socket call looks up: what a traced program's DNS queries ask.

glibc's stub resolver asks from a socket of its own inside the program's
process, which the program never sees; the scope (core/scope.py) keeps a
query when a call running asks for its name.
"""

from __future__ import annotations

from sockviz.core.events import Call

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
