"""What each call causes on the wire, and what each packet means: as data.

Like h11's state table, the teaching lives in tables, not in branches: the
steps a call is expected to cause (``EXPECTED``), what a call that causes no
packet is doing (``SILENT``), and the one-line meaning of every step
(``MEANING``), in the voice of the side you are on. Explanations, the
after-call lessons and the README's table are all drawn from here.

Protocol facts cite their RFC; Linux specifics say "Linux".
"""

from __future__ import annotations

import itertools

# The packets a call is expected to cause, in order (the client's view).
EXPECTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("connect", "TCP"): ("syn", "synack", "handshake-ack"),
    ("send", "TCP"): ("data", "ack"),
    ("sendall", "TCP"): ("data", "ack"),
    ("recv", "TCP"): (),
    ("close", "TCP"): ("fin-first", "fin-second", "last-ack"),
    ("sendto", "UDP"): ("udp",),
    ("send", "UDP"): ("udp",),
    ("recvfrom", "UDP"): (),
    ("recv", "UDP"): (),
    ("close", "UDP"): (),
    ("getaddrinfo", "DNS"): ("dns-query", "dns-response"),
    ("getnameinfo", "DNS"): ("dns-query", "dns-response"),
}

# How each step is drawn in a call's diagram ("SYN → SYN/ACK → ACK").
STEP_LABEL: dict[str, str] = {
    "syn": "SYN",
    "synack": "SYN/ACK",
    "handshake-ack": "ACK",
    "data": "data",
    "ack": "ACK",
    "fin-first": "FIN",
    "fin-second": "FIN",
    "last-ack": "ACK",
    "udp": "datagram",
    "dns-query": "query",
    "dns-response": "answer",
}


def diagram(call: str, transport: str) -> str:
    """The packets ``call`` is expected to cause, drawn from ``EXPECTED``."""
    return " → ".join(STEP_LABEL.get(s, s) for s in EXPECTED.get((call, transport), ()))


# Why a call put nothing on the wire.
SILENT: dict[str, str] = {
    "socket": "socket() only creates an endpoint inside your kernel: nothing goes on the wire",
    "bind": "bind() only reserves an address and port in your kernel: nothing goes on the wire",
    "listen": "listen() only tells your kernel to accept connections: nothing goes on the wire",
    "setsockopt": "setsockopt() only changes the socket inside your kernel",
    "close/UDP": "UDP has no connection to tear down: close() sends nothing (RFC 768)",
    "close/TCP": "no connection on this socket (a listening one, or never connected): close() sends nothing",
    "connect/UDP": (
        "connect() on a UDP socket sends nothing: it only fixes the peer address, so send() "
        "needs no address and errors from that peer (ICMP) are reported to you"
    ),
    "recv": "the bytes were already waiting in the socket's receive buffer: recv() sent nothing",
    "recvfrom": "the datagram was already waiting in the socket's receive buffer",
    "getaddrinfo": "no packet: the answer came without asking the network",
    "getnameinfo": "no packet: the answer came without asking the network",
    "accept": "the handshake had already completed in the kernel: accept() only takes it from the queue",
}

# The lesson a call teaches once it is over: (call, outcome) -> sentence.
AFTER: dict[tuple[str, str], str] = {
    ("connect", "ok"): (
        "connect() = the three-way handshake: {diagram} (RFC 9293 §3.5); "
        "it returns once your kernel has sent the last ACK"
    ),
    ("connect", "refused"): (
        "the SYN was answered by RST: nobody listens on that port, so connect() raises "
        "ConnectionRefusedError"
    ),
    ("connect", "timeout"): (
        "no answer at all: your kernel sent the SYN again and again, {backoff}, until the "
        "timeout ended connect()"
    ),
    ("connect", "unreachable"): (
        "no route or no neighbour answered: the kernel could not even deliver the SYN"
    ),
    ("send", "ok"): (
        "send() returns once your kernel has copied the bytes into its send buffer: "
        "it does not wait for the ACK"
    ),
    ("close", "TCP"): (
        "close() starts the teardown, {diagram}: each side sends FIN and acknowledges the "
        "other's (RFC 9293 §3.6); the side that closed first waits in TIME_WAIT (60 s on Linux)"
    ),
    ("close", "RST"): (
        "close() with unread bytes in the receive buffer: Linux aborts the connection with "
        "RST instead of FIN (RFC 2525 §2.17)"
    ),
    ("sendall", "ok"): (
        "sendall() returns once your kernel has taken every byte into its send buffer "
        "(calling send() as often as needed): it does not wait for the ACKs"
    ),
    ("recv", "eof"): (
        "recv() returned b'': the other side's FIN had arrived, the end of its stream; "
        "nothing more will come on this connection"
    ),
    ("sendto", "ok"): (
        "one sendto() = one datagram: no handshake, no acknowledgement, and the message "
        "boundary is kept (RFC 768)"
    ),
    ("send", "UDP"): (
        "one send() = one datagram: no handshake, no acknowledgement, and the message "
        "boundary is kept (RFC 768)"
    ),
    ("sendto", "fragmented"): (
        "the datagram was larger than the link MTU, so IP carried it in fragments; the "
        "receiver reassembles them, and losing any one loses the whole datagram (RFC 791, "
        "RFC 8900)"
    ),
    ("recvfrom", "timeout"): (
        "an unconnected UDP socket is not told about ICMP errors (Linux reports them only "
        "to connected sockets), so recvfrom() waits until the timeout"
    ),
    ("recvfrom", "silent"): (
        "no datagram came back, and nothing says why: UDP has no acknowledgement, so a lost "
        "datagram and a server that does not answer look the same (RFC 768)"
    ),
    ("recv", "refused"): (
        "on a connected UDP socket, Linux turns the ICMP port unreachable into "
        "ConnectionRefusedError"
    ),
}

