"""French (issue 15): the catalogue is complete and current, and a French run says no English.

The catalogue: every message of the code is in the template, translated in
src/sockviz/locale/fr/LC_MESSAGES/sockviz.po (not fuzzy, same placeholders,
French typography), and the compiled .mo says the same. After a change of
sentence: ``python tools/catalog.py``, translate, ``python tools/catalog.py
compile``.

The view in French against golden files: tests/golden/fr/ beside the
English ones (the lessons' scenarios, and the shipped captures replayed:
tests/golden/replay/ and tests/golden/fr/replay/). Regenerate after a
deliberate change with: SOCKVIZ_UPDATE_GOLDEN=1 pytest tests/test_i18n.py
"""

from __future__ import annotations

import gettext
import io
import json
import os
import re
import sys
from pathlib import Path
from string import Formatter

import pytest

from sockviz.cli import main
from sockviz.core import phrases
from sockviz.core.phrases import language_from_environ
from sockviz.environment import Environment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import catalog  # noqa: E402 - tools/catalog.py, the one definition of the extraction

GOLDEN = Path(__file__).parent / "golden"
CAPTURES = sorted((ROOT / "captures").glob("*.pcapng"))
NB, NNB = "\u00a0", "\u202f"


@pytest.fixture(autouse=True)
def english_after():
    """Whatever a test spoke, the next one starts in English."""
    yield
    phrases.set_language("en")


# -- the catalogue -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def template():
    return catalog.read(catalog.TEMPLATE)


@pytest.fixture(scope="module")
def french():
    return catalog.read(catalog.po_path("fr"), locale="fr")


def keys(cat) -> set:
    return {(m.context, m.id) for m in cat if m.id}


def test_the_template_is_up_to_date_with_the_code(template):
    """Re-extracted from the code now: the same messages (else run tools/catalog.py)."""
    assert keys(catalog.extract()) == keys(template)
    assert len(keys(template)) > 250


def test_every_message_of_the_template_is_in_the_french_catalogue(template, french):
    assert keys(french) == keys(template)


