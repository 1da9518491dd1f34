"""The TCP lesson with real packets between two test hosts (network namespaces)."""

from __future__ import annotations

import itertools
import sys

import pytest

from livehelpers import replay_json, sockviz, strip, watch_wire

pytestmark = pytest.mark.netns

def test_exchange_handshake_data_teardown(lab, tmp_path):
    path = tmp_path / "tcp.pcapng"
    with watch_wire(lab.server) as wire:
        run = sockviz(lab.client, "tcp", "192.0.2.2", "3001", "--send", "Test en classe",
                      "--save", str(path))
    assert run.status == 0, run.stderr
    assert [c["name"] for c in run.calls()] == [
        "socket", "settimeout", "connect", "send", "recv", "close"]
    assert run.call("recv")["result"] == "Test en classe"
    assert run.call("settimeout")["packets"] == 0
    # Each call is a line of the lesson's program (the one --code prints).
    assert run.call("connect")["source"] == {"file": "tcp_client.py", "line": 11,
                                             "text": "s.connect((SERVEUR, PORT))"}
    assert {c["thread"] for c in run.calls()} == {"MainThread"}
    assert "b'Test en classe'" in run.stderr  # the program's print(data), apart from the records

    connect = [p["step"] for p in run.packets_of("connect")]
    assert connect[-3:] == ["syn", "synack", "handshake-ack"]
    assert set(connect[:-3]) <= {"arp-request", "arp-reply"}
    assert [p["len"] for p in run.packets_of("send") if p["step"] == "data" and p["dir"] == "out"] == [14]
    steps = [p["step"] for p in run.packets()]
    for step in ("fin-first", "fin-second", "final-ack"):
        assert steps.count(step) == 1, steps

    # Exactly once: what sockviz shows is what crossed the wire, seen from the far end.
    tcp = [p for p in run.packets() if p["proto"] == "TCP"]
    assert len(tcp) == wire.count(lambda d: d.sport == 3001 or d.dport == 3001)
    assert len({p["index"] for p in run.packets()}) == len(run.packets())
    assert run.summary["kernel_drops"] == 0

    # The saved file replays to the same timeline.
    assert strip(replay_json(path)[:-1]) == strip(run.records[:-1])


def test_ipv6_by_name_resolves_inside_connect(lab):
    """As in the student's code, the name is resolved inside connect(): no getaddrinfo() call."""
    run = sockviz(lab.client, "tcp", "chat.sockviz.test", "3001", "-6", "--send", "bonjour")
    assert run.status == 0, run.stderr
    assert [c["name"] for c in run.calls()][:3] == ["socket", "settimeout", "connect"]
    connect = run.call("connect")
    assert connect["text"] == "connect(('chat.sockviz.test', 3001))"
    dns = [p for p in run.packets_of("connect") if p["proto"] == "DNS"]
    assert [p["dns"]["qr"] for p in dns] == ["query", "response"]
    assert all(q["type"] == "AAAA" for p in dns for q in p["dns"]["questions"])  # an AF_INET6 socket
    tcp = [p for p in run.packets_of("connect") if p["proto"] == "TCP"]
    assert [p["step"] for p in tcp] == ["syn", "synack", "handshake-ack"]
    assert tcp[0]["src"] == "2001:db8::1"
    notes = [r["text"] for r in run.records if r["type"] == "note"]
    assert any("resolved it inside the call" in n for n in notes)
    assert run.call("recv")["result"] == "bonjour"


def test_a_name_without_option_is_resolved_for_the_course_ipv4_socket(lab):
    run = sockviz(lab.client, "tcp", "chat.sockviz.test", "3001", "--send", "x")
    assert run.status == 0, run.stderr
    assert run.call("socket")["text"] == "socket(AF_INET, SOCK_STREAM)"
    questions = [q["type"] for p in run.packets_of("connect") if p["proto"] == "DNS"
                 and p["dns"]["qr"] == "query" for q in p["dns"]["questions"]]
    assert questions == ["A"]


def test_neighbour_discovery_comes_before_the_syn(lab):
    run = sockviz(lab.client, "tcp", "192.0.2.2", "3001", "--send", "x")
    steps = [p["step"] for p in run.packets()]
    assert steps.index("arp-request") < steps.index("syn")


def test_refused_port_shows_the_rst(lab):
    run = sockviz(lab.client, "tcp", "192.0.2.2", "9")
    assert run.status == 4
    assert run.call("connect")["error"].startswith("ConnectionRefusedError")
    assert [p["step"] for p in run.packets_of("connect") if p["proto"] == "TCP"] == [
        "syn", "rst-refused"]
    assert "refused" in run.stderr and "Traceback" not in run.stderr


def test_no_answer_shows_syn_retransmissions_until_timeout(lab):
    run = sockviz(lab.client, "tcp", lab.silent_v4, "3001", "--timeout", "3.5")
    assert run.status == 4
    assert run.call("connect")["error"].startswith("TimeoutError")
    syns = [p for p in run.packets_of("connect") if p["proto"] == "TCP"]
    assert syns[0]["step"] == "syn" and {p["step"] for p in syns[1:]} == {"syn-retransmit"}
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(syns)]
    # Linux's first retry comes after 1 s (RFC 6298 §2); then the wait stays at
    # 1 s for tcp_syn_linear_timeouts retries (Linux 6.x) or doubles.
    linear = lab.client.call(["cat", "/proc/sys/net/ipv4/tcp_syn_linear_timeouts"],
                             capture_output=True, text=True).stdout.strip()
    expected = [1.0, 1.0, 1.0] if linear and int(linear) >= 3 else [1.0, 2.0]
    assert len(gaps) == len(expected)
    assert all(abs(g - e) < 0.4 for g, e in zip(gaps, expected, strict=True)), gaps
    word = "fixed interval" if expected[1] == 1.0 else "doubling"
    assert word in run.call("connect")["lesson"]


