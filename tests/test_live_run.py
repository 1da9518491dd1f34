"""``sockviz run``: a learner's own program, its calls and the packets under them (real packets)."""

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

from livehelpers import replay_json, strip, watch_wire

pytestmark = pytest.mark.netns

SEED_TCP = textwrap.dedent("""\
    import socket

    SERVEUR = "chat.sockviz.test"
    PORT = 3001

    s = socket.socket(socket.AF_INET,socket.SOCK_STREAM)
    s.connect((SERVEUR, PORT))
    s.send("Test en classe".encode())
    data = s.recv(1024)
    print (data)
    s.close()
""")


def run_program(host, source: str, *options: str, args=(), timeout=60, name="prog.py"):
    with tempfile.TemporaryDirectory(prefix="sockviz-run-") as cwd:
        Path(cwd, name).write_text(source)
        proc = host.call([sys.executable, "-m", "sockviz", "run", "--json", *options, name, *args],
                         capture_output=True, text=True, cwd=cwd, timeout=timeout)
        saved = sorted(Path(cwd, "captures").glob("*.pcapng"))
        replayed = replay_json(saved[0]) if saved else None
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    return proc, records, replayed


def calls(records, name=None):
    return [r for r in records if r["type"] == "call" and (name is None or r["name"] == name)]


def packets_of(records, call):
    return [r for r in records if r["type"] == "packet" and r["call_id"] == call["id"]]


def test_the_seed_tcp_client_shows_dns_and_handshake_under_connect(lab):
    with watch_wire(lab.server) as wire:
        proc, records, replayed = run_program(lab.client, SEED_TCP)
    assert proc.returncode == 0, proc.stderr
    assert "b'Test en classe'" in proc.stderr  # the program's stdout, kept out of the records
    assert [c["name"] for c in calls(records)] == ["socket", "connect", "send", "recv", "close"]
    connect = calls(records, "connect")[0]
    under = [p["step"] for p in packets_of(records, connect) if p["proto"] in ("DNS", "TCP")]
    assert under[0] == "dns-query" and under[-3:] == ["syn", "synack", "handshake-ack"]
    assert connect["source"]["text"] == "s.connect((SERVEUR, PORT))"
    assert connect["source"]["line"] == 7 and connect["socket"] is not None
    assert connect["thread"] == "MainThread" and connect["parent"] is None
    notes = [r["text"] for r in records if r["type"] == "note"]
    assert any("resolved it inside the call" in n for n in notes)
    recv = calls(records, "recv")[0]
    # In a script recv() follows send() at once: the echo is waiting, or arrives during it.
    assert {p["step"] for p in packets_of(records, recv)} <= {"data", "ack"}
    tcp = [r for r in records if r["type"] == "packet" and r["proto"] == "TCP"]
    assert len(tcp) == wire.count(lambda d: 3001 in (d.sport, d.dport))
    assert {p["step"] for p in tcp} >= {"fin-first", "fin-second"}  # the teardown after close()
    # The comments restore every call (source included), every note and every packet, each
    # under the same call: live and replay compare a packet's time with a call's alike,
    # even a hair from its end (session._release, replay/source.py), and a frame stamped
    # after a call's end waits for its end's mark, which the recorder queues only after
    # reading the kernel's state (session.LiveSession.ending). The summary differs
    # (kernel drops).
    live, again = strip(records)[:-1], strip(replayed)[:-1]
    assert again == live


def test_a_program_that_is_server_and_client_with_threads(lab):
    program = textwrap.dedent("""\
        import socket, threading
        srv = socket.create_server(("127.0.0.1", 4000))
        def serve():
            conn, addr = srv.accept()
            with conn:
                conn.sendall(conn.recv(100).upper())
        t = threading.Thread(target=serve, name="serveur")
        t.start()
        c = socket.create_connection(("127.0.0.1", 4000))
        c.sendall(b"bonjour")
        print(c.recv(100))
        c.close()
        t.join()
        srv.close()
    """)
    with watch_wire(lab.client) as wire:
        proc, records, replayed = run_program(lab.client, program)
    assert proc.returncode == 0, proc.stderr
    assert "b'BONJOUR'" in proc.stderr
    threads = {c["thread"] for c in calls(records)}
    assert threads == {"MainThread", "serveur"}
    accept = calls(records, "accept")[0]
    assert accept["thread"] == "serveur"
    # accept() names the new connection, and carries its state (not the listener's LISTEN):
    # the kernel's and the packets' states agree, so no note says otherwise
    assert accept["tcp_state"] == "ESTABLISHED"
    assert not [r for r in records if r["type"] == "note" and "kernel says" in r["text"]]
    create = calls(records, "create_connection")[0]
    children = [c["name"] for c in calls(records) if c["parent"] == create["id"]]
    assert children[:3] == ["getaddrinfo", "socket", "connect"]
    tcp = [r for r in records if r["type"] == "packet" and r["proto"] == "TCP"]
    assert tcp and len(tcp) == wire.count(lambda d: 4000 in (d.sport, d.dport), iface="lo")
    # The two threads' calls overlap (the server's recv() waits while the client sends):
    # each data segment is under the sendall() that sent it, whichever call started last.
    by_id = {c["id"]: c for c in calls(records)}
    data = {p["summary"].split('"')[1]: by_id.get(p["call_id"]) for p in tcp if p["len"]}
    assert data["bonjour"]["name"] == "sendall" and data["bonjour"]["thread"] == "MainThread"
    assert data["BONJOUR"]["name"] == "sendall" and data["BONJOUR"]["thread"] == "serveur"
    # On loopback each packet is sent and received here: the call's socket says which end
    # is "you", so each is sent by its sendall(), never "not sendall()'s doing".
    for p in tcp:
        if p["len"]:
            assert p["dir"] == "out" and p["context"] is None, p
    # A replay tells each packet from the same end: the calls' comments keep the endpoints
    # each call knew as it began (a connect()'s peer), which say it while the call runs.
    assert strip(replayed)[:-1] == strip(records)[:-1]


