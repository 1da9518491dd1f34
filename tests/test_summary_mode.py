"""``sockviz replay FILE --summary``: the overview renderer over the same timeline."""

from __future__ import annotations

import io
import json
from pathlib import Path

from scenarios import SCENARIOS, feed
from sockviz.capfile.reader import open_capture
from sockviz.environment import Environment
from sockviz.render.summary import SummaryCounter, render
from sockviz.replay import replay
from test_capture_roundtrip import live_json


def overview_of(*names):
    counter = SummaryCounter()
    for name in names:
        for entry in feed(SCENARIOS[name]().events):
            counter.handle(entry)
    return counter.overview()


def test_counts_handshakes_teardowns_and_resets():
    o = overview_of("tcp_exchange", "tcp_refused")
    assert o["tcp"]["syn"] == 2
    assert o["tcp"]["handshakes"] == 1
    assert o["tcp"]["teardowns"] == 1
    assert o["tcp"]["refused"] == 1 and o["tcp"]["resets"] == 1
    protos = {p["proto"]: p["packets"] for p in o["protocols"]}
    assert protos["TCP"] == 11 and protos["ARP"] == 2


def test_lists_dns_names_with_their_answers():
    o = overview_of("getaddrinfo_dns")
    names = {n["name"]: n for n in o["dns_names"]}
    assert list(names) == ["chat.sockviz.test"]
    entry = names["chat.sockviz.test"]
    assert entry["queries"] == 2 and entry["responses"] == 2
    assert set(entry["types"]) == {"A", "AAAA"}
    assert "192.0.2.2" in entry["answers"]


def test_retransmissions_are_counted():
    assert overview_of("tcp_no_answer")["tcp"]["retransmissions"] == 3


def run_replay(path, **flags):
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO(), width=100, color=False)
    with open_capture(path) as reader:
        status = replay(reader, env, **{"summary": True, **flags})
    return status, out.getvalue()


def test_replay_summary_shows_the_overview_not_the_packets(tmp_path):
    path = tmp_path / "run.pcapng"
    live_json(SCENARIOS["tcp_exchange"]().events, path)
    status, text = run_replay(path)
    assert status == 0
    assert "11 packets" in text and "1 handshake completed" in text
    assert "connect(('192.0.2.2', 3001))" in text  # the calls of a sockviz run
    assert "[SYN]" not in text  # no packet lines


def test_replay_summary_json_is_an_overview_then_the_summary(tmp_path):
    path = tmp_path / "dns.pcapng"
    live_json(SCENARIOS["getaddrinfo_dns"]().events, path)
    status, text = run_replay(path, json=True)
    records = [json.loads(line) for line in text.splitlines()]
    assert status == 0
    assert [r["type"] for r in records] == ["overview", "summary"]
    assert records[0]["packets"] == records[1]["packets"] == 4
    assert records[0]["dns_names"][0]["name"] == "chat.sockviz.test"


def test_overview_view_fits_a_narrow_console():
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, width=60, no_color=True, color_system=None, force_terminal=False)
    for renderable in render(overview_of("tcp_exchange", "getaddrinfo_dns", "udp_unreachable")):
        console.print(renderable)
    text = out.getvalue()
    assert "chat.sockviz.test" in text and "busiest conversations" in text
    assert max(len(line) for line in text.splitlines()) <= 60


CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "tcpdump-tests"


def test_every_corpus_file_has_an_overview():
    """tcpdump's malformed captures: --summary never raises (the overview is a renderer too)."""
    import pytest

    from sockviz.capfile.reader import NotACapture

    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/tcpdump-tests is not here")
    shown = 0
    for path in sorted(CORPUS.iterdir()):
        try:
            status, text = run_replay(path)
        except NotACapture:
            continue
        assert status in (0, 6) and "overview" in text, path.name
        shown += 1
    assert shown > 300
