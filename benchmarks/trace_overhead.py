"""What tracing costs a program: per socket call, and on a bulk transfer.

(a) Per call. On a throwaway lab host (so the capture hears a quiet
    namespace), a child process times N iterations of cheap socket
    operations, each in three ways:

    - ``plain``: the socket module as it is;
    - ``recorder``: ``sockviz.tracing.recorder.Recorder`` installed with a sink
      that does nothing (the wrapper's own cost: the Call, the source line,
      the stack);
    - ``traced``: a real ``sockviz.tracing.session.Tracing`` (the capture
      process, a ``LiveSession`` with its pipeline thread, a ``RecordsSink``
      keeping every ``--json`` record), as ``sockviz.trace()`` builds it. Its
      pipeline runs beside the program and takes the GIL too: that is part
      of what the program pays.

    The operations: ``send(b"x")`` + ``recv(1)`` on a socketpair (2 calls), a
    ``setsockopt`` (1 call), and ``send(b"x")`` + ``recv(1)`` on a connected
    UDP pair on loopback (2 calls and one captured packet). The time a traced
    run's pipeline needs after the loop to show everything (``stop()``) is
    given beside. Reported: microseconds per call, and what tracing adds
    (the goal: under 20 µs).

(b) A bulk transfer. Two lab hosts with offloads off (MSS-sized segments), a
    fast echo server on the server host (benchmarks/livebench.py); on the
    client a program sends SIZE bytes in a loop of ``send()`` calls of CHUNK
    bytes while a thread reads the echo back (``recv_into`` a 1 MiB buffer),
    run as ``sockviz run --json --save TMP.pcapng PROGRAM`` and untraced
    (``python PROGRAM``), each beside ``tcpdump -i eth0 --immediate-mode -B
    131072 -w TMP.pcap tcp port 3001``: packets counted (sockviz's records,
    its pcapng, tcpdump), kernel drops, wall times, peak memory.

Needs root. Everything is removed after (``with Lab()``, ``finally``).

    sudo python benchmarks/trace_overhead.py [--calls 10000] [--repeat 5]
                                             [--size 200M] [--chunk 64K] [--runs 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import livebench as lb  # benchmarks/, beside this script

PORT = 3001
_UNITS = {"": 1, "K": 1 << 10, "M": 10**6, "G": 10**9}


def size_bytes(text: str) -> int:
    import re

    m = re.fullmatch(r"(\d+)([KMG]?)B?", text.upper())
    if m is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 64K, 200M)")
    return int(m.group(1)) * _UNITS[m.group(2)]


# --------------------------------------------------------------------------- (a) per call


class NullSink:
    """The recorder's sink interface (as LiveSession has it), doing nothing."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    def beginning(self, call_id: int) -> None:
        pass

    def begin(self, call, *, hold: bool = False) -> None:
        pass

    def ending(self, call_id: int) -> None:
        pass

    def abandon(self, call_id: int) -> None:
        pass

    def end(self, call, *, wait: float = 0.0) -> None:
        pass


class Clock:
    """Wall time, this thread's CPU time, the process's CPU time (all its threads)."""

    def __init__(self) -> None:
        self.start = (time.perf_counter(), time.thread_time(), time.process_time())

    def read(self) -> tuple[float, float, float]:
        now = (time.perf_counter(), time.thread_time(), time.process_time())
        return tuple(b - a for a, b in zip(self.start, now, strict=True))


def calibrate() -> float:
    """µs for ``sum(range(1000))`` (best of 20): how fast this machine is just now."""
    best = float("inf")
    for _ in range(20):
        t0 = time.perf_counter()
        sum(range(1000))
        best = min(best, time.perf_counter() - t0)
    return 1e6 * best


def op_socketpair(n: int) -> tuple[float, int]:
    a, b = socket.socketpair()
    try:
        send, recv = a.send, b.recv
        clock = Clock()
        for _ in range(n):
            send(b"x")
            recv(1)
        return clock.read(), 2 * n
    finally:
        a.close()
        b.close()


def op_setsockopt(n: int) -> tuple[float, int]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        setsockopt = s.setsockopt
        level, name = socket.SOL_SOCKET, socket.SO_KEEPALIVE
        clock = Clock()
        for _ in range(n):
            setsockopt(level, name, 1)
        return clock.read(), n
    finally:
        s.close()


