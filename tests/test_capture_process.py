"""The capture process: every packet kept while the main interpreter is busy, root for it alone.

Real packets between two test hosts (network namespaces).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from livehelpers import replay_json

pytestmark = pytest.mark.netns

NOBODY = 65534

# Runs on the client host: a Sniffer listens while another process sends N
# datagrams to a sink on the server host, and this interpreter holds the GIL
# in one long C call the whole time (sorting a big list) and reads nothing.
# In one process, as sockviz was, the ring reader would wait for the
# interpreter and the kernel's 16 MiB ring would overflow.
STARVED = textwrap.dedent("""
    import json, queue, subprocess, sys, time
    from sockviz.sources.live import Sniffer
    N = int(sys.argv[1])
    q = queue.SimpleQueue()
    sniffer = Sniffer(q, ring_mb=16)
    sniffer.start()
    sender = subprocess.Popen([sys.executable, "-c",
        "import socket, sys\\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\\n"
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)\\n"
        "data = bytes(1200)\\n"
        "n = 0\\n"
        "for _ in range(%d):\\n"
        "    n += s.sendto(data, ('192.0.2.2', 9)) > 0\\n"
        "print(n)\\n" % N], stdout=subprocess.PIPE, text=True)
    busy = list(range(6_000_000, 0, -1))
    t0 = time.monotonic()
    while sender.poll() is None:
        busy.sort(); busy.reverse()  # one C call each: the GIL is not let go inside
    held = time.monotonic() - t0
    sent = int(sender.stdout.read())
    import threading
    stopper = threading.Thread(target=sniffer.stop)
    stopper.start()  # reads the spool to its end while we take the frames
    seen = 0
    while stopper.is_alive() or not q.empty():
        try:
            kind, item = q.get(timeout=0.1)
        except queue.Empty:
            continue
        if kind == "frames":
            seen += sum(1 for f in item if f.direction == "out" and len(f.data) >= 1200
                        and f.data[23] == 17)
    print(json.dumps({"sent": sent, "seen": seen, "drops": sniffer.drops, "held": held}))
""")

SINK = ("import socket, sys, time\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 25)\n"
        "s.bind(('192.0.2.2', 9)); s.settimeout(3)\n"
        "n = 0\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    while True:\n"
        "        s.recv(2048); n += 1\n"
        "except TimeoutError:\n"
        "    print(n, flush=True)\n")


def test_a_busy_interpreter_loses_no_packet(bare_lab):
    n = 40_000
    sink = bare_lab.server.run([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().strip() == "ready"
    proc = bare_lab.client.call([sys.executable, "-c", STARVED, str(n)], capture_output=True,
                                text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    received = int(sink.stdout.readline())  # the witness: what arrived on the far host
    assert result["sent"] == n
    assert result["drops"] == 0
    assert result["seen"] == received == n


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _uids(pid: int) -> tuple[int, ...]:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return tuple(int(x) for x in line.split()[1:])
    raise AssertionError("no Uid line")


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def _interactive(lab, cwd, env_extra):
    """``sockviz tcp`` reading its messages from a pipe: it waits between lines."""
    env = {**os.environ, **env_extra}
    return lab.client.run([sys.executable, "-m", "sockviz", "tcp", "192.0.2.2", "3001", "--json"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, cwd=cwd, env=env)


def _sockviz_processes(proc) -> list[int]:
    """The sockviz process under ``ip netns exec`` and its capture process."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pids = [p for p in [proc.pid, *_descendants(proc.pid)]  # ip netns exec execs
                if b"sockviz" in Path(f"/proc/{p}/cmdline").read_bytes()]
        if len(pids) >= 2:
            return pids
        time.sleep(0.05)
    raise AssertionError("sockviz and its capture process did not both start")


