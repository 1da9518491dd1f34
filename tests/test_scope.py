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


def dns_message(src, sport, dst, dport, qr=0, name="chat.gif3001.beon.ca"):
    return IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / DNS(qr=qr, qd=DNSQR(qname=name))


def test_a_traced_programs_dns_is_what_its_lookups_running_ask():
    """glibc's resolver asks from a socket the program never sees: a query is the
    program's when one of its calls running asks for that name; its answer, even late,
    follows it. Another program's lookups on this host (a browser beside the notebook),
    at the same moment or not, are not."""
    asked: list[str | None] = []
    running = [True]

    def asking(question):
        asked.append(question)
        return running[0] and question == "chat.gif3001.beon.ca"

    s = Scope(dns=True, asking=asking)
    query, answer = dns_message(ME, 40001, PEER, 53), dns_message(PEER, 53, ME, 40001, qr=1)
    stranger = dns_message(ME, 40002, PEER, 53, name="content-autofill.googleapis.com")
    assert s.wants(d(query), "out")
    assert not s.wants(d(stranger), "out")  # while the lookup runs: another name
    running[0] = False
    assert s.wants(d(answer), "in")  # after the call gave up: still its conversation
    assert asked == ["chat.gif3001.beon.ca", "content-autofill.googleapis.com"]
    assert s.ignored == 1
    # The program's own socket talking to a DNS server is its traffic, in or out of calls.
    s.watch(PEER, 53)
    assert s.wants(d(stranger), "out")


@pytest.mark.parametrize("name, args, names", [
    ("getaddrinfo", ("chat.gif3001.beon.ca", 3001), ("chat.gif3001.beon.ca",)),
    ("getaddrinfo", ("WWW.Google.com.", "https"), ("www.google.com",)),
    ("getaddrinfo", ("192.0.2.2", 3001), ()),  # numeric: no lookup
    ("getaddrinfo", (None, 3001), ()),  # the local host's own addresses
    ("getnameinfo", (("132.203.244.29", 25), 0), ("29.244.203.132.in-addr.arpa",)),
    ("getnameinfo", (("2620:0:1af0:dc00::2", 80), 0),
     ("2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.d.0.f.a.1.0.0.0.0.0.2.6.2.ip6.arpa",)),
    ("gethostbyname", ("chat.gif3001.beon.ca",), ("chat.gif3001.beon.ca",)),
    ("gethostbyaddr", ("192.0.2.2",), ("2.2.0.192.in-addr.arpa",)),
    ("gethostbyaddr", ("chat.gif3001.beon.ca",), None),  # then the PTR of what it finds
    ("create_connection", (("chat.gif3001.beon.ca", 3001),), ("chat.gif3001.beon.ca",)),
    ("connect", (("chat.gif3001.beon.ca", 3001),), ("chat.gif3001.beon.ca",)),  # inside it
    ("connect", (("192.0.2.2", 3001),), ()),
    ("connect", (("fe80::1%eth0", 3001, 0, 0),), ()),  # a zone is no name
    ("sendto", (b"x", ("chat.gif3001.beon.ca", 3001)), ("chat.gif3001.beon.ca",)),
    ("sendto", (b"x", ("<broadcast>", 3001)), ()),
    ("bind", (("", 0),), ()),
    ("recv", (1024,), ()),
    # CPython encodes a str host with the idna codec (socketmodule.c, idna_converter)
    ("getaddrinfo", ("bücher.example", 80), ("xn--bcher-kva.example",)),
    ("connect", (("bücher.example", 80),), ("xn--bcher-kva.example",)),
    ("connect", ((b"chat.gif3001.beon.ca", 3001),), ("chat.gif3001.beon.ca",)),  # bytes too
    # glibc asks for an IPv4-mapped (or -compatible) address's IPv4 reverse name
    ("getnameinfo", (("::ffff:192.0.2.7", 80), 0), ("7.2.0.192.in-addr.arpa",)),
    ("gethostbyaddr", ("::192.0.2.7",), ("7.2.0.192.in-addr.arpa",)),
    ("gethostbyaddr", ("::1",), ("1." + "0." * 31 + "ip6.arpa",)),  # ::1 is not unmapped
])
def test_the_names_a_call_may_ask_the_dns_about(name, args, names):
    from sockviz.core.events import Call
    from sockviz.core.lookups import asked_names

    assert asked_names(Call(id=1, name=name, text=name, args=args, start=0.0)) == names


@pytest.mark.parametrize("question, asked", [
    ("chat.gif3001.beon.ca", True), ("chat.gif3001.beon.ca.", True),
    ("CHAT.gif3001.beon.ca", True),  # DNS names are case-insensitive (RFC 4343)
    ("chat.gif3001.beon.ca.cours.test", True),  # tried under a search domain first
    ("www.gif3001.beon.ca", False), ("xchat.gif3001.beon.ca", False), (None, True),
])
def test_a_query_is_a_calls_when_it_asks_its_name(question, asked):
    from sockviz.core.lookups import asks

    assert asks(("chat.gif3001.beon.ca",), question) is asked
    assert asks((), question) is False and asks(None, question) is True


def test_a_full_table_of_dns_conversations_forgets_the_older_half(monkeypatch):
    """A program that looks up without end: the oldest conversations go, not the one
    whose answer is still on its way."""
    from sockviz.core import scope as scope_module

    monkeypatch.setattr(scope_module, "_DNS_FLOWS_MAX", 8)
    s = Scope(dns=True, asking=lambda question: question == "chat.gif3001.beon.ca")
    for port in range(40000, 40008):
        assert s.wants(d(dns_message(ME, port, PEER, 53)), "out")
    s.asking = lambda question: False  # the lookups are over; their answers come late
    assert s.wants(d(dns_message(PEER, 53, ME, 40007, qr=1)), "in")
    s.asking = lambda question: True
    assert s.wants(d(dns_message(ME, 40008, PEER, 53)), "out")  # the table is full here
    s.asking = lambda question: False
    assert s.wants(d(dns_message(PEER, 53, ME, 40007, qr=1)), "in")  # the newer half stays
    assert not s.wants(d(dns_message(PEER, 53, ME, 40000, qr=1)), "in")  # the oldest went
