"""The live source: raw frames from an AF_PACKET socket, nothing slow in the loop.

scapy's own sniffer dissects each packet as it arrives and loses most of a
fast stream (DESIGN.md, measured here); we read raw frames with their kernel
timestamps into a queue and decode behind the capture. The socket is open
and bound before ``__init__`` returns, so the first call of a lesson is never
missed: the kernel queues every frame from then on.

Two ways to read, the first that works:

- a TPACKET_V3 ring (``packet_mmap``, Linux ≥ 3.2): the kernel writes frames
  into blocks of a large buffer shared with us (``RING_BYTES``) and hands
  over a block when it is full or ``BLOCK_TIMEOUT_MS`` old. No system call
  per packet, and no hidden one: Python's AF_PACKET address conversion asks
  the kernel for the interface name (``SIOCGIFNAME``) on every ``recvfrom``;
  here the ring gives the interface index and a cached table its name.
- a ``recvmsg_into`` loop on a socket with a 32 MiB receive buffer.

Either way drops are counted by the kernel (``PACKET_STATISTICS``) and
reported, never hidden.
"""

from __future__ import annotations

import mmap
import os
import queue
import select
import socket
import struct
import threading
import time

from sockviz.core.decode import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
PACKET_OUTGOING = 4
RCVBUF = 32 * 1024 * 1024  # the kernel queues this much while we fall behind
BUFSIZE = 262144  # GSO/GRO super-packets on veth and lo reach 64 KiB and more

_ARPHRD_ETHER_LIKE = {1, 772}  # Ethernet; loopback, which carries a zeroed Ethernet header
_ARPHRD_RAW_IP = {0xFFFE, 519, 512, 768, 769, 776}  # none, rawip, ppp, tunnels, sit
_TIMESPEC = struct.Struct("=qq")
_STATS = struct.Struct("=II")
_SLL = struct.Struct("!HHH8sH")


class CaptureNotPermitted(PermissionError):
    """Opening a packet socket needs root or CAP_NET_RAW."""


def linktype_for(hatype: int) -> int:
    if hatype in _ARPHRD_ETHER_LIKE:
        return LINKTYPE_ETHERNET
    if hatype in _ARPHRD_RAW_IP:
        return LINKTYPE_RAW
    return LINKTYPE_LINUX_SLL


def Sniffer(out: queue.SimpleQueue):
    """The best sniffer this kernel offers: a TPACKET_V3 ring, else ``recvmsg_into``."""
    if os.environ.get("SOCKVIZ_NO_RING"):
        return RecvSniffer(out)
    try:
        return RingSniffer(out)
    except CaptureNotPermitted:
        raise
    except OSError:
        return RecvSniffer(out)


class _PacketCapture:
    """What both sniffers share: the packet socket's life, the thread, the drops.

    ``_configure`` sets the socket up (the subclass's way of reading it) and
    ``_run`` is the thread's loop.
    """

    def __init__(self, out: queue.SimpleQueue) -> None:
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        except PermissionError as exc:
            raise CaptureNotPermitted(str(exc)) from None
        try:
            # Left unbound, a socket opened with ETH_P_ALL hears every
            # interface of the namespace, as tcpdump -i any.
            self._configure(sock)
            _read_stats(sock)  # reading resets the counters: start from zero
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.out = out
        self.drops = 0
        self.seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sockviz-sniffer", daemon=True)

    def _configure(self, sock: socket.socket) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after draining what the kernel already holds."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.drops += _read_stats(self.sock)
        self.sock.close()


