"""The one object that carries the outside world: streams, terminal, console, settings.

Tests swap it for one with a fixed-width, colourless console and string
streams (httpie's ``context.Environment``). The process environment is read
through ``environ``, an injectable mapping (as rich does), never at import.
Nothing here imports rich until a console is asked for, so ``sockviz --help``
stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass, field

TYPE_CHECKING = False  # typing itself is 5 ms of every start-up; only checkers need TextIO
if TYPE_CHECKING:
    from typing import TextIO

_TRUE = {"1", "true", "yes", "on"}


@dataclass
class Environment:
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    width: int | None = None  # None: the terminal's
    color: bool | None = None  # None: when stdout is a terminal
    environ: MutableMapping[str, str] = field(default_factory=lambda: os.environ)
    debug: bool = False  # --debug: show the traceback of an unexpected error
    _console: object = None

    # -- settings read from the environment (SOCKVIZ_*)
    @property
    def show_tracebacks(self) -> bool:
        return self.debug or self.environ.get("SOCKVIZ_DEBUG", "").lower() in _TRUE

    @property
    def ring_mb(self) -> int:
        """The capture ring's size (SOCKVIZ_RING_MB, default 128 MiB)."""
        try:
            return max(1, int(self.environ.get("SOCKVIZ_RING_MB", "128")))
        except ValueError:
            return 128

    @property
    def use_ring(self) -> bool:
        """False with SOCKVIZ_NO_RING: the capture's recvmsg fallback (kernels without rings)."""
        return not self.environ.get("SOCKVIZ_NO_RING")

    @property
    def capture_stats(self) -> bool:
        """SOCKVIZ_CAPTURE_STATS: the capture process tells, at its end, how full its ring got."""
        return bool(self.environ.get("SOCKVIZ_CAPTURE_STATS"))

    @property
    def replay_worker(self) -> bool | None:
        """SOCKVIZ_REPLAY_WORKER: 1 forces replay's second process, 0 forbids it, unset decides."""
        value = self.environ.get("SOCKVIZ_REPLAY_WORKER")
        return None if value is None else value != "0"

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
