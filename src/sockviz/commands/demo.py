"""``sockviz demo``: the seed's lessons, in its order, against a throwaway lab.

Each lesson is a real sockviz command run on the lab's client host (so its
resolver reads the lab's resolv.conf), its capture saved as
./captures/demo-LESSON-TIME.pcapng (never over the captures shipped in the
project's captures/, which are named LESSON.pcapng).
"""

from __future__ import annotations

import datetime
import os
import sys
from dataclasses import dataclass

from sockviz.commands.lab import open_lab
from sockviz.core import phrases
from sockviz.refusal import say
from sockviz.status import ExitStatus


@dataclass(frozen=True)
class Lesson:
    name: str  # its card in the phrasebook (phrases.DEMO_CARDS): title, what to watch for
    argv: tuple[str, ...]
    expect: int = 0  # the exit status this lesson ends with when all goes as taught

    @property
    def title(self) -> str:
        return phrases.demo_card(self.name)[0]

    @property
    def intro(self) -> str:
        return phrases.demo_card(self.name)[1]


LESSONS = (
    Lesson("tcp", ("tcp", "chat.sockviz.test", "3001", "-4", "--send", "Test en classe")),
    Lesson("udp", ("udp", "chat.sockviz.test", "3001", "-4", "--send", "Test en classe")),
    Lesson("getaddrinfo", ("resolve", "www.sockviz.test", "https", "--type", "stream")),
    Lesson("getnameinfo", ("resolve", "192.0.2.2", "25")),
    Lesson("getnameinfo6", ("resolve", "2001:db8::2", "80")),
    Lesson("tcp6", ("tcp", "chat.sockviz.test", "3001", "-6", "--send", "Test en classe")),
    Lesson("udp-unreachable",
           ("udp", "chat.sockviz.test", "3999", "-4", "--send", "allo?", "--timeout", "2"), 4),
    Lesson("tcp-refused", ("tcp", "chat.sockviz.test", "3999", "-4"), 4),
)


def run(args, env, argv) -> int:
    lab = open_lab(argv=argv, delay_ms=args.delay, loss_pct=args.loss,
                   zone_file=getattr(args, "zone", None), environ=env.environ)
    pause = not args.no_pause and env.stdin_isatty and not args.json
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    failures = []
    try:
        for number, lesson in enumerate(LESSONS, 1):
            if not args.json:
                _heading(env, number, lesson)
            # Each lesson speaks the demo's language, whatever the lab's environment says.
            command = [sys.executable, "-m", "sockviz", *lesson.argv,
                       "--save", os.path.join(args.save_dir, f"demo-{lesson.name}-{stamp}.pcapng"),
                       "--lang", phrases.current_language()]
            if args.json:
                command.append("--json")
            elif args.layout:  # else each lesson chooses by the terminal's width
                command.append(f"--{args.layout}")
            env.stdout.flush()
            status = _lesson(lab, command, stdin=None if pause else _devnull())
            if status == ExitStatus.INTERRUPTED:
                raise KeyboardInterrupt
            if status != lesson.expect:
                failures.append(phrases.demo_lesson_failed(lesson.title, status))
            if pause and number < len(LESSONS):
                try:
                    from rich.text import Text

                    env.console.input(Text(phrases.demo_next() + " ", style="dim"))
                except EOFError:
                    pause = False
    finally:
        lab.down()
    if failures:
        say(env, phrases.demo_went_wrong(failures))
        return ExitStatus.ERROR
    if not args.json:
        first = os.path.join(args.save_dir, f"demo-{LESSONS[0].name}-{stamp}.pcapng")
        from rich.text import Text

        from sockviz.render.view import Hanging

        command = "sudo sockviz lab shell"
        head, rest = phrases.demo_done(args.save_dir, first, command)
        text = Text()
        text.append(head, style="bold")
        text.append(" " + rest)
        text.highlight_words([command], style="bold")
        env.console.print()
        env.console.print(Hanging(Text(), text))
    return ExitStatus.OK


def _lesson(lab, command: list[str], stdin) -> int:
    """Run one lesson on the lab's client; a Ctrl-C here ends it cleanly too.

    The lesson runs in a session of its own, so the terminal's Ctrl-C comes to
    us alone; we pass it on as SIGTERM, which sockviz unwinds as it does Ctrl-C
    (its capture file closed) and which ends quietly an interpreter still
    starting (a SIGINT there prints Python's own traceback).
    """
    import signal
    import subprocess

    proc = lab.client.run(command, stdin=stdin, start_new_session=True)
    try:
        return proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=30)
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


def _devnull():
    import subprocess

    return subprocess.DEVNULL


def _heading(env, number: int, lesson: Lesson) -> None:
    from rich.console import Group
    from rich.panel import Panel
    from rich.syntax import Syntax
    from rich.text import Text

    body = Text(lesson.intro)
    body.append("\n$ sockviz " + " ".join(_quote(a) for a in lesson.argv), style="bold cyan")
    parts = [body]
    code = _program(lesson)
    if code:  # the program the lesson runs (its --code): the view names its lines
        parts.append(Syntax(code, "python", theme="ansi_dark", background_color="default",
                          word_wrap=True))
    env.console.print()
    title = phrases.demo_card_title(number, len(LESSONS), lesson.title)
    env.console.print(Panel(Group(*parts), title=Text(title),
                            title_align="left", border_style="blue"))


def _program(lesson: Lesson) -> str | None:
    """``sockviz LESSON --code``: written here, no capture needed."""
    import subprocess

    try:
        done = subprocess.run([sys.executable, "-m", "sockviz", *lesson.argv, "--code",
                               "--lang", phrases.current_language()],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