def test_the_standard_librarys_http_server_and_client_in_one_program(lab):
    """urllib's client and http.server's server on loopback, the server in a thread: the
    calls the library makes, where in the program (or the library) they come from, every
    packet once against the witness, and a replay that tells each packet alike."""
    program = textwrap.dedent("""\
        import http.server, threading, urllib.request
        srv = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        threading.Thread(target=srv.serve_forever, daemon=True, name="web").start()
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.server_port}/") as r:
            print(r.status, len(r.read()))
        srv.shutdown()
        srv.server_close()
    """)
    with watch_wire(lab.client) as wire:
        proc, records, replayed = run_program(lab.client, program)
    assert proc.returncode == 0, proc.stderr
    assert "200 " in proc.stderr
    port = calls(records, "bind")[0]["local"][1]
    tcp = [r for r in records if r["type"] == "packet" and r["proto"] == "TCP"]
    assert tcp and len(tcp) == wire.count(lambda d: port in (d.sport, d.dport), iface="lo")
    create = calls(records, "create_connection")[0]
    assert create["source"]["text"].startswith("with urllib.request.urlopen(")
    # The server thread's calls come from the library alone: named by its own frames
    # (socketserver, http.server), not by socket.py, the API being traced.
    web = [c for c in calls(records) if c["thread"] == "web"]
    assert web and not any(c["source"]["file"].endswith("/socket.py") for c in web), \
        [c["source"] for c in web]
    # http.client closes its socket while the response's makefile() still reads through
    # it: that close() sends nothing, and says why (socket.py: _io_refs).
    closes = [c for c in calls(records, "close") if c["thread"] == "MainThread"]
    assert "makefile()" in closes[0]["lesson"] and not packets_of(records, closes[0])
    steps = [p["step"] for p in tcp]
    assert steps[:3] == ["syn", "synack", "handshake-ack"] and tcp[0]["dir"] == "out"
    assert tcp[0]["call"] == "connect"
    assert strip(replayed)[:-1] == strip(records)[:-1]


def test_a_traced_server_names_the_other_end_the_client(lab):
    """The program accepts a connection from the lab's server host: that end is the client
    in every word (the run's role is the client's), and the handshake is the listening
    socket's kernel's."""
    with tempfile.TemporaryDirectory(prefix="sockviz-ready-") as folder:
        ready = Path(folder, "ready")
        program = textwrap.dedent(f"""\
            import pathlib, socket
            srv = socket.create_server(("0.0.0.0", 4005))
            pathlib.Path({str(ready)!r}).touch()
            conn, addr = srv.accept()
            conn.sendall(b"echo: " + conn.recv(100))
            conn.close()
            srv.close()
        """)
        client = lab.server.run([sys.executable, "-c", textwrap.dedent(f"""\
            import os, socket, time
            while not os.path.exists({str(ready)!r}):
                time.sleep(0.01)
            k = socket.create_connection(("192.0.2.1", 4005))
            k.sendall(b"bonjour")
            assert k.recv(100) == b"echo: bonjour"
            time.sleep(0.2)
            k.close()
        """)])
        try:
            with watch_wire(lab.server) as wire:
                proc, records, replayed = run_program(lab.client, program)
        finally:
            assert client.wait(30) == 0
    assert proc.returncode == 0, proc.stderr
    tcp = [r for r in records if r["type"] == "packet" and r["proto"] == "TCP"]
    assert len(tcp) == wire.count(lambda d: 4005 in (d.sport, d.dport))
    syn = tcp[0]
    assert (syn["step"], syn["dir"]) == ("syn", "in")
    assert syn["explain"].startswith("the client asks to open a connection")
    assert "acknowledges the client's SYN" in tcp[1]["explain"]
    for p in tcp:
        assert "the server" not in p["explain"] + (p["context"] or ""), p
    echo = next(p for p in tcp if p["len"] and p["dir"] == "out")
    assert echo["call"] == "sendall" and echo["context"] is None
    assert strip(replayed)[:-1] == strip(records)[:-1]


