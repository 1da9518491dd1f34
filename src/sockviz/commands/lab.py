"""``sockviz lab shell``: a shell on the lab's client host, the course server beside it.

The lab is two network namespaces joined by a veth pair: the client
(192.0.2.1, 2001:db8::1) and the server chat.sockviz.test (192.0.2.2,
2001:db8::2) with the chat server on port 3001 and a DNS server. It is
removed when the shell exits, on error and on Ctrl-C; a later run removes what
a killed run left.
"""

from __future__ import annotations

import os
import shutil

from sockviz.commands.common import Refusal
from sockviz.status import ExitStatus


def open_lab(*, dns: bool = True, chat: bool = True):
    """The lab, up, or a Refusal saying why it cannot be."""
    from sockviz.lab import netns

    if os.geteuid() != 0:
        import shlex
        import sys

        raise Refusal("the lab builds network namespaces, which needs root; run it as: "
                      + shlex.join(["sudo", sys.executable, "-m", "sockviz", *sys.argv[1:]]),
                      ExitStatus.NEED_ROOT)
    ok, why = netns.available()
    if not ok:
        raise Refusal(f"cannot build the lab here: {why}", ExitStatus.ERROR)
    lab = netns.Lab(dns=dns, chat=chat, handle_signals=True)
    try:
        lab.up()
    except netns.LabError as exc:
        raise Refusal(f"cannot build the lab: {exc}", ExitStatus.ERROR) from None
    return lab


BANNER = """\
You are on the lab's client host: 192.0.2.1 and 2001:db8::1.
The course server is chat.sockviz.test (192.0.2.2, 2001:db8::2): chat server on
port 3001 (TCP and UDP) and a DNS server that knows the sockviz.test names.
Try the seed's own code, or sockviz:
    python3 -c "import socket; print(socket.getaddrinfo('chat.sockviz.test', 3001))"
    sockviz tcp chat.sockviz.test 3001 --send "Test en classe"
    sockviz udp chat.sockviz.test 3001 --send "Test en classe"
    sockviz resolve 2001:db8::2 80
Type exit (or Ctrl-D) to leave: the lab is then removed.
"""


def run(args, env, argv) -> int:
    lab = open_lab()
    try:
        env.stdout.write(BANNER)
        env.stdout.flush()
        shell = os.environ.get("SHELL") or shutil.which("bash") or "/bin/sh"
        argv_shell = [shell]
        if os.path.basename(shell) == "bash":
            argv_shell = [shell, "--norc", "-i"]
        child_env = {**os.environ, "PS1": "(sockviz lab) \\w# ", "SOCKVIZ_LAB": lab.lab_id}
        return lab.client.interactive(argv_shell, env=child_env)
    finally:
        lab.down()
