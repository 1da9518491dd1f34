"""The offline lab commands: demo, lab shell, serve (with --watch), shipped captures."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from livehelpers import replay_json, sockviz
from sockviz.commands.demo import LESSONS

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "captures"


def lesson_of(path: Path) -> str:
    """demo-tcp6-20261124-210000.pcapng -> tcp6"""
    return re.fullmatch(r"demo-(.+)-\d{8}-\d{6}\.pcapng", path.name).group(1)


def leftovers(pid: int) -> list[str]:
    """What a sockviz process ``pid`` left: its namespaces (svz-PID-...), their
    /etc/netns folders and state files, and any veth link in this namespace.

    Only that process's names count: other labs may come and go meanwhile.
    """
    from sockviz.lab import netns

    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    veth = subprocess.run(["ip", "-o", "link", "show", "type", "veth"], capture_output=True,
                          text=True).stdout.split()
    mine = f"{netns.PREFIX}{pid}-"
    files = [p.name for d in (netns.ETC_NETNS_DIR, netns.STATE_DIR) if d.is_dir()
             for p in d.iterdir()]
    return [n for n in ns + veth + files if n.startswith(mine)]


# Packets a call sends itself; the kernel's replies (ACKs, the last ACK) race with its return.
CAUSED = {"syn", "data", "fin-first", "udp", "dns-query", "fragment", "rst"}


def structure(records: list[dict]) -> tuple[list, list]:
    """What a lesson teaches: its calls in order, and the packets of each call.

    Times, ports and ids differ between runs, neighbour discovery depends on the
    neighbour cache, and what arrives (or is acknowledged) just as a call
    returns may fall in it or after it: packets are compared as a sorted list,
    with the call that sent them, which is no race.
    """
    calls, packets = [], []
    for r in records:
        if r["type"] == "call":
            calls.append((r["name"], (r["error"] or "").split(":")[0]))
        elif r["type"] == "packet" and not r["step"].startswith(("arp", "ndp")):
            sent_by = r["call"] if r["dir"] == "out" and r["step"] in CAUSED else ""
            packets.append((sent_by or "", r["step"], r["dir"], r["len"]))
    return calls, sorted(packets)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One demo run, shared by the tests that read it (it takes ~10 s)."""
    from sockviz.lab import netns

    ok, why = netns.available()
    if not ok:
        pytest.skip(f"no lab: {why}")
    tmp_path = tmp_path_factory.mktemp("demo")
    proc = subprocess.Popen([sys.executable, "-m", "sockviz", "demo", "--no-pause", "--json"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=180)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), tmp_path, proc.pid


def test_demo_runs_every_lesson_and_leaves_nothing(demo_run):
    proc, cwd, pid = demo_run
    assert proc.returncode == 0, proc.stderr
    summaries = [json.loads(line) for line in proc.stdout.splitlines() if '"type": "summary"' in line]
    assert len(summaries) == 8
    assert all(s["kernel_drops"] == 0 for s in summaries)
    names = sorted(lesson_of(p) for p in (cwd / "captures").iterdir())
    assert names == sorted(lesson.name for lesson in LESSONS)
    assert leftovers(pid) == []


def test_shipped_captures_still_replay_to_what_the_lab_makes(demo_run):
    """captures/LESSON.pcapng are made by the demo; a fresh demo must teach the same.

    After a deliberate change: SOCKVIZ_UPDATE_CAPTURES=1 pytest tests/test_live_lab.py -k shipped
    """
    proc, cwd, _ = demo_run
    assert proc.returncode == 0, proc.stderr
    made = sorted((cwd / "captures").glob("demo-*.pcapng"))
    assert len(made) == len(LESSONS)
    for path in made:
        shipped = SHIPPED / f"{lesson_of(path)}.pcapng"
        if os.environ.get("SOCKVIZ_UPDATE_CAPTURES"):
            shutil.copyfile(path, shipped)
        assert shipped.exists(), f"{shipped.name} is not shipped in captures/"
        assert structure(replay_json(shipped)) == structure(replay_json(path)), shipped.name


