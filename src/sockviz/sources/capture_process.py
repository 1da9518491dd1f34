"""The capture process: the only part of sockviz that holds the right to capture.

Started by :class:`sockviz.sources.live.Sniffer` (``python -S -c`` calling
:func:`main`: no site, no runpy), as Wireshark starts ``dumpcap``. It opens
the packet socket, drops root right after (tcpdump ``-Z``), and then does one
thing: it moves every frame from the kernel to a spool file, with nothing slow
in its loop. The spool is a file without a name (``O_TMPFILE``) that the parent
opened and handed over, so it is gone when both processes are, however they
end. The parent reads behind it and may lag under a flood; the capture does
not wait for it, so the kernel's ring never overflows because Python code
elsewhere (the decoder, the renderers, a traced program) holds the interpreter.

Protocol, child to parent, on stdout: fixed-size status records
(``STATUS``): READY once the socket listens; PROGRESS after each batch and
each empty look (the spool's end, the time before which every frame is in the
spool, the kernel's drops so far); DONE at the end; ERROR with a sentence. The
parent closes our stdin to say "stop": we drain what the kernel holds, send
DONE and exit. A parent that dies closes it too (and PR_SET_PDEATHSIG ends us
should it not).

Only the standard library's small modules (and sockviz.privileges, when
dropping root): the time from its start to READY is the lesson's wait before
its first call. Measured here: 15 ms for the interpreter, about 10 ms of
imports, 20 ms for the kernel to set the ring up (packet_set_ring() waits for
an RCU grace period, whatever the ring's size); mapping the ring (10 ms for
128 MiB) comes after READY, since the kernel fills it unmapped.
"""

from __future__ import annotations

# The C modules themselves (_socket, _signal), not socket and signal, and no
# contextlib: these would bring enum, selectors, functools and collections,
# 10 ms of a start the first call waits for.
import _signal
import _socket as socket
import errno
import mmap
import os
import select
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
PACKET_OUTGOING = 4
RCVBUF = 32 * 1024 * 1024
BUFSIZE = 262144  # GSO/GRO super-packets on veth and lo reach 64 KiB and more

# Link types (pcap LINKTYPE_* values, as sockviz.core.decode has them).
LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL = 1, 101, 113
_ARPHRD_ETHER_LIKE = {1, 772}  # Ethernet; loopback, which carries a zeroed Ethernet header
_ARPHRD_RAW_IP = {0xFFFE, 519, 512, 768, 769, 776}  # none, rawip, ppp, tunnels, sit

# The spool is a sequence of records, each a kind and a length, then that many
# bytes: a whole TPACKET_V3 block as the kernel filled it (the capture process
# copies it out and gives the block back, nothing per frame: the reader parses
# it), or one frame from the recvmsg fallback.
SPOOLED = struct.Struct("=II")
SPOOL_BLOCK, SPOOL_FRAME = 1, 2
# A spooled frame: data length, wire length, kernel time (ns), interface index,
# link type, direction (0 unknown, 1 out, 2 in); then the data.
RECORD = struct.Struct("=IIqiHBx")
DIR_NONE, DIR_OUT, DIR_IN = 0, 1, 2
# A status record: kind, spool end, drained-before time (ns), drops, frames; ERROR
# is followed by a 2-byte length and the system's reason (strerror), UTF-8.
STATUS = struct.Struct("=B7xQqQQ")
READY, PROGRESS, DONE, ERROR = 1, 2, 3, 4
# What failed (the status after ERROR): the parent says it in its own language
# (sockviz.sources.live.failure_sentence); this process stays stdlib-only.
ERR_PERMISSION, ERR_OPEN, ERR_SETUP, ERR_CAPTURE = 1, 2, 3, 4

# TPACKET_V3 (linux/if_packet.h, Documentation/networking/packet_mmap.rst).
PACKET_VERSION = 10
PACKET_RX_RING = 5
TPACKET_V3 = 2
TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1
# A block holds GSO super-packets (64 KiB) whole. Not larger: the kernel
# allocates each block as one contiguous run of pages, and runs of 1 MiB took
# 250 ms to find on a fresh machine here (256 KiB: 30 ms).
BLOCK_BYTES = 256 << 10
# A partly filled block is handed over after this long: the delay before a
# frame of a quiet link is seen (busy links fill blocks sooner).
BLOCK_TIMEOUT_MS = 8
FRAME_BYTES = 2048  # only checked by the kernel: frames are packed in a V3 block
_REQ3 = struct.Struct("=IIIIIII")  # struct tpacket_req3
# tpacket_block_desc: version, offset to priv, then tpacket_hdr_v1: status, num_pkts,
# offset_to_first_pkt, blk_len (the bytes the kernel used).
_BLOCK = struct.Struct("=IIIIII")
_FRAME = struct.Struct("=IIIII4xH")  # tpacket3_hdr: next, sec, nsec, snaplen, len, status, mac
_LL = struct.Struct("=H2siHBB8s")  # sockaddr_ll at TPACKET_ALIGN(sizeof(tpacket3_hdr)) = 48
_LL_AT = 48
_SLL = struct.Struct("!HHH8sH")  # the Linux cooked header we prepend for other link types
_TIMESPEC = struct.Struct("=qq")
_STATS = struct.Struct("=II")
_STATUS_WORD = struct.Struct("=I")
PR_SET_PDEATHSIG = 1


