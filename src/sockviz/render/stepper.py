"""Stepping through a timeline, one event a key press, as Packet Tracer's simulation mode (issue 16).

``sockviz replay FILE --step`` shows the run one event at a time: before each
call the question "what will this call send?", then the call with the packets
it caused, then each packet that came outside any call; forward and back, the
ladder (``render/ladder.py``) growing as it goes, the current event's
explanation (``render/view.py``) under it, a status line at the bottom.

Two parts, kept apart so that the first is tested without a terminal:

- ``Stepper``, the pure state machine: the steps built from the entries
  (``build_steps``), a position among them, ``next()``, ``back()``,
  ``first()``, ``last()``, ``current()`` and ``visible_entries()`` (what the
  ladder shows at this step). ``StepView`` draws a step as a rich renderable.
- ``run_stepper``, the terminal loop: the terminal in cbreak mode (``tty``),
  keys read from the file descriptor (escape sequences for the arrows), the
  screen cleared and redrawn at each step, the terminal's settings restored
  on every way out (``try``/``finally``: a key, Ctrl-C, an exception).

``step_through(reader, env)`` is what ``sockviz replay --step`` calls:
the capture through the replay's own path into a list of entries, then the
loop.
"""

from __future__ import annotations

import enum
import os
import select
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rich.console import Group
from rich.rule import Rule
from rich.segment import Segment
from rich.text import Text

from sockviz.core import phrases
from sockviz.core.events import Call
from sockviz.core.timeline import CallEnded, CallStarted, Entry, Note, PacketShown, Summary
from sockviz.status import ExitStatus

MAX_PACKETS = 2000  # packets kept for stepping (as the ladder's limit); past it, counted
ESCAPE_WAIT = 0.05  # seconds to wait for the rest of an escape sequence after ESC

NOT_A_TERMINAL = phrases.STEP_NEEDS_TERMINAL  # the English; said by phrases._ when shown


class NotATerminal(Exception):
    """``--step`` was asked for where no one can press a key (stdin is a pipe or a file)."""

    def __init__(self, sentence: str | None = None) -> None:
        sentence = sentence or phrases._(NOT_A_TERMINAL)
        super().__init__(sentence)
        self.sentence = sentence


# -- the steps -----------------------------------------------------------------

class StepKind(enum.StrEnum):
    QUESTION = "question"  # before a call: what will it send?
    CALL = "call"  # the call, with the packets captured while it ran
    PACKET = "packet"  # a packet outside any call


@dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    """One key press's worth of the timeline.

    ``entries`` are what this step explains (a call's start, its packets and
    end; a packet; the notes just before them; the summary on the last
    step); ``end`` is how far into the timeline the ladder reaches at this
    step (``entries[:end]``): a question's ``end`` stops before its call.
    """

    kind: StepKind
    entries: tuple[Entry, ...]
    end: int
    call: Call | None = None  # the question's or the call's (None for a packet)


