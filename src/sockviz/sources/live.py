"""The live source: raw frames from an AF_PACKET socket, nothing slow in the loop.

scapy's own sniffer dissects each packet as it arrives and loses most of a
fast stream (DESIGN.md, measured here); we read raw frames with their kernel
timestamps into a queue and decode behind the capture. The socket is open
and bound before ``__init__`` returns, so the first call of a lesson is never
missed: the kernel queues every frame from then on.
"""

from __future__ import annotations

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


class Sniffer:
    """Captures on every interface of this network namespace, in a thread.

    ``out`` receives ``('frames', [frame, ...])`` batches, each frame a tuple
    ``(time_ns, data, iface, direction, linktype, wirelen)``, and
    ``('drained', t)`` marks: every frame stamped before ``t`` has been queued.
    """

    def __init__(self, out: queue.SimpleQueue) -> None:
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        except PermissionError as exc:
            raise CaptureNotPermitted(str(exc)) from None
        try:
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            # Left unbound, a socket opened with ETH_P_ALL hears every
            # interface of the namespace, as tcpdump -i any.
            sock.setblocking(False)
            self._read_stats(sock)  # reading resets the counters: start from zero
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.out = out
        self.drops = 0
        self.seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sockviz-sniffer", daemon=True)
        self._lo = {name for _, name in socket.if_nameindex() if name == "lo"}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after draining what the kernel already holds."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.drops += self._read_stats(self.sock)
        self.sock.close()

    def _read_stats(self, sock: socket.socket) -> int:
        try:
            raw = sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, _STATS.size)
        except OSError:
            return 0
        _packets, drops = _STATS.unpack(raw)
        return drops

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
                    n, ancdata, flags, addr = recv([view], anc, socket.MSG_TRUNC)
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
                if ifname in self._lo:
                    direction = None
                else:
                    direction = "out" if pkttype == PACKET_OUTGOING else "in"
                batch.append((ts, data, ifname, direction, linktype, n))
            if batch:
                self.seen += len(batch)
                put(("frames", batch))
                continue
            put(("drained", now - 0.002))
            if stopping:
                return
            poller.poll(20)


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
