"""``sockviz serve --watch``: the course's server side (socket, bind, listen, accept...)."""

from __future__ import annotations

from sockviz.core import phrases
from sockviz.lessons import header, literal, program

FILENAME = "chat_server.py"
RECV_SIZE = 1024


def code(command: str, host: str, port: int) -> str:
    """One select() loop: accept() TCP clients, echo and relay what each sends to all;
    answer each UDP datagram to its sender (the chat server's rules, sockviz.lab.chatserver)."""
    v6 = ":" in host
    family = "socket.AF_INET6" if v6 else "socket.AF_INET"
    # Dual stack: IPv4 clients arrive as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
    dual = "{0}.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)"
    lines = [*header(command), "import select", "import socket", "",
             f"HOTE = {literal(host)}", f"PORT = {port}", "",
             f"serveur = socket.socket({family}, socket.SOCK_STREAM)"]
    if v6:
        lines += [dual.format("serveur")]
    lines += ["serveur.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
              "serveur.bind((HOTE, PORT))",
              "serveur.listen(16)",
              f"udp = socket.socket({family}, socket.SOCK_DGRAM)"]
    if v6:
        lines += [dual.format("udp")]
    listening = phrases.code_listening("{PORT}")
    lines += ["udp.bind((HOTE, PORT))",
              f"print(f{literal(listening)})",
              "clients = []",
              "try:",
              "    while True:",
              "        prets, _, _ = select.select([serveur, udp, *clients], [], [])",
              "        for s in prets:",
              "            if s is serveur:",
              "                client, adresse = serveur.accept()",
              "                clients.append(client)",
              "            elif s is udp:",
              f"                data, adresse = udp.recvfrom({RECV_SIZE})",
              "                udp.sendto(data, adresse)",
              "            else:",
              f"                data = s.recv({RECV_SIZE})",
              "                if not data:",
              "                    clients.remove(s)",
              "                    s.close()",
              "                    continue",
              "                for autre in clients:",
              "                    autre.sendall(data)",
              "finally:",
              "    for client in clients:",
              "        client.close()",
              "    udp.close()",
              "    serveur.close()"]
    return program(lines)
