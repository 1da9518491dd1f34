"""The live source: frames from the capture process, read behind it.

The capture runs in a process of its own (:mod:`sockviz.sources.capture_process`),
as Wireshark's ``dumpcap`` does: in one Python process the ring reader waited
for the interpreter while the decoder, the renderers and the lesson ran, and
the kernel's ring overflowed under a fast transfer (27-34 % lost at about
35,000 packets/s, measured here). The capture process moves every frame to a
spool file without a name; this side reads the spool behind it in a thread and
hands the frames on, so the view may lag under a flood but nothing is lost.

``Sniffer(out)`` returns once the capture process says its socket listens:
the first call of a lesson is never missed. ``out`` receives
``('frames', [frame, ...])`` batches, each frame a tuple
``(time_ns, data, iface, direction, linktype, wirelen)``, and ``('drained', t)``
marks: every frame stamped before ``t`` has been queued.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time

from sockviz.sources import capture_process as cp

# How far the reader runs ahead of the pipeline (batches in its queue): the
# spool on disk is the buffer, not memory.
MAX_QUEUED_BATCHES = 64
READ_CHUNK = 4 << 20
READY_TIMEOUT = 10.0
_DIRECTIONS = {cp.DIR_NONE: None, cp.DIR_OUT: "out", cp.DIR_IN: "in"}


class CaptureNotPermitted(PermissionError):
    """Opening a packet socket needs root or CAP_NET_RAW."""


class CaptureFailed(RuntimeError):
    """The capture process could not start, or ended before it was asked to."""


class Sniffer:
    """Starts the capture process and feeds ``out`` from its spool.

    ``ring_mb`` sizes the kernel ring (``use_ring=False``: the ``recvmsg``
    loop); ``drop_to`` is the ``(uid, gid)`` the capture process becomes once
    its socket is open.
    """

    def __init__(self, out: queue.SimpleQueue, *, ring_mb: int = 128, use_ring: bool = True,
                 drop_to: tuple[int, int] | None = None) -> None:
        self.out = out
        self.drops = 0
        self.seen = 0
        self.failure: str | None = None
        self._names: dict[int, str] = {}
        # No name: the spool is gone with the last of us, however we end.
        self._spool = os.open(tempfile.gettempdir(), os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC,
                              0o600)
        argv = [sys.executable, "-m", "sockviz.sources.capture_process",
                "--spool-fd", str(self._spool), "--ring-mb", str(ring_mb)]
        if not use_ring:
            argv.append("--no-ring")
        if drop_to is not None:
            argv += ["--user", str(drop_to[0]), "--group", str(drop_to[1])]
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          pass_fds=(self._spool,), start_new_session=True,
                                          env=_child_environ())
        except OSError as exc:
            os.close(self._spool)
            raise CaptureFailed(f"cannot start the capture process ({exc.strerror})") from None
        self._status = self._proc.stdout
        try:
            self._await_ready()
        except BaseException:
            self._kill()
            raise
        self._read_pos = 0
        self._end = 0
        self._done = False
        self._thread = threading.Thread(target=self._run, name="sockviz-spool", daemon=True)

    def _await_ready(self) -> None:
        kind, *_rest = self._record(timeout=READY_TIMEOUT)
        if kind == cp.READY:
            return
        if kind == cp.ERROR:
            code, sentence = _rest
            if code == cp.ERR_PERMISSION:
                raise CaptureNotPermitted(sentence)
            raise CaptureFailed(sentence)
        raise CaptureFailed("the capture process ended before it listened")

    def _record(self, timeout: float | None = None):
        """The next status record: (kind, end, drained_ns, drops, frames) or (ERROR, code, text)."""
        fd = self._status.fileno()
        if timeout is not None:
            import select

            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                return (None,)
        raw = _read_exactly(fd, cp.STATUS.size)
        if raw is None:
            return (None,)
        kind, end, drained, drops, frames = cp.STATUS.unpack(raw)
        if kind == cp.ERROR:
            length = _read_exactly(fd, 2)
            size = int.from_bytes(length or b"\0\0", sys.byteorder)
            text = (_read_exactly(fd, size) or b"").decode("utf-8", "replace")
            return (kind, end, text)
        return (kind, end, drained, drops, frames)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the capture process to stop once it has drained the kernel; read the rest."""
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        self._thread.join(timeout=30)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill()
        self._close()

    def _kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._close()

    def _close(self) -> None:
        for f in (self._proc.stdin, self._proc.stdout):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()
        if self._spool >= 0:
            os.close(self._spool)
            self._spool = -1

    def _name(self, index: int) -> str:
        name = self._names.get(index)
        if name is None:
            try:
                name = socket.if_indextoname(index)
            except OSError:
                name = f"if{index}"
            self._names[index] = name
        return name

    # -- the reader thread
    def _run(self) -> None:
        put = self.out.put
        while True:
            rec = self._record()
            kind = rec[0]
            if kind in (cp.PROGRESS, cp.DONE):
                _kind, end, drained, drops, _frames = rec
                self.drops = drops
                self._read_to(end)
                put(("drained", drained / 1e9))
                if kind == cp.DONE:
                    return
            elif kind == cp.ERROR:
                self.failure = rec[2]
                put(("drained", time.time()))
                return
            else:  # the pipe ended without DONE: the capture process died
                code = self._proc.wait()
                self.failure = (f"the capture process ended unexpectedly (status {code}); "
                                "the packets after that were not captured")
                put(("drained", time.time()))
                return

    def _read_to(self, end: int) -> None:
        """Hand on every frame in the spool up to ``end``, a batch at a time."""
        unpack = cp.RECORD.unpack_from
        head = cp.RECORD.size
        names = self._names
        directions = _DIRECTIONS
        while self._read_pos < end:
            while self.out.qsize() > MAX_QUEUED_BATCHES:
                time.sleep(0.002)  # the pipeline is behind: let the spool hold the rest
            chunk = os.pread(self._spool, min(READ_CHUNK, end - self._read_pos), self._read_pos)
            if not chunk:
                return
            pos, size, batch = 0, len(chunk), []
            append = batch.append
            while pos + head <= size:
                length, wirelen, ts, ifindex, linktype, direction = unpack(chunk, pos)
                if pos + head + length > size:
                    break  # the rest of this frame is in the next chunk
                data = chunk[pos + head : pos + head + length]
                pos += head + length
                append((ts, data, names.get(ifindex) or self._name(ifindex),
                        directions[direction], linktype, wirelen))
                if len(batch) == 512:
                    self.seen += 512
                    self.out.put(("frames", batch))
                    batch = []
                    append = batch.append
            if batch:
                self.seen += len(batch)
                self.out.put(("frames", batch))
            if pos == 0:
                return  # a torn record cannot happen (whole frames are written); stop safely
            self._read_pos += pos


def _read_exactly(fd: int, n: int) -> bytes | None:
    parts, have = [], 0
    while have < n:
        try:
            part = os.read(fd, n - have)
        except InterruptedError:
            continue
        if not part:
            return None
        parts.append(part)
        have += len(part)
    return b"".join(parts)


def _child_environ() -> dict[str, str]:
    """The capture process's environment: ours, with sockviz importable as it is here."""
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def linktype_for(hatype: int) -> int:
    return cp.linktype_for(hatype)


def have_capture_rights() -> bool:
    """Root, or CAP_NET_RAW in the effective set (bit 13)."""
    if os.geteuid() == 0:
        return True
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) & (1 << 13))
    except OSError:
        pass
    return False
