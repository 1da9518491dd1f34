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
        "socket", "settimeout", "sendto", "recvfrom", "sendto", "recvfrom", "close"]
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
    notes = [r["text"] for r in run.records if r["type"] == "note"]
    assert notes == ["recvfrom() gave up after 1.0 s (the --timeout)"]


def test_connected_socket_turns_icmp_into_connection_refused(lab):
    run = sockviz(lab.client, "udp", "192.0.2.2", "3999", "--connect", "--send", "allo",
                  "--timeout", "2")
    assert run.status == 4
    assert [c["name"] for c in run.calls()] == [
        "socket", "settimeout", "connect", "send", "recv", "close"]
    assert run.call("connect")["packets"] == 0
    assert run.call("recv")["error"].startswith("ConnectionRefusedError")
    assert run.call("recv")["end"] - run.call("recv")["start"] < 1.0  # no wait for the timeout
    assert "ConnectionRefusedError" in run.call("recv")["lesson"]
    notes = [r["text"] for r in run.records if r["type"] == "note"]
    assert notes == ["an earlier ICMP port unreachable was waiting on the connected socket: "
                     "recv() reports it as ConnectionRefusedError"]


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
    notes = [r["text"] for r in run.records if r["type"] == "note"]
    assert notes == ["recvfrom(1024) returned only the first 1024 bytes: the rest of the "
                     "datagram is discarded, never returned by a later call"]


def test_ipv6_uses_ndp_and_icmpv6(lab):
    run = sockviz(lab.client, "udp", "2001:db8::2", "3001", "--send", "v6")
    assert run.status == 0, run.stderr
    steps = [p["step"] for p in run.packets()]
    assert "ndp-ns" in steps and steps.index("ndp-ns") < steps.index("udp")
    closed = sockviz(lab.client, "udp", "2001:db8::2", "3999", "--send", "v6", "--timeout", "1")
    icmp6 = [p for p in closed.packets() if p["proto"] == "ICMPv6" and p["step"] == "port-unreachable"]
    assert len(icmp6) == 1 and icmp6[0]["icmp"] == {"type": 1, "code": 4}


def test_a_name_is_resolved_inside_every_sendto(lab):
    """As in the student's code: sendto(data, (name, port)) asks the resolver each time."""
    run = sockviz(lab.client, "udp", "chat.sockviz.test", "3001", "--send", "un", "--send", "deux")
    assert run.status == 0, run.stderr
    sendtos = [c for c in run.calls() if c["name"] == "sendto"]
    assert [c["text"] for c in sendtos] == ["sendto(b'un', ('chat.sockviz.test', 3001))",
                                            "sendto(b'deux', ('chat.sockviz.test', 3001))"]
    for call in sendtos:
        under = [p for p in run.packets() if p["call_id"] == call["id"]]
        assert [p["step"] for p in under if p["proto"] == "DNS"] == ["dns-query", "dns-response"]
        assert [p["dir"] for p in under if p["proto"] == "UDP"][:1] == ["out"]
    notes = [r["text"] for r in run.records if r["type"] == "note"]
    assert len([n for n in notes if "inside every sendto()" in n]) == 2


def test_a_datagram_too_big_for_udp_is_refused_by_the_kernel(lab):
    run = sockviz(lab.client, "udp", "192.0.2.2", "3001", "--size", "70000")
    assert run.status == 4
    assert run.call("sendto")["error"] == "OSError: [Errno 90] Message too long"
    assert run.call("sendto")["packets"] == 0
    notes = [r["text"] for r in run.records if r["type"] == "note"]
    assert notes == ["70,000 bytes do not fit in one UDP datagram (at most 65,507 over IPv4, "
                     "65,527 over IPv6: the IP length field is 16 bits)"]
