"""The projector's view (issue 16): the compact layout, the Δt column, colours for any background.

The shipped captures replayed in the compact layout at 80 columns, in English and in
French, against golden text: tests/golden/compact/ and tests/golden/fr/compact/.
Regenerate after a deliberate change with: SOCKVIZ_UPDATE_GOLDEN=1 pytest tests/test_compact.py
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from scenarios import SCENARIOS, feed
from sockviz.core import phrases
from sockviz.core.timeline import PacketShown
from sockviz.render.compact import COMPACT_BELOW, state_change_line
from sockviz.render.console import ConsoleSink
from test_i18n import CAPTURES, GOLDEN, check_golden, replay

NAMES = [p.stem for p in CAPTURES]


@pytest.fixture(autouse=True)
def english_after():
    yield
    phrases.set_language("en")


def render(entries, width: int, layout: str | None, *, color: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, no_color=not color, force_terminal=color,
                      color_system="truecolor" if color else None, highlight=False, emoji=False)
    sink = ConsoleSink(console, layout=layout)
    for entry in entries:
        sink.handle(entry)
    sink.close()
    return out.getvalue()


def scenario(name: str) -> list:
    return feed(SCENARIOS[name]().events)


def every_entry() -> list:
    """Every scenario's timeline, one after the other."""
    return [e for name in sorted(SCENARIOS) for e in scenario(name)]


# -- golden files ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("path", CAPTURES, ids=NAMES)
def test_compact_replay_matches_golden(path, lang):
    folder = GOLDEN / "compact" if lang == "en" else GOLDEN / "fr" / "compact"
    check_golden(folder / f"{path.stem}.txt", replay(path, "--compact", lang=lang, width=80))


# -- the layout's promises ---------------------------------------------------------------

WIDTHS = [40, 60, 80, 100, 140]


def _gutter_kept(text: str, layout: str) -> None:
    """A packet's wrapped lines keep their gutter: a line that starts with spaces never
    follows a packet's lines (it continues a call's line, its result, a note)."""
    blank = "    " if layout == "full" else " "
    packet_line = ("  │", "  ·") if layout == "full" else ("│", "·")
    owner = None
    legend = phrases.compact_legend()
    for line in text.splitlines():
        if line == legend:  # the compact layout's first line: a key, not a packet's line
            owner = None
            continue
        if line.startswith(blank) and owner is not None:
            assert not owner.startswith(packet_line), (owner, line)
        elif line:
            owner = line


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("layout", ["compact", "full"])
def test_no_line_ends_in_spaces_and_wrapped_lines_keep_the_gutter(layout, lang):
    phrases.set_language(lang)
    entries = every_entry()
    for width in WIDTHS:
        text = render(entries, width, layout)
        for line in text.splitlines():
            assert line == line.rstrip(), (width, line)
            assert len(line) <= width, (width, line)
        _gutter_kept(text, layout)
    for path in CAPTURES:
        for width in (60, 80):
            text = replay(path, f"--{layout}", lang=lang, width=width)
            assert all(line == line.rstrip() for line in text.splitlines()), path
            _gutter_kept(text, layout)


def test_many_kinds_of_packets_in_colour_and_without():
    """600 synthetic packets of every protocol, in every direction: the same promises, and
    colour changes the codes, not the text."""
    import random
    import sys

    from sockviz.core.correlate import Correlator
    from sockviz.core.decode import LINKTYPE_ETHERNET, decode
    from sockviz.core.events import Packet

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import synthcap

    corr = Correlator(role=None)
    entries = []
    for i, frame in enumerate(synthcap.frames(600, seed=4)):
        pkt = Packet(index=i + 1, time=1_795_000_000.0 + i * 1e-3, iface="eth0",
                     direction=random.Random(i).choice(("in", "out", None)),
                     linktype=LINKTYPE_ETHERNET, wirelen=len(frame), data=frame,
                     decoded=decode(frame, LINKTYPE_ETHERNET))
        entries.extend(corr.packet(pkt))
    for layout in ("compact", "full"):
        for width in (40, 80, 160):
            text = render(entries, width, layout)
            assert all(line == line.rstrip() and len(line) <= width for line in text.splitlines())
            _gutter_kept(text, layout)
            coloured = render(entries, width, layout, color=True)
            assert "\x1b[" in coloured
            assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == text


