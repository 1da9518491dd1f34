"""The wire host: delay and loss between the lab's client and server, without netem.

This kernel has no netem, so a lab built with ``Lab(delay_ms=..., loss_pct=...)``
puts a third namespace between the two hosts, the *wire*, with two veth ends::

    client eth0 ── c0 [wire] s0 ── eth0 server

The wire has no address (IPv6 is off in it, so it sends nothing of its own):
it is an Ethernet cable that remembers. This module is the program that runs
there, ``python -m sockviz.lab.wire c0 s0``: for each end it opens an
AF_PACKET socket bound to that interface with ``PACKET_IGNORE_OUTGOING``
(only the frames that *arrive* there), and sends each frame out of the other
end ``delay_ms`` later, dropping ``loss_pct`` percent of them at random. The
delay is per direction: a round trip takes twice as long. ARP, NDP and every
other frame pass as they are, so the client and the server still see each
other on-link, with their own MAC addresses.

It runs as a process of its own (not a thread of the lab's owner), so nothing
the owner does (a decoder holding the interpreter, a traced program) delays a
frame, and at nice -10 (ahead of ordinary processes, not real-time). Frames
wait in one FIFO per direction (a constant delay keeps arrival order, so a
deque of ``(due time, frame)`` is the heap), bounded in bytes:
past ``--queue-bytes`` a frame is dropped and counted, as a full router
queue drops. The loop sleeps in ``select`` until the next frame is due or one
arrives.

Protocol with the parent (:class:`WireProcess`), one JSON object a line:

- on stdout, once the sockets are open: ``{"event": "ready", ...counts}``;
- on stdin, ``stats`` -> ``{"event": "stats", ...}``; ``set DELAY_MS LOSS_PCT``
  -> ``{"event": "set", ...}`` (new settings, for the frames that arrive from
  then on);
- end of stdin (the parent closed it, or died), SIGTERM, SIGINT or SIGHUP:
  ``{"event": "exit", ...}`` and exit status 0. ``--parent-pid`` also asks the
  kernel for a SIGTERM when the parent dies (``PR_SET_PDEATHSIG``).

The counts (``directions``, keyed ``"c0>s0"`` for frames arriving on ``c0``
and sent out of ``s0``): ``received``, ``forwarded``, ``dropped`` (the random
loss), ``overflow`` (queue full), ``send_errors``, ``kernel_drops`` (frames the
kernel dropped before we read them: PACKET_STATISTICS), ``queued`` (waiting
now), ``bytes`` (forwarded). ``received == forwarded + dropped + overflow +
send_errors + queued`` at every report.

Only the standard library, and nothing else of sockviz (the parent's side,
:class:`WireProcess`, imports :mod:`sockviz.lab.errors` only when it fails).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import math
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sockviz.lab.netns import Host

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_IGNORE_OUTGOING = 23
SO_RCVBUFFORCE = 33
PR_SET_PDEATHSIG = 1

RCVBUF = 4 * 1024 * 1024
#: Default bound of each direction's queue, in bytes (frames plus their overhead).
QUEUE_BYTES = 8 * 1024 * 1024
#: What a queued frame costs beyond its bytes (the tuple and the bytes object).
FRAME_OVERHEAD = 96
#: Frames read from one end before looking at the other and at the clock.
BATCH = 64
MAX_FRAME = 65536

_STATS = struct.Struct("=II")  # struct tpacket_stats: packets, drops
COUNTERS = ("received", "forwarded", "dropped", "overflow", "send_errors", "kernel_drops",
            "queued", "bytes")  # fmt: skip


# --------------------------------------------------------------------------- the counts


@dataclass(frozen=True, kw_only=True)
class LinkCounts:
    """One direction's counts (see the module docstring)."""

    received: int = 0
    forwarded: int = 0
    dropped: int = 0
    overflow: int = 0
    send_errors: int = 0
    kernel_drops: int = 0
    queued: int = 0
    bytes: int = 0

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> LinkCounts:
        return cls(**{k: int(obj.get(k, 0)) for k in COUNTERS})


@dataclass(frozen=True, kw_only=True)
class WireStats:
    """What the wire reports: its settings and both directions' counts.

    ``to_server`` counts the frames from the client's side (arriving on ``c0``),
    ``to_client`` those from the server's side. ``final`` is true for the
    report the wire gave as it exited.
    """

    delay_ms: float
    loss_pct: float
    seed: int
    to_server: LinkCounts
    to_client: LinkCounts
    final: bool = False

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], a: str = "c0", b: str = "s0") -> WireStats:
        dirs = obj.get("directions", {})
        return cls(
            delay_ms=float(obj["delay_ms"]),
            loss_pct=float(obj["loss_pct"]),
            seed=int(obj["seed"]),
            to_server=LinkCounts.from_json(dirs.get(f"{a}>{b}", {})),
            to_client=LinkCounts.from_json(dirs.get(f"{b}>{a}", {})),
            final=obj.get("event") == "exit",
        )


