"""An unexpected error is one sentence and status 1; --debug shows the traceback."""

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


def _env(**environ):
    return Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), width=100,
                       color=False, environ=environ)


@pytest.fixture
def broken_command(monkeypatch):
    """A command that fails the way a bug does, deep inside sockviz."""

    def dispatch(args, env, argv):
        return {}["no such key"]

    monkeypatch.setattr("sockviz.commands.dispatch", dispatch)


def test_a_bug_is_one_sentence_and_status_1(broken_command):
    env = _env()
    status = main(["replay", "captures/tcp.pcapng"], env)
    err = env.stderr.getvalue()
    assert status == ExitStatus.ERROR
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "unexpected error (KeyError" in err and "a bug in sockviz" in err and "--debug" in err
    assert "test_errors.py" not in err  # the place named is sockviz's, never the test's


@pytest.mark.parametrize("argv, environ", [
    (["--debug", "replay", "f.pcapng"], {}),
    (["replay", "f.pcapng", "--debug"], {}),
    (["replay", "f.pcapng"], {"SOCKVIZ_DEBUG": "1"}),
])
def test_debug_lets_the_traceback_through(broken_command, argv, environ):
    with pytest.raises(KeyError):
        main(argv, _env(**environ))


def test_a_failure_in_the_pipeline_thread_prints_no_traceback():
    """The live pipeline's thread keeps its exception for finish(), which raises it once."""
    import queue

    from sockviz.core.scope import Scope
    from sockviz.session import LiveSession

    class Sniffer:
        drops = 0
        failure = None

        def start(self):
            pass

        def stop(self):
            pass

    class Exploding:
        def handle(self, entry):
            raise RuntimeError("renderer broke")

        def close(self):
            pass

    frames: queue.SimpleQueue = queue.SimpleQueue()
    session = LiveSession(role="client", scope=Scope(), sinks=[Exploding()], dns=None,
                          sniffer=Sniffer(), frames=frames)
    session.note("a note the renderer cannot show")
    with pytest.raises(RuntimeError, match="renderer broke"):
        session.finish()


def test_a_closed_pipe_is_not_an_error():
    """``sockviz replay FILE | head -1``: status 0, nothing on stderr."""
    proc = subprocess.run(f"{sys.executable} -m sockviz replay {ROOT}/captures/tcp.pcapng --json | head -1",
                          shell=True, capture_output=True, text=True, timeout=60)
    assert proc.stderr == ""
    assert proc.stdout.startswith("{")
