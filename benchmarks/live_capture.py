"""Live capture without loss: sockviz beside tcpdump on the same interface, same time.

Builds two throwaway hosts (network namespaces joined by a veth pair, from
sockviz.lab), runs the chat server (an echo) on the server host, then on the
client host starts tcpdump on eth0 and runs

    sockviz tcp 192.0.2.2 3001 --send-bytes SIZE --json --save TMP.pcapng

which sends SIZE bytes in one sendall() while reading the echo back. At the
end it compares what each tool kept of that connection: tcpdump's count
(its own kernel drops included) against sockviz's JSON summary (packets and
the kernel drops from PACKET_STATISTICS) and its pcapng file.

By default the hosts' interfaces send MSS-sized segments (gso_max_size 1500),
the hardest case: about 100,000 packets for 50 MB, each way. ``--gso`` keeps
the kernel's super-packets (64 KiB segments, far fewer packets).

Needs root. Bounded in time (``--timeout``); the hosts, the server and the
temporary files are removed in ``finally`` blocks, whatever happens.

    sudo python benchmarks/live_capture.py [--size 50M] [--gso]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sockviz.capfile.reader import open_capture
from sockviz.lab.netns import SERVER_V4, Lab

PORT = 3001


def wait_listening(lab: Lab, port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with lab.client.enter():
            s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect((SERVER_V4, port))
            return
        except OSError:
            time.sleep(0.1)
        finally:
            s.close()
    raise RuntimeError("the echo server did not start")


def count_port(path: str, port: int) -> int:
    """Frames of the lesson's connection in a capture file (TCP to or from ``port``)."""
    from sockviz.core.decode import decode

    n = 0
    with open_capture(path) as reader:
        for frame in reader:
            d = decode(frame.data, frame.linktype)
            if d.tcp_flags is not None and port in (d.sport, d.dport):
                n += 1
    return n


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 10) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description="sockviz vs tcpdump, live, no loss")
    parser.add_argument("--size", default="50M", help="bytes for --send-bytes (default 50M)")
    parser.add_argument("--gso", action="store_true",
                        help="keep the kernel's super-packets (fewer, larger segments)")
    parser.add_argument("--timeout", type=float, default=120, help="give up after S seconds")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root: sudo python benchmarks/live_capture.py", file=sys.stderr)
        return 2
    if shutil.which("tcpdump") is None:
        print("tcpdump is not installed", file=sys.stderr)
        return 2

    tmp = tempfile.mkdtemp(prefix="sockviz-live-")
    procs: list[subprocess.Popen] = []
    deadline = time.monotonic() + args.timeout
    try:
        with Lab() as lab:
            if not args.gso:
                for host in lab.hosts:
                    # One MSS per packet, as on a wire without offloads.
                    subprocess.run(["ip", "-n", host.name, "link", "set", host.iface,
                                    "gso_max_size", "1500"], check=True)
            server = lab.server.run([sys.executable, "-m", "sockviz", "serve", "--port",
                                     str(PORT)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            procs.append(server)
            wait_listening(lab, PORT, deadline)

            dump_path = os.path.join(tmp, "tcpdump.pcap")
            tcpdump = lab.client.run(["tcpdump", "-i", lab.client.iface, "-n", "-B", "32768",
                                      "-w", dump_path, "tcp", "port", str(PORT)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            procs.append(tcpdump)
            line = tcpdump.stderr.readline()  # "listening on eth0, ..."
            if "listening" not in line:
                raise RuntimeError(f"tcpdump did not start: {line.strip()}")

            save = os.path.join(tmp, "sockviz.pcapng")
            t0 = time.monotonic()
            run = lab.client.call([sys.executable, "-m", "sockviz", "tcp", SERVER_V4, str(PORT),
                                   "--send-bytes", args.size, "--json", "--save", save,
                                   "--timeout", "30"],
                                  timeout=max(5.0, deadline - time.monotonic()),
                                  capture_output=True, text=True)
            elapsed = time.monotonic() - t0
            # Only the processes waited for so far count: sockviz (and `ip`).
            peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            time.sleep(0.5)  # the teardown's last packets reach tcpdump too
            stop(tcpdump)
            dump_err = tcpdump.stderr.read()

            if run.returncode != 0:
                print(run.stderr, file=sys.stderr)
                raise RuntimeError(f"sockviz tcp exited with {run.returncode}")
            records = [json.loads(x) for x in run.stdout.splitlines()]
            summary = records[-1]
            shown = sum(1 for r in records if r["type"] == "packet" and r["proto"] == "TCP")
            dumped = count_port(dump_path, PORT)
            saved = count_port(save, PORT)
            m = re.search(r"(\d+) packets dropped by kernel", dump_err)
            dump_drops = int(m.group(1)) if m else None

            print(f"sockviz tcp {SERVER_V4} {PORT} --send-bytes {args.size} "
                  f"({'GSO super-packets' if args.gso else 'MSS-sized segments'}), "
                  f"{elapsed:.1f} s")
            print(f"  tcpdump -i eth0 'tcp port {PORT}': {dumped:,} packets, "
                  f"{dump_drops} dropped by the kernel")
            print(f"  sockviz (same interface, same time): {shown:,} TCP packets in --json, "
                  f"{saved:,} in its pcapng, {summary['kernel_drops']} dropped by the kernel "
                  f"(PACKET_STATISTICS); peak RSS {peak_mib:.0f} MiB")
            ratio = shown / dumped if dumped else float("nan")
            print(f"  kept: sockviz/tcpdump = {ratio:.4f}")
            return 0 if summary["kernel_drops"] == 0 and shown >= dumped else 1
    finally:
        for proc in procs:
            stop(proc, signal.SIGTERM)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