def linktype_for(hatype: int) -> int:
    if hatype in _ARPHRD_ETHER_LIKE:
        return LINKTYPE_ETHERNET
    if hatype in _ARPHRD_RAW_IP:
        return LINKTYPE_RAW
    return LINKTYPE_LINUX_SLL


def read_drops(sock: socket.socket) -> int:
    """Kernel drops since the last call (PACKET_STATISTICS resets on reading)."""
    try:
        raw = sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, _STATS.size)
    except OSError:
        return 0
    return _STATS.unpack_from(raw)[1]


class Spool:
    """Appends frames to the spool file and tells the parent how far it goes."""

    def __init__(self, spool_fd: int, status_fd: int) -> None:
        self.fd = spool_fd
        self.status_fd = status_fd
        self.end = 0
        self.frames = 0
        self.drops = 0
        self.slowest_ns = 0  # the slowest write, and how many took over 10 ms (stats())
        self.slow_writes = 0
        os.set_blocking(status_fd, False)

    def write(self, chunks: list[bytes], count: int) -> None:
        t0 = time.perf_counter_ns()
        size = sum(map(len, chunks))
        # Gathered by the kernel, not joined here (a block is 256 KiB: a copy saved).
        n = os.pwritev(self.fd, chunks, self.end) if len(chunks) <= 1024 else 0
        if n < size:
            view = memoryview(b"".join(chunks))[n:]
            while view:
                done = os.pwrite(self.fd, view, self.end + n)
                n += done
                view = view[done:]
        self.end += n
        self.frames += count
        took = time.perf_counter_ns() - t0
        self.slowest_ns = max(self.slowest_ns, took)
        self.slow_writes += took > 10_000_000

    def progress(self, drained_ns: int) -> None:
        """A PROGRESS record, or none when the pipe is full: the next one says more."""
        try:  # noqa: SIM105 (no contextlib: see the imports)
            os.write(self.status_fd, STATUS.pack(PROGRESS, self.end, drained_ns, self.drops,
                                                 self.frames))
        except BlockingIOError:
            pass

    def send(self, record: bytes) -> None:
        """A record the parent must get (READY, DONE, ERROR): wait for room."""
        os.set_blocking(self.status_fd, True)
        try:
            os.write(self.status_fd, record)
        finally:
            os.set_blocking(self.status_fd, False)


def _stop_requested(poller: select.poll, timeout_ms: int) -> bool:
    """Wait up to ``timeout_ms`` on the ring and on stdin; True once stdin closed."""
    for fd, _ev in poller.poll(timeout_ms):
        if fd == 0:
            try:
                if not os.read(0, 4096):
                    return True
            except OSError:
                return True
    return False


