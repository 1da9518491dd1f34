"""French (issue 15): what the commands themselves say, in French.

The refusals and errors (bad arguments, missing files and programs, the lab's
and run's refusals), the capture reader's problems with a damaged file, the
decoder's, the layer view (``replay --packet N``), the ladder (``--ladder``),
the stepper, the demo's lesson cards, the notebook's and the capture
process's sentences. Each run here speaks French and must not show one
English sentence of the catalogue (``english_in``: a stretch of three words
or more of a message whose French differs). Golden files hold the ladder and
the layer view in French: tests/golden/fr/ladder/ and tests/golden/fr/layers/
(regenerate after a deliberate change with SOCKVIZ_UPDATE_GOLDEN=1).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from sockviz.cli import main
from sockviz.core import phrases
from sockviz.environment import Environment
from sockviz.status import ExitStatus

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "captures"
GOLDEN = Path(__file__).parent / "golden" / "fr"
CORPUS = Path("/work/shared/corpus/tcpdump-tests")
sys.path.insert(0, str(ROOT / "tools"))
import catalog  # noqa: E402 - tools/catalog.py

from test_i18n import english_word  # noqa: E402


@pytest.fixture(autouse=True)
def english_after():
    yield
    phrases.set_language("en")


# -- the English a French run must not show --------------------------------------------


@functools.cache
def english_fragments() -> tuple[str, ...]:
    """Stretches of three words or more of every message whose French is not the English."""
    french = catalog.read(catalog.po_path("fr"), locale="fr")
    found = set()
    for m in catalog.read(catalog.TEMPLATE):
        if not m.id:
            continue
        ids = list(m.id) if isinstance(m.id, (list, tuple)) else [m.id]
        fr = french.get(m.id, context=m.context)
        strings = fr.string if isinstance(fr.string, (list, tuple)) else [fr.string]
        for msgid in ids:
            if msgid in strings:
                continue
            for piece in re.split(r"\{[^{}]*\}", msgid):
                piece = piece.strip(" ,.;:()'\"…·-")
                # Three words or more, one of them common English (not a reference, a command).
                if piece.count(" ") >= 2 and len(piece) >= 12 and english_word(piece):
                    found.add(piece)
    return tuple(sorted(found, key=len, reverse=True))


def english_in(text: str) -> str | None:
    """The first English stretch of the catalogue that ``text`` shows, or None."""
    flat = " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())
    for piece in english_fragments():
        if piece in flat:
            return piece
    return None


def test_the_english_fragments_are_found_in_english():
    """The check itself: an English run shows some of them (else it could never fail)."""
    _out, err, _status = run(["replay", "/nonexistent.pcapng"], lang="en")
    assert english_in(err) in ("there is no file", "check the path")
    assert english_in("sockviz: there is no file 'x'; check the path") is not None


def run(argv: list[str], lang: str = "fr", width: int = 100) -> tuple[str, str, int]:
    """``sockviz ARGV --lang LANG`` (``--lang`` put first, so that ``run``'s script and
    ``lab run``'s command do not take it), its stdout, stderr and status."""
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                      width=width, color=False, environ={"LANG": "C.UTF-8"})
    with contextlib.redirect_stderr(env.stderr):  # argparse writes its errors there
        status = main([argv[0], "--lang", lang, *argv[1:]], env)
    return env.stdout.getvalue(), env.stderr.getvalue(), status


def assert_french(text: str) -> None:
    assert text.strip(), "nothing was said"
    assert english_in(text) is None, (english_in(text), text)


# -- refusals and errors -----------------------------------------------------------------


REFUSALS = [
    (["tcp", "chat.sockviz.test", "99999"], ExitStatus.USAGE, "port"),
    (["tcp", "chat.sockviz.test", "http"], ExitStatus.USAGE, "port"),
    (["tcp", "chat.sockviz.test", "3001", "--timeout", "0"], ExitStatus.USAGE, "délai"),
    (["tcp", "chat.sockviz.test", "3001", "--send-bytes", "lots"], ExitStatus.USAGE, "taille"),
    (["udp", "chat.sockviz.test", "3001", "--size=-5"], ExitStatus.USAGE, "négative"),
    (["demo", "--delay", "soon"], ExitStatus.USAGE, "millisecondes"),
    (["demo", "--loss", "200"], ExitStatus.USAGE, "pourcentage"),
    (["replay", "captures/tcp.pcapng", "--packet", "0"], ExitStatus.USAGE, "Wireshark"),
    (["replay", "/nonexistent.pcapng"], ExitStatus.BAD_FILE, "vérifiez le chemin"),
    (["replay", "/"], ExitStatus.BAD_FILE, "dossier"),
    (["replay", str(CAPTURES / "tcp.pcapng"), "--packet", "99"], ExitStatus.USAGE, "14 paquets"),
    (["replay", str(CAPTURES / "tcp.pcapng"), "--svg", "/"], ExitStatus.CANNOT_WRITE, "l'image SVG"),
    (["replay", str(CAPTURES / "tcp.pcapng"), "--html", "/nonexistent/x.html"],
     ExitStatus.CANNOT_WRITE, "la page HTML"),
    (["replay", str(CAPTURES / "tcp.pcapng"), "--step"], ExitStatus.USAGE, "terminal"),
    (["run", "/nonexistent/client.py"], ExitStatus.NO_PROGRAM, "script"),
    (["run", "-m", "no_such_module_here"], ExitStatus.NO_PROGRAM, "module"),
    (["run"], ExitStatus.USAGE, "dites quoi lancer"),
    (["lab", "shell", "ls"], ExitStatus.USAGE, "lab shell ne prend pas"),
    (["lab", "run"], ExitStatus.USAGE, "dites quelle commande"),
    (["lab", "run", "--", "no-such-command-here"], ExitStatus.NO_PROGRAM, "vérifiez son nom"),
    (["lab", "run", "--bogus", "--", "ls"], ExitStatus.USAGE, "avant --"),
]