def build_steps(entries: list[Entry]) -> list[Step]:
    """The steps of a timeline, in order.

    Each call gets a question, then a step with its start, its packets and
    its end. A call made inside another (``create_connection`` ->
    ``connect``) gets its own question and step; the outer call's entries
    after it make one more step of the outer call. A packet outside any
    call is a step of its own. Notes go with the step that follows them;
    the notes at the end and the summary with the last step.
    """
    steps: list[Step] = []
    pending: list[Entry] = []  # notes waiting for the next step
    open_calls: list[Call] = []  # calls started and not yet ended, innermost last
    part: list[Entry] | None = None  # the call step being gathered
    part_call: Call | None = None

    def close_part(end: int) -> None:
        nonlocal part, part_call
        if part:
            steps.append(Step(kind=StepKind.CALL, entries=tuple(part), end=end, call=part_call))
        part, part_call = None, None

    def ask(call: Call, end: int) -> None:
        steps.append(Step(kind=StepKind.QUESTION, entries=tuple(pending), end=end, call=call))
        pending.clear()

    def gather(call: Call) -> list[Entry]:
        """The call step under way, begun (with the notes waiting) if there is none."""
        nonlocal part, part_call
        if part is None:
            part, part_call = [*pending], call
            pending.clear()
        return part

    for i, e in enumerate(entries):
        t = type(e)
        if t is CallStarted:
            close_part(i)
            ask(e.call, i)
            open_calls.append(e.call)
            gather(e.call).append(e)
        elif t is CallEnded:
            ids = [c.id for c in open_calls]
            if e.call.id in ids:
                gather(e.call).append(e)
                del open_calls[ids.index(e.call.id):]  # and any inner call that never ended
                close_part(i + 1)
            else:  # an end whose start the trace lacks: still a question and an answer
                close_part(i)
                ask(e.call, i)
                gather(e.call).append(e)
                close_part(i + 1)
        elif t is PacketShown:
            if open_calls:
                gather(open_calls[-1]).append(e)
            else:
                close_part(i)
                steps.append(Step(kind=StepKind.PACKET, entries=(*pending, e), end=i + 1))
                pending.clear()
        elif part is not None:  # a note during a call
            part.append(e)
        else:  # a note between events, or the summary
            pending.append(e)
    close_part(len(entries))
    if pending and steps:
        last = steps[-1]
        steps[-1] = Step(kind=last.kind, entries=(*last.entries, *pending), end=len(entries),
                         call=last.call)
    return steps


class Stepper:
    """The state machine of ``--step``: the steps of a timeline and where one is among them.

    ``next()``, ``back()``, ``first()`` and ``last()`` move and say whether
    they did (``next()`` at the last step stays there). An empty timeline
    has no step: ``current()`` is then None.
    """

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: list[Entry] = list(entries)
        self.steps: list[Step] = build_steps(self.entries)
        self.index = 0

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def position(self) -> int:
        """The current step, counted from 1 (as the status line says it)."""
        return self.index + 1 if self.steps else 0

    @property
    def at_first(self) -> bool:
        return self.index == 0

    @property
    def at_last(self) -> bool:
        return self.index >= len(self.steps) - 1

    def current(self) -> Step | None:
        return self.steps[self.index] if self.steps else None

    def go(self, index: int) -> bool:
        index = max(0, min(index, len(self.steps) - 1))
        moved = index != self.index
        self.index = index
        return moved

    def next(self) -> bool:
        return self.go(self.index + 1)

    def back(self) -> bool:
        return self.go(self.index - 1)

    def first(self) -> bool:
        return self.go(0)

    def last(self) -> bool:
        return self.go(len(self.steps) - 1)

    def visible_entries(self) -> list[Entry]:
        """What the ladder shows at this step: the timeline up to it."""
        step = self.current()
        return self.entries[:step.end] if step is not None else []


# -- drawing a step ------------------------------------------------------------

def question_text(call: Call) -> Text:
    """``connect(('192.0.2.2', 3001)) — what will this call send? (press → to see)``."""
    t = Text()
    t.append(call.text, style="bold")  # the call's text comes from a trace: Text, never markup
    t.append(f" — {phrases.step_question()} ", style="bold")
    t.append(phrases.step_question_hint(), style="dim")
    return t


def status_text(stepper: Stepper) -> Text:
    """``step 5 of 14 · → next · ← back · q quit``."""
    return Text(phrases.step_status(stepper.position, len(stepper), last=stepper.at_last,
                                    first=stepper.at_first), style="reverse")


def _origin(entries: list[Entry]) -> float | None:
    """Where the view's time column starts: the first call's start or packet's time."""
    for e in entries:
        if isinstance(e, (CallStarted, CallEnded)):
            return e.call.start
        if isinstance(e, PacketShown):
            return e.packet.time
    return None


