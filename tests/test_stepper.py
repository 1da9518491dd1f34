"""Stepping (issue 16): ``sockviz replay FILE --step``, one event a key press.

The state machine (``Stepper``) is tested on the timeline of a shipped
capture, made by the replay's own path; the terminal loop (``run_stepper``)
end to end in a pseudo-terminal, keys written to its master side.
"""

from __future__ import annotations

import functools
import io
import itertools
import os
import select
import signal
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from sockviz.core.events import Call
from sockviz.core.timeline import CallEnded, CallStarted, Note, PacketShown, Summary
from sockviz.render.stepper import (
    NOT_A_TERMINAL,
    KeyReader,
    NotATerminal,
    StepKind,
    Stepper,
    StepSink,
    StepView,
    build_steps,
    entries_of,
    parse_key,
    question_text,
    run_stepper,
)

ROOT = Path(__file__).resolve().parents[1]
TCP = ROOT / "captures" / "tcp.pcapng"
TIMEOUT = 15.0  # seconds any one wait on the pseudo-terminal may take


@functools.cache
def _tcp() -> tuple:
    return tuple(entries_of(TCP))


def tcp_entries() -> list:
    return list(_tcp())


def draw(stepper: Stepper, width: int = 100, height: int = 60) -> str:
    c = Console(width=width, height=height, no_color=True, color_system=None,
                force_terminal=False, highlight=False, emoji=False, file=io.StringIO())
    c.print(StepView(stepper))
    return c.file.getvalue()


@functools.cache
def total() -> int:
    """How many steps tcp.pcapng makes: one question and one answer a call, one a lone packet
    (how many packets come between calls differs from one run of the lesson to the next)."""
    return len(Stepper(tcp_entries()))


CONNECT = "connect(('chat.sockviz.test', 3001))"  # the lesson's program gives connect() the name


def call_named(steps, kind, name):
    return next(i for i, s in enumerate(steps) if s.kind is kind and s.call.name == name)


# -- the steps -------------------------------------------------------------------

def test_each_call_is_a_question_then_its_answer_and_each_lone_packet_a_step():
    entries = tcp_entries()
    steps = Stepper(entries).steps
    calls = [e for e in entries if isinstance(e, CallStarted)]
    lone = [e for e in entries if isinstance(e, PacketShown) and e.call_id is None]
    assert len(steps) == 2 * len(calls) + len(lone) == total()
    assert [c.call.name for c in calls] == ["socket", "settimeout", "connect", "send", "recv",
                                            "close"]
    kinds = [s.kind for s in steps]
    assert kinds[:2] == [StepKind.QUESTION, StepKind.CALL]
    for i, s in enumerate(steps):
        if s.kind is StepKind.QUESTION:
            answer = steps[i + 1]
            assert answer.kind is StepKind.CALL and answer.call.id == s.call.id
            assert isinstance(answer.entries[0], CallStarted)
            assert isinstance(answer.entries[-1], CallEnded)
    # Every entry is explained by exactly one step, in order.
    explained = [e for s in steps for e in s.entries]
    assert explained == entries


def test_the_question_before_connect_shows_nothing_of_its_packets():
    stepper = Stepper(tcp_entries())
    q = call_named(stepper.steps, StepKind.QUESTION, "connect")
    stepper.go(q)
    step = stepper.current()
    assert step.kind is StepKind.QUESTION
    assert question_text(step.call).plain == (
        f"{CONNECT} — what will this call send? (press → to see)")
    visible = stepper.visible_entries()
    assert not any(isinstance(e, CallStarted) and e.call.name == "connect" for e in visible)
    assert not any(isinstance(e, PacketShown) and e.step == "syn" for e in visible)
    # The next press: the call with its packets, the name's DNS, then the handshake.
    assert stepper.next()
    answer = stepper.current()
    assert answer.kind is StepKind.CALL and answer.call.name == "connect"
    assert [e.step for e in answer.entries if isinstance(e, PacketShown)
            and not e.step.startswith("arp")] == [
        "dns-query", "dns-response", "syn", "synack", "handshake-ack"]
    assert stepper.visible_entries()[-1] is answer.entries[-1]