class RecvSniffer(_PacketCapture):
    """Captures on every interface of this network namespace, in a thread.

    ``out`` receives ``('frames', [frame, ...])`` batches, each frame a tuple
    ``(time_ns, data, iface, direction, linktype, wirelen)``, and
    ``('drained', t)`` marks: every frame stamped before ``t`` has been queued.
    """

    def _configure(self, sock: socket.socket) -> None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setblocking(False)
        self._lo = {name for _, name in socket.if_nameindex() if name == "lo"}

    def _run(self) -> None:
        sock = self.sock
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        buf = bytearray(BUFSIZE)
        view = memoryview(buf)
        anc = socket.CMSG_SPACE(_TIMESPEC.size)
        put = self.out.put
        recv = sock.recvmsg_into
        while True:
            stopping = self._stop.is_set()
            batch = []
            while len(batch) < 512:
                # Taken before the read that finds the queue empty: every
                # frame stamped earlier is in the batch (2 ms margin for the
                # gap between stamping and queueing in the kernel).
                now = time.time()
                try:
                    n, ancdata, _flags, addr = recv([view], anc, socket.MSG_TRUNC)
                except BlockingIOError:
                    break
                except OSError:
                    break
                ifname, _proto, pkttype, hatype = addr[0], addr[1], addr[2], addr[3]
                if pkttype == PACKET_OUTGOING and ifname in self._lo:
                    # On loopback each packet is seen leaving and arriving;
                    # keep one copy, as libpcap does.
                    continue
                ts = None
                for level, typ, data in ancdata:
                    if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                        sec, nsec = _TIMESPEC.unpack_from(data)
                        ts = sec * 1_000_000_000 + nsec
                if ts is None:
                    ts = time.time_ns()
                caplen = min(n, BUFSIZE)
                data = bytes(view[:caplen])
                linktype = linktype_for(hatype)
                if linktype == LINKTYPE_LINUX_SLL:
                    hwaddr = addr[4] if len(addr) > 4 else b""
                    data = _SLL.pack(pkttype, hatype, len(hwaddr), hwaddr[:8], _proto) + data
                direction = (None if ifname in self._lo
                             else "out" if pkttype == PACKET_OUTGOING else "in")
                batch.append((ts, data, ifname, direction, linktype, n))
            if batch:
                self.seen += len(batch)
                put(("frames", batch))
                continue
            put(("drained", now - 0.002))
            if stopping:
                return
            poller.poll(20)


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
# 128 MiB: about 90,000 full-size frames (a second and more of a fast
# transfer) may wait for the pipeline before the kernel drops; memory is
# touched only as the ring fills. SOCKVIZ_RING_MB changes it.
RING_BYTES = int(os.environ.get("SOCKVIZ_RING_MB", "128")) << 20
# A partly filled block is handed over after this long: the delay before a
# frame of a quiet link is seen (busy links fill blocks sooner). Shorter would
# hand over half-empty blocks on a busy link, and the ring would hold fewer.
BLOCK_TIMEOUT_MS = 8
FRAME_BYTES = 2048  # only checked by the kernel: frames are packed in a V3 block
# struct tpacket_req3: block size, block count, frame size, frame count,
# retire timeout (ms), private area size, feature request word.
_REQ3 = struct.Struct("=IIIIIII")
# struct tpacket_block_desc: version, offset to private, then tpacket_hdr_v1:
# block_status, num_pkts, offset_to_first_pkt.
_BLOCK = struct.Struct("=IIIII")
# struct tpacket3_hdr: next offset, sec, nsec, snaplen, len, status, mac offset,
# net offset; sockaddr_ll at TPACKET_ALIGN(sizeof(tpacket3_hdr)) = 48: family,
# protocol (big-endian), ifindex, hatype, pkttype, halen, address.
_FRAME = struct.Struct("=IIIII4xH")
_LL = struct.Struct("=H2siHBB8s")
_LL_AT = 48


