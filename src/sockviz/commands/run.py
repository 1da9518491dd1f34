"""``sockviz run SCRIPT | -m MODULE | -c CODE [ARGS...]``: a program's own socket calls.

The program runs in this process as ``python -m cProfile`` and ``coverage run``
run it (its own ``__main__``, ``sys.argv`` and ``sys.path[0]``; its exit status
becomes ours), with the capture listening before its first line and every
socket call recorded (:mod:`sockviz.tracing.recorder`).

Where things go: the program's stdout and stderr stay its own. The view is
written to stdout between the program's lines, in time order. With ``--json``
the records take stdout and the program's stdout goes to stderr, so a file of
records (``sockviz run p.py --json > records.jsonl``) holds nothing else.
Without ``--json`` a program's line is never cut by the view
(render/shared_terminal.py).
"""

from __future__ import annotations

import contextlib
import linecache
import os
import runpy
import shlex
import sys
import traceback

from sockviz import __version__
from sockviz.commands.live_capture import await_capture, open_capture
from sockviz.commands.output_paths import capture_path
from sockviz.commands.sinks import make_sinks
from sockviz.core import phrases
from sockviz.refusal import Refusal
from sockviz.status import ExitStatus

TEARDOWN_GRACE = 2.0  # s to wait, after the program, for the teardowns it started


def run(args, env, argv) -> int:
    program = _program(args)
    return traced(env, args, argv, command="run", target=program.name,
                  body=lambda tracing: program.run())


def traced(env, args, argv, *, command: str, target: str, body, role: str = "client",
           scope=None, notes=None) -> int:
    """Capture, record every socket call ``body(tracing)`` makes, show them; its status.

    ``sockviz run`` and the built-in lessons (commands/lesson.py) both come
    through here: one way to record a call. A ``Refusal`` raised by the body
    goes up once the capture is closed and its summary shown.
    """
    # Imported while still root: the user sudo gives the run back to may not be able to
    # read the interpreter's own library (one installed under /root, say).
    import sysconfig

    import sockviz.core.dnsinfo
    import sockviz.session  # noqa: F401  (Tracing imports these two late)
    from sockviz.sources.live import CaptureFailed
    from sockviz.tracing.session import Tracing, WaitForView

    sysconfig.get_paths()  # the recorder's library paths: read (and cached) now
    sniffer, frames = open_capture(env, argv)  # root, if any, is given up here
    restore = None
    try:
        path = capture_path(args, command, target)
        meta = {"version": __version__, "command": command, "title": f"sockviz {shlex.join(argv)}",
                "argv": argv, "role": role}
        out = env.stdout
        if args.json and env.stdout is sys.stdout:
            out, restore = _records_apart()
        elif env.stdout is sys.stdout:  # the view between the program's lines, each whole
            out, restore = _terminal_shared()
        sinks = make_sinks(_with_stdout(env, out), json_output=args.json, path=path, meta=meta,
                           args=args)
        await_capture(sniffer, argv)  # listening before the program's first line
    except BaseException:
        sniffer.stop()
        if restore is not None:
            restore()
        raise
    if not args.json:
        _heading(env, argv)
    tracing = Tracing(sniffer=sniffer, frames=frames, sinks=sinks, capture_path=path,
                      wait=None if args.json else WaitForView(), role=role, scope=scope,
                      notes=notes)
    status = ExitStatus.OK
    tracing.start()
    try:
        try:
            status = body(tracing)
        finally:
            try:
                tracing.stop(teardown_grace=TEARDOWN_GRACE)
            finally:
                if restore is not None:
                    restore()
    except CaptureFailed as exc:
        raise Refusal(f"{exc}; the capture file holds what came before", ExitStatus.ERROR) from None
    return status


class Program:
    """What to run and how Python itself would run it.

    ``kind`` is 'script', 'module' or '-c' (``target`` is then the code, named
    ``filename`` in tracebacks and in each call's place: a lesson's program).
    """

    def __init__(self, kind: str, target: str, args: list[str], filename: str = "<string>") -> None:
        self.kind, self.target, self.args, self.filename = kind, target, args, filename

    @property
    def name(self) -> str:
        return os.path.basename(self.target) if self.kind == "script" else self.kind

    def run(self) -> int:
        """Run it; its status as ``python`` would end with it."""
        try:
            self.execute()
        except SystemExit as exc:
            return _exit_status(exc.code)
        except KeyboardInterrupt:
            sys.stderr.write("\n" + phrases.interrupted() + "\n")
            return ExitStatus.INTERRUPTED
        except BaseException as exc:
            _print_program_traceback(exc)
            return 1
        return 0

    def execute(self) -> None:
        """Run it as ``python`` would; what it raises comes out of here."""
        saved_argv, saved_path0 = sys.argv[:], sys.path[0] if sys.path else None
        try:
            if self.kind == "script":
                sys.argv = [self.target, *self.args]
                sys.path[0] = os.path.dirname(os.path.abspath(self.target))
                runpy.run_path(self.target, run_name="__main__")
            elif self.kind == "module":
                sys.argv = [self.target, *self.args]
                sys.path[0] = os.getcwd()
                runpy.run_module(self.target, run_name="__main__", alter_sys=True)
            else:
                sys.argv = ["-c", *self.args]
                sys.path[0] = ""
                # Its lines, for each call's place and for a traceback (as IPython keeps a cell's).
                linecache.cache[self.filename] = (len(self.target), None,
                                                  self.target.splitlines(True), self.filename)
                code = compile(self.target, self.filename, "exec")
                exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
        finally:
            sys.argv = saved_argv
            if saved_path0 is not None:
                sys.path[0] = saved_path0


