"""The UDP lesson with real packets between two test hosts."""

from __future__ import annotations

import pytest

from livehelpers import replay_json, sockviz, strip, watch_wire

pytestmark = pytest.mark.netns

def test_one_sendto_is_one_datagram_and_close_is_silent(lab, tmp_path):
    path = tmp_path / "udp.pcapng"
    with watch_wire(lab.server) as wire:
        run = sockviz(lab.client, "udp", "192.0.2.2", "3001", "--send", "Test en classe",
                      "--send", "deux", "--save", str(path))
    assert run.status == 0, run.stderr
    assert [c["name"] for c in run.calls()] == [
        "socket", "sendto", "recvfrom", "sendto", "recvfrom", "close"]
    datagrams = [p for p in run.packets() if p["proto"] == "UDP"]
    assert [(p["dir"], p["len"]) for p in datagrams] == [
        ("out", 14), ("in", 14), ("out", 4), ("in", 4)]
    assert len(datagrams) == wire.count(lambda d: 3001 in (d.sport, d.dport))
    recv = next(c for c in run.calls() if c["name"] == "recvfrom")
    assert recv["result"] == ["Test en classe", ["192.0.2.2", 3001]]
    close = run.call("close")
    assert close["packets"] == 0 and "sends nothing" in close["lesson"]
    assert not any(p["proto"] == "TCP" for p in run.packets())
    assert strip(replay_json(path)[:-1]) == strip(run.records[:-1])


def test_closed_port_gives_icmp_but_unconnected_recvfrom_waits(lab):
    run = sockviz(lab.client, "udp", "192.0.2.2", "3999", "--send", "allo", "--timeout", "1")
    assert run.status == 4
    icmp = [p for p in run.packets() if p["proto"] == "ICMP"]
    assert len(icmp) == 1 and icmp[0]["icmp"] == {"type": 3, "code": 3}
    assert icmp[0]["step"] == "port-unreachable"
    recv = run.call("recvfrom")
    assert recv["error"].startswith("TimeoutError")
    assert "only to connected" in recv["lesson"]


def test_connected_socket_turns_icmp_into_connection_refused(lab):
    run = sockviz(lab.client, "udp", "192.0.2.2", "3999", "--connect", "--send", "allo",
                  "--timeout", "2")
    assert run.status == 4
    assert [c["name"] for c in run.calls()][:4] == ["socket", "connect", "send", "recv"]
    assert run.call("connect")["packets"] == 0
    assert run.call("recv")["error"].startswith("ConnectionRefusedError")
    assert run.call("recv")["end"] - run.call("recv")["start"] < 1.0  # no wait for the timeout
    assert "ConnectionRefusedError" in run.call("recv")["lesson"]


def test_large_datagram_is_fragmented(lab):
    with watch_wire(lab.server) as wire:
        run = sockviz(lab.client, "udp", "192.0.2.2", "3001", "--size", "4000")
    assert run.status == 0, run.stderr
    out = [p for p in run.packets() if p["dir"] == "out" and p.get("fragment")]
    assert [p["fragment"]["offset"] for p in out] == [0, 1480, 2960]
    assert all(p["step"] == "fragment" for p in out)
    back = [p for p in run.packets() if p["dir"] == "in" and p.get("fragment")]
    assert len(back) == 3  # the echo comes back in fragments too
    assert len(out) + len(back) == wire.count(lambda d: d.frag_offset is not None)
    assert "fragments" in run.call("sendto")["lesson"]
    assert run.call("recvfrom")["result"][0] == ("sockviz " * 128)[:1024]


def test_ipv6_uses_ndp_and_icmpv6(lab):
    run = sockviz(lab.client, "udp", "2001:db8::2", "3001", "--send", "v6")
    assert run.status == 0, run.stderr
    steps = [p["step"] for p in run.packets()]
    assert "ndp-ns" in steps and steps.index("ndp-ns") < steps.index("udp")
    closed = sockviz(lab.client, "udp", "2001:db8::2", "3999", "--send", "v6", "--timeout", "1")
    icmp6 = [p for p in closed.packets() if p["proto"] == "ICMPv6" and p["step"] == "port-unreachable"]
    assert len(icmp6) == 1 and icmp6[0]["icmp"] == {"type": 1, "code": 4}