def test_under_sudo_only_the_open_needs_root_and_files_belong_to_the_user(lab):
    with tempfile.TemporaryDirectory() as cwd:
        os.chmod(cwd, 0o777)
        proc = _interactive(lab, cwd, {"SUDO_UID": str(NOBODY), "SUDO_GID": str(NOBODY)})
        try:
            proc.stdin.write("bonjour\n")
            proc.stdin.flush()
            assert proc.stdout.readline()  # the first record: the run has started
            time.sleep(0.5)
            pids = _sockviz_processes(proc)
            uids = {p: _uids(p) for p in pids}
        finally:
            _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        # Every uid (real, effective, saved, fs) of sockviz and of its capture process.
        assert all(set(u) == {NOBODY} for u in uids.values()), uids
        files = [*Path(cwd).rglob("*")]
        assert files and all(f.stat().st_uid == NOBODY and f.stat().st_gid == NOBODY
                             for f in files)
        saved = next(Path(cwd, "captures").glob("*.pcapng"))
        assert any(r.get("name") == "recv" for r in replay_json(saved))


def test_without_sudo_nothing_changes(lab):
    with tempfile.TemporaryDirectory() as cwd:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
        proc = lab.client.call([sys.executable, "-m", "sockviz", "tcp", "192.0.2.2", "3001",
                                "--send", "x", "--json"], capture_output=True, text=True,
                               cwd=cwd, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert all(f.stat().st_uid == 0 for f in Path(cwd).rglob("*"))


def test_a_capture_process_that_dies_is_one_sentence_and_status_1(lab):
    with tempfile.TemporaryDirectory() as cwd:
        proc = _interactive(lab, cwd, {})
        try:
            proc.stdin.write("avant\n")
            proc.stdin.flush()
            assert proc.stdout.readline()
            _main, capture = _sockviz_processes(proc)[-2:]
            os.kill(capture, signal.SIGKILL)
            time.sleep(0.3)
            proc.stdin.write("après\n")
            proc.stdin.flush()
        finally:
            _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, err
        assert "Traceback" not in err
        # The program's own prints (its stdout goes to stderr under --json), then one sentence.
        *printed, said = err.splitlines()
        assert printed == ["b'avant'", "b'apr\\xc3\\xa8s'"]
        assert said.startswith("sockviz: ") and "capture process ended unexpectedly" in said
        saved = next(Path(cwd, "captures").glob("*.pcapng"))
        records = replay_json(saved)  # complete and valid: what came before is there
        assert any(r.get("name") == "connect" for r in records)


def test_ctrl_c_ends_both_and_leaves_a_complete_file(lab):
    with tempfile.TemporaryDirectory() as cwd:
        proc = _interactive(lab, cwd, {})
        proc.stdin.write("un\n")
        proc.stdin.flush()
        while '"name": "recv"' not in proc.stdout.readline():
            pass  # the message went and came back: sockviz now waits for the next line
        pids = _sockviz_processes(proc)
        os.killpg(proc.pid, signal.SIGINT)
        try:
            _out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        for pid in pids:  # gone, or a zombie its parent has not reaped yet
            stat = Path(f"/proc/{pid}/stat")
            assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
        saved = next(Path(cwd, "captures").glob("*.pcapng"))
        assert any(r.get("name") == "connect" for r in replay_json(saved))


def test_the_capture_process_is_told_its_options_and_gets_none_of_our_environment(lab):
    # SOCKVIZ_CAPTURE_STATS is read by the main process (its Environment) and passed as
    # --stats; a variable of the user's never reaches the process that runs as root.
    extra = {"SOCKVIZ_CAPTURE_STATS": "1", "SOCKVIZ_TEST_MARK": "not for root"}
    with tempfile.TemporaryDirectory() as cwd:
        proc = _interactive(lab, cwd, extra)
        try:
            proc.stdin.write("bonjour\n")
            proc.stdin.flush()
            assert proc.stdout.readline()
            capture = _sockviz_processes(proc)[-1]
            environ = Path(f"/proc/{capture}/environ").read_bytes().split(b"\0")
            argv = Path(f"/proc/{capture}/cmdline").read_bytes().split(b"\0")
        finally:
            _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert [v.split(b"=", 1)[0] for v in environ if v] == [b"PYTHONPATH"]
        assert b"--stats" in argv
        assert "sockviz-capture: ring peak " in err
