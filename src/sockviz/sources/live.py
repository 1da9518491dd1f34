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
``('frames', [frame, ...])`` batches, each frame a ``LiveFrame``, and
``('drained', t)`` marks: every frame stamped before ``t`` has been queued.
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
from typing import NamedTuple

from sockviz.core import phrases
from sockviz.sources import capture_process as cp

# How far the reader runs ahead of the pipeline (batches in its queue): the
# spool on disk is the buffer, not memory.
MAX_QUEUED_BATCHES = 64
READ_CHUNK = 4 << 20
READY_TIMEOUT = 10.0


class LiveFrame(NamedTuple):
    """One frame from the capture process: of a file's ``Record`` fields, those it has, in order.

    Its index, comments and offset come later (the session numbers the frames
    it keeps). Made with ``tuple.__new__``: up to 35,000 a second.
    """

    time_ns: int  # the kernel's stamp
    data: bytes
    wirelen: int
    linktype: int
    iface: str
    direction: str | None  # 'out', 'in', or None on loopback (each packet is both)


_new_frame = tuple.__new__
_DIRECTIONS = {cp.DIR_NONE: None, cp.DIR_OUT: "out", cp.DIR_IN: "in"}
# The capture process's start is the lesson's wait before its first call: no
# site (-S: it needs only the standard library and sockviz, on PYTHONPATH), no
# runpy (-c rather than -m), and not the working directory on sys.path (-P: it
# runs as root).
CHILD_START = ("-S", "-P", "-c",
               "import sys; from sockviz.sources.capture_process import main; sys.exit(main())")


class CaptureNotPermitted(PermissionError):
    """Opening a packet socket needs root or CAP_NET_RAW."""


class CaptureFailed(RuntimeError):
    """The capture process could not start, or ended before it was asked to."""


