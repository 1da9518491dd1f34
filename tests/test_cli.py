"""The command line: help at once, bad input in one sentence with its own status."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from sockviz.cli import main
from sockviz.environment import Environment
from sockviz.status import ExitStatus

ROOT = Path(__file__).resolve().parents[1]


def run(argv, stdin=""):
    env = Environment(stdin=io.StringIO(stdin), stdout=io.StringIO(), stderr=io.StringIO(),
                      width=100, color=False)
    status = main(argv, env)
    return status, env.stdout.getvalue(), env.stderr.getvalue()


def test_help_lists_every_command_with_an_example():
    out = subprocess.run([sys.executable, "-m", "sockviz", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("tcp", "udp", "resolve", "replay", "demo", "serve", "lab"):
        assert f"sockviz {command}" in out


def test_help_does_not_import_scapy_or_rich():
    code = ("import sys, contextlib, io\n"
            "from sockviz.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['--help'])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scapy', 'rich')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "argv, words",
    [
        (["tcp", "192.0.2.2", "70000"], "ports go from 1 to 65535"),
        (["tcp", "192.0.2.2", "http"], "is not a port number"),
        (["udp", "192.0.2.2", "3001", "--size", "lots"], "is not a size"),
        (["tcp", "192.0.2.2", "3001", "--timeout", "0"], "timeout must be"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_with_usage_status(argv, words, capsys):
    status, _, _ = run(argv)
    assert status == ExitStatus.USAGE
    assert words in capsys.readouterr().err


@pytest.mark.parametrize("command", [["tcp", "192.0.2.2", "3001"], ["udp", "192.0.2.2", "3001"],
                                     ["resolve", "chat.sockviz.test"]])
def test_capturing_without_root_says_how_to_run_it(command, monkeypatch):
    monkeypatch.setattr("sockviz.sources.live.have_capture_rights", lambda: False)
    status, _, err = run(command)
    assert status == ExitStatus.NEED_ROOT
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"sudo {sys.executable} -m sockviz {command[0]}" in err


def test_address_family_conflict_is_refused(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    # No capture: the refusal comes before any call that would need the session.
    monkeypatch.setattr("sockviz.commands.tcp.run_live",
                        lambda env, args, argv, **kw: kw["body"](None))
    status, _, err = run(["tcp", "192.0.2.2", "3001", "-6"])
    assert status == ExitStatus.USAGE
    assert err == ("sockviz: 192.0.2.2 is an IPv4 address but -6 asks for IPv6; drop the option "
                   "or give an IPv6 address\n")


def test_replay_of_a_missing_file(tmp_path):
    status, _, err = run(["replay", str(tmp_path / "nope.pcap")])
    assert status == ExitStatus.BAD_FILE and "there is no file" in err


def test_replay_of_a_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello world\n")
    status, _, err = run(["replay", str(path)])
    assert status == ExitStatus.BAD_FILE
    assert "is not a pcap or pcapng capture file" in err and err.count("\n") == 1


def test_replay_of_a_truncated_capture_shows_what_it_can(tmp_path):
    from scenarios import SCENARIOS
    from test_capture_roundtrip import live_json

    path = tmp_path / "t.pcapng"
    live_json(SCENARIOS["tcp_exchange"]().events, path)
    data = path.read_bytes()
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(data[: len(data) * 2 // 3])
    status, out, _ = run(["replay", str(cut)])
    assert status == ExitStatus.DAMAGED_FILE
    assert "[SYN]" in out and "truncated" in out.lower()


@pytest.mark.parametrize("argv, status, words", [
    (["replay", "captures/tcp.pcapng", "--svg", "/nonexistent-folder/x.svg"], 8,
     "the folder /nonexistent-folder does not exist"),
    (["replay", "captures/tcp.pcapng", "--html", "captures"], 8, "is a folder"),
    (["replay", "captures/tcp.pcapng", "--packet", "999"], 64, "there is no packet 999"),
    (["run", "no-such-script.py"], 7, "there is no script 'no-such-script.py'"),
    (["run", "-m", "no_such_module_sockviz"], 7, "no module named"),
    (["run"], 64, "say what to run"),
    (["lab", "run"], 64, "say which command to run"),
])
def test_bad_input_to_the_new_commands_is_one_sentence(argv, status, words, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, _, err = run(argv)
    assert code == status, err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv, words", [
    (["replay", "captures/tcp.pcapng", "--lang", "xx"], "not a language sockviz speaks"),
    (["replay", "captures/tcp.pcapng", "--packet", "0"], "packets are numbered from 1"),
    (["lab", "run", "--loss", "150", "--", "true"], "percentage"),
])
def test_bad_values_are_usage_errors(argv, words, capsys):
    status, _, _ = run(argv)
    assert status == ExitStatus.USAGE
    assert words in capsys.readouterr().err
