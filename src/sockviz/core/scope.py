"""Which captured packets belong to the lesson.

The sniffer hears the whole interface (tcpdump -i any); a lesson shows what
a capture filter for its own traffic would keep: its connection or datagrams,
the ICMP errors about them, their IP fragments, the DNS that resolves its
names, and the neighbour discovery (ARP, NDP) that its first packet needs.
Everything else is counted, not shown.
"""

from __future__ import annotations

TYPE_CHECKING = False  # the decoder is imported behind the capture's start, not before
if TYPE_CHECKING:
    from sockviz.core.decode import Decoded

_NDP = {133, 134, 135, 136, 137}


class Scope:
    def __init__(self, *, dns: bool = True) -> None:
        self.dns = dns
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
        if self.dns and proto == "DNS":
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