def _module_exists(name: str) -> bool:
    """Whether ``python -m name`` would find ``name``, looked for as it will be run (the
    current folder first: the console script's own sys.path[0] is the venv's bin folder),
    and without importing anything: a package's ``__init__`` is the program's code, to run
    traced and without root, not now."""
    from importlib.machinery import PathFinder

    if not name or any(not part.isidentifier() for part in name.split(".")):
        return False
    if name in sys.modules:  # already imported here (os.path, sockviz's own)
        return True
    first, *rest = name.split(".")
    if first in sys.modules or first in sys.builtin_module_names:
        locations = getattr(sys.modules.get(first), "__path__", None)  # http, for http.server
    else:
        spec = PathFinder.find_spec(first, [os.getcwd(), *sys.path[1:]])
        if spec is None:
            return False
        locations = spec.submodule_search_locations
    for part in rest:  # each below its package, found in the package's folders
        if locations is None:
            return False
        spec = PathFinder.find_spec(part, list(locations))
        if spec is None:
            return False
        locations = spec.submodule_search_locations
    return True


def _program(args) -> Program:
    rest = list(args.args or [])
    if args.module:
        if not _module_exists(args.module):
            raise Refusal(phrases.no_such_module(args.module), ExitStatus.NO_PROGRAM)
        return Program("module", args.module, rest)
    if args.code is not None:
        return Program("-c", args.code, rest)
    if not rest:
        raise Refusal(phrases.say_what_to_run(), ExitStatus.USAGE)
    script, rest = rest[0], rest[1:]
    if not os.path.exists(script):
        raise Refusal(phrases.no_such_script(script, os.getcwd()), ExitStatus.NO_PROGRAM)
    if os.path.isdir(script) and not os.path.exists(os.path.join(script, "__main__.py")):
        raise Refusal(phrases.folder_not_script(script), ExitStatus.NO_PROGRAM)
    return Program("script", script, rest)


def _exit_status(code) -> int:
    """``sys.exit(code)`` as the interpreter ends with it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1


def _print_program_traceback(exc: BaseException) -> None:
    """The program's traceback as Python prints it: from the program's first frame on."""
    tb = exc.__traceback__
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    while tb is not None and (tb.tb_frame.f_code.co_filename.startswith(here)
                              or tb.tb_frame.f_code.co_filename == runpy.__file__
                              or "<frozen runpy>" in tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    if isinstance(exc, SyntaxError):
        tb = None  # Python shows a syntax error without frames
    sys.stderr.write("".join(traceback.format_exception(type(exc), exc, tb)))
    sys.stderr.flush()


def _records_apart():
    """Records on stdout, the program's own stdout on stderr; returns (records, undo)."""
    sys.stdout.flush()
    records_fd = os.dup(1)
    saved = os.dup(1)
    os.dup2(2, 1)
    records = os.fdopen(records_fd, "w", encoding="utf-8", buffering=1)

    def restore() -> None:
        with contextlib.suppress(OSError, ValueError):
            records.flush()
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)

    return records, restore


def _terminal_shared():
    """The program's stdout and the view on one terminal (render/shared_terminal.py);
    returns (the view's stream, undo)."""
    from sockviz.render.shared_terminal import SharedTerminal

    shared = SharedTerminal(sys.stdout)
    sys.stdout = shared.program

    def restore() -> None:
        with contextlib.suppress(OSError, ValueError):
            shared.program.flush()  # a last partial line, as Python writes it at exit
        if sys.stdout is shared.program:
            sys.stdout = shared.stream

    return shared.view, restore


def _with_stdout(env, stream):
    if stream is env.stdout:
        return env
    import dataclasses

    return dataclasses.replace(env, stdout=stream, _console=None)


def _heading(env, argv) -> None:
    from rich.rule import Rule
    from rich.text import Text

    env.console.print(Rule(Text(f"sockviz {shlex.join(argv)}", style="bold")))
    from sockviz.render.view import Hanging

    env.console.print(Hanging(Text(), Text(phrases.program_legend(), style="dim")))
