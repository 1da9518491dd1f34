"""``replay --json``'s worker process: it leaves nothing behind, and its end is told.

(That its output is the general path's, byte for byte, is in test_perf_fastpaths.py.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import synthcap


@pytest.fixture(scope="module")
def big_capture(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("worker") / "big.pcap"
    synthcap.write_pcap(path, 60_000)
    return path


def start_replay(path: Path, worker: str) -> subprocess.Popen:
    env = dict(os.environ, SOCKVIZ_REPLAY_WORKER=worker)
    return subprocess.Popen([sys.executable, "-m", "sockviz", "replay", str(path), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def child_of(proc: subprocess.Popen) -> int:
    """The worker: the replay's one child, once it has written its first line."""
    assert proc.stdout.readline().startswith(b'{"type": "packet"')
    deadline = time.monotonic() + 10
    while not (kids := children(proc.pid)):
        assert time.monotonic() < deadline, "no worker process"
        time.sleep(0.01)
    assert len(kids) == 1
    return kids[0]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_worker_writes_the_same_lines_as_this_process(big_capture):
    with_worker = subprocess.run([sys.executable, "-m", "sockviz", "replay", str(big_capture),
                                  "--json"], capture_output=True, timeout=120,
                                 env=dict(os.environ, SOCKVIZ_REPLAY_WORKER="1"))
    alone = subprocess.run([sys.executable, "-m", "sockviz", "replay", str(big_capture), "--json"],
                           capture_output=True, timeout=120,
                           env=dict(os.environ, SOCKVIZ_REPLAY_WORKER="0"))
    assert with_worker.returncode == alone.returncode == 0
    assert with_worker.stdout == alone.stdout
    assert json.loads(with_worker.stdout.splitlines()[-1])["packets"] == 60_000


def test_ctrl_c_ends_the_worker_too(big_capture):
    proc = start_replay(big_capture, "1")
    worker = child_of(proc)
    # A terminal's Ctrl-C goes to the whole process group: the worker ignores it,
    # the replay ends it.
    os.killpg(proc.pid, signal.SIGINT)
    proc.stdout.read()
    assert proc.wait(timeout=30) == 130
    assert b"Interrupted" in proc.stderr.read()
    assert gone(worker)


def test_a_worker_that_dies_is_one_sentence_and_status_1(big_capture):
    proc = start_replay(big_capture, "1")
    worker = child_of(proc)
    os.kill(worker, signal.SIGKILL)
    out = proc.stdout.read()
    assert proc.wait(timeout=30) == 1
    err = proc.stderr.read().decode()
    assert err.startswith("sockviz: the replay's worker process stopped before the end of the file")
    assert "Traceback" not in err
    assert out.count(b"\n") < 60_000  # it did stop early
    assert gone(worker)
