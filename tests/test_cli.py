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


@pytest.mark.parametrize("command", ["run", "lab", "resolve"])
def test_a_commands_examples_stay_one_per_line(command):
    # argparse joins an epilog's lines into one paragraph: "examples: sudo sockviz lab shell
    # sudo sockviz lab run -- ..." read as one command
    out = subprocess.run([sys.executable, "-m", "sockviz", command, "--help"],
                         capture_output=True, text=True, check=True,
                         env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"}).stdout
    examples = out[out.index("example"):].splitlines()
    assert len(examples) >= 2
    assert all(line.count("sudo ") == 1 for line in examples)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_lab_run_help_shows_the_labs_help(flag):
    # with no '--', 'lab run --help' was taken for a command named '--help'
    status, out, err = run(["lab", "run", flag])
    assert status == ExitStatus.OK and not err
    assert out.startswith("usage: sockviz lab") and "lab run -- jupyter lab" in out


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


@pytest.mark.parametrize("command", ["tcp", "udp"])
def test_address_family_conflict_is_refused_before_any_capture(command, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def no_capture(*args, **kwargs):
        raise AssertionError("the capture was opened for bad input")

    monkeypatch.setattr("sockviz.commands.run.open_capture", no_capture)
    monkeypatch.setattr("sockviz.commands.live_capture.open_capture", no_capture)
    status, _, err = run([command, "192.0.2.2", "3001", "-6"])
    assert status == ExitStatus.USAGE
    assert err == ("sockviz: 192.0.2.2 is an IPv4 address but -6 asks for IPv6; drop the option "
                   "or give an IPv6 address\n")


# -- --code: the program a lesson runs, printed instead of run ---------------------------------


def no_capture_at_all(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("--code opened the capture")

    monkeypatch.setattr("sockviz.commands.run.open_capture", refuse)
    monkeypatch.setattr("sockviz.sources.live.have_capture_rights", lambda: False)


@pytest.mark.parametrize("argv, lines", [
    (["tcp", "chat.sockviz.test", "3001", "--send", "Test en classe"],
     ['SERVEUR = "chat.sockviz.test"', "PORT = 3001",
      "with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:", "    s.settimeout(10.0)",
      "    s.connect((SERVEUR, PORT))", '    s.send("Test en classe".encode())',
      "    data = s.recv(1024)", "    print(data)"]),
    (["tcp", "chat.sockviz.test", "3001", "-6", "--timeout", "2.5"],
     ["with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:", "    s.settimeout(2.5)"]),
    (["tcp", "192.0.2.2", "3001", "--send-bytes", "3M"],
     ["TAILLE = 3145728", "        s.sendall(bloc)",
      '    lecteur = threading.Thread(target=lire_echo, name="lecteur", daemon=True)']),
    (["udp", "2001:db8::2", "3001", "--send", "un", "--send", "deux"],
     ["with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:", "    s.settimeout(3.0)",
      '    s.sendto("un".encode(), (SERVEUR, PORT))', '    s.sendto("deux".encode(), (SERVEUR, PORT))',
      "    data, adresse = s.recvfrom(1024)", "    print(adresse)"]),
    (["udp", "192.0.2.2", "3999", "--connect", "--send", "allo"],
     ["    s.connect((SERVEUR, PORT))", '    s.send("allo".encode())', "    data = s.recv(1024)"]),
    (["udp", "192.0.2.2", "3001", "--size", "4000"],
     ["    s.sendto((b'sockviz ' * 501)[:4000], (SERVEUR, PORT))", "    print(len(data))"]),
    (["resolve", "www.sockviz.test", "https", "--type", "stream", "-4"],
     ['for info in socket.getaddrinfo("www.sockviz.test", "https", family=socket.AF_INET, '
      'type=socket.SOCK_STREAM):', "    print(info)"]),
    (["resolve", "2001:db8::2", "80"], ['print(socket.getnameinfo(("2001:db8::2", 80), 0))']),
    (["resolve", "192.0.2.2", "--getaddrinfo"],
     ['for info in socket.getaddrinfo("192.0.2.2", None):']),
    (["serve", "--port", "3002"],
     ['HOTE = "::"', "PORT = 3002",
      "serveur.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)",
      "serveur.bind((HOTE, PORT))", "serveur.listen(16)",
      "                client, adresse = serveur.accept()"]),
])
def test_code_prints_the_lesson_program_with_the_arguments_and_captures_nothing(argv, lines,
                                                                                monkeypatch):
    no_capture_at_all(monkeypatch)
    status, out, err = run([*argv, "--code"])
    assert status == ExitStatus.OK and err == ""
    assert out.startswith(f"# sockviz {' '.join(argv[:2])}")
    for line in lines:
        assert line in out.splitlines(), (line, out)
    compile(out, "lesson.py", "exec")  # plain Python: it can be pasted and run


def test_code_without_messages_reads_what_is_typed(monkeypatch):
    no_capture_at_all(monkeypatch)
    _, out, _ = run(["tcp", "192.0.2.2", "3001", "--code"])
    assert "            message = input(" in out and "        except EOFError:" in out


def test_code_is_highlighted_on_a_terminal_only(monkeypatch):
    no_capture_at_all(monkeypatch)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    env = Environment(stdin=io.StringIO(), stdout=Tty(), stderr=io.StringIO(), width=100,
                      color=True)
    assert main(["udp", "192.0.2.2", "3001", "--send", "x", "--code"], env) == 0
    coloured = env.stdout.getvalue()
    assert "\x1b[" in coloured and "s.sendto" in coloured
    _, plain, _ = run(["udp", "192.0.2.2", "3001", "--send", "x", "--code"])
    assert "\x1b[" not in plain


def test_the_lesson_program_is_what_code_prints(monkeypatch):
    """The text --code prints is the text run: the calls' places are its lines."""
    from sockviz.commands import lesson

    no_capture_at_all(monkeypatch)
    ran = {}

    def fake_run_lesson(env, args, argv, program, **kw):
        ran["code"], ran["filename"] = program.code, program.filename
        return 0

    monkeypatch.setattr(lesson, "run_lesson", fake_run_lesson)
    monkeypatch.setattr("sockviz.commands.tcp.run_lesson", fake_run_lesson)
    argv = ["tcp", "chat.sockviz.test", "3001", "--send", "Test en classe"]
    _, shown, _ = run([*argv, "--code"])
    run(argv)
    assert ran["code"] == shown
    assert ran["filename"] == "tcp_client.py"


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
    status, _, err = run(argv)
    assert status == ExitStatus.USAGE
    # argparse's own error on sys.stderr, or a refusal (lab run's options before --)
    assert words in capsys.readouterr().err + err


def test_run_m_looks_a_module_up_without_importing_it(tmp_path, monkeypatch):
    """``sockviz run -m pkg.mod`` finds it in the current folder (as python -m does, though
    the console script's sys.path[0] is its bin folder) and runs none of the program's
    code to find it: a package's __init__ would run as root, before the capture."""
    from sockviz.commands.run import _module_exists

    package = tmp_path / "cours_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("open('init-ran', 'w').close()\n")
    (package / "client.py").write_text("print('client')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", ["/nowhere", *__import__("sys").path[1:]])
    assert _module_exists("cours_pkg.client") and _module_exists("cours_pkg")
    assert not _module_exists("cours_pkg.nope") and not _module_exists("nope_xyz")
    assert _module_exists("http.server") and not _module_exists("a..b")
    assert not (tmp_path / "init-ran").exists()
