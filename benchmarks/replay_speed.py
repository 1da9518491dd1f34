"""Replay speed and memory: sockviz beside tshark and tcpdump on the same capture.

Writes a synthetic mixed TCP/UDP capture (benchmarks/synthcap.py) to a
temporary folder, then times, one after the other on that same file:

    sockviz replay FILE --json   > /dev/null
    sockviz replay FILE --summary > /dev/null
    tshark -r FILE                > /dev/null    (when installed)
    tcpdump -nn -r FILE           > /dev/null    (when installed)

and prints each one's wall time, CPU time (user and system, its waited-for
children's included: a replay's worker) and peak resident memory (the larger of
wait4's and of the process and its children summed, sampled every 10 ms:
a big ``replay --json`` has a worker process), and the ratios; ``--json``
also in one process (no worker). It does so on each shape of capture
(``synthcap.SHAPES``: the mix, zero-byte and random payloads, short flows, a
DNS-heavy capture), then times a student's replay of a shipped lesson
capture beside tshark's, and the machine's load beside each. Not a test: run it by
hand. The temporary files are removed in a ``finally``, every run has a time limit.
sockviz's modules are compiled first: under PYTHONDONTWRITEBYTECODE nothing would
write their bytecode, and each run would compile them again (a student's
installed copy has it: pip compiles on install).

    python benchmarks/replay_speed.py [--packets 1000000] [--runs 1] [--shapes mix zeros ...]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synthcap  # noqa: E402


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its children now (sockviz's replay worker is one)."""
    total = 0
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids = [pid, *map(int, f.read().split())]
    except OSError:
        return 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return total


def measure(argv: list[str], timeout: float, env: dict | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of one run of ``argv`` with stdout to /dev/null.

    The peak is the larger of wait4's (the largest single process) and the
    sum over the process and its children, sampled every 10 ms: a replay
    with a worker process holds both at once.
    """
    peak = 0
    with open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=null, stderr=subprocess.DEVNULL,
                                env=None if env is None else {**os.environ, **env})
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise TimeoutError(f"{argv[0]} took longer than {timeout:.0f} s")
            peak = max(peak, _tree_rss_kib(proc.pid))
            time.sleep(0.01)
        elapsed = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 6):
        raise RuntimeError(f"{' '.join(argv)} exited with {code}")
    return elapsed, max(usage.ru_maxrss, peak) / 1024, usage.ru_utime + usage.ru_stime


ONE_PROCESS = "sockviz --json, 1 proc"


def _load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def run_all(label: str, path: str, runs: int, timeout: float) -> dict[str, tuple]:
    sockviz = [sys.executable, "-m", "sockviz", "replay", path]
    tools = {"sockviz --json": [*sockviz, "--json"], ONE_PROCESS: [*sockviz, "--json"],
             "sockviz --summary": [*sockviz, "--summary"]}
    envs = {ONE_PROCESS: {"SOCKVIZ_REPLAY_WORKER": "0"}}  # no second process (issue 11)
    if shutil.which("tshark"):
        tools["tshark -r"] = ["tshark", "-r", path]
    if shutil.which("tcpdump"):
        tools["tcpdump -nn -r"] = ["tcpdump", "-nn", "-r", path]
    results = {}
    # One round of every tool after another, ``runs`` times: a machine whose speed drifts
    # drifts for all of them alike.
    samples: dict[str, list] = {name: [] for name in tools}
    for _ in range(runs):
        for name, argv in tools.items():
            samples[name].append(measure(argv, timeout, envs.get(name)))
    for name, got in samples.items():
        results[name] = (statistics.median(t for t, _, _ in got), max(m for _, m, _ in got),
                         statistics.median(c for _, _, c in got))
    print(f"\n{label} ({_load()} after the runs)")
    print(f"  {'':24} {'time':>9} {'CPU':>9} {'peak RSS':>10}")
    for name, (t, m, c) in results.items():
        print(f"  {name:24} {t:8.2f}s {c:8.2f}s {m:8.1f} MiB")
    for mine in ("sockviz --json", ONE_PROCESS):
        base = results[mine]
        for other in ("tshark -r", "tcpdump -nn -r"):
            if other in results:
                t, m, c = results[other]
                print(f"  {mine} / {other}: time {base[0] / t:.2f}x, CPU {base[2] / c:.2f}x, "
                      f"memory {base[1] / m:.2f}x")
    return results


def lesson_replay(runs: int, timeout: float) -> None:
    """A student's replay of a shipped lesson capture (14 packets) beside tshark's."""
    path = str(HERE.parent / "captures" / "tcp.pcapng")
    tools = {"sockviz replay (view)": [sys.executable, "-m", "sockviz", "replay", path],
             "sockviz replay --json": [sys.executable, "-m", "sockviz", "replay", path, "--json"]}
    if shutil.which("tshark"):
        tools["tshark -r"] = ["tshark", "-r", path]
    samples: dict[str, list] = {name: [] for name in tools}
    for _ in range(runs):
        for name, argv in tools.items():
            samples[name].append(measure(argv, timeout))
    print(f"\na lesson capture ({path}), median of {runs} runs each, one after another ({_load()})")
    print(f"  {'':24} {'time':>7} {'CPU':>7}")
    wall = {name: statistics.median(t for t, _, _ in got) for name, got in samples.items()}
    cpu = {name: statistics.median(c for _, _, c in got) for name, got in samples.items()}
    for name in samples:
        print(f"  {name:24} {wall[name] * 1000:4.0f} ms {cpu[name] * 1000:4.0f} ms")
    if "tshark -r" in samples:
        for name in list(tools)[:2]:
            print(f"  {name} / tshark -r: time {wall[name] / wall['tshark -r']:.2f}x, "
                  f"CPU {cpu[name] / cpu['tshark -r']:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description="sockviz replay vs tshark and tcpdump")
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="runs per tool (median time)")
    parser.add_argument("--timeout", type=float, default=600, help="limit per run, seconds")
    parser.add_argument("--shapes", nargs="+", choices=synthcap.SHAPES, default=list(synthcap.SHAPES),
                        help="the kinds of capture to measure (synthcap.py)")
    parser.add_argument("--lesson-runs", type=int, default=10,
                        help="runs on the shipped lesson capture (0: none)")
    args = parser.parse_args()
    labels = {"mix": "mixed TCP/UDP", "zeros": "mixed, payloads of zero bytes",
              "random": "mixed, payloads of random bytes", "short": "short flows",
              "dns": "DNS-heavy short flows (half DNS)"}
    import sockviz

    compileall.compile_dir(Path(sockviz.__file__).parent, quiet=1)  # see the module's text
    print(_load())
    tmp = tempfile.mkdtemp(prefix="sockviz-replay-")
    try:
        for shape in args.shapes:
            path = os.path.join(tmp, f"{shape}.pcap")
            t0 = time.perf_counter()
            size = synthcap.write_pcap(path, args.packets, shape=shape)
            print(f"\nwrote {path}: {args.packets:,} packets, {size / 1e6:,.0f} MB "
                  f"({time.perf_counter() - t0:.1f} s)")
            run_all(f"{labels[shape]}, {args.packets:,} packets", path, args.runs, args.timeout)
            os.unlink(path)
        if args.lesson_runs:
            lesson_replay(args.lesson_runs, args.timeout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
