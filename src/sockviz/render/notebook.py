"""The view for a notebook cell and for ``str(trace)``: rich renders it, as HTML or text.

Readable on a white background and in a narrow column: rich's HTML export
with its light theme, inline styles (a notebook saved and opened elsewhere
shows it the same), and a width that fits a notebook's output column.
80 columns of 12 px text are about 580 px: JupyterLab's and Colab's output
column on a laptop, beside a file browser. Narrower still, the lines keep
their layout and the block scrolls sideways: a browser's own wrapping
(``pre-wrap``) broke each line of the view's columns in two and left the
meanings beside the wrong packets.
"""

from __future__ import annotations

import io

NOTEBOOK_WIDTH = 80


def _console(width: int, *, record: bool):
    """``record``: styled, for the HTML export; else plain text."""
    from rich.console import Console

    return Console(file=io.StringIO(), width=width, record=record,
                   color_system="truecolor" if record else None, force_terminal=record,
                   force_jupyter=False, highlight=False, emoji=False)


def to_text(renderable, width: int = NOTEBOOK_WIDTH) -> str:
    console = _console(width, record=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines()) + "\n"


def to_html(renderable, width: int = NOTEBOOK_WIDTH) -> str:
    """A fragment for a cell's output: the view in a <pre>, light theme, inline styles."""
    from rich.terminal_theme import DEFAULT_TERMINAL_THEME

    console = _console(width, record=True)
    console.print(renderable)
    return console.export_html(theme=DEFAULT_TERMINAL_THEME, inline_styles=True,
                               code_format=_FRAGMENT)


# rich's export_html template, reduced to a fragment a notebook cell can hold.
_FRAGMENT = ('<pre style="font-family:Menlo,\'DejaVu Sans Mono\',consolas,monospace;'
             'font-size:12px;line-height:1.3;color:{foreground};background:{background};'
             'padding:6px;white-space:pre;overflow-x:auto">{code}</pre>')