@pytest.mark.parametrize(("argv", "status", "word"), REFUSALS, ids=[" ".join(a[:3]) for a, _, _ in REFUSALS])
def test_a_refusal_is_one_french_sentence(argv, status, word):
    _out, err, got = run(argv)
    assert got == status, err
    assert word in err.replace("\u00a0", " ").replace("\u202f", " ")
    said = err.splitlines()[-1]
    assert said.startswith("sockviz"), err
    assert_french(said)
    assert "Traceback" not in err


def test_a_file_that_is_no_capture_is_said_in_french(tmp_path):
    for name, data, word in [("empty.pcap", b"", "vide"), ("short.pcap", b"\xd4\xc3", "trop court"),
                             ("notes.txt", b"hello\n", "commence par"),
                             ("picture.png", b"\x89PNG\r\n\x1a\n" + bytes(20), "image PNG")]:
        (tmp_path / name).write_bytes(data)
        _out, err, status = run(["replay", str(tmp_path / name)])
        assert status == ExitStatus.BAD_FILE and word in err, err
        assert_french(err)


# -- the capture reader's problems, and the decoder's ------------------------------------


def damaged_files(tmp_path: Path) -> list[Path]:
    """Shipped captures cut short at several places, and blocks made inconsistent."""
    data = (CAPTURES / "tcp.pcapng").read_bytes()
    files = []
    for cut in (30, 100, 140, 333, 1000, len(data) - 5):
        path = tmp_path / f"cut-{cut}.pcapng"
        path.write_bytes(data[:cut])
        files.append(path)
    broken = bytearray(data)
    broken[-4:] = (12345).to_bytes(4, "little")  # the last block's trailing length
    (tmp_path / "trailer.pcapng").write_bytes(bytes(broken))
    files.append(tmp_path / "trailer.pcapng")
    pcap = b"\xd4\xc3\xb2\xa1" + bytes(8) + (65535).to_bytes(4, "little") + (1).to_bytes(4, "little")
    record = (1).to_bytes(4, "little") * 2 + (60).to_bytes(4, "little") * 2 + bytes(30)
    for name, body in [("header.pcap", pcap[:12]), ("record.pcap", pcap + record),
                       ("recordhead.pcap", pcap + record[:9])]:
        (tmp_path / name).write_bytes(body)
        files.append(tmp_path / name)
    return files


def test_a_damaged_capture_is_said_in_french(tmp_path):
    for path in damaged_files(tmp_path):
        for flags in ((), ("--summary",)):
            out, err, status = run(["replay", str(path), *flags], width=1000)
            assert status == ExitStatus.DAMAGED_FILE, (path.name, err)
            problem = [line for line in out.splitlines()
                       if line.startswith(("Le fichier est tronqué", "Arrêt à l'octet"))]
            assert problem, (path.name, out)
            assert_french("\n".join(problem) + err)


