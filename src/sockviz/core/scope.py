"""Which captured packets belong to the lesson.

The sniffer hears the whole interface (tcpdump -i any); a lesson shows what
a capture filter for its own traffic would keep: its connection or datagrams,
the ICMP errors about them, their IP fragments, the DNS that resolves its
names, and the neighbour discovery (ARP, NDP) that its first packet needs.
Everything else is counted, not shown.

The DNS that resolves its names: glibc's stub resolver asks from a socket of
its own, which the program never sees, so a query is the program's when it
leaves while one of its calls runs that may ask for that name (``asking``: a
lookup of it, or the name given as an address), and so is every later message
between the same two ports (the answer, one that comes late). Another
program's lookups on the same host (a browser beside a notebook) are not the
program's, unless it asks for the same name at the same moment: nothing on
the wire tells the two apart.
"""

from __future__ import annotations

import itertools

TYPE_CHECKING = False  # the decoder is imported behind the capture's start, not before
if TYPE_CHECKING:
    from collections.abc import Callable

    from sockviz.core.decode import Decoded

_NDP = {133, 134, 135, 136, 137}
_DNS_FLOWS_MAX = 65536


class Scope:
    """``dns``: the lesson's DNS is kept; ``asking(question)``: does a call running ask
    the DNS about this name (None: a message whose question cannot be read; ``asking``
    None: every DNS message is the lesson's)."""

    def __init__(self, *, dns: bool = True,
                 asking: Callable[[str | None], bool] | None = None) -> None:
        self.dns = dns
        self.asking = asking
        self._dns_flows: dict[tuple, None] = {}  # (one end, the other), the lower first
        self.endpoints: set[tuple[str, int]] = set()
        self.ports: set[int] = set()  # a server's own ports, on any address
        self.local: set[str] = set()  # this host's addresses facing the lesson's peer
        self._fragments: set[tuple] = set()
        self.ignored = 0

    def watch(self, address: str, port: int) -> None:
        """Keep traffic to and from ``address:port`` (the lesson's peer)."""
        self.endpoints.add((address, port))

    def watch_port(self, port: int) -> None:
        """Keep traffic to and from ``port`` on any address (a server's view)."""
        self.ports.add(port)

    def _dns_wanted(self, d: Decoded) -> bool:
        if self.asking is None:
            return True
        a, b = (d.src, d.sport), (d.dst, d.dport)
        flow = (a, b) if a <= b else (b, a)
        if flow in self._dns_flows:
            return True
        if not self.asking(_question(d)):
            return False
        flows = self._dns_flows
        if len(flows) >= _DNS_FLOWS_MAX:  # a program that looks up without end: the older
            for old in list(itertools.islice(flows, _DNS_FLOWS_MAX // 2)):  # half goes
                del flows[old]
        flows[flow] = None
        return True

    def _ours(self, addr, port) -> bool:
        return (addr, port) in self.endpoints or port in self.ports

    def wants(self, d: Decoded, direction: str | None) -> bool:
        keep = self._wants(d, direction)
        if not keep:
            self.ignored += 1
        return keep

    def _wants(self, d: Decoded, direction: str | None) -> bool:
        proto = d.proto
        if proto == "ARP":
            # What this host asks, the answers it gets, and what others ask of it.
            return direction == "out" or d.arp_op == 2 or (d.dst in self.local)
        if proto == "ICMPv6" and d.icmp_type in _NDP:
            return direction == "out" or d.icmp_type == 136 or d.nd_target in self.local
        if self.dns and proto == "DNS" and self._dns_wanted(d):
            return True
        if d.sport is not None:
            if self._ours(d.src, d.sport) or self._ours(d.dst, d.dport):
                if d.more_fragments:
                    self._fragments.add((d.src, d.dst, d.ip_id))
                return True
            return False
        if d.quoted is not None:
            q = d.quoted
            return self._ours(q.dst, q.dport) or self._ours(q.src, q.sport)
        if d.frag_offset:
            return (d.src, d.dst, d.ip_id) in self._fragments
        return False


def _question(d: Decoded) -> str | None:
    """The name a DNS message over UDP asks about (RFC 1035 §4.1.2), or None."""
    payload = d.payload
    if d.tcp_flags is not None or len(payload) < 17 or not (payload[4] or payload[5]):
        return None  # over TCP, the question is in the stream, not in each segment
    from sockviz.core.dnscodec import DNSFormatError, decode_name

    try:
        return decode_name(payload, 12)[0]
    except DNSFormatError:
        return None
