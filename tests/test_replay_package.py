"""sockviz.replay's keyword API: the same output as the command, sinks beside it, a language."""

from __future__ import annotations

import io
from pathlib import Path

from scenarios import CollectSink
from sockviz.cli import main
from sockviz.core import phrases
from sockviz.core.timeline import PacketShown
from sockviz.environment import Environment
from sockviz.replay import run
from sockviz.status import ExitStatus

CAPTURE = Path(__file__).resolve().parent.parent / "captures" / "tcp.pcapng"


def quiet_env() -> Environment:
    return Environment(stdout=io.StringIO(), stderr=io.StringIO(), width=100, color=False)


def command_json(*options: str) -> str:
    env = quiet_env()
    assert main(["replay", str(CAPTURE), "--json", *options], env) == ExitStatus.OK
    return env.stdout.getvalue()


def test_run_writes_what_the_command_writes():
    env = quiet_env()
    assert run(str(CAPTURE), env, json=True) == ExitStatus.OK
    assert env.stdout.getvalue() == command_json()


def test_a_sink_beside_json_lines_gets_every_entry_and_the_lines_stay_the_same():
    env, sink = quiet_env(), CollectSink()
    assert run(str(CAPTURE), env, json=True, sinks=[sink]) == ExitStatus.OK
    lines = env.stdout.getvalue()
    assert lines == command_json()
    packets = sum(1 for line in lines.splitlines() if line.startswith('{"type": "packet"'))
    assert packets == 14
    assert sum(isinstance(e, PacketShown) for e in sink.entries) == packets


def test_json_with_a_diagram_file_is_the_json_alone(tmp_path):
    svg = tmp_path / "run.svg"
    assert command_json("--svg", str(svg)) == command_json()
    drawing = svg.read_text(encoding="utf-8")
    assert "<svg" in drawing and drawing.count("SYN") >= 2  # the handshake drawn


def test_lang_speaks_for_one_replay_and_gives_the_language_back():
    phrases.set_language("en")
    env = quiet_env()
    run(str(CAPTURE), env, summary=True, json=True, lang="fr")
    assert '"lang": "fr"' in env.stdout.getvalue()
    assert phrases.current_language() == "en"
