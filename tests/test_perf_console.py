"""A long transfer is summed up on the terminal, not printed segment by segment."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from rich.console import Console

from sockviz.core.correlate import Correlator
from sockviz.core.decode import LINKTYPE_ETHERNET, decode
from sockviz.core.events import Packet
from sockviz.render.console import BULK_SHOWN, ConsoleSink

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import synthcap


def transfer(segments: int):
    """One TCP connection from the synthetic writer: handshake, bulk data, teardown."""
    import random

    conn = synthcap._Tcp(random.Random(3), 7, v6=False)
    corr = Correlator(role="client")
    for i, frame in enumerate(conn.frames(segments)):
        pkt = Packet(index=i + 1, time=1_795_000_000.0 + i * 1e-4, iface="eth0",
                     direction="out" if frame[6:12] == synthcap.MAC_C else "in",
                     linktype=LINKTYPE_ETHERNET, wirelen=len(frame), data=frame,
                     decoded=decode(frame, LINKTYPE_ETHERNET))
        yield from corr.packet(pkt)
    yield corr.summary(kernel_drops=0, capture=None)


def render(entries, terminal=False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=120, no_color=True, color_system=None,
                      force_terminal=terminal, highlight=False, emoji=False)
    sink = ConsoleSink(console)
    for e in entries:
        sink.handle(e)
    sink.close()
    return out.getvalue()


def test_a_long_transfer_is_summed_up_in_one_line():
    entries = list(transfer(2000))
    packets = sum(1 for e in entries if hasattr(e, "step"))
    text = render(entries)
    lines = text.splitlines()
    assert packets > 3000
    assert len(lines) < 80  # the handshake, the first segments, one sum, the teardown
    assert text.count("more packets summed up") == 1
    shown = sum(1 for line in lines if re.match(r"\s*[·│] #\d+ ", line))
    summed = " ".join(text.split("⋮ ")[1].split("\n  · #")[0].split())
    counted = int(summed.split(" more")[0].replace(",", ""))
    assert shown + counted == packets  # nothing lost between the lines and the sum
    assert "the peer's window stayed at" in summed
    assert "in the capture file and in --json" in summed
    assert "[FIN, ACK]" in text  # the teardown is shown again, line by line
    fin = next(line for line in lines if "[FIN, ACK]" in line)
    assert "+100 µs" in fin  # since the packet before, summed up or not


def test_short_exchanges_are_shown_whole():
    entries = list(transfer(BULK_SHOWN // 2))
    text = render(entries)
    assert "summed up" not in text
    assert text.count("[ACK]") >= 3


def test_on_a_terminal_the_run_is_followed_live_and_the_status_goes_away():
    text = render(list(transfer(500)), terminal=True)
    assert "more packets summed up" in text
