"""The renderers a command's options ask for: the view or JSON lines, the diagram, the file."""

from __future__ import annotations

from sockviz.commands.output_paths import output_file
from sockviz.core import phrases
from sockviz.environment import Environment
from sockviz.refusal import say


class DiagramSink:
    """The ladder: drawn on the terminal (``--ladder``) and/or written (``--svg``, ``--html``)."""

    def __init__(self, env: Environment, args) -> None:
        from sockviz.render.ladder import LadderSink

        self.env = env
        self.svg = output_file(getattr(args, "svg", None), "svg")
        self.html = output_file(getattr(args, "html", None), "html")
        self.ladder = LadderSink(env.console if getattr(args, "ladder", False) else None,
                                 conversation=getattr(args, "conversation", None))

    def handle(self, entry) -> None:
        self.ladder.handle(entry)

    def close(self) -> None:
        self.ladder.close()
        for path, draw in ((self.svg, self.ladder.to_svg), (self.html, self.ladder.to_html)):
            if path:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(draw())
                say(self.env, phrases.diagram_written(path))


def wants_diagram(args) -> bool:
    return bool(getattr(args, "ladder", False) or getattr(args, "svg", None)
                or getattr(args, "html", None))


def make_sinks(env: Environment, *, json_output: bool, path: str | None, meta: dict,
               args=None) -> list:
    """A live run's sinks: the diagram if asked, JSON lines or the view, the capture file."""
    sinks: list = []
    diagram = args is not None and wants_diagram(args)
    if diagram:
        sinks.append(DiagramSink(env, args))
    if json_output:
        from sockviz.render.jsonlines import JsonLinesSink

        sinks.append(JsonLinesSink(env.stdout))
    elif not (diagram and getattr(args, "ladder", False)):
        from sockviz.render.console import ConsoleSink

        sinks.append(ConsoleSink(env.console, layout=getattr(args, "layout", None)))
    if path:
        from sockviz.render.capture_file import CaptureFileSink

        sinks.append(CaptureFileSink(path, meta))
    return sinks
