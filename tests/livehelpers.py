"""Helpers for capture tests: run sockviz on a lab host, watch the wire independently."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sockviz.core.decode import decode

PACKET_OUTGOING = 4


@dataclass
class Run:
    status: int
    records: list[dict]
    stderr: str
    stdout: str
    saved: list[str] = field(default_factory=list)  # files left in ./captures/

    def calls(self) -> list[dict]:
        return [r for r in self.records if r["type"] == "call"]

    def packets(self) -> list[dict]:
        return [r for r in self.records if r["type"] == "packet"]

    def call(self, name: str) -> dict:
        return next(r for r in self.calls() if r["name"] == name)

    def packets_of(self, name: str) -> list[dict]:
        ids = {c["id"] for c in self.calls() if c["name"] == name}
        return [p for p in self.packets() if p["call_id"] in ids]

    @property
    def summary(self) -> dict:
        return self.records[-1]


def sockviz(host, *args: str, stdin: str | None = None, timeout: float = 60.0,
            env: dict | None = None) -> Run:
    """``python -m sockviz ARGS --json`` on a lab host, as a user would run it there.

    It runs in a temporary folder, so the default ./captures/ goes away with it.
    """
    argv = [sys.executable, "-m", "sockviz", *args, "--json"]
    with tempfile.TemporaryDirectory(prefix="sockviz-test-") as cwd:
        proc = host.call(argv, timeout=timeout, input=stdin if stdin is not None else "",
                         capture_output=True, text=True, cwd=cwd,
                         env=None if env is None else {**os.environ, **env})
        saved = sorted(p.name for p in Path(cwd, "captures").glob("*.pcapng"))
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return Run(proc.returncode, records, proc.stderr, proc.stdout, saved)


TIMES = ("time", "start", "end")


def strip(records: list[dict]) -> list[dict]:
    """Records without what differs between a live run and its replay: times, the file path."""
    return [{k: v for k, v in r.items() if k not in TIMES and k != "capture"} for r in records]


def replay_json(path) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "sockviz", "replay", str(path), "--json"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


@dataclass
class Wire:
    """Frames seen by an independent packet socket on another host (or beside us)."""

    frames: list[tuple[bytes, int, str]] = field(default_factory=list)

    def decoded(self, *, iface: str | None = None, lo_once: bool = True):
        for data, pkttype, ifname in self.frames:
            if iface is not None and ifname != iface:
                continue
            if lo_once and ifname == "lo" and pkttype == PACKET_OUTGOING:
                continue
            yield decode(data, 1)

    def count(self, predicate, **kw) -> int:
        return sum(1 for d in self.decoded(**kw) if predicate(d))


@contextmanager
def watch_wire(host):
    """Capture every frame in ``host``'s namespace in a thread until the block ends."""
    wire = Wire()
    ready = threading.Event()
    stop = threading.Event()

    def run() -> None:
        with host.enter():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        s.settimeout(0.05)
        ready.set()
        with s:
            while True:
                try:
                    data, addr = s.recvfrom(262144)
                except TimeoutError:
                    if stop.is_set():
                        return
                    continue
                wire.frames.append((data, addr[2], addr[0]))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    ready.wait(5)
    try:
        yield wire
    finally:
        time.sleep(0.2)
        stop.set()
        t.join(5)
