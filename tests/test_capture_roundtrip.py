"""A run saved as pcapng replays to the same timeline (calls restored from comments)."""

from __future__ import annotations

import io
import json

import pytest

from scenarios import SCENARIOS
from sockviz.capfile.reader import open_capture
from sockviz.core.correlate import Correlator
from sockviz.core.dnsinfo import dns_info
from sockviz.environment import Environment
from sockviz.render.capture_file import CaptureFileSink
from sockviz.render.jsonlines import JsonLinesSink
from sockviz.replay import replay

TIMES = ("time", "start", "end")


def live_json(events, path) -> list[dict]:
    """What a live run prints with --json, while saving to ``path``."""
    out = io.StringIO()
    sinks = [JsonLinesSink(out), CaptureFileSink(str(path), {"role": "client", "title": "t"})]
    corr = Correlator(role="client", dns=dns_info)
    for kind, obj in events:
        entries = {"packet": corr.packet, "start": corr.call_started, "end": corr.call_ended}[kind](obj)
        for e in entries:
            for s in sinks:
                s.handle(e)
    summary = corr.summary(kernel_drops=None, capture=None)
    for s in sinks:
        s.handle(summary)
        s.close()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def replay_json(path) -> tuple[list[dict], int]:
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO())
    with open_capture(path) as reader:
        status = replay(reader, env, json=True)
    return [json.loads(line) for line in out.getvalue().splitlines()], status


def strip(records):
    return [{k: v for k, v in r.items() if k not in TIMES} for r in records]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_replay_of_saved_run_gives_the_same_timeline(name, tmp_path):
    path = tmp_path / f"{name}.pcapng"
    live = live_json(SCENARIOS[name]().events, path)
    again, status = replay_json(path)
    assert status == 0
    assert strip(again) == strip(live)
    for a, b in zip(again, live, strict=True):
        for k in TIMES:
            if a.get(k) is not None:
                assert abs(a[k] - b[k]) < 1e-6


def test_calls_without_packets_survive_in_the_section_header(tmp_path):
    """A run whose calls put nothing on the wire (a name from /etc/hosts) still replays."""
    from scenarios import Builder

    b = Builder()
    call, done = b.call("getaddrinfo", "getaddrinfo('localhost', None)", 0, 0.001,
                        "[(AF_INET, SOCK_STREAM, 6, '', ('127.0.0.1', 0))]", transport="DNS",
                        note="localhost is in /etc/hosts")
    b.start(call)
    b.end(done)
    path = tmp_path / "silent.pcapng"
    live = live_json(b.events, path)
    again, _ = replay_json(path)
    assert strip(again) == strip(live)
    assert again[0]["lesson"] == "localhost is in /etc/hosts"


def test_wireshark_sees_the_calls_as_comments(tmp_path):
    import shutil
    import subprocess

    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    path = tmp_path / "t.pcapng"
    live_json(SCENARIOS["tcp_exchange"]().events, path)
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.comment"],
                         capture_output=True, text=True, timeout=60).stdout
    assert "connect(('192.0.2.2', 3001)) → None" in out
    assert "close() → None" in out
