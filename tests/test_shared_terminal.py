"""The traced program's stdout and the live view share one terminal: no line is cut."""

from __future__ import annotations

import io
import threading

from sockviz.render.shared_terminal import SharedTerminal


def test_a_view_line_waits_for_the_end_of_the_programs_line():
    # print(r.status, n) is four writes; the view came between two of them (seen live)
    shared = SharedTerminal(io.StringIO())
    shared.program.write("200")
    shared.view.write("▶ close()\n")
    shared.program.write(" ")
    shared.program.write("630")
    shared.program.write("\n")
    assert shared.stream.getvalue() == "▶ close()\n200 630\n"


def test_a_prompt_the_program_flushes_shows_at_once_and_the_view_starts_a_new_line():
    shared = SharedTerminal(io.StringIO())
    shared.program.write("Nom : ")
    shared.program.flush()  # input() flushes its prompt
    assert shared.stream.getvalue() == "Nom : "
    shared.view.write("▶ recv(1024)\n")
    assert shared.stream.getvalue() == "Nom : \n▶ recv(1024)\n"


def test_lines_written_together_go_out_at_once_and_the_rest_waits():
    shared = SharedTerminal(io.StringIO())
    assert shared.program.write("a\nb\nc") == 5
    assert shared.stream.getvalue() == "a\nb\n"
    shared.program.flush()
    assert shared.stream.getvalue() == "a\nb\nc"


def test_threads_writing_at_once_never_cut_each_others_lines():
    shared = SharedTerminal(io.StringIO())

    def program() -> None:
        for i in range(2000):
            print("programme", i, "fin", file=shared.program)

    def view() -> None:
        for i in range(2000):
            shared.view.write(f"│ #{i} vue\n")

    threads = [threading.Thread(target=program), threading.Thread(target=view)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = shared.stream.getvalue().splitlines()
    assert len(lines) == 4000
    assert all((line.startswith("│ #") and line.endswith(" vue"))
               or (line.startswith("programme ") and line.endswith(" fin")) for line in lines)


def test_the_program_side_looks_like_the_stream_it_stands_for():
    stream = io.StringIO()
    shared = SharedTerminal(stream)
    assert shared.program.isatty() is False and shared.program.writable()
    try:
        shared.program.write(b"x")
    except TypeError as exc:
        assert "str" in str(exc)
    else:
        raise AssertionError("bytes written to a text stream must fail as on sys.stdout")