def test_demo_ctrl_c_takes_the_lab_down(require_lab, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "sockviz", "demo", "--no-pause"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert leftovers(proc.pid) == []
    for path in (tmp_path / "captures").glob("*.pcapng"):
        replay_json(path)  # every file written so far is complete and valid


def test_lab_shell_runs_the_seed_code_and_cleans_up(require_lab, tmp_path):
    script = ("python3 -c \"import socket; print(socket.getaddrinfo('chat.sockviz.test', 3001, "
              "socket.AF_INET, socket.SOCK_STREAM)[0][4])\"\nexit\n")
    proc = subprocess.Popen([sys.executable, "-m", "sockviz", "lab", "shell"], cwd=tmp_path,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    out, err = proc.communicate(script, timeout=60)
    assert proc.returncode == 0, err
    assert "('192.0.2.2', 3001)" in out
    assert leftovers(proc.pid) == []


def test_serve_is_the_course_server(bare_lab):
    server = bare_lab.server.run([sys.executable, "-m", "sockviz", "serve", "--port", "3001"],
                                 stdout=subprocess.PIPE, text=True)
    try:
        assert "listening" in server.stdout.readline()
        run = sockviz(bare_lab.client, "tcp", "192.0.2.2", "3001", "--send", "Test en classe")
        assert run.call("recv")["result"] == "Test en classe"
        udp = sockviz(bare_lab.client, "udp", "2001:db8::2", "3001", "--send", "datagramme")
        assert udp.call("recvfrom")["result"][0] == "datagramme"
    finally:
        os.killpg(server.pid, signal.SIGINT)
        assert server.wait(10) == 0


def test_serve_watch_shows_the_server_side(bare_lab, tmp_path):
    path = tmp_path / "serve.pcapng"
    server = bare_lab.server.run([sys.executable, "-m", "sockviz", "serve", "--watch", "--port",
                                  "3001", "--json", "--save", str(path)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    head = []
    try:
        # The server says it listens (a note) once its sniffer and sockets are up.
        for line in server.stdout:
            head.append(line)
            if '"type": "note"' in line:
                break
        with bare_lab.client.enter():
            probe = socket.socket()
        with probe:
            probe.connect(("192.0.2.2", 3001))
            probe.sendall(b"Test en classe")
            assert probe.recv(1024) == b"Test en classe"
        time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        out, err = server.communicate(timeout=15)
    out = "".join(head) + out
    assert server.returncode == 130, err
    records = [json.loads(line) for line in out.splitlines()]
    calls = [r["name"] for r in records if r["type"] == "call"]
    # The lesson's program (sockviz serve --code): its setup, call by call.
    setup = [(r["name"], r["text"]) for r in records if r["type"] == "call"][:8]
    assert setup == [
        ("socket", "socket(AF_INET6, SOCK_STREAM)"),
        ("setsockopt", "setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0)"),
        ("setsockopt", "setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)"),
        ("bind", "bind(('::', 3001))"), ("listen", "listen(16)"),
        ("socket", "socket(AF_INET6, SOCK_DGRAM)"),
        ("setsockopt", "setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0)"), ("bind", "bind(('::', 3001))")]
    assert all(r["source"]["file"] == "chat_server.py" for r in records if r["type"] == "call")
    assert next(r["text"] for r in records if r["type"] == "note") == (
        "the server listens on port 3001, TCP and UDP: connect a client to it, e.g. sockviz "
        "tcp HOST 3001")
    assert "accept" in calls and "recv" in calls and "sendall" in calls
    packets = [r for r in records if r["type"] == "packet" and r["proto"] == "TCP"]
    handshake = [(p["step"], p["dir"], p["call"]) for p in packets[:3]]
    assert handshake == [("syn", "in", None), ("synack", "out", None), ("handshake-ack", "in", None)]
    assert "accept() then takes" in packets[0]["context"]
    arp = [r["step"] for r in records if r["type"] == "packet" and r["proto"] == "ARP"]
    assert arp[:2] == ["arp-request", "arp-reply"]  # the client asks for us, we answer
    eof = [r for r in records if r["type"] == "call" and r["name"] == "recv" and r["result"] == ""]
    assert eof and "end of its stream" in eof[0]["lesson"]
    assert replay_json(path)  # the Ctrl-C'd file is valid