class RingCapture:
    """Every interface of the namespace through a TPACKET_V3 ring."""

    def __init__(self, sock: socket.socket, ring_bytes: int) -> None:
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        self.blocks = ring_bytes // BLOCK_BYTES
        req = _REQ3.pack(BLOCK_BYTES, self.blocks, FRAME_BYTES, ring_bytes // FRAME_BYTES,
                         BLOCK_TIMEOUT_MS, 0, 0)
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
        self.ring_bytes = ring_bytes
        self.sock = sock
        self.peak_backlog = 0  # the most blocks seen waiting for us at once (stats())

    def run(self, spool: Spool) -> None:
        # Mapped after READY: the kernel fills the ring from the setsockopt on.
        ring = mmap.mmap(self.sock.fileno(), self.ring_bytes, mmap.MAP_SHARED,
                         mmap.PROT_READ | mmap.PROT_WRITE)
        blocks = self.blocks
        poller = select.poll()
        poller.register(self.sock.fileno(), select.POLLIN | select.POLLERR)
        poller.register(0, select.POLLIN | select.POLLHUP)
        block_hdr = _BLOCK.unpack_from
        head = SPOOLED.pack
        kernel = struct.pack("=I", TP_STATUS_KERNEL)
        current = 0
        stopping = last_look = False
        while True:
            # Taken before looking: a frame stamped earlier, less the time a
            # partly filled block may wait before the kernel hands it over, is
            # in a block we see now.
            now = time.time_ns()
            base = current * BLOCK_BYTES
            _version, _priv, status, count, _first, used = block_hdr(ring, base)
            if status & TP_STATUS_USER:
                if not current % 16:
                    self._measure_backlog(ring, current)
                used = min(max(used, 0), BLOCK_BYTES)
                block = ring[base : base + used] if count else b""
                ring[base + 8 : base + 12] = kernel  # the block goes back to the kernel at once
                current = (current + 1) % blocks
                if count:
                    spool.write([head(SPOOL_BLOCK, len(block)), block], count)
                    spool.progress(now - 1_000_000_000)  # a safe watermark: more comes
                continue
            # Nothing handed over. If the open block is empty too, every frame
            # stamped before now (2 ms margin between stamping and queueing) is
            # in the spool; if it holds frames, they come within the block timeout.
            pending = block_hdr(ring, base)[3]
            lag = 2_000_000 if not pending else (BLOCK_TIMEOUT_MS + 10) * 1_000_000
            spool.drops += read_drops(self.sock)
            spool.progress(now - lag)
            if stopping:
                if last_look:
                    return
                # A partly filled block is handed over only when its time is up:
                # wait that long once more, so the last frames are not left in it.
                last_look = True
                time.sleep(2 * BLOCK_TIMEOUT_MS / 1000 + 0.004)
                continue
            stopping = _stop_requested(poller, BLOCK_TIMEOUT_MS)


    def _measure_backlog(self, ring: mmap.mmap, current: int) -> None:
        """How many blocks, from ``current`` on, the kernel has filled and we not read yet:
        the ring's margin (all of them filled, and the kernel drops)."""
        waiting = 0
        status_of = _STATUS_WORD.unpack_from
        while waiting < self.blocks:
            base = ((current + waiting) % self.blocks) * BLOCK_BYTES
            if not status_of(ring, base + 8)[0] & TP_STATUS_USER:
                break
            waiting += 1
        self.peak_backlog = max(self.peak_backlog, waiting)

    def stats(self) -> str:
        return (f"ring peak {self.peak_backlog} of {self.blocks} blocks "
                f"({100 * self.peak_backlog / self.blocks:.0f} %)")


class RecvCapture:
    """The fallback for kernels without rings: ``recvmsg_into`` on a large buffer."""

    def __init__(self, sock: socket.socket) -> None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setblocking(False)
        self.sock = sock
        self.lo = {name for _, name in socket.if_nameindex() if name == "lo"}
        self.index = {name: index for index, name in socket.if_nameindex()}

    def run(self, spool: Spool) -> None:
        sock = self.sock
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        poller.register(0, select.POLLIN | select.POLLHUP)
        view = memoryview(bytearray(BUFSIZE))
        anc = socket.CMSG_SPACE(_TIMESPEC.size)
        recv = sock.recvmsg_into
        record = RECORD.pack
        stopping = False
        while True:
            chunks: list[bytes] = []
            kept = 0
            while kept < 512:
                now = time.time_ns()  # before the read that finds the queue empty
                try:
                    n, ancdata, _flags, addr = recv([view], anc, socket.MSG_TRUNC)
                except OSError:
                    break
                ifname, proto, pkttype, hatype = addr[0], addr[1], addr[2], addr[3]
                if pkttype == PACKET_OUTGOING and ifname in self.lo:
                    continue  # loopback: keep one copy, as libpcap does
                ts = None
                for level, typ, cdata in ancdata:
                    if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                        sec, nsec = _TIMESPEC.unpack_from(cdata)
                        ts = sec * 1_000_000_000 + nsec
                data = bytes(view[:min(n, BUFSIZE)])
                linktype = linktype_for(hatype)
                if linktype == LINKTYPE_LINUX_SLL:
                    hwaddr = addr[4] if len(addr) > 4 else b""
                    data = _SLL.pack(pkttype, hatype, len(hwaddr), hwaddr[:8], proto) + data
                direction = (DIR_NONE if ifname in self.lo
                             else DIR_OUT if pkttype == PACKET_OUTGOING else DIR_IN)
                chunks.append(SPOOLED.pack(SPOOL_FRAME, RECORD.size + len(data)))
                chunks.append(record(len(data), n, ts or time.time_ns(),
                                     self.index.get(ifname, 0), linktype, direction))
                chunks.append(data)
                kept += 1
            if kept:
                spool.write(chunks, kept)
                spool.progress(now - 1_000_000_000)
                continue
            spool.drops += read_drops(sock)
            spool.progress(now - 2_000_000)
            if stopping:
                return
            stopping = _stop_requested(poller, 20)


