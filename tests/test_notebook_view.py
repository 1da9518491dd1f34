"""The notebook extension's own logic, without a kernel or a capture."""

from __future__ import annotations

from sockviz.core import phrases
from sockviz.core.timeline import Note
from sockviz.notebook import CellView, NotebookTracer
from sockviz.render.notebook import to_html, to_text


class FakeEvents:
    def __init__(self):
        self.registered = []

    def register(self, name, fn):
        self.registered.append(name)


class FakeShell:
    execution_count = 7

    def __init__(self):
        self.events = FakeEvents()


def test_what_arrived_between_cells_comes_first_with_when():
    before = [Note(time=100.0, text="the server's reply")]
    during = [Note(time=102.5, text="this cell's call")]
    text = to_text(CellView(before, during, cell_start=102.0))
    assert "\x1b" not in text
    assert text.index("arrived between cells, 2.000 s before this cell ran") < \
        text.index("the server's reply") < text.index("this cell's call")
    assert "<pre" in to_html(CellView(before, during, cell_start=102.0))


def test_without_capture_rights_the_code_still_runs(monkeypatch, capsys):
    monkeypatch.setattr("sockviz.sources.live.have_capture_rights", lambda: False)
    tracer = NotebookTracer(FakeShell())
    tracer.start()
    assert tracer.tracing is None and tracer.problem == phrases.notebook_needs_rights()
    tracer.post_run_cell()
    assert "sudo sockviz lab run -- jupyter lab" in capsys.readouterr().out
    tracer.post_run_cell()  # said once, then the cells run untraced
    assert capsys.readouterr().out == ""


def test_the_cell_number_follows_the_shell():
    shell = FakeShell()
    tracer = NotebookTracer(shell)  # loaded in cell 7

    class Result:
        execution_count = 7

    tracer.post_run_cell(Result())
    shell.execution_count = 8
    tracer.pre_run_cell()
    assert tracer.cell == 8


def test_a_cells_view_keeps_its_lines_in_a_narrow_column():
    # The browser's own wrapping (pre-wrap) broke each view line of a 100-column block in a
    # 700 px output column, and left the meanings beside the wrong packets (seen in Chromium).
    # The block is 80 columns and scrolls sideways when the column is narrower still.
    import html
    import re

    from scenarios import feed, tcp_exchange

    entries = feed(tcp_exchange().events)
    fragment = to_html(CellView([], entries, cell_start=0.0))
    assert "white-space:pre;" in fragment and "overflow-x:auto" in fragment
    text = html.unescape(re.sub(r"<[^>]+>", "", fragment))
    assert max(len(line) for line in text.splitlines()) <= 80


def test_a_call_in_a_cell_is_placed_by_the_cell_as_ipython_says_it():
    # ipykernel compiles a cell as /tmp/ipykernel_PID/HASH.py: '973638359.py:1' meant nothing
    cell_file = "/tmp/ipykernel_4242/973638359.py"
    assert phrases.call_place(cell_file, 1, 63, None, 3) == "Cell In[3], line 1 · fd 63"
    # a call made in a module the cell imported keeps its file's name
    assert phrases.call_place("/home/etu/client.py", 7, 4, None, 3) == "client.py:7 · fd 4"
    phrases.set_language("fr")
    try:
        assert phrases.call_place(cell_file, 1, None, None, 3) == "cellule In[3], ligne 1"
    finally:
        phrases.set_language("en")


def test_a_cell_shows_the_compact_layout_as_a_terminal_of_its_width_would(capsys):
    """80 columns: the compact layout, as the viewing commands choose it under 100 columns
    (its legend in the first cell only); ``%sockviz --full`` and ``--compact`` choose."""
    from scenarios import feed, tcp_exchange

    entries = [e for e in feed(tcp_exchange().events) if type(e).__name__ != "Summary"]
    legend = phrases.compact_legend()
    compact = to_text(CellView([], entries, cell_start=0.0))
    assert legend in compact and "→ out TCP" not in compact and "bytes 1-14" in compact
    assert legend not in to_text(CellView([], entries, cell_start=0.0, legend=False))
    full = to_text(CellView([], entries, cell_start=0.0, layout="full"))
    assert legend not in full and "→ out TCP" in full

    tracer = NotebookTracer(FakeShell())
    tracer.magic("--full")
    assert tracer.layout == "full"
    tracer.magic("--compact")
    assert tracer.layout == "compact"
    tracer.magic("--wide")
    assert "--compact, --full" in capsys.readouterr().out