# One line per step, by direction: 'out' (you sent it), 'in' (you received
# it), 'any' (direction unknown: a capture from elsewhere). Fields come from
# the packet: {n} payload bytes, {src}, {dst}, {sport}, {dport}, {peer} ('the
# server' or 'the client'), and step details.
MEANING: dict[str, dict[str, str]] = {
    "syn": {
        "out": "you ask {peer} to open a connection: SYN with your initial sequence number and options",
        "in": "{peer} asks to open a connection (SYN)",
        "any": "{src} asks {dst} to open a connection (SYN)",
    },
    "syn-retransmit": {
        "out": "still no SYN/ACK: your kernel sends the SYN again, {interval} after the last one (attempt {attempt}; the retransmission timer, RFC 6298)",
        "in": "{peer} sends its SYN again (attempt {attempt}, {interval} later)",
        "any": "SYN sent again by {src} (attempt {attempt}, {interval} later)",
    },
    "synack": {
        "out": "your kernel accepts the connection: SYN/ACK acknowledges {peer}'s SYN and sends yours",
        "in": "{peer} accepts and acknowledges your SYN (ack = your ISN + 1), and sends its own SYN",
        "any": "{src} accepts and acknowledges the SYN, with a SYN of its own",
    },
    "synack-retransmit": {
        "out": "your SYN/ACK was not acknowledged: your kernel sends it again",
        "in": "{peer} sends its SYN/ACK again: your ACK has not reached it",
        "any": "SYN/ACK sent again by {src}",
    },
    "handshake-ack": {
        "out": "you acknowledge {peer}'s SYN: the three-way handshake is complete",
        "in": "{peer} acknowledges your SYN/ACK: the connection is established",
        "any": "{src} acknowledges the SYN/ACK: the three-way handshake is complete",
    },
    "data": {
        "out": "{bytes} of your data",
        "in": "{bytes} from {peer}",
        "any": "{bytes} from {src} to {dst}",
    },
    "data-retransmit": {
        "out": "your kernel sends these {bytes} again: no ACK came for them in time",
        "in": "{peer} sends {bytes} again: it saw no ACK for them in time",
        "any": "{bytes} sent again by {src} (a retransmission)",
    },
    "ack": {
        "out": "you acknowledge {peer}'s data: ack {acked} is the next byte you expect",
        "in": "{peer} acknowledges your data: ack {acked} is the next byte it expects",
        "any": "{src} acknowledges: ack {acked} is the next byte it expects",
    },
    "zero-window": {
        "out": "your receive buffer is full: window 0 asks {peer} to stop sending",
        "in": "{peer}'s receive buffer is full: window 0, you must wait",
        "any": "{src} advertises a zero window: its receive buffer is full",
    },
    "fin-first": {
        "out": "you close your side: FIN says you will send no more data",
        "in": "{peer} closes its side (FIN): it will send no more data, and recv() will return b''",
        "any": "{src} closes its side (FIN)",
    },
    "fin-second": {
        "out": "you close your side too: FIN, which also acknowledges {peer}'s FIN",
        "in": "{peer} closes its side too: FIN, which also acknowledges your FIN",
        "any": "{src} closes its side too (FIN)",
    },
    "fin-retransmit": {
        "out": "your FIN was not acknowledged in time: your kernel sends it again",
        "in": "{peer} sends its FIN again",
        "any": "FIN sent again by {src}",
    },
    "ack-fin": {
        "out": "you acknowledge {peer}'s FIN",
        "in": "{peer} acknowledges your FIN: your side is closed, {peer}'s may still send",
        "any": "{src} acknowledges the FIN",
    },
    "last-ack": {
        "out": "you acknowledge {peer}'s FIN: the connection is closed (your side waits in TIME_WAIT, 60 s on Linux)",
        "in": "{peer} acknowledges your FIN: the connection is closed",
        "any": "{src} acknowledges the last FIN: the connection is closed",
    },
    "rst-refused": {
        "out": "nobody listens on port {sport} here: your kernel refuses with RST",
        "in": "nobody listens on port {sport} at {src}: its kernel refuses your SYN with RST (RFC 9293 §3.10.7.1)",
        "any": "nobody listens on {src} port {sport}: RST refuses the SYN",
    },
    "rst": {
        "out": "your kernel resets the connection (RST): it ends at once, no teardown",
        "in": "{peer} resets the connection (RST): it ends at once, no teardown",
        "any": "{src} resets the connection (RST)",
    },
    "udp": {
        "out": "one datagram of {bytes} to {dst} port {dport}: no handshake, nothing to acknowledge it (RFC 768)",
        "in": "one datagram of {bytes} from {src} port {sport}",
        "any": "a datagram of {bytes} from {src} to {dst}",
    },
    "dns-query": {
        "out": "your resolver asks the DNS server {dst} for {question} (RFC 1035)",
        "in": "{src} asks for {question}",
        "any": "{src} asks {dst} for {question} (RFC 1035)",
    },
    "dns-response": {
        "out": "your DNS server answers {dst}: {answer}",
        "in": "the DNS server answers: {answer}",
        "any": "{src} answers: {answer}",
    },
    "port-unreachable": {
        "out": "nobody listens on {qproto} port {qdport} here: your kernel answers with ICMP port unreachable",
        "in": "nobody listens on {qproto} port {qdport} at {qdst}: its kernel answers with ICMP port unreachable ({rfc})",
        "any": "{src} reports that nobody listens on {qproto} port {qdport} ({rfc})",
    },
    "unreachable": {
        "out": "your kernel reports that {qdst} cannot be reached ({what})",
        "in": "{src} reports that {qdst} cannot be reached ({what})",
        "any": "{src} reports that {qdst} cannot be reached ({what})",
    },
    "frag-needed": {
        "out": "your kernel reports the packet is too big for the next link (MTU {mtu})",
        "in": "{src} reports your packet is too big for the next link: MTU {mtu} (path MTU discovery, RFC 1191 / RFC 8201)",
        "any": "{src} reports a packet too big for MTU {mtu}",
    },
    "time-exceeded": {
        "out": "your kernel reports a packet whose TTL ran out",
        "in": "{src} reports that your packet's TTL (hop limit) ran out on the way",
        "any": "{src} reports a packet whose TTL ran out",
    },
    "echo-request": {
        "out": "ping: an ICMP echo request",
        "in": "ping from {src}: an ICMP echo request",
        "any": "ICMP echo request from {src}",
    },
    "echo-reply": {
        "out": "your kernel answers the ping: ICMP echo reply",
        "in": "{src} answers the ping: ICMP echo reply",
        "any": "ICMP echo reply from {src}",
    },
    "icmp": {
        "out": "ICMP type {icmp_type} code {icmp_code}",
        "in": "ICMP type {icmp_type} code {icmp_code} from {src}",
        "any": "ICMP type {icmp_type} code {icmp_code} from {src}",
    },
    "arp-request": {
        "out": "your kernel needs the MAC address of {dst} before it can send the first packet: it asks the whole link (ARP, RFC 826)",
        "in": "{src} asks who has {dst} (ARP)",
        "any": "{src} asks who has {dst} (ARP, RFC 826)",
    },
    "arp-reply": {
        "out": "your kernel answers: {src} is at {mac}",
        "in": "the answer: your kernel stores it in its neighbour cache and can now send",
        "any": "{src} is at {mac} (ARP reply)",
    },
    "arp-probe": {
        "out": "your kernel checks that the MAC address it cached for {dst} is still right: a unicast ARP request (ARP cache validation, RFC 1122 §2.3.2.1)",
        "in": "{src} checks that the MAC address it cached for {dst} is still right: a unicast ARP request (RFC 1122 §2.3.2.1)",
        "any": "{src} checks its cached MAC address for {dst}: a unicast ARP request (RFC 1122 §2.3.2.1)",
    },
    "ndp-probe": {
        "out": "your kernel checks that {target} is still reachable: a unicast neighbour solicitation (neighbour unreachability detection, RFC 4861 §7.3)",
        "in": "{src} checks that {target} is still reachable: a unicast neighbour solicitation (RFC 4861 §7.3)",
        "any": "{src} checks that {target} is still reachable (NDP, RFC 4861 §7.3)",
    },
    "ndp-ns": {
        "out": "your kernel needs the MAC address of {target}: IPv6 has no ARP, it sends a neighbour solicitation to the solicited-node multicast group (NDP, RFC 4861 §7.2)",
        "in": "{src} asks who has {target} (NDP neighbour solicitation)",
        "any": "{src} asks who has {target} (NDP neighbour solicitation, RFC 4861)",
    },
    "ndp-na": {
        "out": "your kernel answers: {target} is here (NDP neighbour advertisement)",
        "in": "the neighbour advertisement answers: your kernel stores {target}'s MAC address and can now send",
        "any": "{target} is at {mac} (NDP neighbour advertisement)",
    },
    "ndp": {
        "out": "NDP {ndp} (RFC 4861)",
        "in": "NDP {ndp} from {src} (RFC 4861)",
        "any": "NDP {ndp} from {src} (RFC 4861)",
    },
    "fragment": {
        "out": "IP fragment at offset {offset}{more}: the datagram is larger than the link MTU, so your kernel splits it and the receiver reassembles it ({rfc})",
        "in": "IP fragment at offset {offset}{more} from {src}: your kernel reassembles the datagram before the socket sees it ({rfc})",
        "any": "IP fragment at offset {offset}{more} from {src} ({rfc})",
    },
    "other": {
        "out": "{proto} packet",
        "in": "{proto} packet",
        "any": "{proto} packet",
    },
}