# --------------------------------------------------------------------------- the forwarder


def _check_settings(delay_ms: float, loss_pct: float) -> None:
    if not (math.isfinite(delay_ms) and delay_ms >= 0):
        raise ValueError(f"delay_ms must be a finite number >= 0, not {delay_ms!r}")
    if not (math.isfinite(loss_pct) and 0 <= loss_pct <= 100):
        raise ValueError(f"loss_pct must be between 0 and 100, not {loss_pct!r}")


def _open_end(iface: str) -> socket.socket:
    """A packet socket that reads what arrives on ``iface`` and sends out of it."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        # Only frames arriving here: without it we would read back every frame we
        # send out of this end (the kernel hands outgoing frames to packet sockets).
        sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        sock.bind((iface, ETH_P_ALL))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _Direction:
    """Frames arriving on ``rx``, sent out of ``tx`` after the delay."""

    def __init__(self, name: str, rx: socket.socket, tx: socket.socket, rng: random.Random,
                 queue_bytes: int) -> None:  # fmt: skip
        self.name = name
        self.rx, self.tx, self.rng = rx, tx, rng
        self.limit = queue_bytes
        self.queue: deque[tuple[float, bytes]] = deque()
        self.queued_bytes = 0
        self.last_due = 0.0
        self.c = dict.fromkeys(COUNTERS, 0)
        self._buf = bytearray(MAX_FRAME)
        self._view = memoryview(self._buf)

    def receive(self, delay: float, loss_pct: float) -> None:
        """Read what arrived (up to BATCH frames): drop, queue or send each."""
        c, view, rng = self.c, self._view, self.rng
        for _ in range(BATCH):
            try:
                n = self.rx.recv_into(self._buf)
            except BlockingIOError:
                return
            except OSError:  # the interface went down (teardown): nothing to read
                return
            now = time.monotonic()
            c["received"] += 1
            if loss_pct and rng.random() * 100.0 < loss_pct:
                c["dropped"] += 1
                continue
            frame = bytes(view[:n])
            if delay <= 0 and not self.queue:
                self._send(frame)
                continue
            cost = n + FRAME_OVERHEAD
            if self.queued_bytes + cost > self.limit:
                c["overflow"] += 1
                continue
            # FIFO even when the delay was just lowered: a cable does not reorder.
            due = max(now + delay, self.last_due)
            self.last_due = due
            self.queue.append((due, frame))
            self.queued_bytes += cost

    def flush(self, now: float) -> float | None:
        """Send every frame due by ``now``; return when the next one is due."""
        queue = self.queue
        while queue:
            due, frame = queue[0]
            if due > now:
                return due
            queue.popleft()
            self.queued_bytes -= len(frame) + FRAME_OVERHEAD
            self._send(frame)
        return None

    def _send(self, frame: bytes) -> None:
        try:
            self.tx.send(frame)
        except OSError:  # ENOBUFS, EAGAIN, ENETDOWN at teardown: a lost frame, counted
            self.c["send_errors"] += 1
            return
        self.c["forwarded"] += 1
        self.c["bytes"] += len(frame)

    def counts(self) -> dict[str, int]:
        try:
            raw = self.rx.getsockopt(SOL_PACKET, PACKET_STATISTICS, _STATS.size)
            self.c["kernel_drops"] += _STATS.unpack(raw)[1]  # reading resets them
        except OSError:
            pass
        self.c["queued"] = len(self.queue)
        return dict(self.c)


class Forwarder:
    """The wire between interfaces ``a`` and ``b`` of the current namespace."""

    def __init__(self, a: str, b: str, *, delay_ms: float = 0.0, loss_pct: float = 0.0,
                 seed: int | None = None, queue_bytes: int = QUEUE_BYTES) -> None:  # fmt: skip
        _check_settings(delay_ms, loss_pct)
        self.delay_ms, self.loss_pct = float(delay_ms), float(loss_pct)
        self.seed = seed if seed is not None else int.from_bytes(os.urandom(4), "big")
        self.socks = [_open_end(a)]
        try:
            self.socks.append(_open_end(b))
        except BaseException:
            self.socks[0].close()
            raise
        sa, sb = self.socks
        # One generator per direction, seeded from (seed, direction): the n-th frame
        # of a direction has the same fate whatever the other direction carries.
        self.dirs = [
            _Direction(f"{a}>{b}", sa, sb, random.Random(f"{self.seed}:{a}>{b}"), queue_bytes),
            _Direction(f"{b}>{a}", sb, sa, random.Random(f"{self.seed}:{b}>{a}"), queue_bytes),
        ]

    def close(self) -> None:
        for sock in self.socks:
            sock.close()

    def set(self, delay_ms: float, loss_pct: float) -> None:
        _check_settings(delay_ms, loss_pct)
        self.delay_ms, self.loss_pct = float(delay_ms), float(loss_pct)

    def report(self, event: str, **extra: Any) -> dict[str, Any]:
        return {
            "event": event,
            "pid": os.getpid(),
            "delay_ms": self.delay_ms,
            "loss_pct": self.loss_pct,
            "seed": self.seed,
            "directions": {d.name: d.counts() for d in self.dirs},
            **extra,
        }

    def run(self, control_fd: int | None, reply: Any, stop_fd: int) -> None:
        """Forward until ``stop_fd`` is readable or ``control_fd`` reaches its end.

        ``control_fd`` carries the commands (one a line); ``reply(obj)`` answers.
        """
        by_fd = {d.rx.fileno(): d for d in self.dirs}
        fds = [*by_fd, stop_fd] + ([control_fd] if control_fd is not None else [])
        pending = b""
        while True:
            now = time.monotonic()
            next_due = [t for t in (d.flush(now) for d in self.dirs) if t is not None]
            # select(), not poll/epoll: its timeout has microseconds, theirs milliseconds
            # (rounded up: every frame up to 1 ms late). Four descriptors: no cost.
            timeout = max(0.0, min(next_due) - time.monotonic()) if next_due else None
            ready, _, _ = select.select(fds, [], [], timeout)
            for fd in ready:
                if fd in by_fd:
                    by_fd[fd].receive(self.delay_ms / 1000.0, self.loss_pct)
                elif fd == stop_fd:
                    return
                elif fd == control_fd:
                    data = os.read(fd, 4096)
                    if not data:
                        return  # the parent closed our stdin, or died
                    pending += data
                    while b"\n" in pending:
                        line, pending = pending.split(b"\n", 1)
                        reply(self._command(line.decode(errors="replace").split()))

    def _command(self, words: list[str]) -> dict[str, Any]:
        try:
            if words == ["stats"]:
                return self.report("stats")
            if len(words) == 3 and words[0] == "set":
                self.set(float(words[1]), float(words[2]))
                return self.report("set")
        except ValueError as exc:
            return {"event": "error", "message": str(exc)}
        return {"event": "error", "message": f"unknown command: {' '.join(words)!r}"}


def _die_with_parent(parent_pid: int) -> None:
    """SIGTERM when the parent (the thread that started us) ends: PR_SET_PDEATHSIG."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before we asked
        os.kill(os.getpid(), signal.SIGTERM)


