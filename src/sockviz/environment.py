"""The one object that carries the outside world: streams, terminal, console.

Tests swap it for one with a fixed-width, colourless console and string
streams (httpie's ``context.Environment``). Nothing here imports rich until a
console is asked for, so ``sockviz --help`` stays fast.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Environment:
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    width: int | None = None  # None: the terminal's
    color: bool | None = None  # None: when stdout is a terminal
    _console: object = None

    @property
    def stdin_isatty(self) -> bool:
        try:
            return self.stdin is not None and self.stdin.isatty()
        except (ValueError, AttributeError):
            return False

    @property
    def stdout_isatty(self) -> bool:
        try:
            return self.stdout.isatty()
        except (ValueError, AttributeError):
            return False

    def _make(self, stream: TextIO):
        from rich.console import Console

        if self.color is False:
            return Console(file=stream, width=self.width, no_color=True, color_system=None,
                           force_terminal=False, highlight=False, emoji=False)
        return Console(file=stream, width=self.width, highlight=False, emoji=False,
                       force_terminal=True if self.color else None)

    @property
    def console(self):
        if self._console is None:
            self._console = self._make(self.stdout)
        return self._console
