"""The built-in lessons as the plain socket programs they run.

Each module writes its lesson's program from the command's arguments, in the
course's own style (``SERVEUR``, ``PORT``, ``data = s.recv(1024)``,
``print(data)``): the text ``--code`` prints is the text sockviz runs, line for
line, so each call's place in the view (``tcp_client.py:9``) is a line of it.
"""

from __future__ import annotations

from sockviz.core import phrases


def literal(text: str) -> str:
    """A Python string literal for ``text``, in double quotes as the course writes them."""
    r = repr(text)
    if r.startswith("'") and '"' not in text:
        r = '"' + r[1:-1].replace("\\'", "'") + '"'
    return r


def header(command: str) -> list[str]:
    """The program's first lines: the command it comes from."""
    return [f"# {command}", f"# {phrases.code_header()}", ""]


def family_of(host: str, family: int | None) -> str:
    """The socket family the program asks for: the address's own, else -6's, else the
    course's AF_INET (a name is then resolved to an IPv4 address inside the call)."""
    from sockviz.addresses import literal_family

    lit = literal_family(host)
    return "socket.AF_INET6" if (lit or family) == 6 else "socket.AF_INET"


def program(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"
