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

The hosts and the server are removed in ``finally`` blocks.

    python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def wall(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
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


def lesson_start(runs: int) -> None:
    from sockviz.lab.netns import Lab

    with Lab(chat=True) as lab:
        ours, theirs, capture = [], [], []
        for _ in range(runs):
            done = lab.client.call([sys.executable, "-c", SNIFFER_READY], capture_output=True,
                                   text=True, timeout=60)
            if done.returncode == 0:
                capture.append(float(done.stdout.split()[-1]) / 1000)
            t0 = time.time()
            done = lab.client.call([sys.executable, "-m", "sockviz", "tcp", "192.0.2.2", "3001",
                                    "--send", "hi", "--json", "--no-save"],
                                   capture_output=True, text=True, timeout=60)
            records = [json.loads(line) for line in done.stdout.splitlines()]
            first = min(r["start"] for r in records if r["type"] == "call")
            ours.append(first - t0)
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
        print(f"  sockviz tcp: start to first call (sniffer listening): "
              f"{1000 * statistics.median(ours):.0f} ms median, "
              f"{1000 * max(ours[1:] or ours):.0f} ms worst after the first "
              f"(first run, cold caches: {1000 * ours[0]:.0f} ms)")
        if capture:
            print(f"    of which the capture process, Sniffer() to READY: "
                  f"{1000 * statistics.median(capture):.0f} ms median "
                  f"(min {1000 * min(capture):.0f}, max {1000 * max(capture):.0f})")
        if theirs:
            print(f"  tcpdump -i eth0: start to 'listening on': "
                  f"{1000 * statistics.median(theirs):.0f} ms median")


def main() -> int:
    parser = argparse.ArgumentParser(description="sockviz start-up times")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    one, five, fifteen = os.getloadavg()
    print(f"  ({os.cpu_count()} CPUs, load {one:.2f} {five:.2f} {fifteen:.2f} at the start)")
    helps = [wall([sys.executable, "-m", "sockviz", "--help"]) for _ in range(args.runs)]
    print(f"  sockviz --help: {1000 * statistics.median(helps):.0f} ms median "
          f"(min {1000 * min(helps):.0f}, max {1000 * max(helps):.0f})")
    if shutil.which("tcpdump"):
        dumps = [wall(["tcpdump", "--help"]) for _ in range(args.runs)]
        print(f"  tcpdump --help: {1000 * statistics.median(dumps):.0f} ms median")
    if os.geteuid() == 0:
        lesson_start(args.runs)
    else:
        print("  (the lesson's start needs root: sudo python benchmarks/startup.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
