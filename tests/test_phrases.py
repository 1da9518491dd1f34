"""The phrasebook: steps, directions and roles as enums, words said from facts, in English.

(The French catalogue and the French view are tests/test_i18n.py's.)
"""

from __future__ import annotations

import json
import random
from string import Formatter

import pytest

from scenarios import SCENARIOS, feed
from sockviz.core import phrases, rules
from sockviz.core.correlate import STEPS, Correlator
from sockviz.core.phrases import Backoff, Direction, Lesson, Role, Step, Why
from sockviz.core.text import duration
from sockviz.core.timeline import CallEnded, PacketShown


@pytest.fixture(autouse=True)
def english():
    phrases.set_language("en")
    yield
    phrases.set_language("en")


def test_enums_are_the_json_strings():
    assert json.dumps([Step.HANDSHAKE_ACK, Direction.OUT, Role.CLIENT]) == (
        '["handshake-ack", "out", "client"]')
    assert Step.SYN == "syn" and {"syn": 1}[Step.SYN] == 1 and f"{Step.RST_REFUSED}" == "rst-refused"
    assert hash(Direction.IN) == hash("in")


def test_a_misspelt_step_is_an_error_not_silence():
    with pytest.raises(AttributeError):
        _ = Step.SYNN
    with pytest.raises(KeyError):
        _ = STEPS["synn"]


def test_every_step_the_scenarios_show_is_a_step_member():
    for name in sorted(SCENARIOS):
        for e in feed(SCENARIOS[name]().events):
            if isinstance(e, PacketShown):
                assert type(e.step) is Step, (name, e.step)
                assert e.direction is None or type(e.direction) is Direction


@pytest.mark.parametrize("step", list(Step))
def test_every_step_has_a_meaning_from_each_side(step):
    texts = phrases.MEANING[step]
    assert set(texts) == {Direction.OUT, Direction.IN, None}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


# The fields a meaning may read: the correlator's facts and the words made from them.
FACT_FIELDS = {"src", "dst", "sport", "dport", "n", "proto", "role", "acked", "attempt",
               "interval_s", "offset", "more_fragments", "rfc", "dns", "icmp_type", "icmp_code",
               "qdst", "qdport", "qproto", "mtu", "mac", "target", "ndp", "delay", "isn",
               "scaling"}
WORDS = {"bytes", "peer", "interval", "more", "question", "answer", "what", "exceeded", "dns_rfc"}


def test_meanings_read_only_fields_that_exist():
    for texts in phrases.MEANING.values():
        for template in texts.values():
            assert placeholders(template) <= FACT_FIELDS | WORDS, template


def test_facts_make_the_words_a_meaning_asks_for():
    facts = phrases.Facts(n=1, role=Role.SERVER, interval_s=2.0, more_fragments=True,
                          icmp_code=13, proto="ICMP")
    assert facts["bytes"] == "1 byte" and facts["peer"] == "the client"
    assert facts["interval"] == "2.0 s" and facts["more"] == ", more to come"
    assert facts["what"] == "communication administratively prohibited"
    assert facts["nothing"] == "(unknown)"
    assert phrases.Facts(icmp_code=99, proto="ICMPv6")["what"] == "code 99"


def test_a_meaning_without_its_fields_reads_unknown_never_crashes():
    assert phrases.meaning(Step.UNREACHABLE, Direction.IN, {"src": "a"}) == (
        "a reports that (unknown) cannot be reached ((unknown))")


def test_english_durations_are_text_duration_byte_for_byte():
    """The view's durations are the phrasebook's; the capture comments keep text.duration's."""
    rng = random.Random(15)
    values = [0.0, 0.0009995, 0.001, 0.99996, 1.0, 1234.5678] + [10 ** rng.uniform(-7, 4)
                                                              for _ in range(3000)]
    for x in values:
        assert phrases.duration(x) == duration(x), x
    assert phrases.duration(None) == ""


@pytest.mark.parametrize("n, en, fr", [
    (0, "0 B", "0\u00a0o"), (1023, "1,023 B", "1\u202f023\u00a0o"), (1536, "1.5 KiB", "1,5\u00a0Kio"),
    (5 * 2 ** 20, "5.0 MiB", "5,0\u00a0Mio"), (3 * 2 ** 40, "3,072.0 GiB", "3\u202f072,0\u00a0Gio"),
])
def test_sizes(n, en, fr):
    assert phrases.size(n) == en
    phrases.set_language("fr")
    assert phrases.size(n) == fr


def test_numbers_in_each_language():
    assert (phrases.number(12000), phrases.seconds(1.25, 1), phrases.n_bytes(1), phrases.n_bytes(0)) == (
        "12,000", "1.2 s", "1 byte", "0 bytes")
    phrases.set_language("fr")
    assert (phrases.number(12000), phrases.seconds(1.25, 1), phrases.n_bytes(1), phrases.n_bytes(0)) == (
        "12\u202f000", "1,2\u00a0s", "1\u00a0octet", "0\u00a0octet")
    assert phrases.n_bytes(2) == "2\u00a0octets"
    assert phrases.duration(0.0131) == "13,1\u00a0ms"


def test_clauses_are_joined_in_each_language():
    assert phrases.joined(["a", "b", "c"]) == "a; b; c" and phrases.joined([]) == ""
    phrases.set_language("fr")
    assert phrases.joined(["a", "b"]) == "a\u202f; b"


