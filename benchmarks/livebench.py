"""What the live benchmarks share: a fast echo server, tcpdump as a witness,
memory sampled over a process tree, packet counts from capture files and from
``--json`` records.

Not a benchmark itself: ``live_capture.py`` and ``trace_overhead.py`` import it.
Everything here is the standard library plus the ``tcpdump`` binary.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable

PAGE = os.sysconf("SC_PAGE_SIZE")

# The echo server: answers at link speed (recv_into one 1 MiB buffer, sendall
# it back), one thread per connection. The lab's chat server is an asyncio
# relay, far slower than the link; this one leaves the link as the limit.
ECHO_SERVER = r"""
import socket, sys, threading

def serve(conn):
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    with conn:
        try:
            while True:
                n = conn.recv_into(buf)
                if not n:
                    break
                conn.sendall(view[:n])
        except OSError:
            pass

ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1])))
ls.listen(16)
print("listening", flush=True)
while True:
    conn, _ = ls.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""


def load() -> str:
    """The load averages, as ``uptime`` shows them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def read_line(stream, timeout: float) -> str:
    """One line from a child's pipe within ``timeout`` seconds ('' if none)."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else ""


def start_echo(host, port: int, timeout: float = 10.0) -> subprocess.Popen:
    """The fast echo server on ``host`` (a lab Host), as its own process; returns once it listens."""
    proc = host.run([sys.executable, "-c", ECHO_SERVER, str(port)], stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL, text=True)
    line = read_line(proc.stdout, timeout)
    if "listening" not in line:
        stop(proc, signal.SIGKILL)
        raise RuntimeError("the echo server did not start")
    return proc


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """End a child we started (its own process group, as Host.run makes it)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --------------------------------------------------------------------------- memory


def rss(pid: int) -> int:
    """Resident bytes of ``pid`` (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def hwm(pid: int) -> int:
    """The kernel's own peak RSS of ``pid`` (VmHWM), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` so far (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def _children() -> dict[int, list[int]]:
    """ppid -> pids, from one pass over /proc (this kernel has no .../children files)."""
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(name))
    return tree


class TreeMemory:
    """Samples the summed RSS of a process and all its descendants every ``interval``.

    The descendants are looked up every ``rescan`` seconds (a pass over /proc),
    their RSS every ``interval``: the sockviz capture process is a child of the
    main one (in a session of its own, so not in its process group). ``peak`` is
    the largest sum seen; ``peak_each`` the largest sample of each process, and
    ``hwm_each`` each process's VmHWM as last read (the kernel's exact peak).
    """

    def __init__(self, pid: int, interval: float = 0.010, rescan: float = 0.1) -> None:
        self.root = pid
        self.interval, self.rescan = interval, rescan
        self.peak = 0
        self.peak_each: dict[int, int] = {}
        self.hwm_each: dict[int, int] = {}
        self.cpu_each: dict[int, float] = {}
        self.samples = 0
        self._pids = [pid]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _descendants(self) -> list[int]:
        tree, out, todo = _children(), [], [self.root]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(tree.get(pid, ()))
        return out

    def _run(self) -> None:
        next_scan = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_scan:
                self._pids = self._descendants()
                next_scan = now + self.rescan
                for pid in self._pids:
                    high = hwm(pid)
                    if high:
                        self.hwm_each[pid] = high
            total = 0
            for pid in self._pids:
                cpu = cpu_seconds(pid)
                if cpu is not None:
                    self.cpu_each[pid] = cpu
                r = rss(pid)
                total += r
                if r > self.peak_each.get(pid, 0):
                    self.peak_each[pid] = r
            self.samples += 1
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def processes(self) -> int:
        return len(self.peak_each)

    @property
    def cpu(self) -> float:
        """CPU seconds of the whole tree (as last sampled, up to 10 ms short of the end)."""
        return sum(self.cpu_each.values())


# --------------------------------------------------------------------------- tcpdump


class Tcpdump:
    """``tcpdump -i IFACE --immediate-mode -w PATH tcp port PORT`` on a lab host,
    started and confirmed listening before anything is sent."""

    def __init__(self, host, iface: str, path: str, port: int, *, buffer_kib: int = 0,
                 timeout: float = 10.0) -> None:
        self.argv = self.command(iface, path, port, buffer_kib)
        self.path = path
        self.proc = host.run(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
        line = read_line(self.proc.stderr, timeout)  # "tcpdump: listening on eth0, ..."
        if "listening" not in line:
            stop(self.proc, signal.SIGKILL)
            raise RuntimeError(f"tcpdump did not start: {line.strip() or 'no answer'}")
        self.memory = TreeMemory(self.proc.pid)
        self.captured = self.received = self.dropped = None
        self.peak_hwm = 0

    @staticmethod
    def command(iface: str, path: str, port: int, buffer_kib: int = 0) -> list[str]:
        """``-B KiB``: libpcap's ring (its default, 2 MiB, drops packets at link speed here)."""
        argv = ["tcpdump", "-i", iface, "--immediate-mode"]
        if buffer_kib:
            argv += ["-B", str(buffer_kib)]
        return [*argv, "-w", path, "tcp", "port", str(port)]

    def finish(self, settle: float = 0.5) -> None:
        """Wait ``settle`` s (the teardown's last packets), stop it, read its counts."""
        time.sleep(settle)
        self.peak_hwm = hwm(self.proc.pid)
        self.memory.stop()
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            stop(self.proc, signal.SIGKILL)
            err = ""
        for name, words in (("captured", "captured"), ("received", "received by filter"),
                            ("dropped", "dropped by kernel")):
            m = re.search(rf"(\d+) packets? {words}", err or "")
            setattr(self, name, int(m.group(1)) if m else None)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.memory.stop()
            stop(self.proc, signal.SIGKILL)