def meaning(step: str, direction: str | None, fields: dict) -> str:
    """The one-line meaning of a step, told from ``direction``'s side."""
    texts = MEANING.get(step) or MEANING["other"]
    template = texts.get(direction or "any") or texts["any"]
    return template.format_map(_Lenient(fields))


class _Lenient(dict):
    """A field the packet cannot supply reads '(unknown)', never a crash."""

    def __missing__(self, key: str) -> str:
        return "(unknown)"


# How the SYN retransmissions were spaced, as measured: Linux 6.x first
# retries at a fixed interval (sysctl net.ipv4.tcp_syn_linear_timeouts, 4 by
# default), then doubles the wait (exponential backoff, RFC 6298 §5.5).
BACKOFF = {
    "linear": "every {first:.0f} s at a fixed interval (Linux's first retries are linear: sysctl "
    "net.ipv4.tcp_syn_linear_timeouts)",
    "doubling": "doubling the wait each time (exponential backoff, RFC 6298 §5.5)",
    "mixed": "first at a fixed interval, then doubling the wait (Linux: "
    "net.ipv4.tcp_syn_linear_timeouts, then exponential backoff, RFC 6298 §5.5)",
    "once": "after {first:.0f} s (the initial retransmission timeout, RFC 6298 §2)",
}


def backoff_words(intervals: list[float]) -> str:
    """Describe measured SYN retransmission intervals (seconds, in order)."""
    if not intervals:
        return "without a single retry in time"
    first = intervals[0]
    if len(intervals) == 1:
        return BACKOFF["once"].format(first=first)
    pairs = list(itertools.pairwise(intervals))
    same = [abs(b - a) < 0.35 * a for a, b in pairs]
    double = [abs(b - 2 * a) < 0.35 * a for a, b in pairs]
    if all(same):
        kind = "linear"
    elif all(double):
        kind = "doubling"
    else:
        kind = "mixed"
    return BACKOFF[kind].format(first=first)


def after_call(name: str, outcome: str, transport: str = "TCP", **fields) -> str | None:
    """The lesson of a finished call, given how it ended; {diagram} comes from EXPECTED."""
    text = AFTER.get((name, outcome))
    if text is None:
        return None
    fields.setdefault("diagram", diagram(name, transport))
    return text.format_map(_Lenient(fields))


def silent(name: str, transport: str | None) -> str | None:
    """Why ``name`` sent nothing, if that is the expected thing for it."""
    return SILENT.get(f"{name}/{transport}") or SILENT.get(name)