def test_the_gutter_check_catches_a_lost_gutter():
    _gutter_kept("▶ connect()\n│ #1 → TCP [SYN]\n│     meaning\n└ → None\n  lesson\n", "compact")
    with pytest.raises(AssertionError):
        _gutter_kept("▶ connect()\n│ #1 → TCP [SYN]\n      meaning wrapped\n", "compact")
    with pytest.raises(AssertionError):
        _gutter_kept("  │ #1  0.1 → out TCP [SYN]\n                    wrapped\n", "full")


def test_one_line_per_packet_and_the_legend_first():
    text = replay(CAPTURES[NAMES.index("tcp")], "--compact", lang="en", width=80)
    lines = text.splitlines()
    assert lines[0] == phrases.compact_legend()
    packet_lines = [line for line in lines if re.match(r"[│·] #\d+ ", line)]
    assert len(packet_lines) == 14  # each packet on one line of its own, at 80 columns
    full = replay(CAPTURES[NAMES.index("tcp")], "--full", lang="en", width=80).splitlines()
    assert len(lines) <= 0.65 * len(full)  # 101 lines against the full layout's 167
    syn = next(line for line in packet_lines if "[SYN]" in line)
    client = syn.split("TCP  ")[1].split(" > ")[0]  # the capture's ephemeral port
    assert f"{client} > 192.0.2.2:3001 [SYN] seq=0" in syn  # the conversation's endpoints
    assert sum(client in line for line in packet_lines) == 1  # on its first packet
    data = next(line for line in packet_lines if "[PSH, ACK] seq=1 ack=1" in line)
    assert "bytes 1-14" in data and '"Test en classe"' in data
    assert "14 bytes of your data" not in text  # the line says it already
    assert "you acknowledge the server's SYN" in text  # a step's meaning, the first time


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_legend_fits_eighty_columns(lang):
    phrases.set_language(lang)
    assert len(phrases.compact_legend()) <= 80
    for mark in ("│", "·", phrases.arrows()["out"].rstrip(), phrases.arrows()["in"].rstrip()):
        assert mark in phrases.compact_legend()


def test_a_step_is_explained_once_and_the_backoff_read_in_the_time_column():
    twice = scenario("tcp_exchange") + scenario("tcp_exchange")
    text = render(twice, 80, "compact")
    assert text.count("the three-way handshake is complete") == 1
    assert text.count("[SYN] seq=0") == 2
    retries = render(scenario("tcp_no_answer"), 80, "compact")
    assert retries.count("[SYN] seq=0") == 4
    assert retries.count("your kernel sends the SYN again") == 1
    times = [line.split()[2] for line in retries.splitlines() if "[SYN] seq=0" in line]
    assert times == ["+100", "+1.010", "+2.020", "+4.040"]  # RFC 6298 §5.5: doubling


def test_the_payload_preview_fits_the_room_left_or_goes():
    entries = scenario("tcp_exchange")
    wide, narrow = render(entries, 140, "compact"), render(entries, 60, "compact")
    data = [line for line in narrow.splitlines() if "bytes 1-" in line]
    assert data and all(len(line) <= 60 for line in data)
    assert '"' in next(line for line in wide.splitlines() if "bytes 1-" in line)


# -- Δt ------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["compact", "full"])
def test_the_round_trip_reads_off_the_syn_ack(layout):
    """The scenario's SYN at 10.3 ms, its SYN/ACK at 12.0 ms: '+1.7 ms' on the SYN/ACK."""
    text = render(scenario("tcp_exchange"), 120, layout)
    synack = next(line for line in text.splitlines() if "[SYN, ACK]" in line)
    assert "+1.7 ms" in synack
    phrases.set_language("fr")
    text = render(scenario("tcp_exchange"), 120, layout)
    synack = next(line for line in text.splitlines() if "[SYN, ACK]" in line)
    assert "+1,7\u00a0ms" in synack  # French decimals, a no-break space