def _write_line(obj: Mapping[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the parent is gone: nobody to tell
        os.write(sys.stdout.fileno(), (json.dumps(obj) + "\n").encode())


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m sockviz.lab.wire",
        description="Forward frames between two interfaces, with delay and loss.",
    )
    p.add_argument("a", help="one end (the client's side), e.g. c0")
    p.add_argument("b", help="the other end (the server's side), e.g. s0")
    p.add_argument("--delay-ms", type=float, default=0.0, help="one-way delay (ms)")
    p.add_argument("--loss-pct", type=float, default=0.0, help="share of frames dropped (%%)")
    p.add_argument("--seed", type=int, help="seed of the random loss (default: random)")
    p.add_argument("--queue-bytes", type=int, default=QUEUE_BYTES,
                   help="bound of each direction's queue")  # fmt: skip
    p.add_argument("--parent-pid", type=int, help="exit (PR_SET_PDEATHSIG) when it dies")
    p.add_argument("--no-control", action="store_true",
                   help="ignore stdin (run until a signal)")  # fmt: skip
    args = p.parse_args(argv)

    # Signals only wake the loop (through the wakeup pipe); the loop then reports
    # and exits, so a SIGTERM never cuts a report in half.
    stop_r, stop_w = os.pipe()
    os.set_blocking(stop_w, False)
    signal.set_wakeup_fd(stop_w)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: None)
    if args.parent_pid is not None:
        _die_with_parent(args.parent_pid)
    # A cable does not wait for the CPU: ahead of ordinary processes (as root),
    # not real-time (a flood must not starve the machine).
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    try:
        fwd = Forwarder(args.a, args.b, delay_ms=args.delay_ms, loss_pct=args.loss_pct,
                        seed=args.seed, queue_bytes=args.queue_bytes)  # fmt: skip
    except (OSError, ValueError) as exc:
        print(f"sockviz wire: {exc}", file=sys.stderr)
        return 1
    try:
        _write_line(fwd.report("ready"))
        fwd.run(None if args.no_control else sys.stdin.fileno(), _write_line, stop_r)
        _write_line(fwd.report("exit"))
    finally:
        fwd.close()
    return 0


# --------------------------------------------------------------------------- the parent's side


