"""The live terminal renderer: prints what ``view.render_entry`` yields."""

from __future__ import annotations

from rich.console import Console

from sockviz.core.timeline import Entry
from sockviz.render.view import ViewState, render_entry


class ConsoleSink:
    def __init__(self, console: Console, *, foreign: bool = False) -> None:
        self.console = console
        self.state = ViewState(foreign=foreign)

    def handle(self, entry: Entry) -> None:
        for renderable in render_entry(entry, self.state):
            self.console.print(renderable, highlight=False, soft_wrap=False)

    def close(self) -> None:
        pass