def test_unknown_name_fails_with_the_dns_answer(lab):
    run = sockviz(lab.client, "tcp", "nosuch.sockviz.test", "3001")
    assert run.status == 3
    assert run.call("connect")["error"].startswith("gaierror")
    assert run.call("close")["packets"] == 0  # the with block closes the socket: nothing to send
    answers = [p for p in run.packets_of("connect") if p["proto"] == "DNS"
               and p["dns"]["qr"] == "response"]
    assert answers and all(p["dns"]["rcode"] == "NXDOMAIN" for p in answers)
    assert run.stderr.count("\n") == 1 and "does not resolve" in run.stderr


def test_loopback_target_shows_each_packet_once(lab):
    """On lo every packet passes the tap twice; sockviz, like tcpdump, shows it once."""
    server = lab.client.run([sys.executable, "-m", "sockviz.lab.chatserver", "--host", "127.0.0.1",
                             "--port", "3002"])
    try:
        import time

        time.sleep(0.5)
        with watch_wire(lab.client) as wire:
            run = sockviz(lab.client, "tcp", "127.0.0.1", "3002", "--send", "boucle")
    finally:
        server.terminate()
        server.wait(5)
    assert run.status == 0, run.stderr
    assert run.call("recv")["result"] == "boucle"
    tcp = [p for p in run.packets() if p["proto"] == "TCP"]
    assert len(tcp) == wire.count(lambda d: 3002 in (d.sport, d.dport), iface="lo")
    assert [p["dir"] for p in tcp[:3]] == ["out", "in", "out"]


def test_piped_stdin_lines_are_messages_and_the_run_is_saved(lab):
    run = sockviz(lab.client, "tcp", "192.0.2.2", "3001", stdin="un\ndeux\n")
    assert [c["result"] for c in run.calls() if c["name"] == "recv"] == ["un", "deux"]
    assert len(run.saved) == 1 and run.saved[0].startswith("tcp-192.0.2.2-3001-")
    assert run.summary["capture"].endswith(run.saved[0])


def test_name_without_an_address_of_the_family(lab):
    run = sockviz(lab.client, "tcp", "v4only.sockviz.test", "3001", "-6")
    assert run.status == 3
    answer = next(p for p in run.packets() if p["proto"] == "DNS" and p["dns"]["qr"] == "response")
    assert answer["dns"]["rcode"] == "NOERROR" and answer["dns"]["answers"] == []
    assert "NODATA" in answer["explain"]
    assert "has no IPv6 address" in run.stderr and run.stderr.count("\n") == 1


def test_the_recvmsg_sniffer_sees_the_same(lab):
    """The fallback for kernels without TPACKET_V3 rings shows each packet once too."""
    with watch_wire(lab.server) as wire:
        run = sockviz(lab.client, "tcp", "192.0.2.2", "3001", "--send", "x",
                      env={"SOCKVIZ_NO_RING": "1"})
    assert run.status == 0, run.stderr
    tcp = [p for p in run.packets() if p["proto"] == "TCP"]
    assert len(tcp) == wire.count(lambda d: 3001 in (d.sport, d.dport))
    assert run.summary["kernel_drops"] == 0


def test_a_silent_server_ends_the_program_at_recv_with_a_note(lab):
    """recv() times out (the --timeout): the program stops there, its with block closes."""
    silent = lab.server.run([sys.executable, "-c", (
        "import socket, time\n"
        "s = socket.create_server(('192.0.2.2', 3003))\n"
        "c, _ = s.accept()\n"
        "time.sleep(30)\n")])
    try:
        import time

        time.sleep(0.5)
        run = sockviz(lab.client, "tcp", "192.0.2.2", "3003", "--send", "allo", "--timeout", "1")
    finally:
        silent.kill()
        silent.wait(5)
    assert run.status == 4, run.stderr
    assert [c["name"] for c in run.calls()][-2:] == ["recv", "close"]
    recv = run.call("recv")
    assert recv["error"].startswith("TimeoutError") and 0.9 < recv["end"] - recv["start"] < 2
    notes = [r["text"] for r in run.records if r["type"] == "note"]
    assert notes == ["no reply within 1.0 s: recv() gave up (the --timeout); the server may "
                     "simply not answer"]
    assert "Traceback" not in run.stderr


def test_bulk_send_is_a_loop_of_sendall_while_a_thread_reads_the_echo(lab):
    run = sockviz(lab.client, "tcp", "192.0.2.2", "3001", "--send-bytes", "3M", timeout=120)
    assert run.status == 0, run.stderr
    sendall = [c for c in run.calls() if c["name"] == "sendall"]
    assert len(sendall) == 3 and all(c["error"] is None for c in sendall)
    reads = [c for c in run.calls() if c["name"] == "recv_into"]
    assert reads and {c["thread"] for c in reads} == {"lecteur"}
    assert sum(c["result"] for c in reads) == 3 * 1024 * 1024
    assert "3145728 bytes of echo read back, of 3145728 sent" in run.stderr
    # Every byte sent is in the capture (the lab's segmentation offloads may hand the
    # capture larger frames than the wire carries, so bytes are counted, not frames), and
    # a segment is "data" exactly when it begins at the first byte not sent before: under
    # load the kernel may send old bytes again (a tail-loss probe), named a retransmission.
    top = 1
    for p in run.packets():
        if p["proto"] == "TCP" and p["dir"] == "out" and p["len"]:
            assert p["step"] == ("data" if p["seq"] >= top else "data-retransmit"), p
            top = max(top, p["seq"] + p["len"])
    assert top == 1 + 3 * 1024 * 1024
    assert run.summary["kernel_drops"] == 0
