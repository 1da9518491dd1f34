"""``sockviz resolve``: getaddrinfo() on a name, getnameinfo() on an address."""

from __future__ import annotations

from sockviz.lessons import header, literal, program

FILENAME = "resolution.py"


def getaddrinfo_code(command: str, name: str, service: str | int | None, *,
                     family: int | None, kind: str | None) -> str:
    """``socket.getaddrinfo(name, service, ...)`` and each tuple it returns, printed."""
    args = [literal(name), "None" if service is None else
            (str(service) if isinstance(service, int) else literal(service))]
    if family:
        args.append(f"family=socket.AF_INET{'6' if family == 6 else ''}")
    if kind:
        args.append(f"type=socket.SOCK_{'STREAM' if kind == 'stream' else 'DGRAM'}")
    return program([*header(command), "import socket", "",
                    f"for info in socket.getaddrinfo({', '.join(args)}):",
                    "    print(info)"])


def getnameinfo_code(command: str, address: str, port: int) -> str:
    """``socket.getnameinfo((address, port), 0)``, printed."""
    return program([*header(command), "import socket", "",
                    f"print(socket.getnameinfo(({literal(address)}, {port}), 0))"])