def test_the_json_of_a_damaged_capture_keeps_its_keys_and_says_its_problem_in_french(tmp_path):
    """``problem`` is a sentence for people (as ``explain``): it follows --lang; programs
    test that it is there (and the exit status, 6)."""
    path = damaged_files(tmp_path)[4]
    records = {}
    for lang in ("fr", "en"):
        out, _err, status = run(["replay", str(path), "--json"], lang=lang)
        assert status == ExitStatus.DAMAGED_FILE
        records[lang] = [json.loads(line) for line in out.splitlines()]
    fr, en = (next(r for r in records[lang] if r["type"] == "summary") for lang in ("fr", "en"))
    assert list(fr) == list(en) and (fr["lang"], en["lang"]) == ("fr", "en")
    assert fr["problem"].startswith("Le fichier est tronqué") and en["problem"].startswith("The file")
    assert_french(fr["problem"])


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the tcpdump test corpus is not here")
def test_the_corpus_replayed_in_french_shows_no_english_sentence():
    """tcpdump's test captures: fuzzed, truncated, damaged packets; every problem in French."""
    for path in sorted(CORPUS.glob("*.pcap*")):
        out, err, status = run(["replay", str(path)], width=1000)
        assert status in (ExitStatus.OK, ExitStatus.DAMAGED_FILE), (path.name, err)
        said = out + err
        assert english_in(said) is None, (path.name, english_in(said))
        # Problems are said in parentheses after the fields: none in English.
        for problem in re.findall(r"\s\s\(([^()\"]*(?:\([^()]*\)[^()\"]*)?)\)$", said, re.M):
            assert english_word(problem) is None, (path.name, problem)


# -- the layer view, the ladder, the stepper -----------------------------------------------


def check_golden(path: Path, text: str) -> None:
    if os.environ.get("SOCKVIZ_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


LAYERS = [("tcp_data", "tcp.pcapng", 8), ("dns_response", "getaddrinfo.pcapng", 3),
          ("icmp_port_unreachable", "udp-unreachable.pcapng", 4), ("tcp_syn", "tcp.pcapng", 5)]


@pytest.mark.parametrize(("name", "capture", "number"), LAYERS, ids=[p[0] for p in LAYERS])
def test_the_layer_view_in_french_matches_golden(name, capture, number):
    out, err, status = run(["replay", str(CAPTURES / capture), "--packet", str(number)], width=120)
    assert status == ExitStatus.OK, err
    check_golden(GOLDEN / "layers" / f"{name}.txt", out)
    assert_french(out)
    assert "octets" in out and "en-tête" in out
    for line in out.splitlines():  # a no-break space is never where a line breaks
        assert not re.match(r"\s*[:;?!»]", line), line


def test_a_packet_cut_short_is_explained_in_french():
    from sockviz.render.layers import packet_layers, read_frame

    phrases.set_language("fr")
    frame = read_frame(CAPTURES / "tcp.pcapng", 5)
    for keep in (10, 20, 40, 60):
        view = packet_layers(frame.data[:keep], frame.linktype, index=5, wirelen=frame.wirelen)
        text = render(view, 100)
        assert_french(text)
        assert view.problems or view.snap


def render(renderable, width: int) -> str:
    out = io.StringIO()
    Console(width=width, no_color=True, color_system=None, force_terminal=False, highlight=False,
            emoji=False, file=out).print(renderable)
    return out.getvalue()


@pytest.mark.parametrize("name", ["tcp", "udp-unreachable", "getaddrinfo", "tcp6"])
def test_the_ladder_in_french_matches_golden(name):
    out, err, status = run(["replay", str(CAPTURES / f"{name}.pcapng"), "--ladder"], width=100)
    assert status == ExitStatus.OK, err
    check_golden(GOLDEN / "ladder" / f"{name}-100.txt", out)
    assert_french(out)
    assert "vous" in out or "votre résolveur" in out


def test_the_svg_and_html_ladders_speak_french(tmp_path):
    _out, err, status = run(["replay", str(CAPTURES / "tcp.pcapng"), "--svg", str(tmp_path / "a.svg"),
                            "--html", str(tmp_path / "a.html")])
    assert status == ExitStatus.OK, err
    assert "le diagramme est dans" in err
    for name in ("a.svg", "a.html"):
        text = re.sub(r"<[^>]+>", " ", (tmp_path / name).read_text(encoding="utf-8"))
        assert_french(text)
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert 'lang="fr"' in page and "Comment le lire" in page


def test_the_stepper_speaks_french():
    from scenarios import CollectSink
    from sockviz.render.stepper import Stepper, StepView, question_text, status_text

    phrases.set_language("fr")

    from sockviz.capfile.reader import open_capture
    from sockviz.replay import replay

    sink = CollectSink()
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), width=100, color=False)
    with open_capture(CAPTURES / "tcp.pcapng") as reader:
        replay(reader, env, view=False, sinks=[sink])
    stepper = Stepper(sink.entries)
    screens = []
    for _step in range(len(stepper)):
        screens.append(render(StepView(stepper, height=40), 100))
        stepper.next()
    text = "\n".join(screens)
    assert_french(text)
    assert "étape 1 sur" in text and "qu'est-ce que cet appel va envoyer" in text
    call = next(s.call for s in stepper.steps if s.call is not None)
    assert_french(question_text(call).plain + status_text(stepper).plain)


# -- the demo's cards, the lab's banner, the notebook, the capture process ----------------