def count_pcap(path: str, port: int) -> int:
    """Packets of TCP port ``port`` in a pcap or pcapng file, as ``tcpdump -r FILE | wc -l``."""
    proc = subprocess.Popen(["tcpdump", "-nn", "-q", "-r", path, "tcp", "port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = 0
    while chunk := proc.stdout.read(1 << 20):
        n += chunk.count(b"\n")
    proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"tcpdump -r {path} failed ({proc.returncode})")
    return n


# --------------------------------------------------------------------------- --json records

_TCP_PORTS = re.compile(rb'"proto": "TCP", "src": "[^"]*", "dst": "[^"]*", '
                        rb'"sport": (\d+), "dport": (\d+)')
_PACKET = b'{"type": "packet"'


class JsonCount:
    """Counts ``--json`` records as they come: TCP packets of a port, calls, the summary.

    Cheap per line (a regular expression on packet lines, whose keys come in a
    fixed order; ``json.loads`` for the rest), so a reader on a pipe keeps up
    without taking the CPU sockviz needs.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.tcp_packets = 0
        self.other_packets = 0
        self.lines = 0
        self.calls: list[dict] = []
        self.summary: dict | None = None
        self.bad = 0
        self._rest = b""

    def line(self, line: bytes) -> None:
        if not line.strip():
            return
        self.lines += 1
        if line.startswith(_PACKET):
            m = _TCP_PORTS.search(line)
            if m is None:
                try:
                    rec = json.loads(line)
                except ValueError:
                    self.bad += 1
                    return
                if rec.get("proto") == "TCP" and self.port in (rec.get("sport"), rec.get("dport")):
                    self.tcp_packets += 1
                else:
                    self.other_packets += 1
            elif self.port in (int(m.group(1)), int(m.group(2))):
                self.tcp_packets += 1
            else:
                self.other_packets += 1
            return
        try:
            rec = json.loads(line)
        except ValueError:
            self.bad += 1
            return
        if rec.get("type") == "call":
            self.calls.append({k: rec.get(k) for k in ("name", "start", "end", "error")})
        elif rec.get("type") == "summary":
            self.summary = rec

    def feed(self, chunk: bytes) -> None:
        lines = (self._rest + chunk).split(b"\n")
        self._rest = lines.pop()
        for line in lines:
            self.line(line)

    def close(self) -> JsonCount:
        if self._rest:
            self.line(self._rest)
            self._rest = b""
        return self

    @classmethod
    def of_file(cls, path: str, port: int) -> JsonCount:
        count = cls(port)
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                count.feed(chunk)
        return count.close()

    def first_call_start(self) -> float | None:
        starts = [c["start"] for c in self.calls if c.get("start") is not None]
        return min(starts) if starts else None

    def call(self, name: str) -> dict | None:
        return next((c for c in self.calls if c["name"] == name), None)


def drain_fd(fd: int, sink) -> threading.Thread:
    """A thread that reads ``fd`` to its end, handing each chunk to ``sink(chunk)``."""

    def run() -> None:
        while True:
            try:
                chunk = os.read(fd, 1 << 20)
            except OSError:  # EIO: a pty whose other end closed
                break
            if not chunk:
                break
            sink(chunk)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def table(rows: Iterable[dict], columns: list[tuple[str, str]]) -> str:
    """A plain text table: ``columns`` are (key, heading); numbers right-aligned."""
    rows = list(rows)
    cells = [[h for _, h in columns]]
    for r in rows:
        out = []
        for key, _ in columns:
            v = r.get(key)
            if isinstance(v, int) and not isinstance(v, bool):
                out.append(f"{v:,}")
            elif isinstance(v, float):
                out.append(f"{v:.2f}")
            else:
                out.append("-" if v is None else str(v))
        cells.append(out)
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for j, row in enumerate(cells):
        parts = [c.ljust(w) if i == 0 or j == 0 else c.rjust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