def test_udp_sendto_a_name_resolves_every_time(lab):
    program = textwrap.dedent("""\
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(2):
            s.sendto(b"Test en classe", ("chat.sockviz.test", 3001))
            print(s.recvfrom(1024))
        s.close()
    """)
    proc, records, _ = run_program(lab.client, program)
    assert proc.returncode == 0, proc.stderr
    for sendto in calls(records, "sendto"):
        steps = [p["step"] for p in packets_of(records, sendto)]
        assert "dns-query" in steps and "udp" in steps
    assert sum("each datagram sent to a name" in r["text"] for r in records
               if r["type"] == "note") == 2


def _question(d) -> str | None:
    from sockviz.core.dnsinfo import dns_info

    info = dns_info(d.payload) if d.proto == "DNS" and d.payload else None
    return info["questions"][0]["name"] if info and info.get("questions") else None


def test_another_programs_lookups_on_the_host_are_not_the_programs(lab):
    """glibc's resolver asks from a socket the program never sees: what a browser or
    another program on the same host looks up meanwhile is counted as unrelated, and the
    program's own lookups are all there, each under its call."""
    program = textwrap.dedent("""\
        import socket, time
        for i in range(3):
            time.sleep(0.15)
            socket.getaddrinfo("chat.sockviz.test", 3001, type=socket.SOCK_STREAM)
        time.sleep(0.15)
    """)
    other = ("import socket, time\nfor i in range(60):\n"
             "    try: socket.getaddrinfo('elsewhere.sockviz.test', 80)\n"
             "    except OSError: pass\n    time.sleep(0.02)\n")
    with watch_wire(lab.server) as wire:
        neighbour = lab.client.run([sys.executable, "-c", other])
        try:
            proc, records, replayed = run_program(lab.client, program)
        finally:
            neighbour.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr
    dns = [r for r in records if r["type"] == "packet" and r["proto"] == "DNS"]
    names = {q["name"] for r in dns for q in r["dns"]["questions"]}
    assert names == {"chat.sockviz.test."}, names
    lookups = {c["id"] for c in calls(records, "getaddrinfo")}
    assert len(lookups) == 3 and all(r["call_id"] in lookups for r in dns)
    assert len(dns) == wire.count(lambda d: _question(d) == "chat.sockviz.test.")
    # The neighbour's lookups went on the wire during the run, and were left out.
    assert wire.count(lambda d: _question(d) == "elsewhere.sockviz.test.") > 0
    summary = records[-1]
    assert summary["type"] == "summary" and summary["ignored"] > 0
    assert strip(replayed)[:-1] == strip(records)[:-1]


@pytest.mark.parametrize("source, status, words", [
    ("raise ValueError('boom')\n", 1, "ValueError: boom"),
    ("def f(:\n", 1, "SyntaxError"),
    ("import sys\nsys.exit(3)\n", 3, None),
    ("import sys\nsys.exit('bye')\n", 1, "bye"),
])
def test_the_programs_own_end_becomes_ours(lab, source, status, words):
    proc, records, _ = run_program(lab.client, source)
    assert proc.returncode == status
    if words:
        assert words in proc.stderr
    if "Error" in (words or ""):
        assert 'File "prog.py"' in proc.stderr or "prog.py" in proc.stderr
        assert "sockviz" not in proc.stderr.split("Traceback")[-1].split("Error")[0]
    assert records[-1]["type"] == "summary"  # sockviz's summary after the program's end