def test_forward_back_first_last():
    stepper = Stepper(tcp_entries())
    n = len(stepper)
    assert stepper.position == 1 and stepper.at_first
    assert not stepper.back()  # nothing before the first step
    assert stepper.next() and stepper.position == 2
    assert stepper.back() and stepper.position == 1
    assert stepper.last() and stepper.position == n and stepper.at_last
    assert not stepper.next()  # the last step stays
    assert not stepper.last()
    assert stepper.first() and stepper.position == 1
    assert stepper.current().kind is StepKind.QUESTION
    assert stepper.current().call.name == "socket"


def test_visible_entries_grow_one_step_at_a_time():
    entries = tcp_entries()
    stepper = Stepper(entries)
    assert stepper.visible_entries() == []  # before the first call: an empty ladder
    seen = [list(stepper.visible_entries())]
    while stepper.next():
        seen.append(list(stepper.visible_entries()))
    for before, after in itertools.pairwise(seen):
        assert after[:len(before)] == before and len(after) >= len(before)
    assert seen[-1] == entries  # the summary with the last step
    assert isinstance(stepper.current().entries[-1], Summary)
    packets = [sum(isinstance(e, PacketShown) for e in v) for v in seen]
    assert packets[-1] == 14
    # Back again: the ladder shrinks the same way.
    stepper.back()
    assert stepper.visible_entries() == seen[-2]


def test_calls_inside_calls_get_their_own_question():
    def call(i, name, start, end=None, parent=None):
        return Call(id=i, name=name, text=f"{name}()", start=start, end=end, parent=parent)

    outer, inner = call(1, "create_connection", 0.0), call(2, "connect", 0.1)
    entries = [
        Note(time=0.0, text="the course's one-liner"),
        CallStarted(call=outer),
        CallStarted(call=inner),
        CallEnded(call=call(2, "connect", 0.1, 0.2, parent=1), packets=0),
        CallEnded(call=call(1, "create_connection", 0.0, 0.3), packets=0),
        CallEnded(call=call(3, "close", 0.4, 0.5), packets=0),  # its start lost
        Note(time=0.6, text="the end"),
    ]
    steps = build_steps(entries)
    assert [(s.kind, s.call.name) for s in steps] == [
        (StepKind.QUESTION, "create_connection"), (StepKind.CALL, "create_connection"),
        (StepKind.QUESTION, "connect"), (StepKind.CALL, "connect"),
        (StepKind.CALL, "create_connection"),  # its end, after the call it made
        (StepKind.QUESTION, "close"), (StepKind.CALL, "close")]
    assert steps[0].entries == (entries[0],) and steps[0].end == 1  # the note goes first
    assert steps[-1].entries[-1] is entries[-1] and steps[-1].end == len(entries)
    assert [e for s in steps for e in s.entries] == entries


def test_an_empty_timeline_has_no_step():
    stepper = Stepper([])
    assert len(stepper) == 0 and stepper.current() is None and stepper.visible_entries() == []
    assert not stepper.next() and not stepper.last()


# -- the screen --------------------------------------------------------------------

def test_the_screen_asks_then_answers_with_the_syn_arrow():
    stepper = Stepper(tcp_entries())
    stepper.go(call_named(stepper.steps, StepKind.QUESTION, "connect"))
    asked = draw(stepper)
    assert f"{CONNECT} — what will this call send? (press → to see)" in asked
    assert "SYN seq=0" not in asked
    assert asked.rstrip("\n").splitlines()[-1] == f"step 5 of {total()} · → next · ← back · q quit"
    stepper.next()
    answered = draw(stepper)
    syn = next(line for line in answered.splitlines() if "SYN seq=0" in line)
    assert "──▶│" in syn and "◀" not in syn  # out, from you to the server
    assert f"▶ {CONNECT}" in answered  # the view's explanation below
    assert "three-way handshake" in answered
    assert "what will this call send?" not in answered


def test_the_first_and_last_screens():
    stepper = Stepper(tcp_entries())
    first = draw(stepper)
    assert "conversation" not in first  # nothing drawn yet
    assert first.rstrip("\n").splitlines()[-1] == f"step 1 of {total()} · → next · q quit"
    stepper.last()
    last = draw(stepper)
    assert last.rstrip("\n").splitlines()[-1] == (
        f"step {total()} of {total()} · the end · ← back · q quit")
    assert "14 packets · 6 calls" in last