class Sniffer:
    """Starts the capture process and feeds ``out`` from its spool.

    ``ring_mb`` sizes the kernel ring (``use_ring=False``: the ``recvmsg``
    loop); ``drop_to`` is the ``(uid, gid)`` the capture process becomes once
    its socket is open; ``stats``: it says at its end, on stderr, how close its
    ring came to overflowing. The capture process is told all this on its
    command line and reads nothing of our environment.
    """

    def __init__(self, out: queue.SimpleQueue, *, ring_mb: int = 128, use_ring: bool = True,
                 drop_to: tuple[int, int] | None = None, stats: bool = False,
                 wait: bool = True) -> None:
        """``wait=False``: return once the capture process is started, and let the caller
        do its own start-up meanwhile; :meth:`wait_ready` (or :meth:`start`) then waits
        for it to listen."""
        self.out = out
        # Whether whoever reads ``out`` still does: while it does, the spool is
        # read behind it however far it lags; LiveSession sets it to its pipeline's.
        self.consumer_alive = lambda: True
        self._lo = {index for index, name in socket.if_nameindex() if name == "lo"}
        self.drops = 0
        self.seen = 0
        self.failure: str | None = None
        self._names: dict[int, str] = {}
        # No name: the spool is gone with the last of us, however we end.
        self._spool = os.open(tempfile.gettempdir(), os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC,
                              0o600)
        argv = [sys.executable, *CHILD_START, "--spool-fd", str(self._spool),
                "--ring-mb", str(ring_mb)]
        if not use_ring:
            argv.append("--no-ring")
        if stats:
            argv.append("--stats")
        if drop_to is not None:
            argv += ["--user", str(drop_to[0]), "--group", str(drop_to[1])]
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          pass_fds=(self._spool,), start_new_session=True,
                                          env=_child_environ())
        except OSError as exc:
            os.close(self._spool)
            raise CaptureFailed(phrases.capture_process_not_started(exc.strerror)) from None
        self._status = self._proc.stdout
        self._ready = False
        if wait:
            self.wait_ready()
        self._read_pos = 0
        self._thread = threading.Thread(target=self._run, name="sockviz-spool", daemon=True)

    def wait_ready(self) -> None:
        """Return once the capture process listens (the kernel queues every frame from then)."""
        if self._ready:
            return
        try:
            self._await_ready()
        except BaseException:
            self._kill()
            raise
        self._ready = True

    def _await_ready(self) -> None:
        kind, *_rest = self._record(timeout=READY_TIMEOUT)
        if kind == cp.READY:
            return
        if kind == cp.ERROR:
            code, reason = _rest
            if code == cp.ERR_PERMISSION:
                raise CaptureNotPermitted(reason)
            raise CaptureFailed(failure_sentence(code, reason))
        raise CaptureFailed(phrases.capture_process_ended_early())

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
        self.wait_ready()
        self._thread.start()

    def stop(self) -> None:
        """Ask the capture process to stop once it has drained the kernel; read the rest."""
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        if self._thread.ident is not None:  # started
            # No time limit: the reader may be far behind a flood, and closing the
            # spool under it would lose the rest without a word.
            self._thread.join()
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
        try:
            self._follow()
        except Exception as exc:  # said once by finish(), never a lost packet unsaid
            self.failure = phrases.spool_failed(str(exc))
            self.out.put(("drained", time.time()))

    def _follow(self) -> None:
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
                self.failure = failure_sentence(rec[1], rec[2])
                put(("drained", time.time()))
                return
            else:  # the pipe ended without DONE: the capture process died
                code = self._proc.wait()
                self.failure = phrases.capture_process_died(code)
                put(("drained", time.time()))
                return

    def _read_to(self, end: int) -> None:
        """Hand on every frame in the spool up to ``end``, a batch at a time."""
        head = cp.SPOOLED.size
        unpack_head = cp.SPOOLED.unpack_from
        while self._read_pos < end:
            while self.out.qsize() > MAX_QUEUED_BATCHES and self.consumer_alive():
                time.sleep(0.002)  # the pipeline is behind: the spool holds the rest
            chunk = os.pread(self._spool, min(READ_CHUNK, end - self._read_pos), self._read_pos)
            if not chunk:
                return
            pos, size, batch = 0, len(chunk), []
            while pos + head <= size:
                kind, length = unpack_head(chunk, pos)
                if pos + head + length > size:
                    if pos == 0:  # one record larger than a chunk: read it whole
                        chunk = os.pread(self._spool, head + length, self._read_pos)
                        size = len(chunk)
                        continue
                    break  # the rest of this record is in the next chunk
                body = pos + head
                if kind == cp.SPOOL_BLOCK:
                    self._block(chunk, body, batch)
                else:
                    self._frame(chunk, body, batch)
                pos = body + length
                if len(batch) >= 512:
                    self._hand_on(batch)
                    batch = []
            if batch:
                self._hand_on(batch)
            if pos == 0:
                return  # whole records only are written: nothing more to read yet
            self._read_pos += pos

    def _hand_on(self, batch: list) -> None:
        self.seen += len(batch)
        self.out.put(("frames", batch))

    def _block(self, data: bytes, base: int, batch: list) -> None:
        """The frames of one TPACKET_V3 block (linux/if_packet.h), as the kernel wrote them."""
        frame_hdr, ll = cp._FRAME.unpack_from, cp._LL.unpack_from
        _version, _priv, _status, count, first, used = cp._BLOCK.unpack_from(data, base)
        lo, names = self._lo, self._names
        end = base + used
        pos = base + first
        append = batch.append
        for _ in range(count):
            if pos + cp._LL_AT + cp._LL.size > end:
                break
            nxt, sec, nsec, snaplen, wirelen, mac = frame_hdr(data, pos)
            _family, proto, ifindex, hatype, pkttype, halen, addr = ll(data, pos + cp._LL_AT)
            if ifindex in lo:
                if pkttype == cp.PACKET_OUTGOING:
                    pos += nxt
                    if not nxt:
                        break
                    continue  # loopback: seen leaving and arriving; keep one, as libpcap does
                direction = None
            else:
                direction = "out" if pkttype == cp.PACKET_OUTGOING else "in"
            frame = data[pos + mac : pos + mac + snaplen]
            linktype = cp.linktype_for(hatype)
            if linktype == cp.LINKTYPE_LINUX_SLL:
                frame = cp._SLL.pack(pkttype, hatype, halen, addr, int.from_bytes(proto)) + frame
            append(_new_frame(LiveFrame, (sec * 1_000_000_000 + nsec, frame, wirelen, linktype,
                                          names.get(ifindex) or self._name(ifindex), direction)))
            if not nxt:
                break  # the block's last frame
            pos += nxt

    def _frame(self, data: bytes, body: int, batch: list) -> None:
        """One frame of the recvmsg fallback."""
        length, wirelen, ts, ifindex, linktype, direction = cp.RECORD.unpack_from(data, body)
        start = body + cp.RECORD.size
        batch.append(_new_frame(LiveFrame, (
            ts, data[start : start + length], wirelen, linktype,
            self._names.get(ifindex) or self._name(ifindex), _DIRECTIONS[direction])))


def failure_sentence(code: int, reason: str) -> str:
    """What the capture process's ERROR record says, as a sentence in the language spoken."""
    if code == cp.ERR_OPEN:
        return phrases.packet_socket_refused(reason)
    if code == cp.ERR_SETUP:
        return phrases.packet_socket_setup_failed(reason)
    return phrases.capture_failed(reason)


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
    """The capture process's environment: sockviz importable as it is here, nothing else.

    It runs as root until its socket is open and needs only the standard library
    and sockviz (``-S``): none of the user's variables (PYTHON*, LD_*, locale)
    reaches it, and its options come on its command line.
    """
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return {"PYTHONPATH": here}


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
