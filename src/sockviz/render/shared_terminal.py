"""A traced program's stdout and the live view on one terminal, each line whole.

``sockviz run`` writes the view between the program's lines (commands/run.py).
The view is written by the pipeline thread, the program's lines by its own
threads, so without care a view line lands inside a program's line:
``print(r.status, n)`` is four writes ("200", " ", "630", "\\n"), and the view
came between two of them. Here the program's writes are kept until their
line is complete, as Python's own line-buffered stdout keeps them on a
terminal, and the view writes only between whole lines. A partial line the
program flushes on purpose (``input("Name: ")`` flushes its prompt) is written
at once, and a view line after it starts on a new line.
"""

from __future__ import annotations

import threading


class SharedTerminal:
    """One stream (the terminal), written by the program (``program``) and the view (``view``)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.lock = threading.RLock()
        self.mid_line = False  # the program's last write ended without a newline
        self.program = _ProgramSide(self)
        self.view = _ViewSide(self)


class _Side:
    """A text stream's interface over the shared one (its encoding, fileno, isatty...)."""

    def __init__(self, shared: SharedTerminal) -> None:
        self._shared = shared

    def __getattr__(self, name):
        return getattr(self._shared.stream, name)

    def writable(self) -> bool:
        return True

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)


class _ProgramSide(_Side):
    """The program's ``sys.stdout``: whole lines go out; a partial one waits for its end."""

    def __init__(self, shared: SharedTerminal) -> None:
        super().__init__(shared)
        self._partial = ""

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        shared = self._shared
        with shared.lock:
            cut = text.rfind("\n")
            if cut < 0:
                self._partial += text
            else:
                shared.stream.write(self._partial + text[: cut + 1])
                self._partial = text[cut + 1:]
                shared.mid_line = False
        return len(text)

    def flush(self) -> None:
        shared = self._shared
        with shared.lock:
            if self._partial:  # flushed on purpose (a prompt): out now, mid-line
                shared.stream.write(self._partial)
                self._partial = ""
                shared.mid_line = True
            shared.stream.flush()


class _ViewSide(_Side):
    """The view's stream: written between the program's lines."""

    def write(self, text: str) -> int:
        shared = self._shared
        with shared.lock:
            if shared.mid_line and text:
                shared.stream.write("\n")  # after a flushed prompt: the view on its own line
                shared.mid_line = False
            return shared.stream.write(text)

    def flush(self) -> None:
        with self._shared.lock:
            self._shared.stream.flush()
