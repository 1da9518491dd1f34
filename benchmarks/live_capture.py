"""Live capture without loss: sockviz beside tcpdump on the same interface, same time.

Builds two throwaway hosts (network namespaces joined by a veth pair, from
sockviz.lab) with checksum, TSO, GSO and GRO offloads off on both ends
(every TCP segment one MSS-sized frame, the hardest case), starts a fast echo
server on the server host (its own process: ``recv_into`` a 1 MiB buffer and
``sendall`` it back, one thread per connection, so the link is the limit, not
the lab's asyncio chat server), then on the client host, for each run, size
and mode:

1. ``tcpdump -i eth0 --immediate-mode -B 131072 -w TMP.pcap tcp port 3001``,
   started and confirmed listening (its "listening on" line) first. ``-B``
   gives it a ring as large as sockviz's (128 MiB): with its default (2 MiB,
   ``--tcpdump-buffer 0``) it drops 10-50 % of these packets here, and a
   witness that drops proves nothing;
2. ``sockviz tcp 192.0.2.2 3001 --send-bytes SIZE --save TMP.pcapng``, which
   sends SIZE bytes in a loop of 1 MiB sendall() calls (the lesson's program, as
   ``sockviz tcp ... --send-bytes SIZE --code`` prints it) while a thread reads the
   echo back, in
   one of three modes:

   - ``pipe``: ``--json`` to a pipe this script reads and counts as it comes;
   - ``file``: ``--json`` to a file;
   - ``tty``: the terminal view, on a pseudo-terminal (120x40) this script
     reads, so the live status line of a bulk transfer is on;

3. then counts: sockviz's ``--json`` packet records (TCP to or from the port),
   its pcapng and tcpdump's file (both with ``tcpdump -r FILE tcp port 3001``,
   one line a packet), the kernel drops each reports (sockviz: the summary's
   ``kernel_drops``, or the terminal's "N dropped by the kernel"; tcpdump: its
   "dropped by kernel"), and peak memory: the RSS of every sockviz process (the
   main one and its capture process, a child in a session of its own) summed,
   sampled every 10 ms, beside tcpdump's (sampled, and its VmHWM).

Each run prints a row: the load average before it (other work on the machine
disturbs the figures), wall and CPU seconds (sockviz's main process and its
capture process), the throughput of the sendall() loop (from the first call's
start to the last one's end), the counts, the peaks, and the
time from the command's start to its first call (the capture listens before
it), and the capture process's own account (SOCKVIZ_CAPTURE_STATS): the most
of its ring that was ever waiting to be read (100 %: the kernel drops) and its
slowest write to the spool. ``--ring-mb`` sets sockviz's ring (SOCKVIZ_RING_MB), ``--tmpdir`` where
the files and sockviz's spool go (e.g. /dev/shm, to take the disk out).

Needs root. The hosts, the server and the temporary files are removed whatever
happens (``with Lab()``, ``finally``).

    sudo python benchmarks/live_capture.py [--runs 5] [--size 50M 200M]
                                           [--modes pipe file tty] [--ring-mb MiB]
                                           [--tcpdump-buffer KiB] [--tmpdir DIR]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import livebench as lb  # benchmarks/, beside this script

from sockviz.lab.netns import IFACE, SERVER_V4, Lab
from sockviz.lab.offloads import disable_offloads, read_offloads

PORT = 3001
MODES = ("pipe", "file", "tty")
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
_TTY_SUMMARY = re.compile(r"([\d,]+) packets? ·.*?([\d,]+) dropped by the kernel")
_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}
# What the capture process says at its end with SOCKVIZ_CAPTURE_STATS set.
_CAPTURE_STATS = re.compile(r"sockviz-capture: ring peak (\d+) of (\d+) blocks \(\d+ %\), "
                            r"slowest spool write ([\d.]+) ms, (\d+) over 10 ms[^\n]*\n?")


def size_bytes(text: str) -> int:
    m = re.fullmatch(r"(\d+)([KMG]?)B?", text.upper())
    if m is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 50M)")
    return int(m.group(1)) * _UNITS[m.group(2)]


def one_run(lab: Lab, tmp: str, size: str, mode: str, port: int, timeout: float,
            buffer_kib: int, spool_dir: str | None, ring_mb: int | None) -> dict:
    row: dict = {"size": size, "mode": mode, "load": lb.load()}
    dump_path = os.path.join(tmp, "tcpdump.pcap")
    save = os.path.join(tmp, "sockviz.pcapng")
    records = os.path.join(tmp, "records.jsonl")
    errors = os.path.join(tmp, "stderr.txt")
    argv = [sys.executable, "-m", "sockviz", "tcp", SERVER_V4, str(port), "--send-bytes", size,
            "--save", save, "--timeout", "60", "--lang", "en"]
    if mode != "tty":
        argv.append("--json")
    dump = lb.Tcpdump(lab.client, IFACE, dump_path, port, buffer_kib=buffer_kib)
    counted = lb.JsonCount(port)
    tail = bytearray()
    reader = None
    master = -1
    fds: list[int] = []  # ours, closed in the finally block

    def create(path: str) -> int:
        fds.append(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600))
        return fds[-1]

    try:
        env = dict(os.environ, LANG="C.UTF-8", SOCKVIZ_CAPTURE_STATS="1")
        if spool_dir:
            env["TMPDIR"] = spool_dir  # where the capture process's spool file goes
        if ring_mb:
            env["SOCKVIZ_RING_MB"] = str(ring_mb)
        if mode == "pipe":
            stdout, stderr = subprocess.PIPE, create(errors)
        elif mode == "file":
            stdout, stderr = create(records), create(errors)
        else:
            master, slave = pty.openpty()
            fds.append(slave)
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
            env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
            stdout = stderr = slave
        t0 = time.time()
        proc = lab.client.run(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                              env=env)
        memory = lb.TreeMemory(proc.pid)
        if mode == "pipe":
            reader = lb.drain_fd(proc.stdout.fileno(), counted.feed)
        elif mode == "tty":
            os.close(fds.pop())  # the slave: the child holds it now

            def keep(chunk: bytes) -> None:
                tail.extend(chunk)
                del tail[:-(1 << 20)]

            reader = lb.drain_fd(master, keep)
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            lb.stop(proc)
            status = "timeout"
        elapsed = time.time() - t0
        memory.stop()
        if reader is not None:
            reader.join(timeout=30)
        dump.finish()
    finally:
        dump.kill()
        for fd in fds:
            os.close(fd)
        if master >= 0:
            os.close(master)
    row.update(status=status, elapsed=elapsed, tcpdump=lb.count_pcap(dump_path, port),
               tcpdump_drops=dump.dropped, tcpdump_captured=dump.captured,
               pcapng=lb.count_pcap(save, port) if os.path.exists(save) else None,
               mem=memory.peak, mem_procs=memory.processes,
               cpu_main=memory.cpu_each.get(proc.pid),
               cpu_capture=sum(v for k, v in memory.cpu_each.items() if k != proc.pid),
               mem_main=memory.peak_each.get(proc.pid, 0),
               mem_capture=max((v for k, v in memory.peak_each.items() if k != proc.pid),
                               default=0),
               mem_hwm_sum=sum(memory.hwm_each.values()),
               tcpdump_mem=dump.memory.peak, tcpdump_hwm=dump.peak_hwm)
    if mode == "file":
        counted = lb.JsonCount.of_file(records, port)
    if mode == "tty":
        text = _ANSI.sub(b"", bytes(tail)).decode("utf-8", "replace")
        found = _TTY_SUMMARY.findall(text)
        if found:
            shown, drops = found[-1]
            row.update(shown=int(shown.replace(",", "")), drops=int(drops.replace(",", "")))
        row["json"] = None
        row["tty_text"] = text
        row["tty_status_updates"] = bytes(tail).count(b"\x1b[2K")
    else:
        counted.close()
        s = counted.summary or {}
        row.update(json=counted.tcp_packets, shown=s.get("packets"), drops=s.get("kernel_drops"),
                   other=counted.other_packets, bad=counted.bad)
        first = counted.first_call_start()
        row["first_call_ms"] = None if first is None else 1000 * (first - t0)
        sendall = [c for c in counted.calls if c["name"] == "sendall"]
        if sendall and all(c.get("end") for c in sendall):
            row["sendall_s"] = sendall[-1]["end"] - sendall[0]["start"]
            row["MB_s"] = size_bytes(size) / 1e6 / row["sendall_s"]
    said = row.get("tty_text", "")
    if mode != "tty":  # whatever sockviz said on stderr (nothing, in a good run)
        with open(errors, "rb") as f:
            said = row["stderr"] = f.read()[-2000:].decode("utf-8", "replace")
    elif status != 0:
        row["stderr"] = _ANSI.sub(b"", bytes(tail[-2000:])).decode("utf-8", "replace")
    found = _CAPTURE_STATS.search(said)
    if found:  # the ring's margin: how full it got, and the slowest write to the spool
        peak, blocks, slowest, slow = found.groups()
        row.update(ring_peak=100 * int(peak) / int(blocks), slowest_write_ms=float(slowest),
                   slow_writes=int(slow))
    if row.get("stderr"):
        row["stderr"] = _CAPTURE_STATS.sub("", row["stderr"])
    row["equal"] = _equal(row)
    for path in (dump_path, save, records, errors):
        if os.path.exists(path):
            os.unlink(path)
    return row


def _equal(row: dict) -> bool:
    counts = [row["tcpdump"], row["pcapng"]] + ([row["json"]] if row["mode"] != "tty" else [])
    return row["status"] == 0 and len(set(counts)) == 1 and None not in counts


COLUMNS = [("run", "run"), ("size", "size"), ("mode", "mode"), ("load", "load (1 5 15)"),
           ("elapsed", "wall s"), ("cpu", "cpu s main+capture"), ("MB_s", "sendall MB/s"),
           ("tcpdump", "tcpdump pkts"),
           ("tcpdump_drops", "tcpdump drops"), ("json", "sockviz --json"),
           ("pcapng", "sockviz pcapng"), ("drops", "sockviz drops"), ("equal", "equal"),
           ("mem_mib", "sockviz peak MiB"), ("mem_split", "main+capture"),
           ("mem_hwm_mib", "(sum of VmHWM)"),
           ("tcpdump_mib", "tcpdump peak MiB"), ("first_call_ms", "to 1st call ms"),
           ("ring_peak", "ring peak %"), ("slowest_write_ms", "slowest spool write ms")]


def printable(row: dict) -> dict:
    out = dict(row)
    out["mem_mib"] = round(row["mem"] / (1 << 20))
    out["cpu"] = f"{row['cpu_main'] or 0:.1f}+{row['cpu_capture']:.1f}"
    if row["mode"] == "tty":
        out["MB_s"] = f"({row['tty_status_updates']} live)"
    out["mem_split"] = f"{row['mem_main'] / (1 << 20):.0f}+{row['mem_capture'] / (1 << 20):.0f}"
    out["mem_hwm_mib"] = round(row["mem_hwm_sum"] / (1 << 20))
    out["tcpdump_mib"] = round(max(row["tcpdump_mem"], row["tcpdump_hwm"]) / (1 << 20))
    if out.get("first_call_ms") is not None:
        out["first_call_ms"] = round(out["first_call_ms"])
    if out.get("ring_peak") is not None:
        out["ring_peak"] = f"{out['ring_peak']:.1f}"
    out["equal"] = "yes" if row["equal"] else "NO"
    return out


def summarise(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["size"], r["mode"]), []).append(r)
    out = []
    for (size, mode), rs in groups.items():
        drops = [r["drops"] for r in rs if r.get("drops") is not None]
        dumps = [r["tcpdump_drops"] for r in rs if r.get("tcpdump_drops") is not None]
        out.append({
            "size": size, "mode": mode, "runs": len(rs),
            "equal": f"{sum(r['equal'] for r in rs)}/{len(rs)}",
            "tcpdump": "/".join(sorted({f"{r['tcpdump']:,}" for r in rs})),
            "max_drops": max(drops) if drops else None,
            "max_tcpdump_drops": max(dumps) if dumps else None,
            "wall": statistics.median(r["elapsed"] for r in rs),
            "mem": f"{statistics.median(r['mem'] for r in rs) / (1 << 20):.0f} / "
                   f"{max(r['mem'] for r in rs) / (1 << 20):.0f}",
            "tdmem": f"{max(max(r['tcpdump_mem'], r['tcpdump_hwm']) for r in rs) / (1 << 20):.0f}",
        })
    return out


SUMMARY_COLUMNS = [("size", "size"), ("mode", "mode"), ("runs", "runs"),
                   ("equal", "counts equal"), ("tcpdump", "tcpdump pkts (distinct)"),
                   ("max_drops", "max sockviz drops"), ("max_tcpdump_drops", "max tcpdump drops"),
                   ("wall", "median wall s"), ("mem", "sockviz peak MiB median / max"),
                   ("tdmem", "tcpdump peak MiB max")]


def main() -> int:
    parser = argparse.ArgumentParser(description="sockviz vs tcpdump, live, no loss")
    parser.add_argument("--runs", type=int, default=5, help="runs of every size and mode (5)")
    parser.add_argument("--size", nargs="+", default=["50M", "200M"],
                        help="bytes for --send-bytes, each way (default 50M 200M)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--tmpdir", metavar="DIR",
                        help="where the capture files and sockviz's spool go (TMPDIR for "
                        "sockviz), e.g. /dev/shm to take the disk out of the run; default: "
                        "the system's temporary folder")
    parser.add_argument("--ring-mb", type=int, metavar="MiB",
                        help="sockviz's capture ring (SOCKVIZ_RING_MB; sockviz's default 128)")
    parser.add_argument("--show-tty", action="store_true",
                        help="print the end of each terminal-mode run's screen text")
    parser.add_argument("--timeout", type=float, default=600, help="give up a run after S s")
    parser.add_argument("--tcpdump-buffer", type=int, default=131072, metavar="KiB",
                        help="tcpdump's -B (default 131072 KiB, sockviz's ring size); 0: "
                        "tcpdump's own default (2 MiB), which drops packets here")
    args = parser.parse_args()
    for size in args.size:
        size_bytes(size)
    if os.geteuid() != 0:
        print("needs root: sudo python benchmarks/live_capture.py", file=sys.stderr)
        return 2
    if shutil.which("tcpdump") is None:
        print("tcpdump is not installed", file=sys.stderr)
        return 2

    tmp = tempfile.mkdtemp(prefix="sockviz-live-", dir=args.tmpdir)
    rows: list[dict] = []
    try:
        with Lab() as lab:
            for host in lab.hosts:
                disable_offloads(host, IFACE)
                on = [k for k, v in read_offloads(host, IFACE).items() if v]
                print(f"{host.role} {IFACE}: offloads {'on: ' + ', '.join(on) if on else 'all off'}")
            echo = lb.start_echo(lab.server, args.port)
            print("witness: " + " ".join(lb.Tcpdump.command(IFACE, "FILE", args.port,
                                                          args.tcpdump_buffer)))
            try:
                print(f"sockviz ring {args.ring_mb or 128} MiB; "
                      f"files and spool in {args.tmpdir or tempfile.gettempdir()}; "
                      f"echo server on {SERVER_V4} port {args.port}; "
                      f"{os.cpu_count()} CPUs, load at start {lb.load()}")
                print("memory: RSS summed over the process and its descendants, sampled every "
                      "10 ms (VmHWM summed beside it)\n")
                for run in range(1, args.runs + 1):
                    for size in args.size:
                        for mode in args.modes:
                            row = one_run(lab, tmp, size, mode, args.port, args.timeout,
                                          args.tcpdump_buffer, args.tmpdir, args.ring_mb)
                            row["run"] = run
                            rows.append(row)
                            print(lb.table([printable(row)], COLUMNS), flush=True)
                            if args.show_tty and row.get("tty_text"):
                                print(row["tty_text"][-2500:])
                            if row.get("stderr"):
                                print("   sockviz said: " + row["stderr"].strip()[-600:])
            finally:
                lb.stop(echo)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nevery run:\n" + lb.table([printable(r) for r in rows], COLUMNS))
    print("\nsummary:\n" + lb.table(summarise(rows), SUMMARY_COLUMNS))
    ok = all(r["equal"] and r.get("drops") == 0 for r in rows)
    print("\nall runs equal, no sockviz drops" if ok else "\nNOT all runs equal / drops seen")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
