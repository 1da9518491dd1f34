"""Canned lessons for the root-free tests: calls and packets as a live run makes them.

Frames are built with scapy (tests only) and fed through the same pipeline
objects as a live run, at fixed times so that output is reproducible.
"""

from __future__ import annotations

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6DestUnreach, ICMPv6ND_NA, ICMPv6ND_NS, IPv6
from scapy.layers.l2 import ARP, Ether

from sockviz.core.correlate import Correlator
from sockviz.core.decode import LINKTYPE_ETHERNET, decode
from sockviz.core.dnsinfo import dns_info
from sockviz.core.events import Call, Packet

T0 = 1_795_000_000.0
CLIENT, SERVER = "192.0.2.1", "192.0.2.2"
CMAC, SMAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 7)]


def eth(direction: str):
    return Ether(src=CMAC, dst=SMAC) if direction == "out" else Ether(src=SMAC, dst=CMAC)


class Builder:
    """Collects ('start'|'end', Call) and ('packet', Packet) events in time order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self.index = 0
        self.ids = 0

    def packet(self, t: float, frame, direction: str | None, iface: str = "veth0") -> None:
        data = bytes(frame)
        self.index += 1
        self.events.append(("packet", Packet(index=self.index, time=T0 + t, iface=iface,
                                             direction=direction, linktype=LINKTYPE_ETHERNET,
                                             wirelen=len(data), data=data,
                                             decoded=decode(data, LINKTYPE_ETHERNET))))

    def call(self, name: str, text: str, start: float, end: float, result_text: str | None = "None",
             error: str | None = None, transport: str | None = "TCP", note: str | None = None):
        self.ids += 1
        c = Call(id=self.ids, name=name, text=text, start=T0 + start, transport=transport)
        done = Call(id=c.id, name=name, text=text, start=c.start, end=T0 + end,
                    result_text=None if error else result_text, error=error,
                    transport=transport, note=note)
        return c, done

    def start(self, call) -> None:
        self.events.append(("start", call))

    def end(self, call) -> None:
        self.events.append(("end", call))


def feed(events, role: str | None = "client"):
    """Run events through a correlator; return the timeline entries."""
    corr = Correlator(role=role, dns=dns_info)
    out = []
    for kind, obj in events:
        if kind == "packet":
            out.extend(corr.packet(obj))
        elif kind == "start":
            out.extend(corr.call_started(obj))
        else:
            out.extend(corr.call_ended(obj))
    out.extend(corr.finish())
    out.append(corr.summary(kernel_drops=0, capture=None))
    return out


def tcp_exchange() -> Builder:
    """socket, connect (ARP + handshake), send, recv, close, teardown after close."""
    b = Builder()
    c_isn, s_isn, cp = 1_000_000, 5_000_000, 40312
    sock, sock_done = b.call("socket", "socket(AF_INET, SOCK_STREAM)", 0.000, 0.0001, "<socket fd=3>")
    b.start(sock)
    b.end(sock_done)
    conn, conn_done = b.call("connect", "connect(('192.0.2.2', 3001))", 0.010, 0.0125)
    b.start(conn)
    b.packet(0.0101, Ether(src=CMAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CMAC, psrc=CLIENT, pdst=SERVER), "out")
    b.packet(0.0102, eth("in") / ARP(op=2, hwsrc=SMAC, psrc=SERVER, hwdst=CMAC, pdst=CLIENT), "in")
    b.packet(0.0103, eth("out") / IP(src=CLIENT, dst=SERVER) / TCP(sport=cp, dport=3001, flags="S", seq=c_isn, window=64240, options=SYN_OPTS), "out")
    b.packet(0.0120, eth("in") / IP(src=SERVER, dst=CLIENT) / TCP(sport=3001, dport=cp, flags="SA", seq=s_isn, ack=c_isn + 1, window=65160, options=SYN_OPTS), "in")
    b.packet(0.0121, eth("out") / IP(src=CLIENT, dst=SERVER) / TCP(sport=cp, dport=3001, flags="A", seq=c_isn + 1, ack=s_isn + 1, window=502), "out")
    b.end(conn_done)
    send, send_done = b.call("send", "send(b'Test en classe')", 0.020, 0.0201, "14")
    b.start(send)
    b.packet(0.02005, eth("out") / IP(src=CLIENT, dst=SERVER) / TCP(sport=cp, dport=3001, flags="PA", seq=c_isn + 1, ack=s_isn + 1, window=502) / b"Test en classe", "out")
    b.end(send_done)
    b.packet(0.0215, eth("in") / IP(src=SERVER, dst=CLIENT) / TCP(sport=3001, dport=cp, flags="PA", seq=s_isn + 1, ack=c_isn + 15, window=509) / b"Test en classe", "in")
    b.packet(0.0216, eth("out") / IP(src=CLIENT, dst=SERVER) / TCP(sport=cp, dport=3001, flags="A", seq=c_isn + 15, ack=s_isn + 15, window=502), "out")
    recv, recv_done = b.call("recv", "recv(1024)", 0.030, 0.03001, "b'Test en classe'")
    b.start(recv)
    b.end(recv_done)
    close, close_done = b.call("close", "close()", 0.040, 0.0401)
    b.start(close)
    b.packet(0.04005, eth("out") / IP(src=CLIENT, dst=SERVER) / TCP(sport=cp, dport=3001, flags="FA", seq=c_isn + 15, ack=s_isn + 15, window=502), "out")
    b.end(close_done)
    b.packet(0.0415, eth("in") / IP(src=SERVER, dst=CLIENT) / TCP(sport=3001, dport=cp, flags="FA", seq=s_isn + 15, ack=c_isn + 16, window=509), "in")
    b.packet(0.0416, eth("out") / IP(src=CLIENT, dst=SERVER) / TCP(sport=cp, dport=3001, flags="A", seq=c_isn + 16, ack=s_isn + 16, window=502), "out")
    return b


def tcp_refused() -> Builder:
    b = Builder()
    conn, done = b.call("connect", "connect(('192.0.2.2', 9))", 0.0, 0.0012,
                        error="ConnectionRefusedError: [Errno 111] Connection refused")
    b.start(conn)
    b.packet(0.0001, eth("out") / IP(src=CLIENT, dst=SERVER) / TCP(sport=40000, dport=9, flags="S", seq=77, options=SYN_OPTS), "out")
    b.packet(0.0011, eth("in") / IP(src=SERVER, dst=CLIENT) / TCP(sport=9, dport=40000, flags="RA", seq=0, ack=78, window=0), "in")
    b.end(done)
    return b


def tcp_no_answer() -> Builder:
    """SYN retransmissions at Linux's 1 s, then doubling, intervals; then the timeout."""
    b = Builder()
    conn, done = b.call("connect", "connect(('198.51.100.1', 3001))", 0.0, 7.5,
                        error="TimeoutError: timed out")
    b.start(conn)
    for t in (0.0001, 1.01, 3.03, 7.07):
        b.packet(t, eth("out") / IP(src=CLIENT, dst="198.51.100.1") / TCP(sport=40001, dport=3001, flags="S", seq=1234, options=SYN_OPTS), "out")
    b.end(done)
    return b


