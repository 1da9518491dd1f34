"""The course notebook, unchanged, in a real Jupyter kernel with ``%load_ext sockviz`` (lab)."""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

import pytest

from livehelpers import replay_json, watch_wire

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "000_30cb83e23a203d39.txt"


@pytest.fixture(scope="module")
def notebook(request):
    if not SEED.exists():
        pytest.skip("the course seed (../shared/seed) is not beside this checkout")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from sockviz.lab import netns

    ok, why = netns.available()
    if not ok:
        pytest.skip(f"no lab: {why}")
    with netns.Lab(dns=True, chat=True) as lab, tempfile.TemporaryDirectory() as cwd:
        with watch_wire(lab.server) as wire:
            proc = lab.client.call([sys.executable, str(ROOT / "tests" / "notebook_runner.py"),
                                    str(SEED)], capture_output=True, text=True, cwd=cwd,
                                   timeout=240)
        assert proc.returncode == 0, proc.stderr
        cells = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        capture = next(Path(cwd, "captures").glob("notebook-*.pcapng"))
        records = replay_json(capture)
    return cells, records, wire


def _cell(cells, starts):
    return next(c for c in cells if c["source"].startswith(starts))


def _under(records, cell, name):
    """The packets captured during the calls named ``name`` of notebook cell ``cell``."""
    ids = {r["id"] for r in records if r["type"] == "call" and r.get("cell") == cell["count"]
           and r["name"] == name}
    assert ids, f"no {name}() call recorded in cell {cell['count']}"
    return [r for r in records if r["type"] == "packet" and r["call_id"] in ids]


def test_every_cell_runs_and_shows_its_calls(notebook):
    cells, _, _ = notebook
    assert all(o["kind"] != "error" for c in cells for o in c["outputs"]), \
        [o for c in cells for o in c["outputs"] if o["kind"] == "error"]
    shown = _cell(cells, "s.connect((SERVEUR, PORT))")["outputs"]
    assert any("connect" in o.get("html", "") and "SYN" in o.get("html", "") for o in shown)


def test_connect_resolves_then_handshakes(notebook):
    cells, records, _ = notebook
    steps = [p["step"] for p in _under(records, _cell(cells, "s.connect"), "connect")
             if p["proto"] in ("DNS", "TCP")]
    assert steps[0] == "dns-query" and steps[-3:] == ["syn", "synack", "handshake-ack"]


def test_send_then_recv_finds_the_bytes_waiting(notebook):
    cells, records, _ = notebook
    sent = _under(records, _cell(cells, 's.send("Test en classe"'), "send")
    assert next(p["step"] for p in sent if p["proto"] == "TCP") == "data"
    assert _under(records, _cell(cells, "data = s.recv(1024)"), "recv") == []
    # The server's echo came in no call: shown in the send cell (the lab's round
    # trip is 30 µs) or, when it lands after that cell, at the top of the recv cell.
    echo = next(p for p in records if p["type"] == "packet" and p["step"] == "data"
                and p["dir"] == "in")
    assert echo["call"] in (None, "send")  # send() may still be returning when it lands
    shown = [o.get("html", "") for c in cells for o in c["outputs"]
             if c["source"].startswith(('s.send("Test', "data = s.recv"))]
    # Shown once, by its number (the compact layout, a notebook's default at 80 columns,
    # says a data segment's bytes on its line, not in a meaning).
    assert sum(len(re.findall(rf"#{echo['index']}\b", h)) for h in shown) == 1


def test_close_sends_fin(notebook):
    cells, records, _ = notebook
    closes = [c for c in cells if c["source"].startswith("s.close()")]
    steps = [p["step"] for p in _under(records, closes[0], "close")]
    assert steps and steps[0] == "fin-first"


def test_sendto_resolves_and_sends_the_datagram(notebook):
    cells, records, _ = notebook
    steps = [p["step"] for p in _under(records, _cell(cells, 's.sendto("Test en classe"'),
                                                "sendto")]
    assert "dns-query" in steps and "udp" in steps


def test_getaddrinfo_asks_a_and_aaaa(notebook):
    cells, records, _ = notebook
    queries = [p for p in _under(records, _cell(cells, 'import socket\n\nsocket.getaddrinfo'),
                                 "getaddrinfo") if p["step"] == "dns-query"]
    assert {q["dns"]["questions"][0]["type"] for q in queries} == {"A", "AAAA"}


@pytest.mark.parametrize("starts, tree", [("import socket\n\nsocket.getnameinfo", "in-addr.arpa"),
                                          ("socket.getnameinfo(('2620", "ip6.arpa")])
def test_getnameinfo_asks_ptr_in_the_reverse_tree(notebook, starts, tree):
    cells, records, _ = notebook
    queries = [p for p in _under(records, _cell(cells, starts), "getnameinfo")
               if p["step"] == "dns-query"]
    assert queries and all(q["dns"]["questions"][0]["type"] == "PTR" for q in queries)
    assert all(q["dns"]["questions"][0]["name"].rstrip(".").endswith(tree) for q in queries)


def test_every_packet_counted_against_the_wire(notebook):
    _, records, wire = notebook
    shown = [r for r in records if r["type"] == "packet" and r["proto"] in ("TCP", "UDP", "DNS")]
    on_wire = wire.count(lambda d: d.proto in ("TCP", "UDP", "DNS"))
    assert len(shown) == on_wire
