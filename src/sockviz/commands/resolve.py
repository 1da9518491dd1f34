"""``sockviz resolve NAME [SERVICE]`` / ``sockviz resolve ADDRESS [PORT]``.

getaddrinfo() on a name, or getnameinfo() on an address literal, performed
for real with the sniffer on every interface (a stub resolver on 127.0.0.53
talks over loopback), and where the answer came from: /etc/hosts, a numeric
address, /etc/services, or the DNS server of resolv.conf.
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
    run_live,
    say,
)
from sockviz.core.resolver_files import (
    hosts_lookup,
    nameservers,
    nsswitch_hosts,
    reverse_name,
    service_port,
)
from sockviz.core.scope import Scope
from sockviz.status import ExitStatus


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _with_timeout(fn, timeout: float):
    """Run a resolver call, but stop waiting after ``timeout`` (it keeps retrying inside glibc)."""

    def call(*args):
        box: dict = {}

        def work() -> None:
            try:
                box["result"] = fn(*args)
            except BaseException as exc:  # handed back to the caller's thread
                box["error"] = exc

        t = threading.Thread(target=work, daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            raise TimeoutError(f"no answer within {timeout:g} s (sockviz stopped waiting; "
                               "the resolver may still be retrying)")
        if "error" in box:
            raise box["error"]
        return box["result"]

    return call


def run(args, env, argv) -> int:
    scope = Scope(dns=True)
    hosts_text = _read("/etc/hosts")
    resolv_text = _read("/etc/resolv.conf")
    order = nsswitch_hosts(_read("/etc/nsswitch.conf"))
    servers = nameservers(resolv_text)
    for server in servers:
        scope.watch(server, 53)

    def body(session) -> int:
        session.note(f"the resolver (glibc) follows /etc/nsswitch.conf, hosts: {' '.join(order)}; "
                     f"its DNS server{'s' if len(servers) != 1 else ''} (/etc/resolv.conf): "
                     f"{', '.join(servers) or 'none (it would ask 127.0.0.1)'}")
        if literal_family(args.name) is not None and not args.getaddrinfo:
            return _getnameinfo(session, args, env)
        return _getaddrinfo(session, args, env, hosts_text, order)

    return run_live(env, args, argv, command="resolve", target=args.name, role="client",
                    scope=scope, body=body)


def _getaddrinfo(session, args, env, hosts_text: str, order: list[str]) -> int:
    af = family_constant(args.family)
    kind = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM}.get(args.type or "", 0)
    service = args.service
    port = None
    if service is not None:
        port = service_port(service, _read("/etc/services"))
        if port is None and not service.isdigit():
            raise Refusal(f"the service {service!r} is not in /etc/services; give a port number "
                          "instead", ExitStatus.BAD_HOST)
    parts = [repr(args.name), repr(service)]
    if af != socket.AF_UNSPEC:
        parts.append(f"family={family_name(af)}")
    if kind:
        parts.append(f"type={'SOCK_STREAM' if kind == socket.SOCK_STREAM else 'SOCK_DGRAM'}")
    text = f"getaddrinfo({', '.join(parts)})"
    from_hosts = hosts_lookup(args.name, hosts_text)

    def note(result) -> str | None:
        bits = []
        if literal_family(args.name) is not None:
            bits.append(f"{args.name} is already an address: getaddrinfo() only converts the "
                        "text (as inet_pton does), nothing to resolve, no packet")
        elif from_hosts and order and order[0] == "files":
            bits.append(f"{args.name} is in /etc/hosts ({', '.join(from_hosts)}), and nsswitch "
                        "looks in 'files' first: answered without a single packet")
        if service is not None and not service.isdigit() and port is not None:
            bits.append(f"the service {service!r} became port {port} through /etc/services "
                        "(a file: no packet)")
        return "; ".join(bits) or None

    fn = _with_timeout(socket.getaddrinfo, args.timeout)
    infos, err = session.call("getaddrinfo", fn, args.name, service, af, kind,
                              text=text, transport="DNS", result_text=addrinfo_text, note=note)
    if err is not None:
        if isinstance(err, socket.gaierror):
            session.note(_gai_meaning(err))
            say(env, f"getaddrinfo() failed for {args.name!r}: {err.strerror}")
            return ExitStatus.BAD_HOST
        say(env, f"getaddrinfo() failed for {args.name!r}: {err}")
        return ExitStatus.CALL_FAILED
    _print_table(session, env, args, infos)
    return ExitStatus.OK


def _gai_meaning(err: socket.gaierror) -> str:
    meanings = {
        socket.EAI_NONAME: "EAI_NONAME: the DNS server answered that the name does not exist "
        "(NXDOMAIN), or it has no address of the family asked for",
        socket.EAI_AGAIN: "EAI_AGAIN: no DNS server gave an answer in time (see the retries "
        "above); a temporary failure, try again later",
        socket.EAI_SERVICE: "EAI_SERVICE: the service is not known for this socket type",
    }
    if hasattr(socket, "EAI_NODATA"):
        meanings[socket.EAI_NODATA] = "EAI_NODATA: the name exists but has no address"
    return meanings.get(err.errno, f"socket.gaierror {err.errno}: {err.strerror}")


def _print_table(session, env, args, infos) -> None:
    """The list getaddrinfo() returned, as the seed shows it: one row per tuple."""
    if args.json:
        return
    from rich.table import Table

    from sockviz.commands.common import proto_name, type_name
    from sockviz.render.view import Trimmed

    # session.call() returned once the call was shown: the table comes after it.
    table = Table(title="getaddrinfo() returned (family, type, proto, canonname, sockaddr)",
                  title_justify="left", header_style="bold")
    for col in ("family", "type", "proto", "canonname", "sockaddr"):
        table.add_column(col)
    for f, t, p, c, sa in infos:
        table.add_row(family_name(f), type_name(t), f"{p} ({proto_name(p)})", repr(c), repr(sa))
    env.console.print(Trimmed(table))  # its title is padded to the table's width


def _getnameinfo(session, args, env) -> int:
    address = args.name
    port = int(args.service) if args.service and args.service.isdigit() else 0
    if args.service and not args.service.isdigit():
        raise Refusal(f"with an address, give a port number, not {args.service!r}",
                      ExitStatus.USAGE)
    lit = literal_family(address)
    sockaddr = (address, port) if lit == 4 else (address, port, 0, 0)
    ptr = reverse_name(address)

    def note(result) -> str | None:
        if result is None:  # the call failed (EAI_AGAIN...): its lesson says why
            return None
        host, _service = result
        if host == address.split("%")[0] or host == address:
            return (f"no name for {address}: the PTR query for {ptr} found nothing, and "
                    "without the NI_NAMEREQD flag getnameinfo() returns the address itself as text")
        return f"{address} → {host}: the PTR record of {ptr}"

    session.note(f"getnameinfo() asks DNS for the PTR record of {ptr} (the reverse tree: "
                 f"{'in-addr.arpa, RFC 1035 §3.5' if lit == 4 else 'ip6.arpa, RFC 3596 §2.5'})")
    fn = _with_timeout(socket.getnameinfo, args.timeout)
    _, err = session.call("getnameinfo", fn, sockaddr, 0, text=f"getnameinfo({sockaddr!r}, 0)",
                               transport="DNS", note=note)
    if err is not None:
        say(env, f"getnameinfo() failed for {address}: {err}")
        return ExitStatus.CALL_FAILED
    return ExitStatus.OK
