"""The resolver's configuration files, read as glibc reads them (pure parsing).

/etc/hosts (hosts(5)), /etc/resolv.conf (resolv.conf(5)), /etc/nsswitch.conf
(nsswitch.conf(5)) and /etc/services (services(5)): they decide whether
getaddrinfo() sends any packet at all.
"""

from __future__ import annotations

import ipaddress


def _lines(text: str):
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield line.split()


def hosts_lookup(name: str, text: str) -> list[str]:
    """Addresses /etc/hosts gives ``name`` (names compare case-insensitively)."""
    wanted = name.rstrip(".").lower()
    return [fields[0] for fields in _lines(text)
            if len(fields) > 1 and wanted in (n.lower() for n in fields[1:])]


def nameservers(text: str) -> list[str]:
    """The ``nameserver`` lines of resolv.conf, in order (glibc uses up to three)."""
    return [f[1] for f in _lines(text) if f[0] == "nameserver" and len(f) > 1][:3]


def nsswitch_hosts(text: str) -> list[str]:
    """The sources of the ``hosts:`` database, without [action] items."""
    for fields in _lines(text):
        if fields[0] == "hosts:":
            return [f for f in fields[1:] if not f.startswith("[")]
    return ["files", "dns"]  # glibc's default when the line is missing


def service_port(service: str, text: str, proto: str | None = None) -> int | None:
    """A service name (or alias) to its port, as /etc/services maps it."""
    if service.isdigit():
        return int(service)
    for fields in _lines(text):
        if len(fields) < 2 or "/" not in fields[1]:
            continue
        port, _, p = fields[1].partition("/")
        if proto and p != proto:
            continue
        if service == fields[0] or service in fields[2:]:
            try:
                return int(port)
            except ValueError:
                return None
    return None


def reverse_name(address: str) -> str:
    """The PTR name of an address: in-addr.arpa (RFC 1035 §3.5) or ip6.arpa (RFC 3596 §2.5)."""
    return ipaddress.ip_address(address.split("%", 1)[0]).reverse_pointer + "."