def test_the_demo_cards_and_its_last_words_speak_french():
    from sockviz.commands import demo

    phrases.set_language("fr")
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), width=100, color=False)
    for number, lesson in enumerate(demo.LESSONS, 1):
        demo._heading(env, number, lesson)
    head, rest = phrases.demo_done("captures", "captures/demo-tcp.pcapng", "sudo sockviz lab shell")
    text = env.stdout.getvalue() + head + rest
    assert_french(text)
    assert f"Leçon 1 sur {len(demo.LESSONS)}" in text and "poignée de main en trois temps" in text


def test_each_demo_lesson_runs_in_the_demo_language(monkeypatch):
    """The lessons are other sockviz processes: they are told the language (not left to the
    lab's environment)."""
    from sockviz.commands import demo

    commands = []

    class FakeLab:
        client = SimpleNamespace()

        def down(self):
            pass

    monkeypatch.setattr(demo, "open_lab", lambda **kw: FakeLab())
    monkeypatch.setattr(demo, "_lesson", lambda lab, command, stdin: commands.append(command) or 0)
    phrases.set_language("fr")
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), width=100,
                      color=False)
    args = SimpleNamespace(delay=0.0, loss=0.0, no_pause=True, json=True, save_dir="captures")
    demo.run(args, env, ["demo"])
    assert commands and all(c[c.index("--lang") + 1] == "fr" for c in commands)


def test_the_lab_banner_and_the_lab_run_environment_speak_french():
    from sockviz.commands import lab

    phrases.set_language("fr")
    banner = phrases.lab_banner()
    assert_french(banner)
    assert "Vous êtes sur l'hôte client du labo" in banner and "sockviz resolve 2001:db8::2 80" in banner
    assert lab._language_environ(SimpleNamespace(lang="fr")) == {"LANGUAGE": "fr"}
    assert lab._language_environ(SimpleNamespace(lang=None)) == {}


def test_the_notebook_magic_speaks_french(capsys):
    from sockviz.notebook import NotebookTracer

    phrases.set_language("fr")
    tracer = NotebookTracer(SimpleNamespace(execution_count=1))
    tracer.magic("")
    tracer.capture = "captures/notebook.pcapng"
    tracer.magic("off")
    tracer.magic("")
    tracer.magic("bogus")
    said = capsys.readouterr().out
    assert "sockviz est en pause ; capture" in said.replace("\u202f", " ")
    assert_french(said)


def test_the_capture_process_failures_are_worded_by_the_parent_in_french():
    from sockviz.sources import capture_process as cp
    from sockviz.sources.live import failure_sentence

    phrases.set_language("fr")
    said = [failure_sentence(code, "Operation not permitted")
            for code in (cp.ERR_OPEN, cp.ERR_SETUP, cp.ERR_CAPTURE)]
    said += [phrases.capture_process_died(-9), phrases.capture_process_ended_early(),
             phrases.spool_failed("disk full"), phrases.capture_process_not_started("No such file"),
             phrases.capture_needs_root("sudo sockviz tcp x 1"), phrases.no_packet_socket(),
             phrases.trace_needs_rights(), phrases.notebook_needs_rights()]
    assert_french("\n".join(said))
    assert said[0] == "impossible d'ouvrir un socket de paquets\u00a0: Operation not permitted"


def test_an_unexpected_error_and_an_interruption_are_said_in_french(monkeypatch):
    from sockviz import commands

    def boom(args, env, argv):
        raise RuntimeError("kaput")

    monkeypatch.setattr(commands, "dispatch", boom)
    _out, err, status = run(["replay", "x.pcapng"])
    assert status == ExitStatus.ERROR and "erreur inattendue (RuntimeError" in err
    assert_french(err)

    def interrupt(args, env, argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "dispatch", interrupt)
    _out, err, status = run(["replay", "x.pcapng"])
    assert status == ExitStatus.INTERRUPTED and err.strip() == "Interrompu."


# -- English singulars ------------------------------------------------------------------------


def test_english_says_one_packet_one_byte_one_more_name():
    phrases.set_language("en")
    assert phrases.overview_packets(1) == "1 packet" and phrases.overview_packets(2) == "2 packets"
    assert phrases.overview_bytes(1) == "1 byte on the wire"
    assert phrases.payload_length(1) == "1 byte" and phrases.payload_length(14) == "14 bytes"
    assert phrases.more_names(1) == "… and 1 more name" and phrases.more_names(3) == "… and 3 more names"
    assert phrases.more_calls(1) == "… and 1 more call"
    assert phrases.summed_up(1) == "1 more packet summed up: "
    assert phrases.transfer_so_far("1 B", 1, 1) == "1 B in 1 segment, 1 ACK"
    assert phrases.ladder_elided(1, False).startswith("⋮ 1 more packet not drawn")