@pytest.mark.parametrize("width", [60, 80, 100])
def test_every_screen_fits_the_console(width):
    stepper = Stepper(tcp_entries())
    while True:
        for line in draw(stepper, width).splitlines():
            assert len(line) <= width and line == line.rstrip(), repr(line)
        if not stepper.next():
            break


def test_a_short_terminal_keeps_the_newest_part_of_the_ladder():
    stepper = Stepper(tcp_entries())
    stepper.go(call_named(stepper.steps, StepKind.QUESTION, "close"))
    text = draw(stepper, height=24)
    lines = text.rstrip("\n").splitlines()
    assert len(lines) <= 24
    assert "lines of the ladder above" in lines[0]
    assert any("ACK seq=15 ack=15" in line for line in lines)  # the newest arrow stays
    assert "close() — what will this call send?" in text


# -- keys --------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "key", "used"), [
    (b"\x1b[C", "right", 3), (b"\x1b[D", "left", 3), (b"\x1bOC", "right", 3),
    (b"\x1b[H", "home", 3), (b"\x1b[F", "end", 3), (b"\x1b[1~", "home", 4),
    (b"\x1b[4~", "end", 4), (b"\x1b[1;5C", "right", 6), (b"\x1b[5~", "", 4),
    (b" ", " ", 1), (b"\n", "\n", 1), (b"\r", "\r", 1), (b"\x7f", "backspace", 1),
    (b"q", "q", 1), (b"\x03", "ctrl-c", 1), (b"\x1bq", "esc", 1), (b"\xc3\xa9", "", 1),
    (b"\x1b[C ", "right", 3),
])
def test_parse_key(data, key, used):
    assert parse_key(data) == (key, used)


@pytest.mark.parametrize("data", [b"", b"\x1b", b"\x1b[", b"\x1b[1", b"\x1bO"])
def test_parse_key_waits_for_the_rest_of_a_sequence(data):
    assert parse_key(data) == (None, 0)


def test_a_lone_escape_is_the_esc_key_and_a_split_arrow_is_one_key():
    r, w = os.pipe()
    try:
        reader = KeyReader(r, escape_wait=0.05)
        os.write(w, b"\x1b")
        assert reader.read() == "esc"
        os.write(w, b"\x1b[")
        os.write(w, b"Dq")
        assert reader.read() == "left"
        assert reader.read() == "q"
        os.close(w)
        w = -1
        assert reader.read() == "eof"
    finally:
        os.close(r)
        if w != -1:
            os.close(w)


# -- not on a terminal -------------------------------------------------------------

def test_off_a_terminal_it_refuses_in_one_sentence():
    r, w = os.pipe()
    try:
        with pytest.raises(NotATerminal) as caught:
            run_stepper(tcp_entries(), Console(file=io.StringIO()), r)
    finally:
        os.close(r)
        os.close(w)
    assert str(caught.value) == (
        "--step needs a terminal: run it in a terminal, or use --ladder to see the whole diagram")


def test_step_through_refuses_before_reading_the_file():
    from sockviz.environment import Environment
    from sockviz.refusal import Refusal
    from sockviz.render.stepper import step_through
    from sockviz.status import ExitStatus

    env = Environment(stdin=io.StringIO(""), stdout=io.StringIO(), stderr=io.StringIO())
    reader = SimpleNamespace()  # any use of it would fail: it is not read
    with pytest.raises(Refusal) as caught:
        step_through(reader, env)
    assert caught.value.sentence == NOT_A_TERMINAL
    assert caught.value.status == ExitStatus.USAGE


def test_the_sink_keeps_a_bounded_timeline():
    sink = StepSink(max_packets=5)
    for e in tcp_entries():
        sink.handle(e)
    kept = [e for e in sink.entries if isinstance(e, PacketShown)]
    assert len(kept) == 5 and sink.left_out == 9
    note, summary = sink.entries[-2:]
    assert isinstance(note, Note) and "9 more" in note.text
    assert isinstance(summary, Summary)
    Stepper(sink.entries)  # an open call at the cut is fine


# -- end to end, in a pseudo-terminal ---------------------------------------------

