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
    assert [c["name"] for c in run.calls()] == ["socket", "connect", "send", "recv", "close"]
    assert run.call("recv")["result"] == "Test en classe"

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


def test_ipv6_by_name_resolves_then_connects(lab):
    run = sockviz(lab.client, "tcp", "chat.sockviz.test", "3001", "-6", "--send", "bonjour")
    assert run.status == 0, run.stderr
    gai = run.call("getaddrinfo")
    assert "2001:db8::2" in str(gai["result"])
    dns = [p for p in run.packets_of("getaddrinfo") if p["proto"] == "DNS"]
    assert {p["dns"]["qr"] for p in dns} == {"query", "response"}
    assert all(q["type"] == "AAAA" for p in dns for q in p["dns"]["questions"])
    connect = [p for p in run.packets_of("connect") if p["proto"] == "TCP"]
    assert [p["step"] for p in connect] == ["syn", "synack", "handshake-ack"]
    assert connect[0]["src"] == "2001:db8::1"
    assert run.call("recv")["result"] == "bonjour"


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
    assert run.call("getaddrinfo")["error"].startswith("gaierror")
    answers = [p for p in run.packets() if p["proto"] == "DNS" and p["dns"]["qr"] == "response"]
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
