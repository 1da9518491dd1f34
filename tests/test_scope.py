"""Which captured packets belong to a lesson (the scope), without root."""

from __future__ import annotations

import pytest
from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
from scapy.layers.inet6 import ICMPv6ND_NS, IPv6
from scapy.layers.l2 import ARP, Ether

from sockviz.core.decode import decode
from sockviz.core.scope import Scope

ME, PEER, OTHER = "192.0.2.1", "192.0.2.2", "192.0.2.77"


def d(frame):
    # Explicit MACs: a bare Ether() makes scapy ARP for the destination on the real network.
    return decode(bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / frame), 1)


def unreachable(dport: int):
    quoted = IP(src=ME, dst=PEER) / UDP(sport=1, dport=dport)
    return IP(src=PEER, dst=ME) / ICMP(type=3, code=3) / bytes(quoted)


@pytest.fixture
def scope():
    s = Scope(dns=True)
    s.watch(PEER, 3001)
    s.local.add(ME)
    return s


@pytest.mark.parametrize("frame, direction, wanted", [
    (IP(src=ME, dst=PEER) / TCP(sport=40000, dport=3001), "out", True),
    (IP(src=PEER, dst=ME) / TCP(sport=3001, dport=40000), "in", True),
    (IP(src=ME, dst=PEER) / TCP(sport=40000, dport=22), "out", False),  # another service
    (IP(src=OTHER, dst=ME) / TCP(sport=3001, dport=40000), "in", False),  # another host
    (IP(src=ME, dst=PEER) / UDP(sport=5353, dport=53) / DNS(qd=DNSQR(qname="x.test")), "out", True),
    (unreachable(3001), "in", True),  # an ICMP error about the lesson's datagram
    (unreachable(9), "in", False),
    (ARP(op=1, psrc=ME, pdst=PEER), "out", True),  # this host asks
    (ARP(op=2, psrc=PEER, pdst=ME), "in", True),  # the answer
    (ARP(op=1, psrc=PEER, pdst=ME), "in", True),  # the peer asks for this host
    (ARP(op=1, psrc=OTHER, pdst="192.0.2.99"), "in", False),  # a neighbour's business
    (IPv6(src="2001:db8::1", dst="ff02::1:ff00:2") / ICMPv6ND_NS(tgt="2001:db8::2"), "out", True),
    (IPv6(src="2001:db8::5", dst="ff02::1:ff00:9") / ICMPv6ND_NS(tgt="2001:db8::9"), "in", False),
])
def test_scope_keeps_what_a_lesson_filter_would(scope, frame, direction, wanted):
    assert scope.wants(d(frame), direction) is wanted


def test_later_fragments_follow_their_first(scope):
    frags = fragment(IP(src=ME, dst=PEER, id=99) / UDP(sport=40000, dport=3001) / (b"x" * 3000),
                     fragsize=1480)
    assert [scope.wants(d(f), "out") for f in frags] == [True, True, True]
    stranger = fragment(IP(src=OTHER, dst=ME, id=99) / UDP(sport=1, dport=2) / (b"x" * 3000),
                        fragsize=1480)
    assert [scope.wants(d(f), "in") for f in stranger] == [False, False, False]


def test_ignored_packets_are_counted(scope):
    scope.wants(d(IP(src=OTHER, dst=ME) / TCP(sport=1, dport=2)), "in")
    assert scope.ignored == 1


def test_a_server_watches_its_port_on_any_address():
    s = Scope(dns=False)
    s.watch_port(3001)
    assert s.wants(d(IP(src=OTHER, dst=PEER) / TCP(sport=5555, dport=3001)), "in")
    assert not s.wants(d(IP(src=OTHER, dst=PEER) / UDP(sport=5555, dport=53) / DNS()), "in")