def _lab_error(message: str) -> Exception:
    from sockviz.lab.errors import LabError  # not at import: the wire process needs none of it

    return LabError(message)


class WireProcess:
    """The parent's handle on a running wire (see :meth:`start`)."""

    def __init__(self, proc: subprocess.Popen[bytes], a: str, b: str) -> None:
        self.proc = proc
        self.a, self.b = a, b
        self._buf = b""
        self._lock = threading.Lock()
        self.final: WireStats | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @classmethod
    def start(cls, host: Host, a: str, b: str, *, delay_ms: float, loss_pct: float,
              seed: int | None = None, queue_bytes: int = QUEUE_BYTES,
              timeout: float = 10.0) -> WireProcess:  # fmt: skip
        """Start ``python -m sockviz.lab.wire a b`` on ``host``; return once it forwards."""
        _check_settings(delay_ms, loss_pct)
        import shutil

        import sockviz

        argv = [sys.executable, "-m", "sockviz.lab.wire", a, b, "--delay-ms", repr(float(delay_ms)),
                "--loss-pct", repr(float(loss_pct)), "--queue-bytes", str(queue_bytes)]  # fmt: skip
        if seed is not None:
            argv += ["--seed", str(int(seed))]
        if threading.current_thread() is threading.main_thread():
            # PR_SET_PDEATHSIG fires when the *thread* that forked us ends: only the
            # main thread lives as long as the process. Our stdin tells us anyway.
            argv += ["--parent-pid", str(os.getpid())]
        # The child, root in its namespace, gets none of our environment: only what
        # imports this sockviz (also from a checkout without install). ``ip`` is found
        # on our PATH here, since the child's environment has none.
        root = str(Path(sockviz.__file__).resolve().parents[1])
        proc = host.run(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, bufsize=0, env={"PYTHONPATH": root},
                        executable=shutil.which("ip") or "ip")  # fmt: skip
        wire = cls(proc, a, b)
        try:
            wire._read_event({"ready"}, timeout)
        except BaseException as exc:
            wire._kill()
            err = b""
            with contextlib.suppress(Exception):
                err = proc.stderr.read() if proc.stderr else b""
            why = err.decode(errors="replace").strip() or str(exc)
            if isinstance(exc, Exception):
                raise _lab_error(f"the wire host did not start: {why}") from None
            raise
        return wire

    # -- talking to it

    def _read_event(self, events: set[str], timeout: float) -> dict[str, Any]:
        """The next line whose event is one of ``events`` (or ``error``)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if obj.get("event") == "error":
                    raise _lab_error(f"the wire host: {obj.get('message')}")
                if obj.get("event") in events:
                    return obj
            left = deadline - time.monotonic()
            if left <= 0:
                raise _lab_error(f"the wire host did not answer in {timeout} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                data = os.read(fd, 65536)
                if not data:
                    raise _lab_error(f"the wire host ended (status {self.proc.poll()})")
                self._buf += data

    def _request(self, line: str, event: str, timeout: float) -> dict[str, Any]:
        with self._lock:
            if self.proc.poll() is not None or self.proc.stdin is None:
                raise _lab_error(f"the wire host is not running (status {self.proc.poll()})")
            try:
                self.proc.stdin.write(line.encode() + b"\n")
            except OSError as exc:
                raise _lab_error(f"the wire host is gone: {exc}") from None
            return self._read_event({event}, timeout)

    def stats(self, timeout: float = 5.0) -> WireStats:
        """The counts now (or, once stopped, the wire's last report)."""
        if self.final is not None:
            return self.final
        return WireStats.from_json(self._request("stats", "stats", timeout), self.a, self.b)

    def set_link(self, delay_ms: float, loss_pct: float, timeout: float = 5.0) -> WireStats:
        """New delay and loss, for the frames that arrive from now on."""
        _check_settings(delay_ms, loss_pct)
        obj = self._request(f"set {float(delay_ms)!r} {float(loss_pct)!r}", "set", timeout)
        return WireStats.from_json(obj, self.a, self.b)

    def stop(self, timeout: float = 3.0) -> WireStats | None:
        """Close its stdin (it reports and exits), wait; kill it if it lingers.

        Returns its last report (also kept in :attr:`final`), or None. Idempotent.
        """
        with self._lock:
            if self.proc.stdin is not None and not self.proc.stdin.closed:
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()
                if self.final is None:  # its last line, also when it ended on its own
                    with contextlib.suppress(Exception):
                        obj = self._read_event({"exit"}, timeout)
                        self.final = WireStats.from_json(obj, self.a, self.b)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill()
            for f in (self.proc.stdout, self.proc.stderr):
                if f is not None:
                    with contextlib.suppress(OSError):
                        f.close()
            return self.final

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2)


if __name__ == "__main__":
    sys.exit(main())
