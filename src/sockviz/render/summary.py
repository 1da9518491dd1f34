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

from sockviz.core.text import duration
from sockviz.core.timeline import CallEnded, Entry, PacketShown, Summary

MAX_NAMES = 1000  # distinct DNS names remembered (the rest are counted)
MAX_CALLS = 100  # calls listed
SHOWN_NAMES = 25
SHOWN_CONVERSATIONS = 20

_RETRANSMITS = ("syn-retransmit", "synack-retransmit", "data-retransmit", "fin-retransmit")


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
            "syn": steps["syn"],
            "handshakes": steps["handshake-ack"],
            "refused": steps["rst-refused"],
            "resets": steps["rst"] + steps["rst-refused"],
            "teardowns": steps["last-ack"],
            "retransmissions": sum(steps[k] for k in _RETRANSMITS),
            "zero_windows": steps["zero-window"],
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
    """The overview as rich renderables (imported only when drawn)."""
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    head = Text()
    head.append(f"{o['packets']:,} packets", style="bold")
    head.append(f" · {o['bytes']:,} bytes on the wire")
    if o["first_time"] is not None and o["last_time"] is not None:
        head.append(f" · {duration(o['last_time'] - o['first_time'])}", style="dim")
    head.append(f" · {o['conversations']:,} conversation{'s' if o['conversations'] != 1 else ''}")
    yield Rule(Text("overview", style="bold"), style="bright_black")
    yield head
    if o["problem"]:
        yield Text(o["problem"], style="bold red")

    if o["protocols"]:
        table = Table(box=None, header_style="bold", padding=(0, 1), title_justify="left")
        for col, justify in (("protocol", "left"), ("packets", "right"), ("bytes", "right")):
            table.add_column(col, justify=justify)
        for p in o["protocols"]:
            table.add_row(p["proto"], f"{p['packets']:,}", f"{p['bytes']:,}")
        yield Text("")
        yield table

    t = o["tcp"]
    if t["syn"] or t["handshakes"] or t["resets"] or t["teardowns"]:
        line = Text("\nTCP: ", style="bold")
        line.append(f"{_n(t['syn'], 'connection attempt')} (SYN), "
                    f"{_n(t['handshakes'], 'handshake')} completed, "
                    f"{_n(t['teardowns'], 'connection')} closed with FIN, ")
        line.append(f"{t['resets']:,} reset", style="bold red" if t["resets"] else "")
        if t["refused"]:
            line.append(f" ({t['refused']:,} refused: nobody listening)")
        line.append(f", {_n(t['retransmissions'], 'retransmission')}")
        if t["zero_windows"]:
            line.append(f", {_n(t['zero_windows'], 'zero window')}")
        yield line

    if o["dns_names"]:
        table = Table(box=None, header_style="bold", padding=(0, 1))
        for col in ("DNS name", "types", "queries", "answers", "result"):
            table.add_column(col)
        for n in o["dns_names"][:SHOWN_NAMES]:
            result = ", ".join(n["answers"]) or ", ".join(r for r in n["rcodes"] if r) or "no answer"
            table.add_row(Text(n["name"]), " ".join(str(x) for x in n["types"]),
                          str(n["queries"]), str(n["responses"]), Text(result))
        yield Text("")
        yield table
        hidden = len(o["dns_names"]) - SHOWN_NAMES + o["dns_names_not_listed"]
        if hidden > 0:
            yield Text(f"… and {hidden:,} more names", style="dim")

    if o["busiest"]:
        table = Table(box=None, header_style="bold", padding=(0, 1))
        for col in ("#", "proto", "endpoint A", "endpoint B", "packets", "state"):
            table.add_column(col, justify="right" if col in ("#", "packets") else "left")
        for c in o["busiest"]:
            state = ""
            if c["proto"] == "TCP":
                state = "reset" if c["reset"] else "closed" if c["closed"] else (
                    "open" if c["handshake"] else "no handshake")
            table.add_row(str(c["number"]), c["proto"], c["a"], c["b"], f"{c['packets']:,}", state)
        yield Text("\nbusiest conversations", style="bold")
        yield table

    if o["calls"]:
        yield Text("\ncalls", style="bold")
        for c in o["calls"]:
            line = Text("  ")
            line.append(c["text"], style="bold")
            if c["error"]:
                line.append(f"  {c['error']}", style="red")
            else:
                line.append(f"  → {c['result']}", style="green")
            line.append(f"  ({_n(c['packets'], 'packet')})", style="dim")
            yield line
        if o["calls_not_listed"]:
            yield Text(f"  … and {o['calls_not_listed']:,} more calls", style="dim")


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


def _n(count: int, word: str) -> str:
    """'1 packet', '2 packets', '12,000 packets'."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"
