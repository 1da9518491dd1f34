"""Start-up: `sockviz --help`, and from a lesson's start to its sniffer listening.

- ``sockviz --help``: wall time of the whole process (median of ``--runs``);
  ``tcpdump --help`` beside it.
- A lesson (needs root): between two throwaway hosts (network namespaces,
  from sockviz.lab) with the chat server on the far one, the time from
  starting ``sockviz tcp 192.0.2.2 3001 --send hi --json --no-save`` to the
  start of its first call. Calls start only once the sniffer listens (the
  session opens the packet socket and its ring first), so this bounds the
  time to listening from above. Beside it: from starting ``tcpdump -i eth0``
  to its "listening on" line.
- Its part (needs root): the capture runs in a process of its own
  (sockviz.sources.capture_process). On the same host, a Python process times
  ``Sniffer(queue)``, which starts that process and returns on its READY
  record (packet socket open, ring mapped): the capture's own start-up, apart
  from the interpreter's and the lesson's imports.

``--tree NAME=SRC`` (repeatable) measures several source trees (a ``src``
folder holding ``sockviz``) in turn, one run of each after the other, so a
machine shared with other work loads them alike: compare a branch with main
in the same minutes. Without it, the tree beside this script is measured.

Python's bytecode cache is used as an installed sockviz uses it (compiled
once): the runs write it under a temporary PYTHONPYCACHEPREFIX (so no source
tree is written to), after one warm-up run per tree that is not counted;
PYTHONDONTWRITEBYTECODE is ignored for them.

The hosts and the server are removed in ``finally`` blocks.

    python benchmarks/startup.py [--runs 7] [--tree main=/work/main/src --tree perf=src]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(HERE))


def wall(argv: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env=env)
    return time.perf_counter() - t0


# Run on the lab host: Sniffer() from its call to the capture process's READY, in ms.
SNIFFER_READY = """
import queue, sys, time
from sockviz.sources.live import Sniffer
t0 = time.perf_counter()
s = Sniffer(queue.SimpleQueue())
ready = time.perf_counter() - t0
s.start()
s.stop()
print(1000 * ready)
"""

LESSON = ["-m", "sockviz", "tcp", "192.0.2.2", "3001", "--send", "hi", "--json", "--no-save"]


def tree_env(src: str, pycache: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def ms(values: list[float]) -> str:
    return (f"{1000 * statistics.median(values):.0f} ms median "
            f"(min {1000 * min(values):.0f}, max {1000 * max(values):.0f})")


def first_call(lab, env: dict) -> float | None:
    t0 = time.time()
    done = lab.client.call([sys.executable, *LESSON], capture_output=True, text=True,
                           timeout=60, env=env)
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    starts = [r["start"] for r in records if r.get("type") == "call"]
    return min(starts) - t0 if starts else None


def lesson_start(runs: int, trees: dict[str, dict]) -> None:
    from sockviz.lab.netns import Lab

    with Lab(chat=True) as lab:
        ours = {name: [] for name in trees}
        capture = {name: [] for name in trees}
        theirs = []
        for env in trees.values():  # warm-up: bytecode compiled, pages cached
            first_call(lab, env)
        for _ in range(runs):
            for name, env in trees.items():
                done = lab.client.call([sys.executable, "-c", SNIFFER_READY],
                                       capture_output=True, text=True, timeout=60, env=env)
                if done.returncode == 0:
                    capture[name].append(float(done.stdout.split()[-1]) / 1000)
                took = first_call(lab, env)
                if took is not None:
                    ours[name].append(took)
            if shutil.which("tcpdump"):
                t0 = time.perf_counter()
                dump = lab.client.run(["tcpdump", "-i", "eth0", "-n", "-w", os.devnull],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True)
                try:
                    dump.stderr.readline()
                    theirs.append(time.perf_counter() - t0)
                finally:
                    dump.terminate()
                    dump.wait(timeout=10)
        for name in trees:
            label = f"[{name}] " if len(trees) > 1 else ""
            if ours[name]:
                print(f"  {label}sockviz tcp: start to first call (sniffer listening): "
                      f"{ms(ours[name])}")
            if capture[name]:
                print(f"  {label}  of which the capture process, Sniffer() to READY: "
                      f"{ms(capture[name])}")
        if theirs:
            print(f"  tcpdump -i eth0: start to 'listening on': "
                  f"{1000 * statistics.median(theirs):.0f} ms median")


def main() -> int:
    parser = argparse.ArgumentParser(description="sockviz start-up times")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tree", action="append", metavar="NAME=SRC",
                        help="a source tree to measure (repeat to alternate between trees)")
    args = parser.parse_args()
    specs = args.tree or [f"this={HERE}"]
    one, five, fifteen = os.getloadavg()
    print(f"  ({os.cpu_count()} CPUs, load {one:.2f} {five:.2f} {fifteen:.2f} at the start)")
    with tempfile.TemporaryDirectory(prefix="sockviz-pycache-") as pycache:
        trees = {}
        for spec in specs:
            name, _, src = spec.partition("=")
            trees[name] = tree_env(os.path.abspath(src or name), pycache)
        helps = {name: [] for name in trees}
        for env in trees.values():
            wall([sys.executable, "-m", "sockviz", "--help"], env)  # warm-up
        for _ in range(args.runs):
            for name, env in trees.items():
                helps[name].append(wall([sys.executable, "-m", "sockviz", "--help"], env))
        for name in trees:
            label = f"[{name}] " if len(trees) > 1 else ""
            print(f"  {label}sockviz --help: {ms(helps[name])}")
        if shutil.which("tcpdump"):
            dumps = [wall(["tcpdump", "--help"]) for _ in range(args.runs)]
            print(f"  tcpdump --help: {1000 * statistics.median(dumps):.0f} ms median")
        if os.geteuid() == 0:
            lesson_start(args.runs, trees)
        else:
            print("  (the lesson's start needs root: sudo python benchmarks/startup.py)")
    one, five, fifteen = os.getloadavg()
    print(f"  (load {one:.2f} {five:.2f} {fifteen:.2f} at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