def loopback_exchange() -> Builder:
    """On lo the capture cannot tell directions: the correlator infers them."""
    b = Builder()
    lo = "127.0.0.1"
    conn, done = b.call("connect", "connect(('127.0.0.1', 3001))", 0.0, 0.001)
    b.start(conn)
    zero = Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00")
    b.packet(0.0001, zero / IP(src=lo, dst=lo) / TCP(sport=50000, dport=3001, flags="S", seq=10, options=SYN_OPTS), None, "lo")
    b.packet(0.0002, zero / IP(src=lo, dst=lo) / TCP(sport=3001, dport=50000, flags="SA", seq=20, ack=11, options=SYN_OPTS), None, "lo")
    b.packet(0.0003, zero / IP(src=lo, dst=lo) / TCP(sport=50000, dport=3001, flags="A", seq=11, ack=21), None, "lo")
    b.end(done)
    return b


def udp_unreachable() -> Builder:
    b = Builder()
    send, send_done = b.call("sendto", "sendto(b'hello', ('192.0.2.2', 3002))", 0.0, 0.0001, "5", transport="UDP")
    b.start(send)
    dgram = IP(src=CLIENT, dst=SERVER) / UDP(sport=50001, dport=3002) / b"hello"
    b.packet(0.00005, eth("out") / dgram, "out")
    b.end(send_done)
    b.packet(0.0003, eth("in") / IP(src=SERVER, dst=CLIENT) / ICMP(type=3, code=3) / bytes(dgram), "in")
    recv, recv_done = b.call("recvfrom", "recvfrom(1024)", 0.001, 3.001, error="TimeoutError: timed out", transport="UDP")
    b.start(recv)
    b.end(recv_done)
    close, close_done = b.call("close", "close()", 3.002, 3.0021, transport="UDP")
    b.start(close)
    b.end(close_done)
    return b