def _die_with_parent() -> None:
    import ctypes  # here: the parent imports this module for its constants, not ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, _signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # stdin's end still tells us


class Options:
    """The command line Sniffer gives: ``--spool-fd N [--ring-mb N] [--no-ring]
    [--user UID] [--group GID] [--stats]`` (no argparse: it costs 15 ms of start-up
    here). Everything it is told comes this way, not from its environment."""

    def __init__(self, argv: list[str]) -> None:
        self.spool_fd: int | None = None
        self.ring_mb = 128
        self.no_ring = False
        self.stats = False  # at the end, on stderr: how close the ring came to overflowing
        self.user: int | None = None
        self.group: int | None = None
        numbers = {"--spool-fd": "spool_fd", "--ring-mb": "ring_mb", "--user": "user",
                   "--group": "group"}
        words = iter(argv)
        for word in words:
            if word == "--no-ring":
                self.no_ring = True
            elif word == "--stats":
                self.stats = True
            elif word in numbers:
                setattr(self, numbers[word], int(next(words)))
            else:
                raise ValueError(f"unknown option {word!r}")
        if self.spool_fd is None:
            raise ValueError("--spool-fd is required")


def main(argv: list[str] | None = None) -> int:
    try:
        args = Options(sys.argv[1:] if argv is None else argv)
    except (ValueError, StopIteration) as exc:
        sys.stderr.write(f"sockviz-capture: {exc or 'an option lacks its value'}\n")
        return 2
    # Ctrl-C reaches the parent, which stops us in order (the last frames drained).
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    _signal.signal(_signal.SIGTERM, lambda *_: os._exit(0))
    status_fd = sys.stdout.fileno()
    spool = Spool(args.spool_fd, status_fd)
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    except PermissionError as exc:
        _error(spool, ERR_PERMISSION, str(exc))
        return 2
    except OSError as exc:
        _error(spool, ERR_OPEN, exc.strerror or str(exc))
        return 1
    try:
        capture = None if args.no_ring else _ring_or_none(sock, args.ring_mb << 20)
        if capture is None:
            capture = RecvCapture(sock)
        read_drops(sock)  # reading resets the counters: start from zero
        _die_with_parent()  # before the drop: ctypes may be readable by root alone
        try:  # noqa: SIM105
            # Ahead of the interpreter that reads behind us (needs root: before the drop).
            os.setpriority(os.PRIO_PROCESS, 0, -10)
        except OSError:
            pass
        if args.user is not None:
            from sockviz.privileges import drop_to

            drop_to((args.user, args.group if args.group is not None else args.user))
    except OSError as exc:
        _error(spool, ERR_SETUP, exc.strerror or str(exc))
        return 1
    # Left unbound, a socket opened with ETH_P_ALL hears every interface of the
    # namespace, as tcpdump -i any; the kernel queues every frame from here on.
    spool.send(STATUS.pack(READY, 0, time.time_ns(), 0, 0))
    try:
        capture.run(spool)
    except OSError as exc:
        if exc.errno in (errno.EPIPE, errno.EBADF):
            return 0  # the parent is gone: nobody to tell
        _error(spool, ERR_CAPTURE, exc.strerror or str(exc))
        return 1
    spool.drops += read_drops(sock)
    if args.stats:
        # For benchmarks/live_capture.py (SOCKVIZ_CAPTURE_STATS): how close the ring came
        # to overflowing, and why.
        ring = capture.stats() + ", " if isinstance(capture, RingCapture) else ""
        try:
            sys.stderr.write(f"sockviz-capture: {ring}slowest spool write "
                             f"{spool.slowest_ns / 1e6:.1f} ms, {spool.slow_writes} over 10 ms, "
                             f"{spool.drops} drops\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
    try:  # noqa: SIM105
        spool.send(STATUS.pack(DONE, spool.end, time.time_ns(), spool.drops, spool.frames))
    except OSError:
        pass
    return 0


def _ring_or_none(sock: socket.socket, ring_bytes: int) -> RingCapture | None:
    try:
        return RingCapture(sock, ring_bytes)
    except OSError:
        return None  # no TPACKET_V3 (or no memory for the ring): the recvmsg loop


def _error(spool: Spool, code: int, reason: str) -> None:
    text = reason.encode("utf-8", "replace")[:1000]
    try:  # noqa: SIM105
        spool.send(STATUS.pack(ERROR, code, 0, 0, 0) + struct.pack("=H", len(text)) + text)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