class RingSniffer(_PacketCapture):
    """Captures on every interface of the namespace through a TPACKET_V3 ring.

    Same interface as ``RecvSniffer``. The thread's loop, per packet: one
    header unpack and one copy of the frame out of the ring (the block goes
    back to the kernel at once); interface names come from a cached table.
    """

    def _configure(self, sock: socket.socket) -> None:
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        blocks = RING_BYTES // BLOCK_BYTES
        req = _REQ3.pack(BLOCK_BYTES, blocks, FRAME_BYTES, RING_BYTES // FRAME_BYTES,
                         BLOCK_TIMEOUT_MS, 0, 0)
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
        self.ring = mmap.mmap(sock.fileno(), RING_BYTES, mmap.MAP_SHARED,
                              mmap.PROT_READ | mmap.PROT_WRITE)
        self.blocks = blocks
        self._names: dict[int, str] = {}
        self._lo = {index for index, name in socket.if_nameindex() if name == "lo"}

    def stop(self) -> None:
        super().stop()
        if not self._thread.is_alive():
            self.ring.close()

    def _name(self, index: int) -> str:
        name = self._names.get(index)
        if name is None:
            try:
                name = socket.if_indextoname(index)
            except OSError:
                name = f"if{index}"
            self._names[index] = name
        return name

    def _run(self) -> None:
        ring = self.ring
        poller = select.poll()
        poller.register(self.sock.fileno(), select.POLLIN | select.POLLERR)
        put = self.out.put
        lo = self._lo
        names = self._names
        block_hdr, frame_hdr, ll = _BLOCK.unpack_from, _FRAME.unpack_from, _LL.unpack_from
        kernel = struct.pack("=I", TP_STATUS_KERNEL)
        current = 0
        last_look = False
        while True:
            stopping = self._stop.is_set()
            # Taken before looking: a frame stamped earlier than this, minus the
            # time a partly filled block may wait before the kernel hands it over,
            # is in a block we will see now.
            now = time.time()
            base = current * BLOCK_BYTES
            _version, _priv, status, count, first = block_hdr(ring, base)
            if status & TP_STATUS_USER:
                batch = []
                append = batch.append
                pos = base + first
                for _ in range(count):
                    nxt, sec, nsec, snaplen, wirelen, mac = frame_hdr(ring, pos)
                    _family, proto, ifindex, hatype, pkttype, halen, addr = ll(ring, pos + _LL_AT)
                    if ifindex in lo:
                        if pkttype == PACKET_OUTGOING:
                            pos += nxt
                            continue  # loopback: seen leaving and arriving; keep one, as libpcap
                        direction = None
                    else:
                        direction = "out" if pkttype == PACKET_OUTGOING else "in"
                    data = ring[pos + mac : pos + mac + snaplen]
                    linktype = linktype_for(hatype)
                    if linktype == LINKTYPE_LINUX_SLL:
                        data = _SLL.pack(pkttype, hatype, halen, addr, int.from_bytes(proto)) + data
                    name = names.get(ifindex) or self._name(ifindex)
                    append((sec * 1_000_000_000 + nsec, data, name, direction, linktype, wirelen))
                    pos += nxt
                ring[base + 8 : base + 12] = kernel  # the block goes back to the kernel
                current = (current + 1) % self.blocks
                if batch:
                    self.seen += len(batch)
                    put(("frames", batch))
                continue
            # Nothing handed over. If the open block is still empty too, every
            # frame stamped before now (2 ms margin between stamping and
            # queueing, as RecvSniffer) is behind us; if it holds frames, they
            # will come when the kernel hands it over, within the block timeout.
            pending = block_hdr(ring, base)[3]
            lag = 0.002 if not pending else BLOCK_TIMEOUT_MS / 1000 + 0.010
            put(("drained", now - lag))
            if stopping:
                if last_look:
                    return
                # A partly filled block is handed over only when its time is up:
                # wait that long once more, so the last frames are not left in it.
                last_look = True
                time.sleep(2 * BLOCK_TIMEOUT_MS / 1000 + 0.004)
                continue
            poller.poll(BLOCK_TIMEOUT_MS)


def _read_stats(sock: socket.socket) -> int:
    """Kernel drops since the last call (PACKET_STATISTICS resets on reading)."""
    try:
        raw = sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, _STATS.size)
    except OSError:
        return 0
    _packets, drops = _STATS.unpack_from(raw)
    return drops


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
