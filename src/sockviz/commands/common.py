"""What every capturing command shares: rights, the capture path, renderers, a run."""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shlex
import socket
import sys

from sockviz.core import phrases
from sockviz.environment import Environment
from sockviz.status import ExitStatus


class Refusal(Exception):
    """Bad input or an unusable situation: one sentence for the user, one status."""

    def __init__(self, sentence: str, status: ExitStatus) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.status = status


def say(env: Environment, sentence: str) -> None:
    """One plain sentence on stderr (never a traceback)."""
    env.stderr.write(phrases.sentence_prefix().format(sentence=sentence) + "\n")
    env.stderr.flush()


def require_capture_rights(argv: list[str]) -> None:
    """Refuse, with the command to run instead, unless a packet socket can be opened."""
    from sockviz.sources.live import have_capture_rights

    if have_capture_rights():
        try:
            socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
        except PermissionError:
            # Root without CAP_NET_RAW: a restricted container.
            raise Refusal(phrases.no_packet_socket(), ExitStatus.NEED_ROOT) from None
    else:
        command = shlex.join(["sudo", sys.executable, "-m", "sockviz", *argv])
        raise Refusal(phrases.capture_needs_root(command), ExitStatus.NEED_ROOT)


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


def default_capture_path(command: str, target: str) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", target).strip("_") or "run"
    return os.path.join("captures", f"{command}-{safe}-{stamp}.pcapng")


def capture_path(args, command: str, target: str) -> str | None:
    if getattr(args, "no_save", False):
        return None
    path = getattr(args, "save", None) or default_capture_path(command, target)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise Refusal(phrases.cannot_create_capture_folder(folder, exc.strerror),
                      ExitStatus.ERROR) from None
    if not os.access(folder, os.W_OK):
        raise Refusal(phrases.cannot_write_capture(folder), ExitStatus.ERROR)
    return path


def output_file(path: str | None, kind: str) -> str | None:
    """``path`` if a file can be written there, else a Refusal that says why.

    ``kind``: 'svg' or 'html' (what the sentences call it: phrases.OUTPUTS).
    """
    if path is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        example = os.path.join(path, f"run.{kind}")
        raise Refusal(phrases.output_is_a_folder(path, kind, example), ExitStatus.CANNOT_WRITE)
    if not os.path.isdir(folder):
        raise Refusal(phrases.output_folder_missing(folder, kind), ExitStatus.CANNOT_WRITE)
    if not os.access(folder, os.W_OK):
        raise Refusal(phrases.cannot_write_output(folder, kind), ExitStatus.CANNOT_WRITE)
    return path


class DiagramSink:
    """The ladder: drawn on the terminal (``--ladder``) and/or written (``--svg``, ``--html``)."""

    def __init__(self, env: Environment, args) -> None:
        from sockviz.render.ladder import LadderSink

        self.env = env
        self.svg = output_file(getattr(args, "svg", None), "svg")
        self.html = output_file(getattr(args, "html", None), "html")
        self.ladder = LadderSink(env.console if getattr(args, "ladder", False) else None,
                                 conversation=getattr(args, "conversation", None))

    def handle(self, entry) -> None:
        self.ladder.handle(entry)

    def close(self) -> None:
        self.ladder.close()
        for path, draw in ((self.svg, self.ladder.to_svg), (self.html, self.ladder.to_html)):
            if path:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(draw())
                say(self.env, phrases.diagram_written(path))


def wants_diagram(args) -> bool:
    return bool(getattr(args, "ladder", False) or getattr(args, "svg", None)
                or getattr(args, "html", None))


def make_sinks(env: Environment, *, json_output: bool, path: str | None, meta: dict,
               args=None) -> list:
    sinks: list = []
    diagram = args is not None and wants_diagram(args)
    if diagram:
        sinks.append(DiagramSink(env, args))
    if json_output:
        from sockviz.render.jsonlines import JsonLinesSink

        sinks.append(JsonLinesSink(env.stdout))
    elif not (diagram and getattr(args, "ladder", False)):
        from sockviz.render.console import ConsoleSink

        sinks.append(ConsoleSink(env.console, layout=getattr(args, "layout", None)))
    if path:
        from sockviz.render.capture_file import CaptureFileSink

        sinks.append(CaptureFileSink(path, meta))
    return sinks


def open_capture(env: Environment, argv: list[str]):
    """The capture process, started, and the queue it feeds; then root is given up.

    Under sudo everything after this runs as the invoking user: the lesson's
    calls, the renderers and every file written. Returns ``(sniffer, queue)``;
    ``await_capture`` then waits for it to listen (meanwhile the caller makes its
    renderers: the two start-ups overlap).
    """
    import queue

    from sockviz import privileges
    from sockviz.sources.live import CaptureFailed, CaptureNotPermitted, Sniffer

    require_capture_rights(argv)
    user = privileges.invoking_user(env.environ)
    frames: queue.SimpleQueue = queue.SimpleQueue()
    try:
        sniffer = Sniffer(frames, ring_mb=env.ring_mb, use_ring=env.use_ring, drop_to=user,
                          wait=False)
    except CaptureNotPermitted:
        require_capture_rights(argv)  # says why, with the command to run
        raise
    except CaptureFailed as exc:
        raise Refusal(phrases.capture_could_not_start(str(exc)), ExitStatus.ERROR) from None
    # What every capturing command goes on to use, imported behind the capture
    # process's start (the two start-ups overlap) and before root is given up
    # (an interpreter installed for root alone cannot be read after).
    try:
        import sockviz.core.dnsinfo
        import sockviz.session  # noqa: F401

        if user is not None:
            privileges.drop_to(user, env.environ)
    except BaseException:
        sniffer.stop()
        raise
    return sniffer, frames


def await_capture(sniffer, argv: list[str]) -> None:
    """Wait for the capture process to listen, or say in one sentence why it cannot."""
    from sockviz.sources.live import CaptureFailed, CaptureNotPermitted

    try:
        sniffer.wait_ready()
    except CaptureNotPermitted:
        require_capture_rights(argv)  # says why, with the command to run
        raise
    except CaptureFailed as exc:
        raise Refusal(phrases.capture_could_not_start(str(exc)), ExitStatus.ERROR) from None