def forms(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def ids(message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def test_every_message_has_a_french_translation_that_is_not_fuzzy(french):
    assert french.num_plurals == 2 and french.plural_expr == "(n > 1)"  # gettext's French rule
    for m in french:
        if m.id:
            assert not m.fuzzy, m.id
            strings = forms(m)
            assert all(strings) and len(strings) == len(ids(m)), m.id


def fields(text: str) -> list:
    return sorted((name, spec, conv) for _, name, spec, conv in Formatter().parse(text)
                  if name is not None)


def test_translations_keep_the_placeholders_of_their_message(french):
    """Same names, specs and conversions (a translation may reorder them, never drop one)."""
    for m in french:
        if m.id:
            wanted = fields(ids(m)[-1])
            assert fields(ids(m)[0]) == wanted or len(ids(m)) == 1, m.id
            for form in forms(m):
                assert fields(form) == wanted, (m.id, form)


def test_french_typography(french):
    """No-break spaces before ':' (U+00A0) and ';' '?' '!' (U+202F), inside « », a count with its noun."""
    for m in french:
        if not m.id or m.context in ("thousands separator", "unit space", "decimal separator"):
            continue
        for text in forms(m):
            assert not re.search(r"(?<![\u00a0\u202f]):(\s|$)", text), text
            assert not re.search(r"(?<!\u202f)[;?!](\s|$)", text), text
            assert " :" not in text and "« " not in text and " »" not in text, text
            assert "{count} " not in text, text


# Common English words, as sockviz's sentences write them (lower case: not TIME-WAIT's
# WAIT), once the calls' names (send(), recv()), the placeholders and the command
# line's options (--no-save) are taken out.
_ENGLISH = re.compile(r"\b(the|your|you|is|and|of|to|from|with|has|it|its|this|that|sends?|asks?|"
                      r"answers?|nothing|not|no|only|already|waits?|every|there)\b")
_CALL_NAME = re.compile(r"\b\w+\(\)|\{[^{}]*\}|(?<!\w)--?[a-z][\w-]*")


def english_word(text: str) -> str | None:
    """The first common English word of ``text``, or None."""
    found = _ENGLISH.search(_CALL_NAME.sub("", text))
    return found.group() if found else None


def test_no_french_translation_is_left_in_english(french):
    for m in french:
        if m.id:
            for text in forms(m):
                assert english_word(text) is None, text


def test_the_compiled_catalogue_says_what_the_po_says(french):
    """The .mo shipped in the package is the .po compiled (tools/catalog.py compile)."""
    shipped = gettext.GNUTranslations(io.BytesIO(catalog.mo_path("fr").read_bytes()))
    fresh = gettext.GNUTranslations(io.BytesIO(catalog.compiled(french)))
    assert shipped._catalog == fresh._catalog
    assert shipped.plural(1) == 0 and shipped.plural(0) == 0 and shipped.plural(2) == 1


# -- choosing the language -----------------------------------------------------------------


@pytest.mark.parametrize("environ, lang", [
    ({"LANG": "fr_CA.UTF-8"}, "fr"),
    ({"LANG": "fr_FR.UTF-8"}, "fr"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({}, "en"),
    ({"LANGUAGE": "fr:en"}, "fr"),
    ({"LANGUAGE": "en:fr", "LANG": "fr_FR.UTF-8"}, "en"),
    ({"LANGUAGE": "de:fr_CH", "LANG": "en_US.UTF-8"}, "fr"),  # the first language sockviz speaks
    ({"LANGUAGE": "", "LANG": "fr_FR.UTF-8"}, "fr"),  # empty: not set
    ({"LC_ALL": "en_US.UTF-8", "LANG": "fr_FR.UTF-8"}, "en"),  # LC_ALL overrides LANG
    ({"LC_ALL": "fr_FR.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
    ({"LC_MESSAGES": "fr_BE.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
    ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "en"),
    ({"LANG": "fr_FR@euro"}, "fr"),
    ({"LANG": "frr_DE.UTF-8"}, "en"),  # North Frisian, not French
    ({"LANG": "de_DE.UTF-8"}, "en"),
])
def test_language_from_environ_follows_gettext(environ, lang):
    assert language_from_environ(environ) == lang


# -- French runs ---------------------------------------------------------------------------


def replay(path: Path, *flags: str, lang: str = "fr", width: int = 100) -> str:
    """``sockviz replay PATH`` in ``lang``: chosen as a user would, by the environment."""
    phrases.set_language(lang)
    environ = {"LANG": "fr_FR.UTF-8" if lang == "fr" else "en_US.UTF-8"}
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), width=width,
                      color=False, environ=environ)
    status = main(["replay", str(path), *flags], env)
    assert status == 0, env.stderr.getvalue()
    return env.stdout.getvalue()


def stored_notes(path: Path) -> list:
    """The notes a capture holds (the calls' own and the timeline's), as its comments store them."""
    from sockviz.capfile.reader import open_capture
    from sockviz.core.callcomment import CALL_PREFIX, NOTE_PREFIX

    notes = []
    with open_capture(path) as reader:
        for frame in reader:
            for comment in frame.comments:
                for line in comment.splitlines():
                    if line.startswith(NOTE_PREFIX):
                        notes.append(json.loads(line[len(NOTE_PREFIX):]))
                    elif line.startswith(CALL_PREFIX):
                        record = json.loads(line[len(CALL_PREFIX):])
                        if record["note"] is not None:
                            notes.append({"text": record["note"], "key": record.get("note_key")})
    return notes


@pytest.mark.parametrize("path", CAPTURES, ids=[p.stem for p in CAPTURES])
def test_every_note_of_a_shipped_capture_is_stored_as_a_phrase(path):
    """So that a replay says it in its own language (phrases.Said), not in the run's."""
    for note in stored_notes(path):
        assert note["key"] is not None, note["text"]


def words_said(text: str) -> str:
    """What sockviz itself said: without the calls and results (Python's text) and the
    payloads' previews. The notes are sockviz's too: said again in the replay's language."""
    kept = []
    for line in text.splitlines():
        bare = line.lstrip(" │·└▶")
        if line.lstrip().startswith(("▶", "└")) or bare.startswith(("→ [", "→ (", "→ <", "→ b'")):
            continue
        if line.startswith("  ") and "  → " in line:  # the overview's calls: keep its count
            line = line.rsplit("  (", 1)[-1]
        kept.append(re.sub(r'"[^"]*"', "", line))
    return "\n".join(kept)


@pytest.mark.parametrize("path", CAPTURES, ids=[p.stem for p in CAPTURES])
def test_a_french_replay_says_no_english(path):
    for flags in ((), ("--summary",)):
        said = words_said(replay(path, *flags, width=1000))
        assert english_word(said) is None, (flags, english_word(said), said)
        assert re.search(r"\b(paquets?|vous|votre|noyau)\b", said)


@pytest.mark.parametrize("path", CAPTURES, ids=[p.stem for p in CAPTURES])
def test_a_french_json_replay_keeps_its_keys_and_values_and_says_no_english(path):
    french = [json.loads(line) for line in replay(path, "--json").splitlines()]
    english = [json.loads(line) for line in replay(path, "--json", lang="en").splitlines()]
    assert len(french) == len(english)
    for fr, en in zip(french, english, strict=True):
        assert list(fr) == list(en)
        for key in ("type", "proto", "flags", "step", "dir", "summary", "seq", "ack", "index"):
            assert fr.get(key) == en.get(key)
        notes = ("text",) if fr["type"] == "note" else ()  # a call's text is Python's
        for key in ("explain", "context", "lesson", *notes):
            text = words_said(fr.get(key) or "")
            assert english_word(text) is None, (key, text)
    assert french[-1]["type"] == "summary" and list(french[-1])[-1] == "lang"
    assert (french[-1]["lang"], english[-1]["lang"]) == ("fr", "en")


def test_the_fast_json_path_speaks_french_as_the_general_one(tmp_path, monkeypatch):
    """The fast path caches worded meanings per flow: in French they are French, byte for byte."""
    from test_perf_fastpaths import assert_same_lines, frames, replay_json, write_frames

    write_frames(tmp_path / "synth.pcap", list(frames()))
    phrases.set_language("fr")
    for path in [tmp_path / "synth.pcap", *CAPTURES]:
        fast = replay_json(path, fast=True, monkeypatch=monkeypatch)
        assert_same_lines(fast, replay_json(path, fast=False, monkeypatch=monkeypatch), path.name)
        assert "vous acquittez" in fast or "acquitte" in fast or path.suffix == ".pcapng"


# -- the view in French, against golden files ----------------------------------------------


def check_golden(path: Path, text: str) -> None:
    if os.environ.get("SOCKVIZ_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def scenario_names():
    from scenarios import SCENARIOS

    return sorted(SCENARIOS)


@pytest.mark.parametrize("name", scenario_names())
def test_french_view_matches_golden(name):
    from test_render import render

    phrases.set_language("fr")
    check_golden(GOLDEN / "fr" / f"{name}.txt", render(name))


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("path", CAPTURES, ids=[p.stem for p in CAPTURES])
def test_replayed_capture_matches_golden(path, lang):
    folder = GOLDEN / "replay" if lang == "en" else GOLDEN / "fr" / "replay"
    check_golden(folder / f"{path.stem}.txt", replay(path, lang=lang))


@pytest.mark.parametrize(("width", "layout"), [(40, "full"), (60, "full"), (80, "full"),
                                             (100, "full"), (40, "compact"), (60, "compact"),
                                             (80, "compact")])
def test_french_lines_fit_and_never_break_before_their_punctuation(width, layout):
    """Rich breaks lines at any Unicode space; the view keeps a no-break space unbroken.

    (Under 80 columns the full layout's fields' column is at most 16 cells wide,
    and at 40 the compact one's 34: a word and its « : » can be longer than that
    and is folded, so only the width is checked. Under 100 columns the view is
    the compact layout unless --full is asked for.)
    """
    from test_render import render

    phrases.set_language("fr")
    text = render("tcp_exchange", width, layout)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "\ue000" not in text and "\ue001" not in text
    if width < (80 if layout == "full" else 60):
        return
    for line in text.splitlines():
        assert not re.match(r"\s*[:;?!»]", line.lstrip(" │·")), line


# -- a lesson's notes: stored as their phrase, said again in the replay's language ------------


def test_a_lesson_note_is_stored_as_its_phrase_and_said_again_in_the_replay_language():
    from sockviz.core.callcomment import decode_comment, encode_call, encode_note
    from sockviz.core.events import Call

    note = phrases.no_reply("recv", 3.0)  # said live, in English
    assert note == "no reply within 3.0 s: recv() gave up (the --timeout); the server may simply not answer"
    assert (note.key, note.fields) == ("no_reply", {"call": "recv", "timeout": 3.0})
    call = Call(id=1, name="getnameinfo", text="getnameinfo(('192.0.2.99', 25), 0)", start=1.0,
                end=2.0, note=phrases.ptr_missing("192.0.2.99", "99.2.0.192.in-addr.arpa."))
    stored_note, stored_call = encode_note(5.0, note), encode_call(call)
    assert stored_note.startswith(note + "\n")  # what Wireshark shows: the sentence
    phrases.set_language("fr")
    _, (when, text) = decode_comment(stored_note)
    assert when == 5.0
    assert text == ("aucune réponse en 3,0\u00a0s\u00a0: recv() a abandonné (le --timeout)\u202f; le "
                    "serveur ne répond peut-être tout simplement pas")
    restored = decode_comment(stored_call)[1].note
    assert restored.startswith("aucun nom pour 192.0.2.99\u00a0: la requête PTR")
    assert english_word(_CALL_NAME.sub("", restored)) is None


def test_the_tracers_own_notes_are_said_again_too():
    from sockviz.core.callcomment import decode_comment, encode_note

    stored = encode_note(1.0, phrases.name_resolved_inside("connect", "chat.sockviz.test"))
    phrases.set_language("fr")
    text = decode_comment(stored)[1][1]
    assert "chat.sockviz.test" in text and english_word(text) is None


@pytest.mark.parametrize("key, fields", [
    ("no_such_phrase", {"call": "recv"}),  # a file from another version
    ("no_reply", {"call": "recv"}),  # a field missing
    ("no_reply", {"call": "recv", "timeout": "three"}),  # a field of the wrong kind
    ("no_reply", ["recv", 3]),  # not fields at all
])
def test_a_note_whose_phrase_cannot_be_said_again_keeps_its_stored_text(key, fields):
    from sockviz.core.callcomment import NOTE_PREFIX, decode_comment

    record = {"time": 1.0, "text": "the stored sentence", "key": key, "fields": fields}
    phrases.set_language("fr")
    assert decode_comment(NOTE_PREFIX + json.dumps(record))[1] == (1.0, "the stored sentence")


def test_a_library_use_takes_the_locale_unless_a_language_was_chosen(monkeypatch):
    # sockviz.trace() and %load_ext sockviz have no --lang: the locale decides, as gettext
    # programs do, unless the program (or %sockviz --lang) chose one already.
    monkeypatch.setattr(phrases, "_chosen", False)
    monkeypatch.setenv("LANGUAGE", "fr_CA")
    assert phrases.language_from_locale_unless_chosen() == "fr"
    phrases.set_language("en")
    assert phrases.language_from_locale_unless_chosen() == "en"  # chosen: kept
