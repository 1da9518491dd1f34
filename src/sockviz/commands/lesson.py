"""What the built-in lessons share: their program, traced as ``sockviz run`` traces one.

A lesson (``tcp``, ``udp``, ``resolve``, ``serve --watch``) is a plain Python
socket program (sockviz.lessons), written from the command's arguments as a
student would write it, run under the recorder through ``run.traced``: the
lessons' calls and a learner's are recorded the one same way. What the lesson
adds is commentary: ``notes`` at a call's end, ``before`` the first line, and
``outcome`` when the program stops on a socket error (a sentence, a status).
``--code`` prints the program instead, for the notebook.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sockviz.commands.run import Program, traced
from sockviz.core.events import Call
from sockviz.status import ExitStatus


@dataclass
class LessonProgram:
    """A lesson's program: its code, the file name its lines are shown with, its commentary.

    ``notes(session, call)``: at each call's end, the call's own note or None (it
    may add timeline notes with ``session.note``); ``before(session)``: notes before the
    program's first line; ``outcome(error, failed)``: when the program stopped on
    ``error`` (an OSError), raised by the recorded call ``failed`` (or None), the
    status and the sentence to say (or None), after any note it adds. After
    ``deadline`` seconds a program still running (a call that cannot be
    interrupted: glibc's resolver) is left behind: ``give_up(session)`` notes
    why, the capture is closed, its sentence said, and the process ends.
    """

    code: str
    filename: str
    notes: Callable | None = None
    before: Callable | None = None
    outcome: Callable | None = None
    deadline: float | None = None  # seconds: then give_up(session) says why sockviz stops
    give_up: Callable | None = None
    failed: Call | None = field(default=None, init=False)  # the last call that raised


def lesson_argv(argv: list[str]) -> str:
    """The command as the user typed it, without ``--code``: the program's first comment."""
    return shlex.join(["sockviz", *(a for a in argv if a != "--code")])


def show_code(env, code: str) -> int:
    """``--code``: the program, highlighted on a terminal, as it is when piped."""
    if env.stdout_isatty and env.color is not False:
        from rich.syntax import Syntax

        env.console.print(Syntax(code, "python", theme="ansi_dark", background_color="default",
                          word_wrap=True))
    else:
        env.stdout.write(code)
        env.stdout.flush()
    return ExitStatus.OK


def run_lesson(env, args, argv, lesson: LessonProgram, *, command: str, target: str,
               role: str = "client", scope=None) -> int:
    """Capture, run the lesson's program under the recorder, say how it ended."""
    program = Program("-c", lesson.code, [], filename=lesson.filename)
    live: dict = {}  # the session, once the capture is up

    def notes(call: Call) -> str | None:
        if call.error is not None:
            lesson.failed = call
        return lesson.notes(live["session"], call) if lesson.notes is not None else None

    def body(tracing) -> int:
        live["session"] = tracing.session
        if lesson.before is not None:
            lesson.before(tracing.session)
        saved = sys.stdin
        if env.stdin is not None and env.stdin is not sys.stdin:
            sys.stdin = env.stdin  # the program reads the messages where sockviz would
        watchdog = _Deadline(env, tracing, lesson) if lesson.deadline else None
        try:
            program.execute()
        except OSError as exc:  # socket.gaierror and TimeoutError too
            if lesson.outcome is None:
                raise
            status, sentence = lesson.outcome(tracing.session, exc, lesson.failed)
            if sentence:
                from sockviz.refusal import Refusal

                raise Refusal(sentence, status) from None
            return status
        finally:
            if watchdog is not None:
                watchdog.cancel()
            sys.stdin = saved
        return ExitStatus.OK

    return traced(env, args, argv, command=command, target=target, body=body, role=role,
                  scope=scope, notes=notes)


class _Deadline:
    """Ends the run ``lesson.deadline`` seconds on if its program has not finished by then."""

    def __init__(self, env, tracing, lesson: LessonProgram) -> None:
        self.env, self.tracing, self.lesson = env, tracing, lesson
        self._lock = threading.Lock()
        self._over = False
        self._timer = threading.Timer(lesson.deadline, self._give_up)
        self._timer.name = "sockviz-deadline"  # not the program's: never recorded
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            self._over = True
        self._timer.cancel()

    def _give_up(self) -> None:
        import os

        from sockviz.refusal import say

        with self._lock:
            if self._over:
                return
            self._over = True
            status = ExitStatus.CALL_FAILED
            try:
                sentence = self.lesson.give_up(self.tracing.session)
                self.tracing.stop()  # the view's summary, the capture file closed
                say(self.env, sentence)
            except BaseException:
                status = ExitStatus.ERROR
            finally:
                for stream in (self.env.stdout, sys.stdout, sys.stderr):
                    with contextlib.suppress(OSError, ValueError):
                        stream.flush()
                os._exit(status)  # the main thread is inside glibc: it cannot be unwound