def test_run_m_finds_a_module_of_the_current_folder_from_the_console_script(lab):
    """As ``python -m`` does: the folder the command runs in comes first. The console
    script's own sys.path[0] is the venv's bin folder, where the module is not."""
    import shutil

    script = shutil.which("sockviz", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("no sockviz console script beside this interpreter")
    with tempfile.TemporaryDirectory(prefix="sockviz-run-") as cwd:
        Path(cwd, "mon_client.py").write_text(
            "import socket, sys\n"
            "with socket.create_connection(('192.0.2.2', 3001)) as s:\n"
            "    s.sendall(sys.argv[1].encode())\n"
            "    print(s.recv(100))\n")
        proc = lab.client.call([script, "run", "--json", "--no-save", "-m", "mon_client",
                                "bonjour"], capture_output=True, text=True, cwd=cwd, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "b'bonjour'" in proc.stderr  # the program's stdout, beside the records
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [c["name"] for c in calls(records)][-3:] == ["sendall", "recv", "close"]


@pytest.mark.parametrize("argv, status, words", [
    (["run", "nosuch.py"], 7, "there is no script 'nosuch.py'"),
    (["run", "-m", "nosuch_module_xyz"], 7, "no module named 'nosuch_module_xyz'"),
    (["run"], 64, "say what to run"),
    (["lab", "run"], 64, "say which command to run"),
])
def test_bad_input_is_one_sentence(require_lab, argv, status, words):
    proc = subprocess.run([sys.executable, "-m", "sockviz", *argv], capture_output=True,
                          text=True, timeout=60, cwd=tempfile.gettempdir())
    assert proc.returncode == status, proc.stderr
    assert words in proc.stderr and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_ctrl_c_ends_the_program_with_a_complete_capture(lab):
    program = "import socket, time\ns = socket.create_connection(('192.0.2.2', 3001))\n" \
              "print('ready', flush=True)\ntime.sleep(60)\n"
    with tempfile.TemporaryDirectory() as cwd:
        Path(cwd, "p.py").write_text(program)
        proc = lab.client.run([sys.executable, "-m", "sockviz", "run", "p.py"], cwd=cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while "ready" not in proc.stdout.readline() and time.monotonic() < deadline:
            pass
        os.killpg(proc.pid, signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        saved = next(Path(cwd, "captures").glob("*.pcapng"))
        replayed = replay_json(saved)
    assert any(r["type"] == "call" and r["name"] == "create_connection" for r in replayed)


def test_sockviz_trace_gives_the_records_to_a_script(lab):
    program = textwrap.dedent("""\
        import json, socket, sockviz
        with sockviz.trace(save=False, view=False) as t:
            s = socket.create_connection(("chat.sockviz.test", 3001))
            s.sendall(b"Test en classe")
            s.recv(1024)
            s.close()
        connect = next(c for c in t.calls if c["name"] == "connect")
        print(json.dumps({"calls": [c["name"] for c in t.calls if c["parent"] is None],
                          "connect": [p["step"] for p in t.packets_of(connect)],
                          "summary": t.records[-1]["type"],
                          "shown": "connect(" in str(t)}))
    """)
    with tempfile.TemporaryDirectory() as cwd:
        Path(cwd, "grader.py").write_text(program)
        proc = lab.client.call([sys.executable, "grader.py"], capture_output=True, text=True,
                               cwd=cwd, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["calls"] == ["create_connection", "sendall", "recv", "close"]
    assert out["connect"][-3:] == ["syn", "synack", "handshake-ack"]
    assert out["summary"] == "summary" and out["shown"]


KERNEL_STATES = textwrap.dedent("""\
    import socket, time

    s = socket.create_connection(("192.0.2.2", 3001))
    s.sendall(b"bonjour")
    s.recv(1024)
    s.shutdown(socket.SHUT_WR)
    time.sleep(0.2)
    s.close()
""")


def _ours(packet) -> str | None:
    """The traced socket's state after ``packet``, as the packets show it."""
    states = packet["tcp_states"]
    return states["src"] if packet["dir"] == "out" else states["dst"]


def test_the_kernels_states_match_the_packets_states(lab):
    # Each call on the TCP socket carries the kernel's state as it returned (TCP_INFO, then
    # /proc/net/tcp after close()); the packets' RFC 9293 states must say the same, where the
    # kernel's read (just after the call's end) may already include a packet a moment later.
    proc, records, _replayed = run_program(lab.client, KERNEL_STATES)
    assert proc.returncode == 0, proc.stderr
    tcp = [r for r in records if r["type"] == "packet" and r["proto"] == "TCP"]
    assert all(r["tcp_states"] is not None for r in tcp)
    checked = []
    for call in calls(records):
        if call["tcp_state"] is None or call["name"] in ("socket", "create_connection"):
            continue
        before = [p for p in tcp if p["time"] <= call["end"]]
        soon = [p for p in tcp if call["end"] < p["time"] <= call["end"] + 0.005]
        seen = {_ours(p) for p in before[-1:] + soon}
        assert call["tcp_state"] in seen, (call["name"], call["tcp_state"], seen)
        checked.append((call["name"], call["tcp_state"]))
    names = [name for name, _ in checked]
    assert names[:2] == ["connect", "sendall"] and "shutdown" in names and names[-1] == "close"
    assert dict(checked)["connect"] == "ESTABLISHED"
    assert dict(checked)["close"] in ("TIME-WAIT", "FIN-WAIT-2")  # the chat server closes too
    assert not [r for r in records if r["type"] == "note" and "kernel says" in r["text"]]
