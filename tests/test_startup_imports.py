"""Start-up: what stands between a command's start and the capture listening.

The capture process's own start is the lesson's wait before its first call, and
the main process starts it before loading the decoder, the correlator and the
session (they load while it starts). These guard the imports on that path; the
times themselves are benchmarks/startup.py's (a shared machine makes timed
tests flaky).
"""

from __future__ import annotations

import subprocess
import sys

from sockviz.sources import live


def _modules_after(code: str, *flags: str) -> set[str]:
    out = subprocess.run([sys.executable, *flags, "-c", code + "\nprint(sorted(sys.modules))"],
                         capture_output=True, text=True, check=True, env=live._child_environ())
    return set(eval(out.stdout))  # a list of module names, printed by us


def test_the_capture_process_starts_on_small_modules_only():
    # Sniffer's very command line: -S -P -c, then the capture process's own imports.
    flags, code = live.CHILD_START[:-2], live.CHILD_START[-1].split("; sys.exit")[0]
    loaded = _modules_after(code, *flags)
    assert not loaded & {"argparse", "enum", "contextlib", "ctypes", "socket", "signal",
                         "selectors", "site", "runpy"}


def test_a_lesson_module_leaves_the_decoder_and_session_for_later():
    # `sockviz tcp` imports its command module before it starts the capture process.
    loaded = _modules_after("import sys\nimport sockviz.cli, sockviz.commands.tcp")
    assert not loaded & {"sockviz.core.decode", "sockviz.core.correlate", "sockviz.session",
                         "typing", "pathlib"}


def test_the_capture_process_refuses_an_unknown_option_in_one_line():
    done = subprocess.run([sys.executable, *live.CHILD_START, "--spool-fd", "0", "--bogus"],
                          capture_output=True, text=True, env=live._child_environ())
    assert done.returncode == 2
    assert done.stderr == "sockviz-capture: unknown option '--bogus'\n"