def udp_ipv6_exchange() -> Builder:
    """IPv6: NDP before the first datagram, then the datagram and its echo."""
    b = Builder()
    c6, s6 = "2001:db8::1", "2001:db8::2"
    send, send_done = b.call("sendto", "sendto(b'hi', ('2001:db8::2', 3001))", 0.0, 0.0008, "2", transport="UDP")
    b.start(send)
    b.packet(0.0001, Ether(src=CMAC, dst="33:33:ff:00:00:02") / IPv6(src=c6, dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt=s6), "out")
    b.packet(0.0005, eth("in") / IPv6(src=s6, dst=c6, hlim=255) / ICMPv6ND_NA(tgt=s6, R=0, S=1, O=1), "in")
    b.packet(0.0006, eth("out") / IPv6(src=c6, dst=s6) / UDP(sport=50002, dport=3001) / b"hi", "out")
    b.end(send_done)
    b.packet(0.0010, eth("in") / IPv6(src=s6, dst=c6) / UDP(sport=3001, dport=50002) / b"hi", "in")
    recv, recv_done = b.call("recvfrom", "recvfrom(1024)", 0.003, 0.0031, "(b'hi', ('2001:db8::2', 3001, 0, 0))", transport="UDP")
    b.start(recv)
    b.end(recv_done)
    return b


def udp6_unreachable() -> Builder:
    b = Builder()
    c6, s6 = "2001:db8::1", "2001:db8::2"
    dgram = IPv6(src=c6, dst=s6) / UDP(sport=50003, dport=3002) / b"x"
    send, send_done = b.call("send", "send(b'x')", 0.0, 0.0001, "1", transport="UDP")
    b.start(send)
    b.packet(0.00005, eth("out") / dgram, "out")
    b.end(send_done)
    recv, recv_done = b.call("recv", "recv(1024)", 0.0002, 0.0005, error="ConnectionRefusedError: [Errno 111] Connection refused", transport="UDP")
    b.start(recv)
    b.packet(0.0003, eth("in") / IPv6(src=s6, dst=c6) / ICMPv6DestUnreach(code=4) / bytes(dgram), "in")
    b.end(recv_done)
    return b


def getaddrinfo_dns() -> Builder:
    """glibc's A and AAAA queries from one socket, both answered."""
    b = Builder()
    call, done = b.call("getaddrinfo", "getaddrinfo('chat.sockviz.test', 3001)", 0.0, 0.004,
                        "[(AF_INET, SOCK_STREAM, 6, '', ('192.0.2.2', 3001))]", transport="DNS")
    b.start(call)
    for i, (t, qtype) in enumerate(((0.0001, "A"), (0.00012, "AAAA"))):
        q = DNS(id=0x1111 + i, rd=1, qd=DNSQR(qname="chat.sockviz.test", qtype=qtype))
        b.packet(t, eth("out") / IP(src=CLIENT, dst=SERVER) / UDP(sport=45000, dport=53) / q, "out")
    a = DNS(id=0x1111, qr=1, aa=1, rd=1, qd=DNSQR(qname="chat.sockviz.test", qtype="A"),
            an=[DNSRR(rrname="chat.sockviz.test", type="A", ttl=300, rdata=SERVER)])
    aaaa = DNS(id=0x1112, qr=1, aa=1, rd=1, qd=DNSQR(qname="chat.sockviz.test", qtype="AAAA"),
               an=[DNSRR(rrname="chat.sockviz.test", type="AAAA", ttl=300, rdata="2001:db8::2")])
    b.packet(0.002, eth("in") / IP(src=SERVER, dst=CLIENT) / UDP(sport=53, dport=45000) / a, "in")
    b.packet(0.003, eth("in") / IP(src=SERVER, dst=CLIENT) / UDP(sport=53, dport=45000) / aaaa, "in")
    b.end(done)
    return b


def udp_fragments() -> Builder:
    b = Builder()
    big = IP(src=CLIENT, dst=SERVER, id=4242) / UDP(sport=50004, dport=3001) / (b"sockviz " * 400)
    from scapy.layers.inet import fragment

    send, send_done = b.call("sendto", "sendto(<3200 bytes>, ('192.0.2.2', 3001))", 0.0, 0.001, "3200", transport="UDP")
    b.start(send)
    for i, frag in enumerate(fragment(big, fragsize=1480)):
        b.packet(0.0001 + i * 0.0001, eth("out") / frag, "out")
    b.end(send_done)
    return b


SCENARIOS = {
    "tcp_exchange": tcp_exchange,
    "tcp_refused": tcp_refused,
    "tcp_no_answer": tcp_no_answer,
    "loopback_exchange": loopback_exchange,
    "udp_unreachable": udp_unreachable,
    "udp_ipv6_exchange": udp_ipv6_exchange,
    "udp6_unreachable": udp6_unreachable,
    "getaddrinfo_dns": getaddrinfo_dns,
    "udp_fragments": udp_fragments,
}


class CollectSink:
    """A renderer that keeps every timeline entry, for tests that read them."""

    def __init__(self) -> None:
        self.entries: list = []

    def handle(self, entry) -> None:
        self.entries.append(entry)

    def close(self) -> None:
        pass