def test_delta_words():
    d = phrases.delta
    assert [d(3.2e-5), d(0.0075), d(2.002), d(12.34), d(802.0), d(-1e-6)] == [
        "+32 µs", "+7.5 ms", "+2.002 s", "+12.3 s", "+802 s", "−1 µs"]
    assert d(0.003 - 0.002) == "+1.0 ms" and d(0.99996) == "+1.000 s"  # not "+1000 µs"
    assert phrases.byte_range(1, 14) == "bytes 1-14" and phrases.byte_range(15, 1) == "byte 15"


# -- which layout --------------------------------------------------------------------------


def test_the_compact_layout_is_the_default_under_a_hundred_columns():
    entries = scenario("tcp_exchange")
    assert render(entries, COMPACT_BELOW - 1, None) == render(entries, COMPACT_BELOW - 1, "compact")
    assert render(entries, COMPACT_BELOW, None) == render(entries, COMPACT_BELOW, "full")
    assert render(entries, COMPACT_BELOW - 1, "full") != render(entries, COMPACT_BELOW - 1,
                                                                 "compact")
    tcp = CAPTURES[NAMES.index("tcp")]
    assert replay(tcp, lang="en", width=80) == replay(tcp, "--compact", lang="en", width=80)
    assert replay(tcp, lang="en", width=100) == replay(tcp, "--full", lang="en", width=100)
    assert replay(tcp, "--compact", lang="en", width=140).startswith(phrases.compact_legend())


def test_compact_and_full_are_offered_on_every_command_that_shows_the_view():
    from sockviz.cli import build_parser

    parser = build_parser()
    for argv in (["tcp", "h", "1"], ["udp", "h", "1"], ["resolve", "h"], ["replay", "f"],
                 ["run", "x.py"], ["serve"], ["demo"]):
        assert parser.parse_args([argv[0], "--compact", *argv[1:]]).layout == "compact"
        assert parser.parse_args([argv[0], "--full", *argv[1:]]).layout == "full"
        assert parser.parse_args(argv).layout is None
    with pytest.raises(SystemExit):
        parser.parse_args(["replay", "f", "--compact", "--full"])


# -- colours -------------------------------------------------------------------------------

# Under 3:1 on a common palette's white or black background (measured: yellow on white,
# white on white, xterm's blue on black, the bright colours); grey (bright_black) marks
# only the gutter.
UNREADABLE = re.compile(r"^(yellow|white|blue|bright_(?!black).*|color\(([3789]|1[0-5])\))$")


@pytest.mark.parametrize("layout", ["compact", "full"])
def test_no_colour_that_a_white_or_a_dark_background_would_hide(layout):
    """The words in the terminal's own colour; colour marks short things, red the errors."""
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=True, color_system="standard",
                      record=True, highlight=False, emoji=False)
    sink = ConsoleSink(console, layout=layout)
    for entry in every_entry():
        sink.handle(entry)
    sink.close()
    segments = [seg for seg in console._record_buffer if seg.style is not None]
    colours = {seg.style.color.name for seg in segments if seg.style.color is not None}
    assert colours and not {c for c in colours if UNREADABLE.match(c)}, colours
    assert not any(seg.style.bgcolor is not None for seg in segments)
    for seg in segments:
        if seg.style.color is not None and seg.style.color.name != "red":
            assert len(seg.text.split()) < 6, (seg.style, seg.text)  # not a sentence


# -- TCP states (core/tcpstates.py through the correlator) ---------------------------------


def test_a_state_change_is_said_under_its_segment_where_it_changes():
    entries = scenario("tcp_exchange")
    lines = render(entries, 100, "compact").splitlines()
    syn = next(i for i, line in enumerate(lines) if "[SYN]" in line)
    assert lines[syn + 1].split() == ["│", "you:", "CLOSED", "→", "SYN-SENT"]
    synack = next(i for i, line in enumerate(lines) if "[SYN, ACK]" in line)
    assert lines[synack + 1].split() == ["│", "the", "server:", "LISTEN", "→", "SYN-RECEIVED",
                                         "·", "you:", "SYN-SENT", "→", "ESTABLISHED"]
    ack = next(i for i, line in enumerate(lines) if "[ACK] seq=1 ack=1" in line)
    assert lines[ack + 1].split()[1:] == ["the", "server:", "SYN-RECEIVED", "→", "ESTABLISHED"]
    data = next(e for e in entries if isinstance(e, PacketShown) and e.step == "data")
    assert state_change_line(data) is None  # the bulk of a connection changes no state
