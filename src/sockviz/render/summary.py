"""``--summary``: the overview of a capture too long to read line by line.

A renderer like the others: it consumes the same timeline (every packet
still goes through the correlator) and keeps only counters, so its memory is
bounded whatever the capture: protocols, TCP handshakes, teardowns, resets
and retransmissions, DNS names asked and answered, the calls of a sockviz
run, and the busiest conversations (from the correlator's summary). It shows
nothing until the end; ``overview()`` is the data, ``render()`` the view.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from sockviz.core import phrases
from sockviz.core.phrases import Step
from sockviz.core.timeline import CallEnded, Entry, PacketShown, Summary

MAX_NAMES = 1000  # distinct DNS names remembered (the rest are counted)
MAX_CALLS = 100  # calls listed
SHOWN_NAMES = 25
SHOWN_CONVERSATIONS = 20

_RETRANSMITS = (Step.SYN_RETRANSMIT, Step.SYNACK_RETRANSMIT, Step.DATA_RETRANSMIT,
                Step.FIN_RETRANSMIT)


class SummaryCounter:
    """Counts what the timeline shows; nothing per packet is kept."""

    def __init__(self) -> None:
        self.protocols: Counter[str] = Counter()
        self.proto_bytes: Counter[str] = Counter()
        self.steps: Counter[str] = Counter()
        self.names: dict[str, dict] = {}
        self.other_names = 0
        self.calls: list[dict] = []
        self.more_calls = 0
        self.summary: Summary | None = None
        self.wire_bytes = 0

    def handle(self, entry: Entry) -> None:
        if type(entry) is PacketShown:
            proto = entry.packet.decoded.proto
            self.protocols[proto] += 1
            self.proto_bytes[proto] += entry.packet.wirelen
            self.wire_bytes += entry.packet.wirelen
            self.steps[entry.step] += 1
            if entry.dns is not None:
                self._dns(entry.dns)
        elif isinstance(entry, CallEnded):
            if len(self.calls) < MAX_CALLS:
                c = entry.call
                self.calls.append({"text": c.text, "error": c.error, "result": c.result_text,
                                   "packets": entry.packets})
            else:
                self.more_calls += 1
        elif isinstance(entry, Summary):
            self.summary = entry

    def _dns(self, info: dict) -> None:
        response = info.get("qr") == "response"
        for q in info.get("questions") or ():
            name = str(q.get("name", "?")).rstrip(".") or "."
            seen = self.names.get(name)
            if seen is None:
                if len(self.names) >= MAX_NAMES:
                    self.other_names += 1
                    continue
                seen = self.names[name] = {"name": name, "types": [], "queries": 0,
                                           "responses": 0, "rcodes": [], "answers": []}
            qtype = q.get("type")
            if qtype not in seen["types"]:
                seen["types"].append(qtype)
            if response:
                seen["responses"] += 1
                rcode = info.get("rcode")
                if rcode not in seen["rcodes"]:
                    seen["rcodes"].append(rcode)
                for a in info.get("answers") or ():
                    data = str(a.get("data", "")).rstrip(".")
                    if data not in seen["answers"] and len(seen["answers"]) < 8:
                        seen["answers"].append(data)
            else:
                seen["queries"] += 1

    def overview(self) -> dict:
        """Everything counted, as plain data (the ``--summary --json`` record)."""
        s = self.summary
        steps = self.steps
        tcp = {
            "syn": steps[Step.SYN],
            "handshakes": steps[Step.HANDSHAKE_ACK],
            "refused": steps[Step.RST_REFUSED],
            "resets": steps[Step.RST] + steps[Step.RST_REFUSED],
            "teardowns": steps[Step.FINAL_ACK],
            "retransmissions": sum(steps[k] for k in _RETRANSMITS),
            "zero_windows": steps[Step.ZERO_WINDOW],
        }
        convs = s.conversations if s is not None else []
        return {
            "type": "overview",
            "packets": s.packets if s is not None else sum(self.protocols.values()),
            "bytes": self.wire_bytes,
            "first_time": s.first_time if s is not None else None,
            "last_time": s.last_time if s is not None else None,
            "protocols": [{"proto": p, "packets": n, "bytes": self.proto_bytes[p]}
                          for p, n in self.protocols.most_common()],
            "tcp": tcp,
            "conversations": (s.conversations_total or len(convs)) if s is not None else 0,
            "busiest": sorted(convs, key=lambda c: (-c["packets"], c["number"]))[:SHOWN_CONVERSATIONS],
            "dns_names": sorted(self.names.values(), key=lambda n: (-n["queries"] - n["responses"],
                                                                   n["name"])),
            "dns_names_not_listed": self.other_names,
            "calls": self.calls,
            "calls_not_listed": self.more_calls,
            "problem": s.problem if s is not None else None,
        }


def render(o: dict) -> Iterator:
    """The overview as rich renderables (imported only when drawn), in the phrasebook's words."""
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    from sockviz.render.view import said

    p = phrases
    head = Text()
    head.append(p.overview_packets(o["packets"]), style="bold")
    head.append(" · " + p.overview_bytes(o["bytes"]))
    if o["first_time"] is not None and o["last_time"] is not None:
        head.append(f" · {p.duration(o['last_time'] - o['first_time'])}", style="dim")
    head.append(" · " + p.conversations_count(o["conversations"]))
    yield Rule(Text(p.overview_title(), style="bold"), style="bright_black")
    yield said(head)
    if o["problem"]:
        yield said(Text(o["problem"], style="bold red"))

    if o["protocols"]:
        table = Table(box=None, header_style="bold", padding=(0, 1), title_justify="left")
        for col, justify in (("protocol", "left"), ("packets", "right"), ("bytes", "right")):
            table.add_column(p.column(col), justify=justify)
        for proto in o["protocols"]:
            table.add_row(proto["proto"], p.number(proto["packets"]), p.number(proto["bytes"]))
        yield Text("")
        yield table

    t = o["tcp"]
    if t["syn"] or t["handshakes"] or t["resets"] or t["teardowns"]:
        line = Text("\n" + p.tcp_heading(), style="bold")
        line.append(p.tcp_counts(t["syn"], t["handshakes"], t["teardowns"]))
        line.append(p.resets(t["resets"]), style="bold red" if t["resets"] else "")
        if t["refused"]:
            line.append(p.refused(t["refused"]))
        line.append(p.retransmissions(t["retransmissions"]))
        if t["zero_windows"]:
            line.append(p.zero_windows(t["zero_windows"]))
        yield said(line)

    if o["dns_names"]:
        table = Table(box=None, header_style="bold", padding=(0, 1))
        for col in ("DNS name", "types", "queries", "answers", "result"):
            table.add_column(p.column(col))
        for n in o["dns_names"][:SHOWN_NAMES]:
            result = ", ".join(n["answers"]) or ", ".join(r for r in n["rcodes"] if r) or p.no_answer()
            table.add_row(Text(n["name"]), " ".join(str(x) for x in n["types"]),
                          str(n["queries"]), str(n["responses"]), Text(result))
        yield Text("")
        yield table
        hidden = len(o["dns_names"]) - SHOWN_NAMES + o["dns_names_not_listed"]
        if hidden > 0:
            yield Text(p.more_names(hidden), style="dim")

    if o["busiest"]:
        table = Table(box=None, header_style="bold", padding=(0, 1))
        table.add_column("#", justify="right")
        for col in ("proto", "endpoint A", "endpoint B", "packets", "state"):
            table.add_column(p.column(col), justify="right" if col == "packets" else "left")
        for c in o["busiest"]:
            state = p.tcp_state(c) if c["proto"] == "TCP" else ""
            table.add_row(str(c["number"]), c["proto"], c["a"], c["b"], p.number(c["packets"]), state)
        yield Text("\n" + p.busiest_heading(), style="bold")
        yield table

    if o["calls"]:
        yield Text("\n" + p.calls_heading(), style="bold")
        for c in o["calls"]:
            line = Text("  ")
            line.append(c["text"], style="bold")
            if c["error"]:
                line.append(f"  {c['error']}", style="red")
            else:
                line.append(f"  → {c['result']}", style="green")
            line.append(f"  ({p.call_packets(c['packets'])})", style="dim")
            yield said(line)
        if o["calls_not_listed"]:
            yield Text("  " + p.more_calls(o["calls_not_listed"]), style="dim")


class SummarySink:
    """Counts the timeline; at the end, draws the overview or writes it as JSON."""

    def __init__(self, env, *, json_output: bool = False) -> None:
        self.env = env
        self.json_output = json_output
        self.counter = SummaryCounter()
        self.handle = self.counter.handle

    def close(self) -> None:
        overview = self.counter.overview()
        if self.json_output:
            from sockviz.core.jsonmodel import encode, summary_json

            self.env.stdout.write(encode(overview) + "\n")
            if self.counter.summary is not None:
                self.env.stdout.write(encode(summary_json(self.counter.summary)) + "\n")
            self.env.stdout.flush()
            return
        for renderable in render(overview):
            self.env.console.print(renderable, highlight=False)