def op_udp(n: int) -> tuple[float, int]:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        rx.bind(("127.0.0.1", 0))
        tx.connect(rx.getsockname())
        send, recv = tx.send, rx.recv
        clock = Clock()
        for _ in range(n):
            send(b"x")
            recv(1)
        return clock.read(), 2 * n
    finally:
        tx.close()
        rx.close()


OPS = {"socketpair send+recv": op_socketpair, "setsockopt": op_setsockopt,
       "UDP lo send+recv": op_udp}


def micro(calls: int, repeat: int) -> dict:
    """In the lab host: every op, ``repeat`` times each way; µs per call."""
    from sockviz.tracing.recorder import Recorder
    from sockviz.tracing.session import RecordsSink, Tracing, open_sniffer

    results: dict = {"calibration": []}
    ways = ("plain", "recorder", "traced")
    for name, op in OPS.items():
        op(1000)  # warm up
        times: dict[str, dict[str, list[float]]] = {
            way: {"wall": [], "thread": [], "process": []} for way in ways}
        catch_up: list[float] = []
        records: list[int] = []

        def keep(way: str, measured: tuple, count: int, times=times) -> None:
            for clock, seconds in zip(("wall", "thread", "process"), measured, strict=True):
                times[way][clock].append(1e6 * seconds / count)

        for _ in range(repeat):
            results["calibration"].append(calibrate())
            measured, count = op(calls)
            keep("plain", measured, count)

            with Recorder(NullSink()):
                measured, count = op(calls)
            keep("recorder", measured, count)

            sniffer, frames = open_sniffer()
            sink = RecordsSink()
            tracing = Tracing(sniffer=sniffer, frames=frames, sinks=[sink]).start()
            try:
                measured, count = op(calls)
            finally:
                t0 = time.perf_counter()
                summary = tracing.stop()
                catch_up.append(time.perf_counter() - t0)
            keep("traced", measured, count)
            records.append(sum(1 for r in sink.records if r["type"] == "call"))
            if summary.kernel_drops:
                results["drops"] = results.get("drops", 0) + summary.kernel_drops
            del sink, tracing
        results[name] = {"calls": count, "times": times, "catch_up": catch_up,
                         "call_records": records, "packets": summary.packets}
    return results


def report_micro(res: dict, calls: int, repeat: int, load: str) -> None:
    rows = []
    for name in OPS:
        r = res[name]
        med = {way: {clock: statistics.median(v) for clock, v in clocks.items()}
               for way, clocks in r["times"].items()}
        walls = r["times"]["traced"]["wall"]
        rows.append({
            "op": name, "calls": r["calls"],
            "plain": f"{med['plain']['wall']:.2f}",
            "recorder": f"{med['recorder']['wall']:.2f}",
            "traced": f"{med['traced']['wall']:.2f}",
            "traced_range": f"{min(walls):.1f}-{max(walls):.1f}",
            "added_rec": f"{med['recorder']['wall'] - med['plain']['wall']:.1f}",
            "added": f"{med['traced']['wall'] - med['plain']['wall']:.1f}",
            "added_thread": f"{med['traced']['thread'] - med['plain']['thread']:.1f}",
            "added_process": f"{med['traced']['process'] - med['plain']['process']:.1f}",
            "catch_up": f"{statistics.median(r['catch_up']):.2f}",
            "records": "/".join(sorted({f"{x:,}" for x in r["call_records"]})),
            "packets": r["packets"],
        })
    cal = res["calibration"]
    print(f"(a) per call: {calls:,} iterations per trial, {repeat} trials each way, medians; "
          f"load {load}; sum(range(1000)) took {statistics.median(cal):.1f} µs "
          f"(min {min(cal):.1f}) during the trials")
    print(lb.table(rows, [("op", "operation"), ("calls", "calls/trial"),
                          ("plain", "plain µs/call"), ("recorder", "recorder µs/call"),
                          ("traced", "traced µs/call"), ("traced_range", "traced min-max"),
                          ("added_rec", "recorder adds"), ("added", "tracing adds (wall)"),
                          ("added_thread", "(caller's CPU)"), ("added_process", "(process CPU)"),
                          ("catch_up", "stop() s"), ("records", "call records"),
                          ("packets", "packets shown")]))
    if res.get("drops"):
        print(f"  kernel drops during the traced trials: {res['drops']}")
    print("  every trial, wall µs per call (caller's thread CPU µs in brackets):")
    for name in OPS:
        for way, clocks in res[name]["times"].items():
            print(f"    {name:22} {way:9} " + " ".join(
                f"{w:7.2f} ({c:.2f})" for w, c in zip(clocks["wall"], clocks["thread"], strict=True)))


