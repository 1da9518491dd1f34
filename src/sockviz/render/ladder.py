"""The ladder: the timeline as a sequence diagram, with the calls beside it.

The course's figure of a TCP client and server (two columns, time going
down, arrows between) and Wireshark's Flow Graph (``tshark -z
flow,tcp,standard``) draw the packets; this draws them with the socket calls
that caused them. Each conversation gets its own pair of columns, one after
the other (the resolver's DNS exchange is a conversation of its own): this
host on the left with its calls at the left edge, the peer on the right
(with its calls at the right edge when the trace holds them too), each
packet a horizontal arrow labelled with its flags and relative numbers, the
time since the conversation's previous packet at the right edge.

Three drawings come from one plan: ``build_sections`` sorts the entries into
conversations (``Section``: its two ends and its items in time order), and
``plan_rows`` lays a section out as rows, which the terminal draws as lines
(``Ladder.__rich_console__``, yielding, never printing, its width from the
console) and ``render/ladder_svg.py`` as vector graphics (``to_svg``,
``to_html``).

Feed it the timeline: ``LadderSink`` takes entries one at a time as the
other sinks do (``handle``, ``close``), or ``Ladder(entries)`` takes a list.

A packet entry with a ``tcp_states`` attribute (``{"src": "SYN-SENT", "dst":
"SYN-RECEIVED"}``: each end's state after the segment, RFC 9293 §3.3.2) gets
each end's state written beside its lifeline where it changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from sockviz.core import phrases
from sockviz.core.correlate import dns_answer
from sockviz.core.events import Call
from sockviz.core.text import endpoint, flag_names, preview
from sockviz.core.timeline import CallEnded, CallStarted, Entry, Note, PacketShown, Summary

MAX_PACKETS = 2000  # packets kept for drawing; past it they are only counted
LABEL_LINES = 3  # lines a call's label may take before its result is cut
PREVIEW = 24  # payload characters shown on an arrow, when there is room

# Message names (RFC 792, RFC 4443 §2.1, RFC 4861 §4), for ICMP arrows.
# Steps that are a failure or a loss, drawn in the error colour.
ERROR_STEPS = frozenset(("rst", "rst-refused", "port-unreachable", "unreachable", "frag-needed",
                         "time-exceeded", "syn-retransmit", "synack-retransmit",
                         "data-retransmit", "fin-retransmit", "zero-window"))
WILDCARDS = frozenset(("", "0.0.0.0", "::"))  # a socket bound to any address
SETUP_CALLS = frozenset(("socket", "bind", "listen", "setsockopt"))  # they prepare what follows

# A space no line breaks at, which the drawing shows as a plain one (a call's
# duration); the language's own no-break spaces (French before ':') stay as they are.
GLUE = "\ue002"
Segments = list[tuple[str, str]]  # (text, style): a styled line, for any drawing


# -- the model: conversations and what happened in them ---------------------

@dataclass(frozen=True, slots=True)
class Lane:
    """One end of a conversation: a column of the ladder."""

    addr: str | None
    port: int | None
    title: str  # 'you', 'server', 'DNS server', ... as said (phrases.lane_title)
    yours: bool = False  # this host's end, where the lesson's calls were made

    @property
    def label(self) -> str:
        return endpoint(self.addr, self.port) if self.addr is not None else "?"


@dataclass(frozen=True, slots=True)
class Arrow:
    """A packet between the two lanes."""

    entry: PacketShown
    rightward: bool  # from the left lane to the right one
    label: str  # flags and relative numbers: always shown
    extra: str  # payload preview, window...: shown when there is room
    dt: float | None  # seconds since the section's previous packet
    error: bool  # a refusal, a loss, an ICMP error
    states: tuple[str | None, str | None]  # each end's TCP state, where it changed

    @property
    def meaning(self) -> str:
        e = self.entry
        return f"{e.explain} — {e.context}" if e.context else e.explain


@dataclass(frozen=True, slots=True)
class CallMark:
    """A call starting or ending, on one side of the ladder."""

    call: Call  # as it ended, when it did (its result), else as it started
    side: str  # 'left' or 'right'
    edge: str  # 'start' or 'end'
    ended: bool
    # Drawn again beside its packets in another conversation than its own: the DNS
    # messages of a name connect() or sendto() resolved inside itself.
    again: bool = False


@dataclass(frozen=True, slots=True)
class NoteMark:
    text: str


@dataclass(frozen=True, slots=True)
class Elided:
    count: int  # packets of the section not drawn
    elsewhere: bool = False  # of conversations not drawn at all

    @property
    def text(self) -> str:
        return phrases.ladder_elided(self.count, self.elsewhere)


@dataclass
class Section:
    """One conversation as the ladder draws it."""

    number: int | None
    proto: str
    left: Lane
    right: Lane
    items: list = field(default_factory=list)
    packets: int = 0

    @property
    def heading(self) -> str:
        return phrases.ladder_heading(self.number, self.proto, self.left.label, self.right.label)

    @property
    def has_right_calls(self) -> bool:
        return any(type(i) is CallMark and i.side == "right" for i in self.items)


@dataclass
class _Conv:
    number: int
    first: PacketShown
    index: int
    time: float
    sided: PacketShown | None = None  # its first packet whose direction is known


def _norm(addr: Any) -> str:
    a = str(addr).strip("[]").lower()
    if a.startswith("::ffff:") and "." in a:  # IPv4-mapped (RFC 4291 §2.5.5.2)
        a = a[7:]
    return a


def _is(sock: tuple | None, lane: Lane) -> bool:
    """Whether a call's ``local`` or ``peer`` (address, port[, ...]) is this lane's end."""
    if not sock or len(sock) < 2 or lane.addr is None or sock[1] != lane.port:
        return False
    return str(sock[0]) in WILDCARDS or _norm(sock[0]) == _norm(lane.addr)


def _lanes(c: _Conv) -> tuple[Lane, Lane, str]:
    """The conversation's two ends (this host first) and its protocol's name."""
    e = c.sided or c.first
    d = e.packet.decoded
    src, dst = (d.src, d.sport), (d.dst, d.dport)
    if e.direction == "in":
        src, dst = dst, src
    known = c.sided is not None
    f = c.first.packet.decoded
    initiator_left = _norm(f.src) == _norm(src[0]) and f.sport == src[1]
    if 53 in (dst[1], src[1]) and (f.proto == "DNS" or c.first.dns is not None):
        titles = ("your resolver" if known else "client", "DNS server")
        if dst[1] != 53:
            titles = ("DNS server" if known else "server", "resolver")
    else:
        peer = "server" if initiator_left else "client"
        titles = ("you" if known else ("client" if initiator_left else "server"), peer)
    yours = titles[0] in ("you", "your resolver")
    titles = (phrases.lane_title(titles[0]), phrases.lane_title(titles[1]))
    proto = f.proto
    if proto == "DNS":
        proto = phrases.dns_over(f.tcp_flags is not None)
    elif proto in ("ICMP", "ICMPv6"):
        q = f.quoted
        proto = q.proto if q is not None and q.proto else proto
    return Lane(src[0], src[1], titles[0], yours), Lane(dst[0], dst[1], titles[1]), proto


def packet_label(e: PacketShown) -> tuple[str, str]:
    """What an arrow says: (flags and relative numbers, extra shown when there is room)."""
    label, extra = _packet_label(e)
    # Names and payloads come from the wire: no control character reaches a terminal.
    return label.translate(_CONTROLS), extra.translate(_CONTROLS)


_CONTROLS = {c: "?" for c in (*range(0x20), *range(0x7F, 0xA0))}


def _packet_label(e: PacketShown) -> tuple[str, str]:
    d = e.packet.decoded
    n = d.payload_len
    if d.tcp_flags is not None:
        flags = flag_names(d.tcp_flags).replace(", ", ",")
        if e.dns is not None:
            return f"{flags} {_dns_label(e.dns)}", _dns_extra(e.dns)
        if n and e.rel_seq is not None:
            label = f"{flags} {e.rel_seq}:{e.rel_seq + n} ({phrases.arrow_bytes(n)})"
            extra = f'"{preview(d.payload, PREVIEW)}"' if d.payload else ""
        else:
            label = flags
            if e.rel_seq is not None:
                label += f" seq={e.rel_seq}"
            if e.rel_ack is not None:
                label += f" ack={e.rel_ack}"
            if n:
                label += f" ({phrases.arrow_bytes(n)})"
            extra = f"win={e.window}" if e.window is not None else ""
        if "retransmit" in e.step:
            label += phrases.arrow_again()
        elif e.step == "zero-window":
            label += " win=0"
        return label, extra
    if e.dns is not None:
        return _dns_label(e.dns), _dns_extra(e.dns)
    if d.proto == "ARP":
        if d.arp_op == 2:  # the answer to the request just above it
            return phrases.arrow_arp_is_at(d.arp_sha), f"({d.src})"
        return phrases.arrow_arp_who_has(d.dst), ""
    if d.frag_offset is not None:
        return phrases.arrow_fragment(d.frag_offset, d.more_fragments, n), f"id {d.ip_id}"
    if d.sport is not None:
        return (f"{d.proto} {phrases.arrow_bytes(n)}",
                f'"{preview(d.payload, PREVIEW)}"' if d.payload else "")
    if d.icmp_type is not None:
        v6 = d.proto == "ICMPv6"
        if d.nd_target and d.icmp_type == 135:
            return phrases.arrow_ns_who_has(d.nd_target), ""
        if d.nd_target and d.icmp_type == 136:
            return phrases.arrow_na_is_at(d.eth_src or "?"), f"({d.nd_target})"
        name = phrases.arrow_icmp(d.icmp_type, d.icmp_code, v6=v6)
        return f"{d.proto} {name}", f"type {d.icmp_type} code {d.icmp_code}"
    return e.summary, ""


def _dns_label(info: dict) -> str:
    """``DNS A chat.sockviz.test?``, then ``DNS A 192.0.2.2`` (RFC 1035 §4.1)."""
    if info.get("qr") != "response":
        qs = info.get("questions") or []
        asked = phrases.dns_asked  # '{questions}?' in the language spoken
        return "DNS " + (", ".join(asked(f"{q.get('type', '?')} {_name(q.get('name'))}") for q in qs)
                         or phrases.arrow_dns_no_question())
    rcode = info.get("rcode", "?")
    answers = info.get("answers") or []
    if rcode != "NOERROR":
        return f"DNS {dns_answer(info)}"
    if not answers:
        return "DNS " + phrases.arrow_dns_no_record()
    # The records asked for first; the aliases that led to them go to the extra.
    final = [a for a in answers if a.get("type") != "CNAME"] or answers
    return "DNS " + ", ".join(f"{a.get('type')} {_name(a.get('data'))}" for a in final)


def _dns_extra(info: dict) -> str:
    answers = info.get("answers") or []
    if info.get("qr") != "response" or not answers:
        return ""
    aliases = [_name(a.get("data")) for a in answers if a.get("type") == "CNAME"]
    if aliases and len(aliases) < len(answers):
        return phrases.arrow_via_cname(", ".join(aliases))
    ttl = answers[0].get("ttl")
    return f"ttl {ttl}" if ttl is not None else ""


def _name(name: Any) -> str:
    return str(name if name is not None else "?").rstrip(".") or "."


def call_label(call: Call, ended: bool) -> Segments:
    """A call as its column shows it: ``connect() → None 172 µs``."""
    segs: Segments = [(f"{call.name}()", "call")]
    if not ended:
        segs.append((" …", "dim"))
        return segs
    if call.error:
        segs.append((f" ✗ {call.error.split(':', 1)[0]}", "error"))
    else:
        segs.append((" → ", "plain"))
        segs.append((call.result_text if call.result_text is not None else "None", "result"))
    if call.duration is not None:  # kept on one line: GLUE, made a space by wrap_segments
        segs.append((f" ({phrases.duration(call.duration).replace(' ', GLUE)})", "dim"))
    return segs


def build_sections(entries: Iterable[Entry], *, conversation: int | None = None,
                   elided: dict[int | None, int] | None = None) -> list[Section]:
    """The entries sorted into conversations, each with its items in time order.

    Packets go to their conversation; a packet of none (ARP, NDP) to the
    conversation of the call it came during, else of the next packet that has
    one. A call goes where its ``local``/``peer`` endpoints say (on the right
    when it was made at the conversation's other end), else with the packets
    it caused, else beside the nearest call of the same transport (``socket()``
    with the calls after it, the others with the calls before), else where it
    falls in time. ``elided`` counts packets left out by conversation.
    """
    entries = list(entries)
    convs: dict[int, _Conv] = {}
    final: dict[int, Call] = {}
    ended: set[int] = set()
    order: list[int] = []  # call ids by start
    by_call: dict[int, Counter] = {}
    for i, e in enumerate(entries):
        t = type(e)
        if isinstance(e, PacketShown):
            n = e.conversation
            if n is not None:
                c = convs.get(n)
                if c is None:
                    c = convs[n] = _Conv(n, e, i, e.packet.time)
                if c.sided is None and e.direction in ("in", "out"):
                    c.sided = e
                if e.call_id is not None:
                    by_call.setdefault(e.call_id, Counter())[n] += 1
        elif t is CallStarted or t is CallEnded:
            cid = e.call.id
            if cid not in final:
                order.append(cid)
            if t is CallEnded:
                final[cid] = e.call
                ended.add(cid)
            else:
                final.setdefault(cid, e.call)

    sections: dict[int | None, Section] = {}
    for n, c in sorted(convs.items(), key=lambda kv: kv[1].index):
        left, right, proto = _lanes(c)
        sections[n] = Section(n, proto, left, right)
    starts = sorted((c.time, n) for n, c in convs.items())

    def at_time(t: float) -> int | None:
        """The conversation under way at ``t``: the last one begun by then, else the first."""
        found = starts[0][1] if starts else None
        for time, n in starts:
            if time <= t:
                found = n
        return found

    # Calls: where their endpoints say, else their packets, else their neighbours.
    place: dict[int, tuple[int | None, str]] = {}
    for cid in order:
        call = final[cid]
        counts = by_call.get(cid) or Counter()
        mine = [(n, "left") for n, s in sections.items() if _is(call.local, s.left)]
        mine += [(n, "right") for n, s in sections.items() if _is(call.local, s.right)]
        if mine:  # its own socket's address: the surest sign
            place[cid] = max(mine, key=lambda m: counts[m[0]])
            continue
        toward = [(n, "left") for n, s in sections.items() if _is(call.peer, s.right)]
        toward += [(n, "right") for n, s in sections.items() if _is(call.peer, s.left)]
        if counts:
            n = counts.most_common(1)[0][0]
            place[cid] = next((m for m in toward if m[0] == n), (n, "left"))
        elif toward:  # the conversation with that peer that comes next in time
            later = [m for m in toward if convs[m[0]].time >= call.start]
            place[cid] = min(later, key=lambda m: convs[m[0]].time) if later else max(
                toward, key=lambda m: convs[m[0]].time)
    placed = dict(place)  # the neighbours are looked for among these only

    def neighbour(pos: int, step: int) -> int | None:
        call = final[order[pos]]
        pos += step
        while 0 <= pos < len(order):
            other = order[pos]
            if other in placed and _same_transport(final[other], call):
                return placed[other][0]
            pos += step
        return None

    for pos, cid in enumerate(order):
        if cid in place:
            continue
        steps = (1, -1) if final[cid].name in SETUP_CALLS else (-1, 1)
        n = neighbour(pos, steps[0])
        if n is None:
            n = neighbour(pos, steps[1])
        place[cid] = (at_time(final[cid].start) if n is None else n, "left")

    # A call with packets in other conversations than its own (connect() given a name:
    # its DNS messages) is drawn there too, its bracket over them, as getaddrinfo() is.
    also = {cid: [n for n in counts if n != place[cid][0] and n in sections]
            for cid, counts in by_call.items() if cid in place}

    def section(n: int | None) -> Section:
        s = sections.get(n)
        if s is None:
            s = sections[n] = Section(n, phrases.ladder_no_packets(),
                                      Lane(None, None, phrases.lane_title("you"), True),
                                      Lane(None, None, phrases.lane_title("peer")))
        return s

    # Packets of no conversation: with their call's conversation, else the next packet's.
    homeless: dict[int, int | None] = {}
    pending: list[int] = []
    last_conv: int | None = None
    for i, e in enumerate(entries):
        if not isinstance(e, PacketShown):
            continue
        if e.conversation is not None:
            last_conv = e.conversation
            for j in pending:
                homeless[j] = last_conv
            pending.clear()
        elif e.call_id is not None and e.call_id in place and place[e.call_id][0] in convs:
            homeless[i] = place[e.call_id][0]
        else:
            pending.append(i)
    for j in pending:
        homeless[j] = last_conv

    last_time: dict[int | None, float] = {}
    shown_states: dict[int | None, list] = {}
    for i, e in enumerate(entries):
        t = type(e)
        if isinstance(e, PacketShown):
            n = e.conversation if e.conversation is not None else homeless.get(i)
            s = section(n)
            s.packets += 1
            prev = last_time.get(n)
            last_time[n] = e.packet.time
            s.items.append(_arrow(e, s, None if prev is None else e.packet.time - prev,
                                  shown_states.setdefault(n, [None, None])))
        elif t is CallStarted or t is CallEnded:
            cid = e.call.id
            n, side = place[cid]
            edge = "start" if t is CallStarted else "end"
            section(n).items.append(CallMark(final[cid], side, edge, cid in ended))
            for other in also.get(cid, ()):
                section(other).items.append(CallMark(final[cid], side, edge, cid in ended,
                                                     again=True))
        elif t is Note:
            section(at_time(e.time)).items.append(NoteMark(e.text))
        elif t is Summary:
            continue
    others = 0
    for n, count in (elided or {}).items():
        if n in sections and count:
            sections[n].items.append(Elided(count))
        else:
            others += count
    out = list(sections.values())
    if others and conversation is None:
        if not out:
            out.append(section(None))
        out[-1].items.append(Elided(others, elsewhere=True))
    if conversation is not None:
        out = [s for s in out if s.number == conversation]
    return out


def _same_transport(a: Call, b: Call) -> bool:
    return a.transport is None or b.transport is None or a.transport == b.transport


def _arrow(e: PacketShown, s: Section, dt: float | None, shown: list) -> Arrow:
    d = e.packet.decoded
    left, right = s.left, s.right
    if d.src is not None and left.addr is not None:
        src, dst = _norm(d.src), _norm(d.dst)
        la, ra = _norm(left.addr), _norm(right.addr)
        if src == la and d.sport == left.port and d.sport is not None:
            rightward = True
        elif src == ra and d.sport == right.port and d.sport is not None:
            rightward = False
        elif la != ra and src == la:
            rightward = True
        elif la != ra and src == ra:
            rightward = False
        elif la != ra and dst in (la, ra):
            rightward = dst == ra
        else:
            rightward = e.direction != "in"
    else:
        rightward = e.direction != "in"
    label, extra = packet_label(e)
    states: list[str | None] = [None, None]
    tcp_states = getattr(e, "tcp_states", None)
    if tcp_states:
        for end, state in (("src", tcp_states.get("src")), ("dst", tcp_states.get("dst"))):
            k = 0 if (end == "src") == rightward else 1
            if state and state != shown[k]:
                shown[k] = states[k] = str(state)
    return Arrow(e, rightward, label, extra, dt, e.step in ERROR_STEPS, (states[0], states[1]))


# -- rows: the plan every drawing follows --------------------------------------

@dataclass
class Row:
    """One row of a section: something between the lanes, call labels at the edges."""

    kind: str  # 'arrow', 'state', 'meaning', 'note', 'blank', 'more'
    arrow: Arrow | None = None
    text: str = ""  # the meaning, note or elision line
    states: tuple[str | None, str | None] = (None, None)
    left: Segments | None = None  # a line of the left call's label
    right: Segments | None = None
    left_bracket: str | None = None  # 'top', 'mid', 'bottom', 'single'
    right_bracket: str | None = None
    left_call: Call | None = None
    right_call: Call | None = None


@dataclass
class _Open:
    call: Call
    lines: list[Segments]
    rows: list[Row] = field(default_factory=list)
    packets: int = 0


def wrap_segments(segs: Segments, width: int) -> list[Segments]:
    """Styled text wrapped at spaces to ``width`` cells; longer words folded."""
    width = max(1, width)
    words: list[tuple[str, str]] = []  # (piece, style), spaces as their own pieces
    for text, style in segs:
        piece = ""
        for ch in text:
            if ch == " ":
                if piece:
                    words.append((piece, style))
                words.append((" ", style))
                piece = ""
            else:
                piece += ch
        if piece:
            words.append((piece, style))
    lines: list[Segments] = [[]]
    used = 0
    i = 0
    while i < len(words):
        w, style = words[i]
        # A word continues across segments without a space: keep the run together.
        run = [(w, style)]
        j = i + 1
        while w != " " and j < len(words) and words[j][0] != " ":
            run.append(words[j])
            j += 1
        run_len = sum(cell_len(p) for p, _ in run)
        if w == " ":
            if used and used < width:
                lines[-1].append((" ", style))
                used += 1
            i += 1
            continue
        if used + run_len > width and used:
            while lines[-1] and lines[-1][-1][0] == " ":
                lines[-1].pop()
            lines.append([])
            used = 0
        for p, st in run:
            while used + cell_len(p) > width:
                room = width - used
                if room <= 0:
                    lines.append([])
                    used = 0
                    continue
                head = set_cell_size(p, room)
                lines[-1].append((head, st))
                p = p[len(head):]
                lines.append([])
                used = 0
            if p:
                lines[-1].append((p, st))
                used += cell_len(p)
        i = j
    out = []
    for line in lines:
        while line and line[-1][0] == " ":
            line.pop()
        if line:
            out.append([(p.replace(GLUE, " "), st) for p, st in line])
    return out or [[]]


def _segs_len(segs: Segments) -> int:
    return sum(cell_len(t) for t, _ in segs)


def label_lines(call: Call, ended: bool, width: int, max_lines: int = LABEL_LINES) -> list[Segments]:
    """A call's label wrapped to ``width``; a long result is cut (…) to keep ``max_lines``."""
    segs = call_label(call, ended)
    lines = wrap_segments(segs, width)
    if len(lines) <= max_lines:
        return lines
    k = next((i for i, (_, style) in enumerate(segs) if style == "result"), None)
    if k is None:
        return lines[:max_lines]
    text = segs[k][0]
    keep = max(0, max_lines * width - (_segs_len(segs) - cell_len(text)) - 2 * max_lines)
    while True:
        cut = [*segs[:k], (set_cell_size(text, keep).rstrip() + "…", "result"), *segs[k + 1:]]
        lines = wrap_segments(cut, width)
        if len(lines) <= max_lines or keep == 0:
            return lines[:max_lines]
        keep -= 1


def plan_rows(s: Section, *, left_width: int, right_width: int, gap_width: int,
              meanings: bool = False, notes: bool = True) -> list[Row]:
    """The rows of a section; labels wrapped to the given widths (in characters)."""
    rows: list[Row] = []
    open_: dict[str, _Open | None] = {"left": None, "right": None}
    widths = {"left": left_width, "right": right_width}

    def add(row: Row) -> None:
        for side in ("left", "right"):
            o = open_[side]
            if o is None:
                continue
            if o.lines:
                setattr(row, side, o.lines.pop(0))
            setattr(row, f"{side}_call", o.call)
            o.rows.append(row)
        rows.append(row)

    def finish(side: str) -> None:
        o = open_[side]
        if o is None:
            return
        while o.lines:
            add(Row("blank"))
        open_[side] = None
        if o.packets:
            b = f"{side}_bracket"
            if len(o.rows) == 1:
                setattr(o.rows[0], b, "single")
            else:
                for r in o.rows:
                    setattr(r, b, "mid")
                setattr(o.rows[0], b, "top")
                setattr(o.rows[-1], b, "bottom")

    for item in s.items:
        t = type(item)
        if t is Arrow:
            for side in ("left", "right"):
                if open_[side] is not None:
                    open_[side].packets += 1
            add(Row("arrow", arrow=item))
            if item.states != (None, None):
                add(Row("state", states=item.states))
            if meanings:
                for line in wrap_segments([(item.meaning, "meaning")], gap_width - 2):
                    add(Row("meaning", text="".join(p for p, _ in line)))
        elif t is CallMark:
            o = open_[item.side]
            if item.edge == "start":
                if o is not None:
                    finish(item.side)
                lines = label_lines(item.call, item.ended, widths[item.side])
                open_[item.side] = _Open(item.call, lines)
            elif o is not None and o.call.id == item.call.id:
                finish(item.side)
            else:  # an end without its start (a cut trace): the whole call at once
                if o is not None:
                    finish(item.side)
                open_[item.side] = _Open(item.call, label_lines(item.call, item.ended,
                                                                widths[item.side]))
                finish(item.side)
        elif t is NoteMark:
            if notes:
                for line in wrap_segments([(item.text, "note")], gap_width - 2):
                    add(Row("note", text="".join(p for p, _ in line)))
        elif t is Elided:
            add(Row("more", text=item.text))
    finish("left")
    finish("right")
    return rows


# -- the terminal drawing ----------------------------------------------------

STYLES = {
    "call": "bold",
    "result": "green",
    "error": "bold red",
    "dim": "dim",
    "plain": "",
    "meaning": "italic dim",
    "note": "italic dim",
    "out": "cyan",
    "in": "magenta",
    "bad": "bold red",
    "label": "bold",
    "extra": "dim",
    "lifeline": "bright_black",
    "state": "bold",  # no colour reads on both white and black (render/view.py)
    "bracket": "bright_black",
    "heading": "bold underline",
    "title": "bold",
    "address": "",
}
DT_WIDTH = 10  # the Δt column at the right edge, with its leading space
LEFT_BRACKETS = {"top": "┐", "mid": "│", "bottom": "┘", "single": "]", None: " "}
RIGHT_BRACKETS = {"top": "┌", "mid": "│", "bottom": "└", "single": "[", None: " "}


def delta_text(seconds: float | None) -> str:
    """Δt as the ladder's edge shows it: +32 µs, +7.5 ms, +2.002 s, +802 s."""
    if seconds is None:
        return ""
    if seconds >= 100:
        return "+" + phrases.seconds(seconds, 0)
    if seconds >= 10:
        return "+" + phrases.seconds(seconds, 1)
    return "+" + phrases.duration(seconds)


@dataclass(frozen=True, slots=True)
class Layout:
    """Column widths (in cells) of a section at a console width."""

    left: int  # the left call labels
    gap: int  # between the two lifelines
    right: int  # the right call labels (0: none)

    @property
    def x_left(self) -> int:  # the left lifeline's column
        return self.left + 2

    @property
    def x_right(self) -> int:
        return self.x_left + self.gap + 1


def terminal_layout(width: int, both_sides: bool, *, calls: bool = True,
                    head: int = 0) -> Layout:
    """The columns at ``width``; with no call at all (a capture from elsewhere) the left
    column keeps only room for the end's address (``head`` cells) over its lifeline."""
    if not calls:
        left = max(1, min((head + 1) // 2 - 2, width // 4))
        gap = max(8, min(64, width - DT_WIDTH - 4 - left))
        return Layout(left, gap, 0)
    avail = width - DT_WIDTH - 2 - (2 if both_sides else 0)  # lifelines, brackets' spaces
    sides = 2 if both_sides else 1
    side = max(10, min(40, round(avail * (0.25 if both_sides else 0.40))))
    gap = avail - 2 - side * sides
    if gap > 64:
        side = min(40, side + (gap - 64) // sides)
        gap = avail - 2 - side * sides
        gap = min(gap, 64)
    if gap < 16:  # a narrow console: the arrows keep a minimum, the labels shrink
        side = max(6, (avail - 2 - 16) // sides)
        gap = max(8, avail - 2 - side * sides)
    return Layout(side, gap, side if both_sides else 0)


def _arrow_cells(a: Arrow, gap: int) -> Text:
    room = gap - 7  # head, two dashes each side, two spaces
    label = a.label
    extra = a.extra if a.extra and cell_len(label) + 1 + cell_len(a.extra) <= room else ""
    if cell_len(label) > room:
        label = set_cell_size(label, max(0, room - 1)) + "…" if room > 1 else ""
    body = cell_len(label) + (1 + cell_len(extra) if extra else 0)
    dashes = gap - 1 - body - (2 if body else 0)
    lead = dashes // 2
    tail = dashes - lead
    line_style = STYLES["bad"] if a.error else STYLES["out" if a.rightward else "in"]
    t = Text()
    if not a.rightward:
        t.append("◀", style=line_style)
    t.append("─" * lead, style=line_style)
    if body:
        t.append(" ")
        t.append(label, style=STYLES["bad"] if a.error else STYLES["label"])
        if extra:
            t.append(" ")
            t.append(extra, style=STYLES["extra"])
        t.append(" ")
    t.append("─" * tail, style=line_style)
    if a.rightward:
        t.append("▶", style=line_style)
    return t


def _gap_cells(row: Row, gap: int) -> Text:
    if row.kind == "arrow":
        return _arrow_cells(row.arrow, gap)
    t = Text()
    if row.kind == "state":
        a, b = row.states
        a = set_cell_size(a, gap - 2).rstrip() if a else ""
        b = set_cell_size(b, max(0, gap - 3 - cell_len(a))).rstrip() if b else ""
        t.append(" ")
        t.append(a, style=STYLES["state"])
        t.append(" " * (gap - 2 - cell_len(a) - cell_len(b)))
        t.append(b, style=STYLES["state"])
        t.append(" ")
    elif row.kind in ("meaning", "note", "more"):
        t.append(" ")
        t.append(set_cell_size(row.text, gap - 1).rstrip(),
                 style=STYLES["meaning" if row.kind != "more" else "dim"])
    t.pad_right(gap - t.cell_len)
    return t


def _label_cell(segs: Segments | None, width: int) -> Text:
    t = Text()
    for text, style in segs or ():
        t.append(text, style=STYLES.get(style, ""))
    if t.cell_len > width:
        t.truncate(width)
    t.pad_right(width - t.cell_len)
    return t


def _section_lines(s: Section, width: int, *, meanings: bool, notes: bool) -> Iterator[Text]:
    both = s.has_right_calls
    calls = any(type(i) is CallMark for i in s.items)
    lay = terminal_layout(width, both, calls=calls,
                          head=max(cell_len(s.left.label), cell_len(s.left.title)))
    rows = plan_rows(s, left_width=lay.left - 1, right_width=lay.right - 1, gap_width=lay.gap,
                     meanings=meanings, notes=notes)
    yield from _wrapped([(s.heading, "heading")], width)
    yield Text("")
    # The ends' titles and addresses, centred over their lifelines.
    for attr, style in (("title", "title"), ("label", "address")):
        yield _over_lifelines(getattr(s.left, attr), getattr(s.right, attr), lay, width,
                              STYLES[style])
    life = Text("│", style=STYLES["lifeline"])
    for row in rows:
        t = Text(no_wrap=True, overflow="crop")
        t.append_text(_label_cell(row.left, lay.left))
        t.append(LEFT_BRACKETS[row.left_bracket], style=STYLES["bracket"])
        t.append(" ")
        t.append_text(life)
        t.append_text(_gap_cells(row, lay.gap))
        t.append_text(life)
        if both:
            t.append(" ")
            t.append(RIGHT_BRACKETS[row.right_bracket], style=STYLES["bracket"])
            t.append(" ")
            t.append_text(_label_cell(row.right, lay.right - 1))
        if row.kind == "arrow" and row.arrow.dt is not None:
            dt = delta_text(row.arrow.dt)
            used = lay.x_right + 1 + (lay.right + 2 if both else 0)
            t.append(" " * max(1, min(width, used + DT_WIDTH) - used - cell_len(dt)))
            t.append(dt, style=STYLES["dim"])
        if t.cell_len > width:
            t.truncate(width)
        t.rstrip()
        yield t


def _over_lifelines(a: str, b: str, lay: Layout, width: int, style: str) -> Text:
    """Two words centred over the lifelines, pushed apart (and cut) when they would meet."""
    a = set_cell_size(a, min(cell_len(a), lay.x_left + lay.gap // 2)).rstrip()
    b = set_cell_size(b, min(cell_len(b), width - lay.x_left - 2 - cell_len(a))).rstrip()
    la, lb = cell_len(a), cell_len(b)
    start_a = max(0, lay.x_left - la // 2)
    start_b = min(width - lb, lay.x_right - lb // 2)
    if start_a + la + 2 > start_b:
        start_a = max(0, min(start_a, lay.x_left + 1 - la))
        start_b = max(start_b, start_a + la + 2)
    t = Text()
    t.append(" " * start_a)
    t.append(a, style=style)
    t.append(" " * (start_b - start_a - la))
    t.append(b, style=style)
    if t.cell_len > width:
        t.truncate(width)
    t.rstrip()
    return t


def _wrapped(segs: Segments, width: int) -> Iterator[Text]:
    """Styled segments (style names of ``STYLES``) as lines of at most ``width`` cells."""
    for line in wrap_segments(segs, width):
        t = Text()
        for piece, style in line:
            t.append(piece, style=STYLES.get(style, style))
        yield t

def legend_text(sections: list[Section]) -> str:
    """How to read the terminal's ladder, in one paragraph."""
    return phrases.ladder_legend(
        yours=any(s.left.yours for s in sections),
        calls=any(type(i) is CallMark for s in sections for i in s.items),
        right_calls=any(s.has_right_calls for s in sections))


class Ladder:
    """The sequence diagram of a timeline: a rich renderable, an SVG, an HTML page.

    ``Ladder(entries)`` with the timeline entries (a list, or what a
    ``LadderSink`` collected); ``conversation=N`` draws that conversation
    only; ``meanings=True`` writes each packet's one-line meaning under its
    arrow; ``notes=False`` leaves out the lesson's notes (shown dimly).
    """

    def __init__(self, entries: Iterable[Entry], *, conversation: int | None = None,
                 meanings: bool = False, notes: bool = True, legend: bool = True,
                 elided: dict[int | None, int] | None = None) -> None:
        self.meanings = meanings
        self.notes = notes
        self.legend = legend
        self.conversation = conversation
        self.sections = build_sections(entries, conversation=conversation, elided=elided)

    def __rich_console__(self, console, options) -> Iterator[Text]:
        width = options.max_width
        if not self.sections:
            what = (phrases.ladder_no_such_conversation(self.conversation)
                    if self.conversation is not None else phrases.ladder_nothing())
            yield Text(what, style="dim")
            return
        for k, s in enumerate(self.sections):
            if k:
                yield Text("")
            yield from _section_lines(s, width, meanings=self.meanings, notes=self.notes)
        if self.legend:
            yield Text("")
            text = legend_text(self.sections)
            # The arrowheads in their arrows' colours, the rest dim.
            segs: Segments = []
            for piece in text.split(" "):
                style = {"▶": "out", "◀": "in"}.get(piece, "dim")
                segs += [(" ", "dim"), (piece, style)] if segs else [(piece, style)]
            yield from _wrapped(segs, width)

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(min(40, options.max_width), options.max_width)

    def to_svg(self, *, title: str | None = None) -> str:
        from sockviz.render.ladder_svg import svg_document

        return svg_document(self, title=title)

    def to_html(self, *, title: str | None = None) -> str:
        from sockviz.render.ladder_svg import html_document

        return html_document(self, title=title)

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_html_(self) -> str:
        from sockviz.render.ladder_svg import notebook_html

        return notebook_html(self)


class LadderSink:
    """A sink (``handle``, ``close``) that collects the timeline and draws its ladder.

    With a ``console`` it prints the ladder there on ``close()``; without,
    draw it yourself: ``console.print(sink)``, ``sink.to_svg()``,
    ``sink.to_html()``, or show the sink in a notebook. Past ``max_packets``
    packets are counted, not kept (memory stays bounded on a big capture).
    """

    def __init__(self, console=None, *, conversation: int | None = None, meanings: bool = False,
                 notes: bool = True, max_packets: int = MAX_PACKETS) -> None:
        self.console = console
        self.conversation = conversation
        self.meanings = meanings
        self.notes = notes
        self.max_packets = max_packets
        self.entries: list[Entry] = []
        self.elided: dict[int | None, int] = {}
        self._packets = 0
        self._kept_calls: set[int] = set()
        self._closed = False

    def handle(self, entry: Entry) -> None:
        t = type(entry)
        if isinstance(entry, PacketShown):
            # Every conversation is kept, the chosen one picked when drawing:
            # the others' packets tell where their calls belong.
            self._packets += 1
            if self._packets > self.max_packets:
                n = entry.conversation
                self.elided[n] = self.elided.get(n, 0) + 1
                return
        elif t is CallStarted or t is CallEnded:
            kept = self._kept_calls
            if entry.call.id not in kept:
                if len(kept) >= self.max_packets:
                    return
                kept.add(entry.call.id)
        elif t is Summary:
            return
        self.entries.append(entry)

    @property
    def ladder(self) -> Ladder:
        return Ladder(self.entries, conversation=self.conversation, meanings=self.meanings,
                      notes=self.notes, elided=self.elided)

    def close(self) -> None:
        if self.console is not None and not self._closed:
            self._closed = True
            self.console.print(self.ladder, highlight=False, soft_wrap=False)

    def __rich_console__(self, console, options):
        yield self.ladder

    def to_svg(self, *, title: str | None = None) -> str:
        return self.ladder.to_svg(title=title)

    def to_html(self, *, title: str | None = None) -> str:
        return self.ladder.to_html(title=title)

    def _repr_svg_(self) -> str:
        return self.ladder._repr_svg_()

    def _repr_html_(self) -> str:
        return self.ladder._repr_html_()


def to_svg(entries: Iterable[Entry], *, conversation: int | None = None, meanings: bool = False,
           notes: bool = True, title: str | None = None) -> str:
    """The ladder of ``entries`` as a standalone SVG document."""
    return Ladder(entries, conversation=conversation, meanings=meanings,
                  notes=notes).to_svg(title=title)


def to_html(entries: Iterable[Entry], *, conversation: int | None = None, meanings: bool = False,
            notes: bool = True, title: str | None = None) -> str:
    """The ladder of ``entries`` as one standalone HTML page: title, SVG, legend."""
    return Ladder(entries, conversation=conversation, meanings=meanings,
                  notes=notes).to_html(title=title)
