"""Addresses as the commands meet them: a literal (nothing to resolve), and this host's own."""

from __future__ import annotations

import ipaddress


def literal_family(host: str) -> int | None:
    """4 or 6 when ``host`` is an address literal (nothing to resolve), else None."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).version
    except ValueError:
        return None


def host_addresses() -> set[str]:
    """Every address of this network namespace (``ip -o addr``), for a server's scope."""
    import subprocess

    try:
        out = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True,
                             timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    found = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[2] in ("inet", "inet6"):
            found.add(fields[3].split("/")[0])
    return found