# --------------------------------------------------------------------------- (b) bulk

PROGRAM = r"""
import json, socket, sys, threading, time

host, port, size, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t0 = time.perf_counter()
s = socket.create_connection((host, port))
got = 0

def reader():
    global got
    buf = bytearray(1 << 20)
    while got < size:
        n = s.recv_into(buf)
        if not n:
            break
        got += n

th = threading.Thread(target=reader)
th.start()
data = memoryview(bytes(range(256)) * (chunk // 256 + 1))[:chunk]
sent = calls = 0
while sent < size:
    sent += s.send(data[: min(chunk, size - sent)])
    calls += 1
th.join()
s.close()
print("RESULT " + json.dumps({"seconds": time.perf_counter() - t0, "send_calls": calls,
                              "received": got}), file=sys.stderr, flush=True)
"""


def bulk_run(lab, tmp: str, program: str, size: int, chunk: int, traced: bool,
             timeout: float) -> dict:
    from sockviz.lab.netns import IFACE, SERVER_V4

    row: dict = {"way": "traced" if traced else "plain", "load": lb.load()}
    dump_path = os.path.join(tmp, "tcpdump.pcap")
    save = os.path.join(tmp, "run.pcapng")
    records = os.path.join(tmp, "records.jsonl")
    errors = os.path.join(tmp, "stderr.txt")
    args = [program, SERVER_V4, str(PORT), str(size), str(chunk)]
    argv = ([sys.executable, "-m", "sockviz", "run", "--json", "--save", save, *args] if traced
            else [sys.executable, *args])
    dump = lb.Tcpdump(lab.client, IFACE, dump_path, PORT, buffer_kib=131072)
    fds = [os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
           for p in (records, errors)]
    try:
        t0 = time.time()
        # This script's own tree, not whichever sockviz the interpreter has installed:
        # a benchmark of another build (a worktree) measures that build.
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
        proc = lab.client.run(argv, stdin=subprocess.DEVNULL, stdout=fds[0], stderr=fds[1],
                              env=env)
        memory = lb.TreeMemory(proc.pid)
        try:
            row["status"] = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            lb.stop(proc)
            row["status"] = "timeout"
        row["wall"] = time.time() - t0
        memory.stop()
        dump.finish()
    finally:
        dump.kill()
        for fd in fds:
            os.close(fd)
    row.update(tcpdump=lb.count_pcap(dump_path, PORT), tcpdump_drops=dump.dropped,
               mem=memory.peak, cpu=memory.cpu)
    with open(errors, encoding="utf-8", errors="replace") as f:
        err = f.read()
    for line in err.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
            row.update(program_s=result["seconds"], send_calls=result["send_calls"],
                       echo_ok=result["received"] == size)
    rest = [line for line in err.splitlines() if not line.startswith("RESULT ")]
    if rest:
        row["stderr"] = "\n".join(rest)[-1500:]
    if traced:
        counted = lb.JsonCount.of_file(records, PORT)
        s = counted.summary or {}
        names: dict[str, int] = {}
        for c in counted.calls:
            names[c["name"]] = names.get(c["name"], 0) + 1
        row.update(json=counted.tcp_packets, pcapng=lb.count_pcap(save, PORT)
                   if os.path.exists(save) else None, drops=s.get("kernel_drops"),
                   call_records=len(counted.calls),
                   calls_by_name=", ".join(f"{k} {v:,}" for k, v in sorted(names.items())))
        row["equal"] = (row["status"] == 0 and row["json"] == row["pcapng"] == row["tcpdump"])
    for path in (dump_path, save, records, errors):
        if os.path.exists(path):
            os.unlink(path)
    return row