def explanation(stepper: Stepper, *, foreign: bool = False) -> list:
    """The current step as the normal view shows it (``render_entry``), or its question."""
    from sockviz.render.view import ViewState, render_entry

    step = stepper.current()
    if step is None:
        return []
    state = ViewState(foreign=foreign)
    state.origin = _origin(stepper.entries)
    if step.kind is StepKind.CALL and not isinstance(step.entries[0], CallStarted):
        state.in_call = True  # the rest of a call that made a call of its own
    out: list = []
    for e in step.entries:
        out.extend(render_entry(e, state))
    if step.kind is StepKind.QUESTION and step.call is not None:
        out.append(question_text(step.call))
    while out and isinstance(out[0], Text) and not out[0].plain:  # no blank line on top
        out.pop(0)
    return out


class StepView:
    """One screen of ``--step``: the ladder so far, the current step's explanation, the status.

    The ladder keeps its last lines when the whole would not fit the
    console's height (``height``, else the console's own) over the
    explanation, so the newest arrows stay in sight.
    """

    def __init__(self, stepper: Stepper, *, conversation: int | None = None,
                 foreign: bool | None = None, height: int | None = None) -> None:
        self.stepper = stepper
        self.conversation = conversation
        if foreign is None:  # no call at all: a capture from elsewhere
            foreign = not any(isinstance(e, (CallStarted, CallEnded)) for e in stepper.entries)
        self.foreign = foreign
        self.height = height

    def __rich_console__(self, console, options) -> Iterator[Segment]:
        from sockviz.render.ladder import Ladder

        width = options.max_width
        height = self.height or options.size.height
        opts = options.update(width=width, height=None)
        below = console.render_lines(Group(*explanation(self.stepper, foreign=self.foreign)),
                                     opts, pad=False)
        status = console.render_lines(status_text(self.stepper), opts, pad=False)
        ladder = Ladder(self.stepper.visible_entries(), conversation=self.conversation,
                        legend=False)
        drawn = (console.render_lines(ladder, opts, pad=False) if ladder.sections else [])
        rule = console.render_lines(Rule(style="bright_black"), opts, pad=False) if drawn else []
        room = height - len(below) - len(status) - len(rule)
        room = max(room, min(len(drawn), height // 3))  # a tall explanation leaves some ladder
        if len(drawn) > room:
            cut = len(drawn) - room + 1
            above = Text(phrases.step_ladder_above(cut), style="dim")
            drawn = console.render_lines(above, opts, pad=False) + drawn[cut:]
        for line in (*drawn, *rule, *below, *status):
            yield from _rstrip(line)
            yield Segment.line()


def _rstrip(line: list[Segment]) -> list[Segment]:
    """A line without the plain spaces that pad it to the width (a wide one may wrap)."""
    line = list(line)
    while line:
        seg = line[-1]
        if seg.control or (seg.style is not None and (seg.style.bgcolor or seg.style.reverse)):
            break
        text = seg.text.rstrip(" ")
        if text:
            line[-1] = Segment(text, seg.style)
            break
        line.pop()
    return line


# -- keys ------------------------------------------------------------------------

class Action(enum.StrEnum):
    NEXT = "next"
    BACK = "back"
    FIRST = "first"
    LAST = "last"
    QUIT = "quit"


KEYS: dict[str, Action] = {
    "right": Action.NEXT, "down": Action.NEXT, " ": Action.NEXT, "\n": Action.NEXT,
    "\r": Action.NEXT, "n": Action.NEXT,
    "left": Action.BACK, "up": Action.BACK, "backspace": Action.BACK, "p": Action.BACK,
    "home": Action.FIRST, "g": Action.FIRST,
    "end": Action.LAST, "G": Action.LAST,
    "q": Action.QUIT, "Q": Action.QUIT, "esc": Action.QUIT, "ctrl-d": Action.QUIT,
    "eof": Action.QUIT,
}
# CSI final bytes and ``ESC [ n ~`` numbers (xterm, VT220), SS3 (``ESC O x``) alike.
_FINALS = {"A": "up", "B": "down", "C": "right", "D": "left", "H": "home", "F": "end"}
_TILDES = {"1": "home", "7": "home", "4": "end", "8": "end", "3": "delete"}
_BYTES = {0x7F: "backspace", 0x08: "backspace", 0x03: "ctrl-c", 0x04: "ctrl-d"}
ESC = 0x1B


def parse_key(buf: bytes, *, final: bool = False) -> tuple[str | None, int]:
    """The first key in ``buf`` and how many bytes it took; ``(None, 0)`` when more are needed.

    ``final``: no more bytes are coming soon (the wait after ESC is over),
    so a lone ESC is the Esc key. Keys sockviz does not use come back as
    ``""``, with their bytes consumed.
    """
    if not buf:
        return None, 0
    b = buf[0]
    if b != ESC:
        if b in _BYTES:
            return _BYTES[b], 1
        return (chr(b), 1) if b < 0x80 else ("", 1)  # one byte of a UTF-8 character: not ours
    if len(buf) == 1:
        return ("esc", 1) if final else (None, 0)
    kind = buf[1]
    if kind == ord("O"):  # SS3: the arrows in the terminal's application mode
        if len(buf) < 3:
            return ("", 2) if final else (None, 0)
        return _FINALS.get(chr(buf[2]), ""), 3
    if kind != ord("["):
        return "esc", 1  # Esc, then another key typed at once
    for i in range(2, len(buf)):
        c = buf[i]
        if 0x40 <= c <= 0x7E:  # the final byte of a CSI sequence (ECMA-48 §5.4)
            params = buf[2:i].decode("ascii", "replace")
            if c == ord("~"):
                return _TILDES.get(params.split(";")[0], ""), i + 1
            return _FINALS.get(chr(c), ""), i + 1  # modifiers (``1;5C``) change nothing here
        if not 0x20 <= c <= 0x3F:
            return "", i  # not a sequence after all
    return ("", len(buf)) if final else (None, 0)


class KeyReader:
    """Keys from a terminal's file descriptor, escape sequences put together."""

    def __init__(self, fd: int, *, escape_wait: float = ESCAPE_WAIT) -> None:
        self.fd = fd
        self.escape_wait = escape_wait
        self.buffer = b""

    def read(self) -> str:
        """The next key: blocks until one is pressed; ``"eof"`` when the terminal is gone."""
        while True:
            key, used = parse_key(self.buffer)
            if used:
                self.buffer = self.buffer[used:]
                return key
            # Nothing yet: wait for a key; half a sequence: wait briefly for the rest.
            wait = self.escape_wait if self.buffer else None
            ready, _, _ = select.select([self.fd], [], [], wait)
            data = os.read(self.fd, 64) if ready else b""
            if not data:
                if not self.buffer:
                    return "eof"
                key, used = parse_key(self.buffer, final=True)
                self.buffer = self.buffer[used:]
                return key
            self.buffer += data


# -- the terminal loop -----------------------------------------------------------

def check_terminal(fd: int) -> None:
    """Refuse (``NotATerminal``) unless ``fd`` is a terminal keys can be read from."""
    try:
        tty_ = os.isatty(fd)
    except (OSError, ValueError, TypeError):
        tty_ = False
    if not tty_:
        raise NotATerminal()


def run_stepper(entries: Iterable[Entry], console, stdin_fd: int | None = None, *,
                conversation: int | None = None, foreign: bool | None = None) -> int:
    """Step through ``entries`` on ``console``, reading keys from ``stdin_fd`` (a terminal).

    → Space Enter n: next; ← Backspace p: back; Home g: first; End G: last;
    q Esc: quit (``ExitStatus.OK``). Ctrl-C raises ``KeyboardInterrupt`` for
    the caller (130). The terminal's settings are restored however it ends.
    Raises ``NotATerminal`` when ``stdin_fd`` (default: sys.stdin's) is not a
    terminal.
    """
    import termios
    import tty

    fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
    check_terminal(fd)
    stepper = Stepper(entries)
    if not stepper.steps:
        console.print(Text(phrases.step_nothing(), style="dim"))
        return ExitStatus.OK
    view = StepView(stepper, conversation=conversation, foreign=foreign)
    keys = KeyReader(fd)
    moves = {Action.NEXT: stepper.next, Action.BACK: stepper.back,
             Action.FIRST: stepper.first, Action.LAST: stepper.last}
    saved = termios.tcgetattr(fd)
    try:
        # cbreak: keys arrive one by one, unechoed; Ctrl-C still sends SIGINT.
        tty.setcbreak(fd, termios.TCSANOW)
        console.show_cursor(False)
        redraw = True
        while True:
            if redraw:
                with console:  # one write per screen: no flicker
                    console.clear()
                    console.print(view, soft_wrap=False, highlight=False)
            key = keys.read()
            if key == "ctrl-c":  # raw mode, or ISIG off: the byte itself
                raise KeyboardInterrupt
            action = KEYS.get(key)
            if action is Action.QUIT:
                return ExitStatus.OK
            redraw = action is not None and moves[action]()
    finally:
        try:
            console.show_cursor(True)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


# -- from a capture file -----------------------------------------------------------

class StepSink:
    """A sink (``handle``, ``close``) that keeps the timeline for stepping.

    Past ``max_packets`` packets nothing more is kept but the summary,
    after a note that says how many were left out: memory stays bounded.
    """

    def __init__(self, *, max_packets: int = MAX_PACKETS) -> None:
        self.max_packets = max_packets
        self.entries: list[Entry] = []
        self.packets = 0
        self.left_out = 0
        self._last_time: float | None = None

    def handle(self, entry: Entry) -> None:
        if isinstance(entry, Summary):
            if self.left_out:
                self.entries.append(Note(
                    time=self._last_time or 0.0,
                    text=phrases.step_stops_after(self.max_packets, self.left_out)))
            self.entries.append(entry)
            return
        if isinstance(entry, PacketShown):
            self.packets += 1
            self._last_time = entry.packet.time
        if self.packets > self.max_packets:
            self.left_out += isinstance(entry, PacketShown)
            return
        self.entries.append(entry)

    def close(self) -> None:
        pass


def replayed_entries(reader, env, *, max_packets: int = MAX_PACKETS) -> tuple[list[Entry], int]:
    """A capture's timeline through ``sockviz replay``'s own path (its correlator), and its status.

    One ``StepSink`` is the replay's only sink.
    """
    from sockviz.replay import replay

    sink = StepSink(max_packets=max_packets)
    status = replay(reader, env, view=False, sinks=[sink])
    return sink.entries, status


def entries_of(path, env=None, *, max_packets: int = MAX_PACKETS) -> list[Entry]:
    """The timeline of the capture at ``path``, as ``sockviz replay`` makes it for its sinks."""
    import io

    from sockviz.capfile.reader import open_capture
    from sockviz.environment import Environment

    if env is None:
        env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), color=False)
    with open_capture(path) as reader:
        return replayed_entries(reader, env, max_packets=max_packets)[0]


def step_through(reader, env, *, conversation: int | None = None) -> int:
    """``sockviz replay FILE --step``: refuse off a terminal, read the capture, step through it.

    ``NotATerminal`` becomes a ``Refusal`` (one sentence, ``ExitStatus.USAGE``)
    before the file is read.
    """
    from sockviz.refusal import Refusal

    try:
        fd = env.stdin.fileno()
        check_terminal(fd)
        if not env.stdout_isatty:
            raise NotATerminal()
    except (NotATerminal, AttributeError, OSError, ValueError):
        raise Refusal(phrases._(NOT_A_TERMINAL), ExitStatus.USAGE) from None
    entries, _status = replayed_entries(reader, env)
    return run_stepper(entries, env.console, fd, conversation=conversation)
