"""A capturing command's start: the right to capture, the capture process, then root given up."""

from __future__ import annotations

import shlex
import socket
import sys

from sockviz.core import phrases
from sockviz.environment import Environment
from sockviz.refusal import Refusal
from sockviz.status import ExitStatus


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
                          stats=env.capture_stats, wait=False)
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