def test_a_change_of_language_takes_effect_at_once():
    """What is said per packet is cached, per language: set_language empties the caches."""
    track = Correlator().track  # noqa: F841 - a correlator made before the change
    english = phrases.meaning(Step.SYN, Direction.OUT, phrases.packet_facts("TCP", "a", "b", 1, 2, 0,
                                                                            Role.CLIENT))
    phrases.set_language("fr")
    french = phrases.meaning(Step.SYN, Direction.OUT, phrases.packet_facts("TCP", "a", "b", 1, 2, 0,
                                                                           Role.CLIENT))
    assert english.startswith("you ask the server") and french.startswith("vous demandez au serveur")
    assert rules.diagram("getaddrinfo", "DNS") == "requête → réponse"
    phrases.set_language("en")
    assert rules.diagram("getaddrinfo", "DNS") == "query → answer"


def test_arrows_are_one_width_in_each_language():
    for lang in phrases.LANGUAGES:
        phrases.set_language(lang)
        assert len({len(label) for label in phrases.arrows().values()}) == 1
    phrases.set_language("en")
    assert phrases.arrows() == {Direction.OUT: "→ out", Direction.IN: "← in ", None: "·    "}


@pytest.mark.parametrize("intervals, kind", [
    ([], Backoff.NONE), ([1.0], Backoff.ONCE), ([1.0, 1.0, 1.0], Backoff.LINEAR),
    ([1.0, 2.0, 4.0], Backoff.DOUBLING), ([1.0, 1.0, 2.0, 4.0], Backoff.MIXED),
])
def test_backoff_is_classed_by_rules_and_said_by_the_phrasebook(intervals, kind):
    assert rules.backoff_kind(intervals) == kind
    text = phrases.lesson(Lesson.TIMED_OUT, backoff=kind, first=intervals[0] if intervals else 0)
    assert text.startswith("no answer at all") and "{" not in text


def test_every_lesson_and_context_is_said():
    for lesson in Lesson:
        assert "{" not in phrases.lesson(lesson, diagram="SYN → SYN/ACK → ACK")
    for why in Why:
        text = phrases.context(why, {"delay": 0.041})
        assert text and "{" not in text
    assert phrases.context(Why.DELAYED_ACK, {"delay": 0.041}).startswith("a delayed ACK, 41 ms after")
    assert phrases.context(None) is None


def test_a_role_the_correlator_does_not_know_is_a_capture_from_elsewhere():
    assert Correlator(role="client").role is Role.CLIENT
    assert Correlator(role="spectator").role is None and Correlator(role=None).role is None


def test_the_lessons_come_from_the_phrasebook():
    lessons = {e.call.name: e.lesson for e in feed(SCENARIOS["tcp_exchange"]().events)
               if isinstance(e, CallEnded)}
    assert lessons["connect"] == phrases.lesson(Lesson.CONNECTED, diagram=rules.diagram("connect", "TCP"))
    assert lessons["recv"] == phrases.silent("recv", "TCP")


def test_the_summary_record_ends_with_its_language():
    from sockviz.core.jsonmodel import encode, summary_json

    summary = feed(SCENARIOS["tcp_exchange"]().events)[-1]
    assert list(summary_json(summary))[-1] == "lang"
    assert encode(summary_json(summary)).endswith(', "lang": "en"}')
    phrases.set_language("fr")
    assert summary_json(summary)["lang"] == "fr"


@pytest.mark.parametrize("lang", ["de", "", "english"])
def test_an_unknown_language_is_refused(lang):
    with pytest.raises(ValueError):
        phrases.set_language(lang)
    assert phrases.current_language() == "en"


def test_a_locale_name_will_do_and_none_reads_the_environment(monkeypatch):
    assert phrases.set_language("fr_CA.UTF-8") == "fr" == phrases.current_language()
    monkeypatch.setattr("os.environ", {"LANG": "en_GB.UTF-8"})
    assert phrases.set_language(None) == "en"
    monkeypatch.setattr("os.environ", {"LC_ALL": "fr_FR.UTF-8", "LANG": "en_GB.UTF-8"})
    assert phrases.set_language(None) == "fr"


def test_a_reverse_name_is_said_by_its_address_in_the_meanings():
    # The packet's line shows the 72 characters of an ip6.arpa name once; its meanings name
    # the address it stands for (RFC 3596 §2.5, RFC 1035 §3.5), not the name again.
    from sockviz.core import phrases

    phrases.set_language("en")
    v6 = "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
    asked = phrases.dns_question_words({"questions": [{"name": v6, "type": "PTR"}]})
    assert asked == "the PTR record (name) of the reverse name of 2001:db8::2"
    said = phrases.dns_answer_words({"rcode": "NOERROR", "answers": [
        {"name": "2.2.0.192.in-addr.arpa.", "type": "PTR", "ttl": 300, "data": "chat.sockviz.test."}]})
    assert said.startswith("the reverse name of 192.0.2.2 has name chat.sockviz.test")
    # Not a whole reverse name: said as it is.
    odd = "8.b.d.0.1.0.0.2.ip6.arpa"
    assert odd in phrases.dns_question_words({"questions": [{"name": odd, "type": "PTR"}]})