CHILD = """
import sys, termios
from rich.console import Console
from sockviz.render.stepper import entries_of, run_stepper

entries = entries_of(sys.argv[1])
before = termios.tcgetattr(0)
console = Console(file=sys.stdout, width=100, height=60, force_terminal=True, color_system=None,
                  highlight=False, emoji=False)
try:
    status = run_stepper(entries, console, 0)
except KeyboardInterrupt:
    status = 130
after = termios.tcgetattr(0)
print("settings restored" if after == before else "settings CHANGED", flush=True)
sys.exit(status)
"""
CLEAR = "\x1b[2J"  # each screen begins with it


class Pty:
    """A child Python on a pseudo-terminal: write keys to it, read its screens."""

    def __init__(self) -> None:
        import pty

        pid, fd = pty.fork()
        if pid == 0:  # the child: the pty's slave is its stdin, stdout and controlling terminal
            try:
                os.execv(sys.executable, [sys.executable, "-c", CHILD, str(TCP)])
            finally:
                os._exit(127)
        self.pid, self.fd, self.out, self.status = pid, fd, "", None

    def _read(self, deadline: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child is gone
            data = b""
        self.out += data.decode("utf-8", "replace")
        return bool(data)

    def screen(self, *texts: str) -> str:
        """Wait until the last screen holds every one of ``texts``; return it."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            last = self.out.rsplit(CLEAR, 1)[-1]
            if CLEAR in self.out and all(t in last for t in texts):
                return last.replace("\r\n", "\n")
            if time.monotonic() > deadline or not self._read(deadline):
                pytest.fail(f"no screen with {texts!r} within {TIMEOUT} s; "
                            f"the end of the output: {self.out[-2000:]!r}")

    def press(self, keys: str, *texts: str) -> str:
        os.write(self.fd, keys.encode())
        return self.screen(*texts)

    def wait(self) -> int:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            self._read(min(deadline, time.monotonic() + 0.1))
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._read(time.monotonic() + 0.2):
                    pass
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
        pytest.fail(f"the child did not end within {TIMEOUT} s: {self.out[-2000:]!r}")

    def close(self) -> None:
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def child():
    if sys.platform != "linux":
        pytest.skip("pseudo-terminals as Linux has them")
    p = Pty()
    try:
        yield p
    finally:
        p.close()


def test_stepping_in_a_terminal(child):
    n = total()
    first = child.screen("what will this call send?", f"step 1 of {n}")
    assert "socket(AF_INET, SOCK_STREAM)" in first
    child.press("\x1b[C", f"step 2 of {n}", "▶ socket(AF_INET, SOCK_STREAM)")  # → the answer
    child.press(" ", f"step 3 of {n}", "settimeout(10.0) — what will this call send?")
    child.press("\r", f"step 4 of {n}")  # Enter (the terminal may make it \n: both work)
    asked = child.press("n", f"step 5 of {n}")
    assert f"{CONNECT} — what will this call send? (press → to see)" in asked
    assert "SYN seq=0" not in asked
    answer = child.press("\x1b[C", f"step 6 of {n}", "SYN seq=0")
    assert f"▶ {CONNECT}" in answer
    assert any("SYN seq=0" in line and "──▶│" in line and "◀" not in line
               for line in answer.splitlines())
    back = child.press("\x1b[D", f"step 5 of {n}")  # ←: the question again
    assert "what will this call send?" in back and "SYN seq=0" not in back
    child.press("p", f"step 4 of {n}")
    child.press("\x1b[F", f"step {n} of {n}", "the end")  # End
    child.press("\x1b[H", f"step 1 of {n}")  # Home
    child.press("G", f"step {n} of {n}")
    child.press("g", f"step 1 of {n}")
    os.write(child.fd, b"q")
    assert child.wait() == 0
    assert child.out.rstrip().endswith("settings restored")


def test_ctrl_c_in_the_terminal_restores_it(child):
    child.screen("what will this call send?", f"step 1 of {total()}")
    child.press("\x1b[C", f"step 2 of {total()}")
    os.write(child.fd, b"\x03")  # the terminal makes it SIGINT: KeyboardInterrupt in the child
    assert child.wait() == 130
    assert child.out.rstrip().endswith("settings restored")


def test_escape_quits(child):
    child.screen(f"step 1 of {total()}")
    os.write(child.fd, b"\x1b")
    assert child.wait() == 0
    assert child.out.rstrip().endswith("settings restored")
