"""The correlator: calls and packets in, a timeline out.

It is fed in time order (the sources guarantee it) and ties each packet to
the call during which it was captured, tracks conversations, and gives every
packet its relative numbers and its meaning. Live and replay go through this
same object, so a replayed capture reads like the run that made it.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from sockviz.core import rules
from sockviz.core.decode import Decoded
from sockviz.core.events import Call, Packet
from sockviz.core.fastnew import positional
from sockviz.core.flows import (
    NDP_TYPES,
    Conversation,
    flow_key,
    track_tcp,
)
from sockviz.core.text import endpoint, flag_names, preview, tcp_options
from sockviz.core.timeline import (
    CallEnded,
    CallStarted,
    Entry,
    PacketShown,
    Summary,
)

DnsDissector = Callable[[bytes, bool], "dict | None"]

# A pure ACK sent this long after the data it acknowledges was held back on
# purpose: Linux's delayed-ACK timer is 40 ms at least (RFC 1122 §4.2.3.2).
DELAYED_ACK = 0.030



def delayed_ack_words(delay: float) -> str:
    """The context of a pure ACK sent ``delay`` seconds after the data it acknowledges."""
    return (
        f"a delayed ACK, {1000 * delay:.0f} ms after the data: Linux "
        "holds a pure ACK back for a while, hoping to piggyback it on data "
        "(RFC 1122 §4.2.3.2)"
    )


UNREACH_CODES = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    4: "fragmentation needed",
    9: "network administratively prohibited",
    10: "host administratively prohibited",
    13: "communication administratively prohibited",
}
UNREACH6_CODES = {
    0: "no route to destination",
    1: "administratively prohibited",
    3: "address unreachable",
    4: "port unreachable",
    5: "source address failed policy",
    6: "reject route",
}


def _outcome(call: Call, steps: list[str], transport: str | None,
             syn_intervals: list[float] = (), icmp_seen: bool = False) -> str | None:
    """Which of rules.AFTER a finished call teaches."""
    err = call.error or ""
    if call.name == "connect" and transport != "UDP":
        if err.startswith("ConnectionRefusedError"):
            return rules.after_call("connect", "refused")
        if err.startswith(("TimeoutError", "timeout")):
            return rules.after_call("connect", "timeout",
                                    backoff=rules.backoff_words(list(syn_intervals)))
        if err.startswith("OSError") and ("unreachable" in err.lower()):
            return rules.after_call("connect", "unreachable")
        if not err and "syn" in steps:
            return rules.after_call("connect", "ok")
    if call.name == "close" and transport == "TCP":
        if "rst" in steps:
            return rules.after_call("close", "RST")
        if any(s.startswith("fin") for s in steps):
            return rules.after_call("close", "TCP")
    if call.name in ("send", "sendall") and transport == "TCP" and not err:
        return rules.after_call(call.name, "ok")
    if call.name == "recv" and transport == "TCP" and not err and call.result_text == "b''":
        return rules.after_call("recv", "eof")
    if call.name in ("sendto", "send") and transport == "UDP" and not err:
        if "fragment" in steps:
            return rules.after_call("sendto", "fragmented")
        if "udp" in steps:
            return rules.after_call(call.name, "ok" if call.name == "sendto" else "UDP")
    if call.name == "recvfrom" and err.startswith(("TimeoutError", "timeout")):
        return rules.after_call("recvfrom", "timeout" if icmp_seen else "silent")
    if call.name == "recv" and transport == "UDP" and err.startswith("ConnectionRefusedError"):
        return rules.after_call("recv", "refused")
    if not steps and not err:
        return rules.silent(call.name, transport)
    return None


_new_shown = positional(PacketShown)
_MISSING = object()
_DATA_STEPS = frozenset(("data", "udp", "dns-query", "dns-response"))


def _summary_row(c: Conversation) -> tuple:
    tcp = c.transport == "TCP"
    return (c.number, c.transport, endpoint(*c.key[1]), endpoint(*c.key[2]), c.packets,
            c.handshake_done if tcp else None, c.closed if tcp else None,
            c.reset if tcp else None)


def _busiest(row: tuple) -> tuple:
    return (-row[4], row[0])


class _Lenient(dict):
    """A field the packet cannot supply reads '(unknown)', never a crash (as rules.meaning)."""

    def __missing__(self, key: str) -> str:
        return "(unknown)"


_TEMPLATES: dict[tuple, str] = {}


def meaning_of(step: str, direction: str | None, fields: dict) -> str:
    """``rules.meaning``, with the template lookup cached and no copy of ``fields``."""
    template = _TEMPLATES.get((step, direction))
    if template is None:
        texts = rules.MEANING.get(step) or rules.MEANING["other"]
        template = _TEMPLATES[(step, direction)] = texts.get(direction or "any") or texts["any"]
    try:
        return template.format_map(fields)
    except KeyError:
        return template.format_map(_Lenient(fields))


def describe(pkt: Packet, facts: tuple) -> PacketShown:
    """The timeline entry of a packet from its facts (``Correlator.facts``): the words.

    The summary line and the meaning cost about as much as the tracking
    itself; a renderer that only counts (``--summary``) uses ``tally``.
    """
    (direction, call_id, call_name, conversation, new_conv, step, rel_seq, rel_ack, window,
     dns_info, context, fields) = facts
    return _new_shown(pkt, direction, call_id, call_name, conversation, new_conv, step, rel_seq,
                      rel_ack, window, summarize(pkt.decoded, rel_seq, rel_ack, window),
                      meaning_of(step, direction, fields), dns_info, context)


def tally(pkt: Packet, facts: tuple) -> PacketShown:
    """``describe`` without the words (empty summary and meaning), for counting renderers."""
    (direction, call_id, call_name, conversation, new_conv, step, rel_seq, rel_ack, window,
     dns_info, context, _fields) = facts
    return _new_shown(pkt, direction, call_id, call_name, conversation, new_conv, step, rel_seq,
                      rel_ack, window, "", "", dns_info, context)


def meaning_fields(proto: str, src: str, dst: str, sport, dport, n: int, peer: str) -> dict:
    """The fields every meaning template may use (rules.MEANING), for one packet."""
    return {"src": src, "dst": dst, "sport": sport, "dport": dport, "n": n,
            "bytes": "1 byte" if n == 1 else f"{n} bytes", "peer": peer, "proto": proto}


def track_data_and_acks(conv: Conversation, step: str, direction: str | None, sender: tuple,
                        receiver: tuple, n: int, rel_ack: int | None, time: float) -> str | None:
    """Note when each side last sent data; a pure ACK long after it is a delayed ACK.

    Returns the delayed ACK's context, or None.
    """
    if n and step in _DATA_STEPS:
        if sender == conv.key[1]:
            conv.a_data = time
        else:
            conv.b_data = time
    elif step == "ack" and direction is not None and rel_ack is not None:
        # Which data this ACK answers: the receiver's last data.
        sent = conv.a_data if receiver == conv.key[1] else conv.b_data
        if sent is not None and time - sent >= DELAYED_ACK:
            return delayed_ack_words(time - sent)
    return None


class Correlator:
    """Feed it ``call_started``, ``packet`` and ``call_ended`` in time order.

    ``role`` is the side the lesson plays: 'client' (tcp, udp, resolve),
    'server' (serve --watch) or None for a capture from elsewhere, where
    nobody can say which side is "you".
    """

    def __init__(self, *, role: str | None = "client", dns: DnsDissector | None = None,
                 max_conversations: int = 20_000, summary_limit: int = 1_000) -> None:
        self.role = role
        self.dns = dns
        self.peer_word = {"client": "the server", "server": "the client"}.get(role or "", "the peer")
        self.conversations: dict[tuple, Conversation] = {}
        self.open_call: Call | None = None
        self._steps: list[str] = []
        self._call_packets = 0
        self.calls = 0
        self.packets = 0
        self.last_closed: Call | None = None
        self.transport: str | None = None
        self.first_time: float | None = None
        self.last_time: float | None = None
        # Memory stays bounded whatever the capture: at most this many
        # conversations keep their state (see _forget_idle), and the summary
        # lists at most summary_limit of them (the busiest) once some retired.
        self.max_conversations = max_conversations
        self.summary_limit = summary_limit
        self.retired: list[tuple] = []  # summary rows of retired conversations
        self._retired_total = 0
        self._numbers = 0
        self._dns_cache: dict[tuple, dict | None] = {}
        self._udp_connected = False
        self._port_unreachable = False  # an ICMP port unreachable came back at some point
        self._call_dns: list[tuple] = []  # (our port, info, time) of the call's DNS messages

    # -- calls -------------------------------------------------------------
    def call_started(self, call: Call) -> list[Entry]:
        self.open_call = call
        self._steps = []
        self._call_packets = 0
        self._call_dns = []
        self.calls += 1
        if call.transport:
            self.transport = call.transport
        if call.name == "connect" and call.transport == "UDP":
            self._udp_connected = True
        return [CallStarted(call=call)]

    def call_ended(self, call: Call) -> list[Entry]:
        transport = call.transport or self.transport
        lesson = _outcome(call, self._steps, transport, self._syn_intervals(),
                          self._port_unreachable)
        if (call.name == "close" and transport == "TCP" and not self._steps
                and any(c.transport == "TCP" and c.handshake_done and not c.closed
                        for c in self.conversations.values())):
            # Its FIN may simply be late (data still queued): claim no silence.
            lesson = None
        if call.note:
            lesson = call.note
        dns = dns_lesson(self._call_dns)
        if dns:
            lesson = f"{lesson}; {dns}" if lesson else dns
        entry = CallEnded(call=call, packets=self._call_packets, lesson=lesson)
        self.open_call = None
        self.last_closed = call
        return [entry]

    # -- packets -----------------------------------------------------------
    def packet(self, pkt: Packet) -> list[Entry]:
        """The packet's timeline entry: its facts (``facts``) told in words (``describe``)."""
        return [describe(pkt, self.facts(pkt))]

    def facts(self, pkt: Packet) -> tuple:
        """Track ``pkt`` and return what the timeline says of it, before any wording.

        ``(direction, call_id, call_name, conversation, new_conversation, step,
        rel_seq, rel_ack, window, dns, context, fields)``: plain values, worded
        by ``describe`` (or only counted: ``tally``). The hot path of a replay:
        every packet of the file comes through here, so fields are read once
        into locals.
        """
        d = pkt.decoded
        time = pkt.time
        self.packets += 1
        if self.first_time is None:
            self.first_time = time
        self.last_time = time

        key = flow_key(d)
        conv = None
        new_conv = False
        if key is not None:
            conv = self.conversations.get(key)
            if conv is None:
                conv = self._new_conversation(key, time)
                new_conv = True
            conv.packets += 1
            conv.last_time = time

        proto = d.proto
        n = d.payload_len
        fields = meaning_fields(proto, d.src or "?", d.dst or "?", d.sport, d.dport, n,
                                self.peer_word)
        rel_seq = rel_ack = window = None
        dns_info = None

        if d.tcp_flags is not None and conv is not None and (proto == "TCP" or proto == "DNS"):
            step, rel_seq, rel_ack, window, interval, attempt = track_tcp(conv, d, time)
            fields["acked"] = rel_ack
            if interval is not None:
                fields["interval"] = f"{interval:.1f} s"
            fields["attempt"] = attempt
            if proto == "DNS" and n and step == "data":
                dns_info = self._dns(d, tcp=True)
        elif proto == "DNS" and d.frag_offset in (None, 0):
            dns_info = self._dns(d, tcp=False)
            step = "udp"
            if conv is not None and conv.initiator is None:
                conv.initiator = (d.src, d.sport)
        elif d.sport is not None and d.tcp_flags is None and (proto == "UDP" or proto == "DNS"):
            step = "udp"
            if conv is not None and conv.initiator is None:
                conv.initiator = (d.src, d.sport)
        else:
            step = self._other_step(d, fields)

        if d.frag_offset is not None:
            step = "fragment"
            fields["offset"] = d.frag_offset
            fields["more"] = ", more to come" if d.more_fragments else ", the last one"
            fields["rfc"] = "RFC 8200 §4.5" if d.family == 6 else "RFC 791"

        if dns_info is not None:
            step = "dns-response" if dns_info.get("qr") == "response" else "dns-query"
            fields["question"] = dns_question_words(dns_info)
            fields["answer"] = dns_answer_words(dns_info)

        direction = pkt.direction
        if direction is None and self.role is not None:
            direction = self._direction(pkt, d, conv)

        if step == "port-unreachable":
            self._port_unreachable = True
        call = self.open_call
        context = None
        if call is not None:
            self._steps.append(step)
            self._call_packets += 1
            if dns_info is not None:
                port = d.sport if direction != "in" else d.dport
                self._call_dns.append((port, dns_info, time))
        else:
            context = self._context(step, direction, d, conv, time)

        if conv is not None:
            delayed = track_data_and_acks(conv, step, direction, (d.src, d.sport),
                                          (d.dst, d.dport), n, rel_ack, time)
            if delayed is not None and call is None:
                context = delayed

        return (direction, call.id if call else None, call.name if call else None,
                conv.number if conv else None, new_conv, step, rel_seq, rel_ack, window,
                dns_info, context, fields)

    def _new_conversation(self, key: tuple, time: float) -> Conversation:
        convs = self.conversations
        if len(convs) >= self.max_conversations:
            self._forget_idle()
        self._numbers += 1
        conv = Conversation(number=self._numbers, key=key, transport=key[0])
        conv.first_time = time
        convs[key] = conv
        return conv

    def _forget_idle(self) -> None:
        """Bound the memory: retire the least recently active quarter of the conversations.

        A capture may hold millions of flows; keeping each one's state would
        grow without end (about 1 KiB a TCP connection). Closed connections
        go first, then the longest idle. A retired conversation keeps only
        its summary line (``Retired``) and only while it ranks among the
        busiest (``summary_limit``); should the same endpoints talk again, it
        is a new conversation with a new number, as after a long silence.
        """
        convs = self.conversations
        ranked = sorted(convs.values(), key=lambda c: (not c.closed, c.last_time))
        for conv in ranked[: max(1, len(ranked) // 4)]:
            del convs[conv.key]
            self._retire(conv)

    def _retire(self, conv: Conversation) -> None:
        self.retired.append(_summary_row(conv))
        self._retired_total += 1
        if len(self.retired) >= 2 * self.summary_limit:
            self.retired.sort(key=_busiest)
            del self.retired[self.summary_limit :]

    def summary(self, *, kernel_drops: int | None, capture: str | None, ignored: int = 0,
                problem: str | None = None) -> Summary:
        rows = [_summary_row(c) for c in self.conversations.values()]
        total = None
        if self._retired_total:
            # Too many to list: the busiest summary_limit, in order of appearance.
            total = len(rows) + self._retired_total
            rows = sorted(rows + self.retired, key=_busiest)[: self.summary_limit]
            rows.sort()
        convs = [
            {
                "number": number,
                "proto": proto,
                "a": a,
                "b": b,
                "packets": packets,
                "handshake": handshake,
                "closed": closed,
                "reset": reset,
            }
            for number, proto, a, b, packets, handshake, closed, reset in rows
        ]
        return Summary(
            packets=self.packets,
            calls=self.calls,
            kernel_drops=kernel_drops,
            ignored=ignored,
            capture=capture,
            conversations=convs,
            problem=problem,
            first_time=self.first_time,
            last_time=self.last_time,
            conversations_total=total,
        )

    def tcp_closed(self) -> bool:
        """True once every TCP conversation seen is over (both FINs acked, or RST)."""
        tcp = [c for c in self.conversations.values() if c.transport == "TCP"]
        return bool(tcp) and all(c.closed for c in tcp)

    # -- helpers -----------------------------------------------------------
    def _syn_intervals(self) -> list[float]:
        """Gaps between the SYNs of the latest connection attempt."""
        for conv in reversed(list(self.conversations.values())):
            if conv.transport == "TCP" and conv.initiator is not None:
                times = conv.side(conv.initiator).syn_times or []
                return [b - a for a, b in pairwise(times)]
        return []

    def _dns(self, d: Decoded, *, tcp: bool) -> dict | None:
        payload = d.payload
        if self.dns is None or not payload:
            return None
        # The dissector (scapy) takes ~0.3 ms a message; captures repeat the
        # same questions and answers, under a new ID each time (RFC 1035
        # §4.1.1: the first two bytes, after the length prefix over TCP).
        at = 2 if tcp else 0
        if not at + 12 <= len(payload) <= 1024:  # the cache stays small: 4 MiB at most
            return self.dns(payload, tcp)
        key = (tcp, payload[:at], payload[at + 2 :])
        cache = self._dns_cache
        info = cache.get(key, _MISSING)
        if info is _MISSING:
            info = self.dns(payload, tcp)
            if len(cache) >= 4096:
                cache.clear()
            cache[key] = info
            return info
        if info is None:
            return None
        return {**info, "id": int.from_bytes(payload[at : at + 2], "big")}

    def _direction(self, pkt: Packet, d: Decoded, conv: Conversation | None) -> str | None:
        if pkt.direction is not None:
            return pkt.direction
        if self.role is None:
            return None
        # Loopback (each packet is both sent and received) or a file without
        # directions: the lesson's socket is the conversation's initiator
        # when it plays the client.
        if conv is not None and conv.initiator is not None and d.sport is not None:
            ours = conv.initiator if self.role == "client" else conv.other(conv.initiator)
            return "out" if (d.src, d.sport) == ours else "in"
        if d.quoted is not None:
            return "in"
        return None

    def _other_step(self, d: Decoded, fields: dict) -> str:
        if d.proto == "ARP":
            fields["mac"] = d.arp_sha or "?"
            if d.arp_op == 2:
                return "arp-reply"
            # A request sent to one MAC, not broadcast: a cached entry being checked.
            unicast = d.eth_dst is not None and d.eth_dst != "ff:ff:ff:ff:ff:ff"
            return "arp-probe" if unicast else "arp-request"
        if d.proto == "ICMP" and d.icmp_type is not None:
            return self._icmp_step(d, fields, v6=False)
        if d.proto == "ICMPv6" and d.icmp_type is not None:
            if d.icmp_type in NDP_TYPES:
                fields["target"] = d.nd_target or "?"
                fields["mac"] = d.eth_src or "?"
                fields["ndp"] = NDP_TYPES[d.icmp_type]
                if d.icmp_type == 135 and d.dst is not None and not d.dst.startswith("ff"):
                    return "ndp-probe"  # unicast: reachability confirmation (RFC 4861 §7.3)
                return {135: "ndp-ns", 136: "ndp-na"}.get(d.icmp_type, "ndp")
            return self._icmp_step(d, fields, v6=True)
        return "other"

    @staticmethod
    def _icmp_step(d: Decoded, fields: dict, *, v6: bool) -> str:
        t, c = d.icmp_type, d.icmp_code
        fields["icmp_type"], fields["icmp_code"] = t, c
        q = d.quoted
        if q is not None:
            fields["qdst"] = q.dst or "?"
            fields["qdport"] = q.dport
            fields["qproto"] = q.proto or "?"
        fields["mtu"] = d.mtu
        if v6:
            if t == 1 and c == 4:
                fields["rfc"] = "ICMPv6 type 1 code 4, RFC 4443 §3.1"
                return "port-unreachable"
            if t == 1:
                fields["what"] = UNREACH6_CODES.get(c, f"code {c}")
                return "unreachable"
            if t == 2:
                return "frag-needed"
            if t == 3:
                return "time-exceeded"
            if t in (128, 129):
                return "echo-request" if t == 128 else "echo-reply"
            return "icmp"
        if t == 3 and c == 3:
            fields["rfc"] = "ICMP type 3 code 3, RFC 792"
            return "port-unreachable"
        if t == 3 and c == 4:
            return "frag-needed"
        if t == 3:
            fields["what"] = UNREACH_CODES.get(c, f"code {c}")
            return "unreachable"
        if t == 11:
            return "time-exceeded"
        if t in (0, 8):
            return "echo-request" if t == 8 else "echo-reply"
        return "icmp"

    def _context(self, step: str, direction: str | None, d: Decoded, conv, time: float) -> str | None:
        """Why a packet that no call was running for happened."""
        last = self.last_closed
        if step in ("syn", "synack", "handshake-ack") and self.role == "server":
            return ("no call is running: the kernel answers for the listening socket and completes "
                    "the handshake by itself; accept() then takes the connection from the queue")
        if step in ("data", "udp") and direction == "in":
            return ("no call is running: the kernel keeps these bytes in the socket's receive "
                    "buffer until you read them")
        if (step in ("fin-first", "fin-second", "last-ack", "ack-fin") and last is not None
                and last.name == "close"):
            return "after close() returned: the kernel finishes the teardown on its own"
        if step == "ack" and direction == "out":
            return "no call needed: your kernel acknowledges received data on its own"
        if step.startswith("arp"):
            return ("no call caused it directly: the kernel answers ARP and keeps its neighbour "
                    "cache up to date on its own (RFC 826, RFC 1122 §2.3.2)")
        if step.startswith("ndp"):
            return ("no call caused it directly: the kernel answers neighbour discovery and keeps "
                    "its neighbour cache up to date on its own (RFC 4861 §7)")
        if step == "port-unreachable" and direction == "in" and self._udp_connected:
            return ("the connected socket keeps this error: its next call will raise "
                    "ConnectionRefusedError")
        if step == "port-unreachable" and direction == "in":
            return ("it came back after the datagram was sent: an unconnected UDP socket never hears "
                    "of it (Linux reports ICMP errors only to connected UDP sockets)")
        return None


def dns_lesson(messages: list[tuple]) -> str | None:
    """What the DNS traffic of one resolver call shows, as measured (glibc's habits)."""
    queries = [(port, i, t) for port, i, t in messages if i.get("qr") == "query"]
    if not queries:
        return None
    answers = [(port, i, t) for port, i, t in messages if i.get("qr") == "response"]
    types = [q.get("type") for _, i, _ in queries for q in i.get("questions", [])]
    ports = {port for port, _, _ in queries}
    bits = []
    if "A" in types and "AAAA" in types:
        first_answer = min((t for _, _, t in answers), default=None)
        last_query = max(t for _, _, t in queries)
        together = first_answer is None or last_query <= first_answer
        how = "together" if together else "one after the other (the AAAA after the A's answer)"
        where = f"from one UDP socket (port {next(iter(ports))})" if len(ports) == 1 else (
            f"from {len(ports)} sockets")
        bits.append(f"the resolver sent the A and AAAA queries {how}, {where}, and waited for "
                    "both answers")
    distinct = {(q.get("type"), q.get("name")) for _, i, _ in queries for q in i.get("questions", [])}
    if len(types) > len(distinct):
        bits.append("some queries went out again: no usable answer came in time, so the resolver "
                    "retried (resolv.conf options timeout and attempts)")
    if not answers:
        bits.append("no DNS answer at all")
    return "; ".join(bits) or None


# What each record type holds (RFC 1035 §3.2.2, RFC 3596 for AAAA).
RR_WORDS = {
    "A": "IPv4 address",
    "AAAA": "IPv6 address",
    "PTR": "name",
    "CNAME": "canonical name",
    "MX": "mail server",
    "NS": "name servers",
    "SOA": "zone authority",
    "TXT": "text",
    "SRV": "service location",
}


def dns_question_words(info: dict) -> str:
    qs = info.get("questions") or []
    if not qs:
        return "nothing (no question)"
    parts = []
    for q in qs:
        t = q.get("type", "?")
        what = RR_WORDS.get(t)
        name = str(q.get("name", "?")).rstrip(".")
        parts.append(f"the {t} record{f' ({what})' if what else ''} of {name}")
    return " and ".join(parts)


def dns_answer_words(info: dict) -> str:
    rcode = info.get("rcode", "?")
    if rcode == "NXDOMAIN":
        return "NXDOMAIN, no such name (RFC 1035 §4.1.1)"
    if rcode != "NOERROR":
        return dns_answer(info)
    answers = info.get("answers") or []
    if not answers:
        return "the name exists but has no record of that type (NODATA, RFC 2308)"
    parts = []
    for a in answers:
        name = str(a.get("name", "?")).rstrip(".")
        data = str(a.get("data", "?")).rstrip(".")
        if a.get("type") == "CNAME":
            parts.append(f"{name} is an alias of {data}")
        else:
            what = RR_WORDS.get(a.get("type"), a.get("type"))
            parts.append(f"{name} has {what} {data}")
    return "; ".join(parts) + f" (cache it {answers[0].get('ttl')} s)"


def dns_question(info: dict) -> str:
    qs = info.get("questions") or []
    if not qs:
        return "(no question)"
    return ", ".join(f"{q.get('type', '?')} {q.get('name', '?')}" for q in qs) + "?"


def dns_answer(info: dict) -> str:
    rcode = info.get("rcode", "?")
    answers = info.get("answers") or []
    if rcode != "NOERROR":
        meaning = {"NXDOMAIN": "no such name", "SERVFAIL": "the server failed",
                   "REFUSED": "refused"}.get(rcode, "")
        return f"{rcode}" + (f" ({meaning})" if meaning else "")
    if not answers:
        return "NOERROR but no record of that type (NODATA)"
    return ", ".join(f"{a.get('type')} {a.get('data')} (ttl {a.get('ttl')})" for a in answers)


_HEADS: dict[tuple, str] = {}


def tcp_head(src: str | None, sport: int | None, dst: str | None, dport: int | None,
             flags: str | None) -> str:
    """'TCP a:1 > b:2 [ACK]': the same for every segment of a flow with these flags."""
    key = (src, sport, dst, dport, flags)
    head = _HEADS.get(key)
    if head is None:
        if len(_HEADS) > 8192:
            _HEADS.clear()
        head = _HEADS[key] = (f"TCP {endpoint(src, sport)} > {endpoint(dst, dport)} "
                              f"[{flag_names(flags)}]")
    return head


def summarize(d: Decoded, rel_seq: int | None, rel_ack: int | None, window: int | None) -> str:
    """A one-line, tcpdump-like description of a packet."""
    if d.tcp_flags is not None and not d.frag_offset:  # the common case first
        text = tcp_head(d.src, d.sport, d.dst, d.dport, d.tcp_flags)
        if rel_seq is not None:
            text += f" seq={rel_seq}"
        if rel_ack is not None:
            text += f" ack={rel_ack}"
        if window is not None:
            text += f" win={window}"
        options = d.tcp_options
        if options:
            if len(options) == 3 and options[2][0] == "Timestamp" and options[0][0] == "NOP" \
                    and options[1][0] == "NOP":
                # What Linux puts in every segment: NOP, NOP, timestamps (RFC 7323 §3).
                value = options[2][1]
                text += f" <ts {value[0]}/{value[1]}>"
            else:
                opts = tcp_options(options)
                if opts:
                    text += f" <{opts}>"
        text += f" len={d.payload_len}"
        if d.payload:
            text += f' "{preview(d.payload)}"'
        return text
    if d.proto == "ARP":
        if d.arp_op == 2:
            return f"ARP reply {d.src} is at {d.arp_sha}"
        return f"ARP who has {d.dst}? tell {d.src}"
    src = endpoint(d.src, d.sport)
    dst = endpoint(d.dst, d.dport)
    if d.frag_offset:
        return f"{d.proto} {d.src} > {d.dst} fragment id {d.ip_id} offset {d.frag_offset}" + (
            " MF" if d.more_fragments else ""
        ) + f" len={d.payload_len}"
    if d.sport is not None:
        text = f"{d.proto} {src} > {dst} len={d.payload_len}"
        if d.payload and d.proto == "UDP":
            text += f' "{preview(d.payload)}"'
        return text
    if d.proto in ("ICMP", "ICMPv6"):
        text = f"{d.proto} {d.src} > {d.dst} type {d.icmp_type} code {d.icmp_code}"
        if d.nd_target:
            text += f" target {d.nd_target}"
        if d.quoted is not None:
            q = d.quoted
            text += f" (about {q.proto} {endpoint(q.src, q.sport)} > {endpoint(q.dst, q.dport)})"
        return text
    if d.src is not None:
        return f"{d.proto} {d.src} > {d.dst}"
    if d.eth_src is not None:
        return f"{d.proto} {d.eth_src} > {d.eth_dst}"
    return d.proto + (f" ({d.error})" if d.error else "")