BULK_COLUMNS = [("run", "run"), ("way", "way"), ("load", "load (1 5 15)"), ("wall", "wall s"),
                ("program_s", "program s"), ("cpu", "cpu s"), ("send_calls", "send() calls"),
                ("call_records", "call records"), ("tcpdump", "tcpdump pkts"),
                ("tcpdump_drops", "tcpdump drops"), ("json", "sockviz --json"),
                ("pcapng", "sockviz pcapng"), ("drops", "sockviz drops"), ("equal", "equal"),
                ("mem_mib", "peak MiB (tree)"), ("status", "status")]


def bulk(args) -> list[dict]:
    from sockviz.lab.netns import IFACE, Lab
    from sockviz.lab.offloads import disable_offloads

    size, chunk = size_bytes(args.size), size_bytes(args.chunk)
    tmp = tempfile.mkdtemp(prefix="sockviz-trace-")
    rows: list[dict] = []
    try:
        program = os.path.join(tmp, "bulk_send.py")
        with open(program, "w") as f:
            f.write(PROGRAM)
        with Lab() as lab:
            for host in lab.hosts:
                disable_offloads(host, IFACE)
            echo = lb.start_echo(lab.server, PORT)
            try:
                print(f"\n(b) {args.size} each way, send() of {args.chunk}, echo read back by a "
                      "thread; offloads off; witness tcpdump -i eth0 --immediate-mode -B 131072")
                for run in range(1, args.runs + 1):
                    for traced in (False, True):
                        row = bulk_run(lab, tmp, program, size, chunk, traced, args.timeout)
                        row["run"] = run
                        row["mem_mib"] = round(row["mem"] / (1 << 20))
                        if "equal" in row:
                            row["equal"] = "yes" if row["equal"] else "NO"
                        rows.append(row)
                        print(lb.table([row], BULK_COLUMNS), flush=True)
                        if traced:
                            print(f"   calls recorded: {row['calls_by_name']}")
                        if row.get("stderr"):
                            print("   said: " + row["stderr"].strip()[-700:])
            finally:
                lb.stop(echo)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nevery run:\n" + lb.table(rows, BULK_COLUMNS))
    for run in range(1, args.runs + 1):
        plain = next(r for r in rows if r["run"] == run and r["way"] == "plain")
        traced = next(r for r in rows if r["run"] == run and r["way"] == "traced")
        if plain.get("program_s") and traced.get("program_s"):
            print(f"  run {run}: traced program {traced['program_s']:.2f} s vs "
                  f"{plain['program_s']:.2f} s untraced (x{traced['program_s'] / plain['program_s']:.2f}); "
                  f"wall {traced['wall']:.1f} s vs {plain['wall']:.1f} s")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description="what tracing costs a program")
    parser.add_argument("--calls", type=int, default=10000, help="iterations per trial (10000)")
    parser.add_argument("--repeat", type=int, default=5, help="trials of each op and way (5)")
    parser.add_argument("--size", default="200M", help="(b): bytes sent, each way (200M)")
    parser.add_argument("--chunk", default="64K", help="(b): bytes per send() call (64K)")
    parser.add_argument("--runs", type=int, default=3, help="(b): runs of each way (3)")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--only", choices=("micro", "bulk"))
    parser.add_argument("--micro-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.micro_child:  # in the lab host: results as one JSON line
        print(json.dumps(micro(args.calls, args.repeat)))
        return 0
    if os.geteuid() != 0:
        print("needs root: sudo python benchmarks/trace_overhead.py", file=sys.stderr)
        return 2
    print(f"{os.cpu_count()} CPUs, load at start {lb.load()}")
    if args.only != "bulk":
        from sockviz.lab.netns import Lab

        with Lab() as lab:
            load = lb.load()
            done = lab.client.call([sys.executable, __file__, "--micro-child", "--calls",
                                    str(args.calls), "--repeat", str(args.repeat)],
                                   capture_output=True, text=True, timeout=args.timeout)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        report_micro(json.loads(done.stdout.splitlines()[-1]), args.calls, args.repeat, load)
    if args.only != "micro":
        if shutil.which("tcpdump") is None:
            print("tcpdump is not installed", file=sys.stderr)
            return 2
        rows = bulk(args)
        if not all(r.get("equal", "yes") == "yes" and r.get("drops", 0) == 0 for r in rows):
            print("\nNOT every traced run kept every packet")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
