"""``sockviz tcp``: the course's TCP client (socket, connect, send, recv, close)."""

from __future__ import annotations

from sockviz.core import phrases
from sockviz.lessons import family_of, header, literal, program

FILENAME = "tcp_client.py"
BLOCK = 1024 * 1024  # the bulk program sends one reused 1 MiB block at a time


def code(command: str, host: str, port: int, *, family: int | None, timeout: float,
         messages: list[str] | None, typed: bool, send_bytes: int | None = None) -> str:
    """The program: ``messages`` sent one by one, or (None) the lines typed (``typed``) or piped."""
    lines = header(command)
    lines += ["import socket"]
    if messages is None and not typed:
        lines += ["import sys"]
    if send_bytes:
        lines += ["import threading"]
    lines += ["", f"SERVEUR = {literal(host)}", f"PORT = {port}"]
    if send_bytes:
        lines += [f"TAILLE = {send_bytes}", "recu = 0", "",
                  "",
                  "def lire_echo():",
                  "    global recu",
                  f"    tampon = bytearray({BLOCK})",
                  "    try:",
                  "        while recu < TAILLE:",
                  "            n = s.recv_into(tampon)",
                  "            if n == 0:",
                  "                break",
                  "            recu += n",
                  "    except OSError:",
                  "        pass",
                  "", ""]
    else:
        lines += [""]
    lines += [f"with socket.socket({family_of(host, family)}, socket.SOCK_STREAM) as s:",
              f"    s.settimeout({float(timeout)!r})",
              "    s.connect((SERVEUR, PORT))"]
    if send_bytes:
        read_back = phrases.code_echo_read("{recu}", "{TAILLE}")
        lines += ['    lecteur = threading.Thread(target=lire_echo, name="lecteur", daemon=True)',
                  "    lecteur.start()",
                  "    bloc = bytes(range(256)) * 4096",
                  "    for i in range(TAILLE // len(bloc)):",
                  "        s.sendall(bloc)",
                  "    if TAILLE % len(bloc):",
                  "        s.sendall(bloc[:TAILLE % len(bloc)])",
                  f"    lecteur.join({float(timeout)!r})",
                  f"    print(f{literal(read_back)})"]
    if messages is not None:
        for text in messages:
            lines += [f"    s.send({literal(text)}.encode())",
                      "    data = s.recv(1024)",
                      "    print(data)"]
    elif typed:
        lines += ["    while True:",
                  "        try:",
                  f"            message = input({literal(phrases.code_prompt())})",
                  "        except EOFError:",
                  "            break",
                  "        if not message:",
                  "            break",
                  "        s.send(message.encode())",
                  "        data = s.recv(1024)",
                  "        print(data)"]
    else:
        lines += ["    for ligne in sys.stdin:",
                  '        s.send(ligne.rstrip("\\n").encode())',
                  "        data = s.recv(1024)",
                  "        print(data)"]
    return program(lines)
