"""The phrasebook: every sentence sockviz says, in one place, in every language it speaks.

The correlator decides *what* happened: a step (``Step``), why a packet came
outside any call (``Why``), what a finished call taught (``Lesson``), and the
facts as named fields. This module *says* it, in the language chosen with
``set_language``: English (the msgids themselves) or French (the gettext
catalogue in ``sockviz/locale``). The renderers take their words from here
too: labels, counts, units, the overview and the collapsed transfers.

Every sentence is written in English inside ``_()`` (said at once),
``N_()`` (a table entry, said later by ``_()``), ``ngettext()`` (a count) or
``pgettext()`` (a short word whose sense needs a context), with named
placeholders (``{peer}``, ``{count}``) so that a translation may put them in
another order. Tables hold msgids and are said when used, so a change of
language takes effect at once; what is said per packet is kept in caches
that ``set_language`` empties.

To add or change a sentence: write it here, then ``python tools/catalog.py``
(extracts ``locale/sockviz.pot`` with Babel and merges it into each
``.po``), translate the new entries of ``locale/fr/LC_MESSAGES/sockviz.po``,
and ``python tools/catalog.py compile`` (the ``.mo`` shipped in the package).
tests/test_i18n.py checks that all of it is done.

Until ``set_language`` is called, sockviz speaks English: nothing is read
from the environment at import.
"""

# Tables of sentences read best one per line (as rules.py's were).
# ruff: noqa: E501

from __future__ import annotations

import enum
import gettext as _gettext
import os
import posixpath
from collections.abc import Iterable, Mapping
from pathlib import Path

DOMAIN = "sockviz"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("en", "fr")  # English is the msgids: it has no catalogue


# -- what the correlator decides: steps, directions, roles ----------------------------


class Step(enum.StrEnum):
    """A packet's role in the lesson (the ``step`` of a ``--json`` packet record)."""

    SYN = "syn"
    SYN_RETRANSMIT = "syn-retransmit"
    SYNACK = "synack"
    SYNACK_RETRANSMIT = "synack-retransmit"
    HANDSHAKE_ACK = "handshake-ack"
    DATA = "data"
    DATA_RETRANSMIT = "data-retransmit"
    ACK = "ack"
    ZERO_WINDOW = "zero-window"
    FIN_FIRST = "fin-first"
    FIN_SECOND = "fin-second"
    FIN_RETRANSMIT = "fin-retransmit"
    ACK_FIN = "ack-fin"
    LAST_ACK = "last-ack"
    RST_REFUSED = "rst-refused"
    RST = "rst"
    UDP = "udp"
    DNS_QUERY = "dns-query"
    DNS_RESPONSE = "dns-response"
    PORT_UNREACHABLE = "port-unreachable"
    UNREACHABLE = "unreachable"
    FRAG_NEEDED = "frag-needed"
    TIME_EXCEEDED = "time-exceeded"
    ECHO_REQUEST = "echo-request"
    ECHO_REPLY = "echo-reply"
    ICMP = "icmp"
    ARP_REQUEST = "arp-request"
    ARP_REPLY = "arp-reply"
    ARP_PROBE = "arp-probe"
    NDP_PROBE = "ndp-probe"
    NDP_NS = "ndp-ns"
    NDP_NA = "ndp-na"
    NDP = "ndp"
    FRAGMENT = "fragment"
    OTHER = "other"


class Direction(enum.StrEnum):
    """Which way a packet went, seen from the lesson's host (``dir``; None: nobody can tell)."""

    OUT = "out"
    IN = "in"


class Role(enum.StrEnum):
    """The side the lesson plays (None: a capture from elsewhere, where nobody is "you")."""

    CLIENT = "client"
    SERVER = "server"


class Why(enum.StrEnum):
    """Why a packet came while no call was running (its ``context``)."""

    LISTENING = "listening"  # a listening socket's kernel completes the handshake
    BUFFERED = "buffered"  # data kept in the receive buffer until read
    AFTER_CLOSE = "after-close"  # the kernel finishes the teardown
    KERNEL_ACK = "kernel-ack"  # the kernel acknowledges received data
    ARP = "arp"  # the kernel's ARP
    NDP = "ndp"  # the kernel's neighbour discovery
    ERROR_KEPT = "error-kept"  # a connected UDP socket keeps the ICMP error
    ERROR_UNHEARD = "error-unheard"  # an unconnected UDP socket never hears of it
    DELAYED_ACK = "delayed-ack"  # a pure ACK held back (field: delay, in seconds)


class Lesson(enum.StrEnum):
    """What a finished call taught, as decided from how it ended (see correlate._lesson)."""

    CONNECTED = "connected"  # field: diagram
    REFUSED = "refused"
    TIMED_OUT = "timed-out"  # field: backoff (a Backoff) and first (seconds)
    UNREACHABLE = "unreachable"
    SENT = "sent"
    SENT_ALL = "sent-all"
    TEARDOWN = "teardown"  # field: diagram
    ABORTED = "aborted"  # close() with unread bytes: RST
    END_OF_STREAM = "end-of-stream"
    DATAGRAM_SENDTO = "datagram-sendto"
    DATAGRAM_SEND = "datagram-send"
    FRAGMENTED = "fragmented"
    RECVFROM_TIMEOUT = "recvfrom-timeout"
    RECVFROM_SILENT = "recvfrom-silent"
    UDP_REFUSED = "udp-refused"


class Backoff(enum.StrEnum):
    """How measured SYN retransmissions were spaced (rules.backoff_kind)."""

    NONE = "none"
    ONCE = "once"
    LINEAR = "linear"
    DOUBLING = "doubling"
    MIXED = "mixed"


# -- the language --------------------------------------------------------------------

_language = "en"
_translations: _gettext.NullTranslations = _gettext.NullTranslations()
# What is said per packet, per language: emptied by set_language.
_memo: dict = {}
_bytes_said: dict[int, str] = {}


def _(message: str) -> str:
    """``message`` in the current language."""
    return _translations.gettext(message)


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue; a table keeps it and ``_()`` says it when used."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for a count of ``n`` (French: 0 and 1 are singular)."""
    return _translations.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """A short ``message`` whose sense ``context`` tells the translator."""
    return _translations.pgettext(context, message)


def NP_(context: str, message: str) -> tuple[str, str]:
    """``N_`` with a context: a table keeps the pair and ``pgettext(*pair)`` says it."""
    return context, message


def _code(value: str) -> str | None:
    """'fr_CA.UTF-8' -> 'fr', 'en_US' -> 'en', 'C' -> 'en'; None for a language sockviz lacks."""
    code = value.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    if code in ("c", "posix"):
        return "en"
    return code if code in LANGUAGES else None


def language_from_environ(environ: Mapping[str, str]) -> str:
    """'fr' or 'en', from the variables gettext reads, in its order.

    The first of LANGUAGE, LC_ALL, LC_MESSAGES and LANG that is set and not
    empty decides (as ``gettext.find`` does). LANGUAGE may list languages
    by preference (``de:fr:en``): the first one sockviz speaks is taken.
    A value starting with ``fr`` (``fr``, ``fr_CA.UTF-8``, ``fr_FR@euro``)
    gives French, anything else English.
    """
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if not value:
            continue
        for item in value.split(":"):
            code = _code(item) if item else None
            if code is not None:
                return code
        return "en"
    return "en"


def set_language(lang: str | None) -> str:
    """Speak ``lang``: 'en', 'fr' (a locale name such as 'fr_CA.UTF-8' will do), or None.

    None takes the language from the environment (``language_from_environ``
    on ``os.environ``). Returns the language now spoken. An unknown one is a
    ValueError; a French catalogue missing from the installation is an
    OSError (a packaging fault, never silence).
    """
    global _language, _translations
    if lang is None:
        code = language_from_environ(os.environ)
    else:
        code = _code(lang)
        if code is None:
            raise ValueError(f"sockviz speaks {', '.join(LANGUAGES)}, not {lang!r}")
    if code == "en":
        translations = _gettext.NullTranslations()
    else:
        translations = _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[code])
    _language, _translations = code, translations
    _memo.clear()
    _templates.clear()
    _contexts.clear()
    _bytes_said.clear()
    _peers.clear()
    return code


def current_language() -> str:
    """The language sockviz speaks now: 'en' or 'fr'."""
    return _language


# -- numbers and units ---------------------------------------------------------------


def _separators() -> dict:
    table = _memo.get("separators")
    if table is None:
        # TRANSLATORS: the decimal separator of numbers (French: a comma).
        decimal = pgettext("decimal separator", ".")
        # TRANSLATORS: the separator of thousands (French: U+202F, a narrow no-break space).
        thousands = pgettext("thousands separator", ",")
        table = _memo["separators"] = str.maketrans({".": decimal, ",": thousands})
    return table


def _unit_space() -> str:
    space = _memo.get("unit space")
    if space is None:
        # TRANSLATORS: the space between a number and its unit, as in "60 s" (French: U+00A0).
        space = _memo["unit space"] = pgettext("unit space", " ")
    return space


def number(n: int) -> str:
    """A count with its thousands separated: '12,000' (French '12 000')."""
    return f"{n:,}".translate(_separators())


def decimal(x: float, places: int, *, grouped: bool = False) -> str:
    """'1.5' (French '1,5') with ``places`` decimals; thousands separated when ``grouped``."""
    return (f"{x:,.{places}f}" if grouped else f"{x:.{places}f}").translate(_separators())


def seconds(x: float, places: int = 0) -> str:
    """'4 s', '1.0 s' (French '1,0 s'): a time in seconds with its unit."""
    return f"{decimal(x, places)}{_unit_space()}s"


def duration(x: float | None) -> str:
    """A call's duration for people: '0.42 ms', '13.1 ms', '3.004 s' (text.duration's steps)."""
    if x is None:
        return ""
    if x < 0.001:
        return f"{decimal(x * 1e6, 0)}{_unit_space()}µs"
    if x < 1:
        return f"{decimal(x * 1e3, 1)}{_unit_space()}ms"
    return f"{decimal(x, 3)}{_unit_space()}s"


def size(n: float) -> str:
    """A size in bytes for people: '512 B', '1.5 KiB', '3.2 MiB' (binary units)."""
    units = (
        # TRANSLATORS: the unit of bytes (French "o", octet).
        pgettext("unit", "B"),
        pgettext("unit", "KiB"),
        pgettext("unit", "MiB"),
        pgettext("unit", "GiB"),
    )
    space = _unit_space()
    for i, unit in enumerate(units):
        if n < 1024 or i == len(units) - 1:
            return f"{decimal(n, 0 if i == 0 else 1, grouped=True)}{space}{unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def n_bytes(n: int) -> str:
    """'1 byte', '14 bytes': a payload's length in a sentence (said once per length)."""
    text = _bytes_said.get(n)
    if text is None:
        if len(_bytes_said) >= 4096:
            _bytes_said.clear()
        text = _bytes_said[n] = ngettext("{count} byte", "{count} bytes", n).format(count=n)
    return text


def joined(parts: Iterable[str]) -> str:
    """Clauses one after the other: 'a; b; c' (French puts a narrow space before ';')."""
    # TRANSLATORS: two clauses of one sentence, joined by a semicolon.
    template = _("{left}; {right}")
    text = None
    for part in parts:
        text = part if text is None else template.format(left=text, right=part)
    return text or ""


def _listed(parts: list[str]) -> str:
    # TRANSLATORS: two things asked for at once: "the A record of x and the AAAA record of x".
    template = _("{left} and {right}")
    text = parts[0]
    for part in parts[1:]:
        text = template.format(left=text, right=part)
    return text


# -- the packets' meanings -----------------------------------------------------------

# One line per step, by direction: OUT (you sent it), IN (you received it),
# None (nobody can tell: a capture from elsewhere). Fields are the packet's
# facts (Facts): {src}, {dst}, {sport}, {dport}, {proto}, {n}, {acked},
# {attempt}, ..., and words made from them: {bytes}, {peer} ('the server'
# for a client), {interval}, {more}, {question}, {answer}, {what}.
# {peer} is said alone (``peer``, context "peer"): see its note to translators.
MEANING: dict[Step, dict[Direction | None, str]] = {
    Step.SYN: {
        Direction.OUT: N_("you ask {peer} to open a connection: SYN with your initial sequence number and options"),
        Direction.IN: N_("{peer} asks to open a connection (SYN)"),
        None: N_("{src} asks {dst} to open a connection (SYN)"),
    },
    Step.SYN_RETRANSMIT: {
        Direction.OUT: N_("still no SYN/ACK: your kernel sends the SYN again, {interval} after the last one (attempt {attempt}; the retransmission timer, RFC 6298)"),
        Direction.IN: N_("{peer} sends its SYN again (attempt {attempt}, {interval} later)"),
        None: N_("SYN sent again by {src} (attempt {attempt}, {interval} later)"),
    },
    Step.SYNACK: {
        Direction.OUT: N_("your kernel accepts the connection: SYN/ACK acknowledges {peer}'s SYN and sends yours"),
        Direction.IN: N_("{peer} accepts and acknowledges your SYN (ack = your ISN + 1), and sends its own SYN"),
        None: N_("{src} accepts and acknowledges the SYN, with a SYN of its own"),
    },
    Step.SYNACK_RETRANSMIT: {
        Direction.OUT: N_("your SYN/ACK was not acknowledged: your kernel sends it again"),
        Direction.IN: N_("{peer} sends its SYN/ACK again: your ACK has not reached it"),
        None: N_("SYN/ACK sent again by {src}"),
    },
    Step.HANDSHAKE_ACK: {
        Direction.OUT: N_("you acknowledge {peer}'s SYN: the three-way handshake is complete"),
        Direction.IN: N_("{peer} acknowledges your SYN/ACK: the connection is established"),
        None: N_("{src} acknowledges the SYN/ACK: the three-way handshake is complete"),
    },
    Step.DATA: {
        Direction.OUT: N_("{bytes} of your data"),
        Direction.IN: N_("{bytes} from {peer}"),
        None: N_("{bytes} from {src} to {dst}"),
    },
    Step.DATA_RETRANSMIT: {
        Direction.OUT: N_("your kernel sends these {bytes} again: no ACK came for them in time"),
        Direction.IN: N_("{peer} sends {bytes} again: it saw no ACK for them in time"),
        None: N_("{bytes} sent again by {src} (a retransmission)"),
    },
    Step.ACK: {
        Direction.OUT: N_("you acknowledge {peer}'s data: ack {acked} is the next byte you expect"),
        Direction.IN: N_("{peer} acknowledges your data: ack {acked} is the next byte it expects"),
        None: N_("{src} acknowledges: ack {acked} is the next byte it expects"),
    },
    Step.ZERO_WINDOW: {
        Direction.OUT: N_("your receive buffer is full: window 0 asks {peer} to stop sending"),
        Direction.IN: N_("{peer}'s receive buffer is full: window 0, you must wait"),
        None: N_("{src} advertises a zero window: its receive buffer is full"),
    },
    Step.FIN_FIRST: {
        Direction.OUT: N_("you close your side: FIN says you will send no more data"),
        Direction.IN: N_("{peer} closes its side (FIN): it will send no more data, and recv() will return b''"),
        None: N_("{src} closes its side (FIN)"),
    },
    Step.FIN_SECOND: {
        Direction.OUT: N_("you close your side too: FIN, which also acknowledges {peer}'s FIN"),
        Direction.IN: N_("{peer} closes its side too: FIN, which also acknowledges your FIN"),
        None: N_("{src} closes its side too (FIN)"),
    },
    Step.FIN_RETRANSMIT: {
        Direction.OUT: N_("your FIN was not acknowledged in time: your kernel sends it again"),
        Direction.IN: N_("{peer} sends its FIN again"),
        None: N_("FIN sent again by {src}"),
    },
    Step.ACK_FIN: {
        Direction.OUT: N_("you acknowledge {peer}'s FIN"),
        Direction.IN: N_("{peer} acknowledges your FIN: your side is closed, {peer}'s may still send"),
        None: N_("{src} acknowledges the FIN"),
    },
    Step.LAST_ACK: {
        Direction.OUT: N_("you acknowledge {peer}'s FIN: the connection is closed (your side waits in TIME_WAIT, 60 s on Linux)"),
        Direction.IN: N_("{peer} acknowledges your FIN: the connection is closed"),
        None: N_("{src} acknowledges the last FIN: the connection is closed"),
    },
    Step.RST_REFUSED: {
        Direction.OUT: N_("nobody listens on port {sport} here: your kernel refuses with RST"),
        Direction.IN: N_("nobody listens on port {sport} at {src}: its kernel refuses your SYN with RST (RFC 9293 §3.10.7.1)"),
        None: N_("nobody listens on {src} port {sport}: RST refuses the SYN"),
    },
    Step.RST: {
        Direction.OUT: N_("your kernel resets the connection (RST): it ends at once, no teardown"),
        Direction.IN: N_("{peer} resets the connection (RST): it ends at once, no teardown"),
        None: N_("{src} resets the connection (RST)"),
    },
    Step.UDP: {
        Direction.OUT: N_("one datagram of {bytes} to {dst} port {dport}: no handshake, nothing to acknowledge it (RFC 768)"),
        Direction.IN: N_("one datagram of {bytes} from {src} port {sport}"),
        None: N_("a datagram of {bytes} from {src} to {dst}"),
    },
    Step.DNS_QUERY: {
        Direction.OUT: N_("your resolver asks the DNS server {dst} for {question} (RFC 1035)"),
        Direction.IN: N_("{src} asks for {question}"),
        None: N_("{src} asks {dst} for {question} (RFC 1035)"),
    },
    Step.DNS_RESPONSE: {
        Direction.OUT: N_("your DNS server answers {dst}: {answer}"),
        Direction.IN: N_("the DNS server answers: {answer}"),
        None: N_("{src} answers: {answer}"),
    },
    Step.PORT_UNREACHABLE: {
        Direction.OUT: N_("nobody listens on {qproto} port {qdport} here: your kernel answers with ICMP port unreachable"),
        Direction.IN: N_("nobody listens on {qproto} port {qdport} at {qdst}: its kernel answers with ICMP port unreachable ({rfc})"),
        None: N_("{src} reports that nobody listens on {qproto} port {qdport} ({rfc})"),
    },
    Step.UNREACHABLE: {
        Direction.OUT: N_("your kernel reports that {qdst} cannot be reached ({what})"),
        Direction.IN: N_("{src} reports that {qdst} cannot be reached ({what})"),
        None: N_("{src} reports that {qdst} cannot be reached ({what})"),
    },
    Step.FRAG_NEEDED: {
        Direction.OUT: N_("your kernel reports the packet is too big for the next link (MTU {mtu})"),
        Direction.IN: N_("{src} reports your packet is too big for the next link: MTU {mtu} (path MTU discovery, RFC 1191 / RFC 8201)"),
        None: N_("{src} reports a packet too big for MTU {mtu}"),
    },
    Step.TIME_EXCEEDED: {
        Direction.OUT: N_("your kernel reports a packet whose TTL ran out"),
        Direction.IN: N_("{src} reports that your packet's TTL (hop limit) ran out on the way"),
        None: N_("{src} reports a packet whose TTL ran out"),
    },
    Step.ECHO_REQUEST: {
        Direction.OUT: N_("ping: an ICMP echo request"),
        Direction.IN: N_("ping from {src}: an ICMP echo request"),
        None: N_("ICMP echo request from {src}"),
    },
    Step.ECHO_REPLY: {
        Direction.OUT: N_("your kernel answers the ping: ICMP echo reply"),
        Direction.IN: N_("{src} answers the ping: ICMP echo reply"),
        None: N_("ICMP echo reply from {src}"),
    },
    Step.ICMP: {
        Direction.OUT: N_("ICMP type {icmp_type} code {icmp_code}"),
        Direction.IN: N_("ICMP type {icmp_type} code {icmp_code} from {src}"),
        None: N_("ICMP type {icmp_type} code {icmp_code} from {src}"),
    },
    Step.ARP_REQUEST: {
        Direction.OUT: N_("your kernel needs the MAC address of {dst} before it can send the first packet: it asks the whole link (ARP, RFC 826)"),
        Direction.IN: N_("{src} asks who has {dst} (ARP)"),
        None: N_("{src} asks who has {dst} (ARP, RFC 826)"),
    },
    Step.ARP_REPLY: {
        Direction.OUT: N_("your kernel answers: {src} is at {mac}"),
        Direction.IN: N_("the answer: your kernel stores it in its neighbour cache and can now send"),
        None: N_("{src} is at {mac} (ARP reply)"),
    },
    Step.ARP_PROBE: {
        Direction.OUT: N_("your kernel checks that the MAC address it cached for {dst} is still right: a unicast ARP request (ARP cache validation, RFC 1122 §2.3.2.1)"),
        Direction.IN: N_("{src} checks that the MAC address it cached for {dst} is still right: a unicast ARP request (RFC 1122 §2.3.2.1)"),
        None: N_("{src} checks its cached MAC address for {dst}: a unicast ARP request (RFC 1122 §2.3.2.1)"),
    },
    Step.NDP_PROBE: {
        Direction.OUT: N_("your kernel checks that {target} is still reachable: a unicast neighbour solicitation (neighbour unreachability detection, RFC 4861 §7.3)"),
        Direction.IN: N_("{src} checks that {target} is still reachable: a unicast neighbour solicitation (RFC 4861 §7.3)"),
        None: N_("{src} checks that {target} is still reachable (NDP, RFC 4861 §7.3)"),
    },
    Step.NDP_NS: {
        Direction.OUT: N_("your kernel needs the MAC address of {target}: IPv6 has no ARP, it sends a neighbour solicitation to the solicited-node multicast group (NDP, RFC 4861 §7.2)"),
        Direction.IN: N_("{src} asks who has {target} (NDP neighbour solicitation)"),
        None: N_("{src} asks who has {target} (NDP neighbour solicitation, RFC 4861)"),
    },
    Step.NDP_NA: {
        Direction.OUT: N_("your kernel answers: {target} is here (NDP neighbour advertisement)"),
        Direction.IN: N_("the neighbour advertisement answers: your kernel stores {target}'s MAC address and can now send"),
        None: N_("{target} is at {mac} (NDP neighbour advertisement)"),
    },
    Step.NDP: {
        Direction.OUT: N_("NDP {ndp} (RFC 4861)"),
        Direction.IN: N_("NDP {ndp} from {src} (RFC 4861)"),
        None: N_("NDP {ndp} from {src} (RFC 4861)"),
    },
    Step.FRAGMENT: {
        Direction.OUT: N_("IP fragment at offset {offset}{more}: the datagram is larger than the link MTU, so your kernel splits it and the receiver reassembles it ({rfc})"),
        Direction.IN: N_("IP fragment at offset {offset}{more} from {src}: your kernel reassembles the datagram before the socket sees it ({rfc})"),
        None: N_("IP fragment at offset {offset}{more} from {src} ({rfc})"),
    },
    Step.OTHER: {
        Direction.OUT: N_("{proto} packet"),
        Direction.IN: N_("{proto} packet"),
        None: N_("{proto} packet"),
    },
}


_templates: dict[tuple, str] = {}  # (step, direction) -> its meaning's template, said


def meaning_template(step: str, direction: str | None) -> str:
    """The template of ``step``'s meaning seen from ``direction``, in the current language."""
    template = _templates.get((step, direction))
    if template is None:
        texts = MEANING.get(step) or MEANING[Step.OTHER]
        msgid = texts.get(direction) or texts[None]
        template = _templates[(step, direction)] = _(msgid)
    return template


def meaning(step: str, direction: str | None, facts: dict) -> str:
    """The one-line meaning of a packet's step, told from ``direction``'s side.

    ``facts`` are the packet's (``packet_facts``); the words the meaning
    needs beside them are made by ``Facts`` when it asks. Runs for every
    packet of the general path: the common case is one lookup and one format.
    """
    template = _templates.get((step, direction)) or meaning_template(step, direction)
    try:
        return template.format_map(facts)
    except KeyError:
        return template.format_map(Facts(facts))


_peers: dict = {}  # role -> its peer's word, in the current language


def peer(role: str | None) -> str:
    """The other side, for the side the lesson plays: 'the server' for a client."""
    word = _peers.get(role)
    if word is None:
        # TRANSLATORS: {peer} in the packets' meanings: "you acknowledge {peer}'s SYN". French
        # takes the bare noun (serveur, client, correspondant: all masculine), and the sentences
        # write "le {peer}", "du {peer}", "au {peer}".
        if role == Role.CLIENT:
            word = pgettext("peer", "the server")
        elif role == Role.SERVER:
            word = pgettext("peer", "the client")
        else:
            word = pgettext("peer", "the peer")
        _peers[role] = word
    return word


def unknown() -> str:
    """What a field the packet cannot supply reads as."""
    return _("(unknown)")


def _more_fragments(more: bool) -> str:
    return _(", more to come") if more else _(", the last one")


class Facts(dict):
    """A packet's facts as named fields, which meanings read (``str.format_map``).

    The words a meaning may use beside the facts are made from them when a
    template asks: {bytes} from {n}, {peer} from {role}, {interval} from
    {interval_s}, {more} from {more_fragments}, {question} and {answer}
    from {dns}, {what} from {icmp_code}. A field nobody supplied reads
    '(unknown)', never a crash. (``packet_facts`` writes {bytes} and
    {peer} in at once: nearly every meaning reads one of them.)
    """

    __slots__ = ()

    def __missing__(self, key: str) -> str:
        get = self.get
        if key == "bytes" and get("n") is not None:
            word = n_bytes(self["n"])
        elif key == "peer":
            word = peer(get("role"))
        elif key == "interval" and get("interval_s") is not None:
            word = seconds(self["interval_s"], 1)
        elif key == "more" and "more_fragments" in self:
            word = _more_fragments(self["more_fragments"])
        elif key == "question" and get("dns") is not None:
            word = dns_question_words(self["dns"])
        elif key == "answer" and get("dns") is not None:
            word = dns_answer_words(self["dns"])
        elif key == "what" and "icmp_code" in self:
            word = unreachable_words(self["icmp_code"], v6=get("proto") == "ICMPv6")
        else:
            return unknown()
        self[key] = word
        return word


def packet_facts(proto: str, src: str, dst: str, sport, dport, n: int, role: str | None) -> dict:
    """The facts every meaning may use (``MEANING``), for one packet, with {bytes} and {peer}.

    A plain dict, the cheapest to make and to read; ``meaning`` reads it
    through ``Facts`` only when its template asks for more.
    """
    word = _bytes_said.get(n)
    return {"src": src, "dst": dst, "sport": sport, "dport": dport, "n": n,
            "bytes": word if word is not None else n_bytes(n),
            "peer": _peers.get(role) or peer(role), "proto": proto}


# -- why a packet came outside any call ------------------------------------------------

_contexts: dict[Why, str] = {}  # said, in the current language (not the delayed ACK's)
WHY: dict[Why, str] = {
    Why.LISTENING: N_("no call is running: the kernel answers for the listening socket and completes the handshake by itself; accept() then takes the connection from the queue"),
    Why.BUFFERED: N_("no call is running: the kernel keeps these bytes in the socket's receive buffer until you read them"),
    Why.AFTER_CLOSE: N_("after close() returned: the kernel finishes the teardown on its own"),
    Why.KERNEL_ACK: N_("no call needed: your kernel acknowledges received data on its own"),
    Why.ARP: N_("no call caused it directly: the kernel answers ARP and keeps its neighbour cache up to date on its own (RFC 826, RFC 1122 §2.3.2)"),
    Why.NDP: N_("no call caused it directly: the kernel answers neighbour discovery and keeps its neighbour cache up to date on its own (RFC 4861 §7)"),
    Why.ERROR_KEPT: N_("the connected socket keeps this error: its next call will raise ConnectionRefusedError"),
    Why.ERROR_UNHEARD: N_("it came back after the datagram was sent: an unconnected UDP socket never hears of it (Linux reports ICMP errors only to connected UDP sockets)"),
    Why.DELAYED_ACK: N_("a delayed ACK, {delay} after the data: Linux holds a pure ACK back for a while, hoping to piggyback it on data (RFC 1122 §4.2.3.2)"),
}


def context(why: Why | None, facts: Mapping | None = None) -> str | None:
    """Why a packet outside any call happened; a delayed ACK's ``facts`` hold its {delay} (s)."""
    if why is None:
        return None
    text = _contexts.get(why)
    if text is None:
        if why == Why.DELAYED_ACK:
            return delayed_ack((facts or {}).get("delay") or 0.0)
        text = _contexts[why] = _(WHY[why])
    return text


def delayed_ack(delay: float) -> str:
    """The context of a pure ACK sent ``delay`` seconds after the data it acknowledges."""
    millis = f"{decimal(1000 * delay, 0)}{_unit_space()}ms"
    return _(WHY[Why.DELAYED_ACK]).format(delay=millis)


# -- what a call taught ----------------------------------------------------------------

# Why a call put nothing on the wire: by call, or by call and transport.
SILENT: dict[str, str] = {
    "socket": N_("socket() only creates an endpoint inside your kernel: nothing goes on the wire"),
    "bind": N_("bind() only reserves an address and port in your kernel: nothing goes on the wire"),
    "listen": N_("listen() only tells your kernel to accept connections: nothing goes on the wire"),
    "setsockopt": N_("setsockopt() only changes the socket inside your kernel"),
    "close/UDP": N_("UDP has no connection to tear down: close() sends nothing (RFC 768)"),
    "close/TCP": N_("no connection on this socket (a listening one, or never connected): close() sends nothing"),
    "connect/UDP": N_("connect() on a UDP socket sends nothing: it only fixes the peer address, so send() needs no address and errors from that peer (ICMP) are reported to you"),
    "recv": N_("the bytes were already waiting in the socket's receive buffer: recv() sent nothing"),
    "recvfrom": N_("the datagram was already waiting in the socket's receive buffer"),
    "getaddrinfo": N_("no packet: the answer came without asking the network"),
    "getnameinfo": N_("no packet: the answer came without asking the network"),
    "accept": N_("the handshake had already completed in the kernel: accept() only takes it from the queue"),
}


def silent(name: str, transport: str | None) -> str | None:
    """Why ``name`` sent nothing, if that is the expected thing for it."""
    msgid = SILENT.get(f"{name}/{transport}") or SILENT.get(name)
    return None if msgid is None else _(msgid)


LESSONS: dict[Lesson, str] = {
    Lesson.CONNECTED: N_("connect() = the three-way handshake: {diagram} (RFC 9293 §3.5); it returns once your kernel has sent the last ACK"),
    Lesson.REFUSED: N_("the SYN was answered by RST: nobody listens on that port, so connect() raises ConnectionRefusedError"),
    Lesson.TIMED_OUT: N_("no answer at all: your kernel sent the SYN again and again, {backoff}, until the timeout ended connect()"),
    Lesson.UNREACHABLE: N_("no route or no neighbour answered: the kernel could not even deliver the SYN"),
    Lesson.SENT: N_("send() returns once your kernel has copied the bytes into its send buffer: it does not wait for the ACK"),
    Lesson.TEARDOWN: N_("close() starts the teardown, {diagram}: each side sends FIN and acknowledges the other's (RFC 9293 §3.6); the side that closed first waits in TIME_WAIT (60 s on Linux)"),
    Lesson.ABORTED: N_("close() with unread bytes in the receive buffer: Linux aborts the connection with RST instead of FIN (RFC 2525 §2.17)"),
    Lesson.SENT_ALL: N_("sendall() returns once your kernel has taken every byte into its send buffer (calling send() as often as needed): it does not wait for the ACKs"),
    Lesson.END_OF_STREAM: N_("recv() returned b'': the other side's FIN had arrived, the end of its stream; nothing more will come on this connection"),
    Lesson.DATAGRAM_SENDTO: N_("one sendto() = one datagram: no handshake, no acknowledgement, and the message boundary is kept (RFC 768)"),
    Lesson.DATAGRAM_SEND: N_("one send() = one datagram: no handshake, no acknowledgement, and the message boundary is kept (RFC 768)"),
    Lesson.FRAGMENTED: N_("the datagram was larger than the link MTU, so IP carried it in fragments; the receiver reassembles them, and losing any one loses the whole datagram (RFC 791, RFC 8900)"),
    Lesson.RECVFROM_TIMEOUT: N_("an unconnected UDP socket is not told about ICMP errors (Linux reports them only to connected sockets), so recvfrom() waits until the timeout"),
    Lesson.RECVFROM_SILENT: N_("no datagram came back, and nothing says why: UDP has no acknowledgement, so a lost datagram and a server that does not answer look the same (RFC 768)"),
    Lesson.UDP_REFUSED: N_("on a connected UDP socket, Linux turns the ICMP port unreachable into ConnectionRefusedError"),
}


def lesson(which: Lesson, *, diagram: str = "", backoff: Backoff = Backoff.NONE,
           first: float = 0.0) -> str:
    """The lesson of a finished call: ``diagram`` as rules.diagram draws it, the SYNs' backoff."""
    text = _(LESSONS[which])
    if which == Lesson.TIMED_OUT:
        return text.format(backoff=backoff_words(backoff, first))
    return text.format(diagram=diagram) if which in (Lesson.CONNECTED, Lesson.TEARDOWN) else text


BACKOFF: dict[Backoff, str] = {
    Backoff.NONE: N_("without a single retry in time"),
    Backoff.ONCE: N_("after {seconds} (the initial retransmission timeout, RFC 6298 §2)"),
    Backoff.LINEAR: N_("every {seconds} at a fixed interval (Linux's first retries are linear: sysctl net.ipv4.tcp_syn_linear_timeouts)"),
    Backoff.DOUBLING: N_("doubling the wait each time (exponential backoff, RFC 6298 §5.5)"),
    Backoff.MIXED: N_("first at a fixed interval, then doubling the wait (Linux: net.ipv4.tcp_syn_linear_timeouts, then exponential backoff, RFC 6298 §5.5)"),
}


def backoff_words(kind: Backoff, first: float) -> str:
    """How the SYNs were spaced, ``first`` the first interval in seconds."""
    return _(BACKOFF[kind]).format(seconds=seconds(first, 0))


# How each step is drawn in a call's diagram ("SYN → SYN/ACK → ACK"); flags
# stay as the RFCs spell them, the other words are said.
STEP_LABEL: dict[Step, str] = {
    Step.SYN: "SYN",
    Step.SYNACK: "SYN/ACK",
    Step.HANDSHAKE_ACK: "ACK",
    Step.ACK: "ACK",
    Step.FIN_FIRST: "FIN",
    Step.FIN_SECOND: "FIN",
    Step.LAST_ACK: "ACK",
}
_STEP_WORDS: dict[Step, tuple[str, str]] = {
    Step.DATA: NP_("diagram", "data"),
    Step.UDP: NP_("diagram", "datagram"),
    Step.DNS_QUERY: NP_("diagram", "query"),
    Step.DNS_RESPONSE: NP_("diagram", "answer"),
}


def step_label(step: str) -> str:
    """How ``step`` is drawn in a call's diagram."""
    label = STEP_LABEL.get(step)
    if label is not None:
        return label
    words = _STEP_WORDS.get(step)
    return step if words is None else pgettext(*words)


# -- DNS -------------------------------------------------------------------------------

# What each record type holds (RFC 1035 §3.2.2, RFC 3596 for AAAA).
RR_WORDS: dict[str, tuple[str, str]] = {
    "A": NP_("record", "IPv4 address"),
    "AAAA": NP_("record", "IPv6 address"),
    "PTR": NP_("record", "name"),
    "CNAME": NP_("record", "canonical name"),
    "MX": NP_("record", "mail server"),
    "NS": NP_("record", "name servers"),
    "SOA": NP_("record", "zone authority"),
    "TXT": NP_("record", "text"),
    "SRV": NP_("record", "service location"),
}


def _record_words(rtype) -> str | None:
    words = RR_WORDS.get(rtype)
    return None if words is None else pgettext(*words)


def dns_question_words(info: dict) -> str:
    """What a query asks for: 'the A record (IPv4 address) of chat.sockviz.test'."""
    qs = info.get("questions") or []
    if not qs:
        return _("nothing (no question)")
    parts = []
    for q in qs:
        t = q.get("type", "?")
        what = _record_words(t)
        name = str(q.get("name", "?")).rstrip(".")
        if what:
            parts.append(_("the {type} record ({what}) of {name}").format(type=t, what=what, name=name))
        else:
            parts.append(_("the {type} record of {name}").format(type=t, name=name))
    return _listed(parts)


def dns_answer_words(info: dict) -> str:
    """What a response answers: 'chat.sockviz.test has IPv4 address 192.0.2.2 (cache it 300 s)'."""
    rcode = info.get("rcode", "?")
    if rcode == "NXDOMAIN":
        return _("NXDOMAIN, no such name (RFC 1035 §4.1.1)")
    if rcode != "NOERROR":
        return dns_answer(info)
    answers = info.get("answers") or []
    if not answers:
        return _("the name exists but has no record of that type (NODATA, RFC 2308)")
    parts = []
    for a in answers:
        name = str(a.get("name", "?")).rstrip(".")
        data = str(a.get("data", "?")).rstrip(".")
        if a.get("type") == "CNAME":
            parts.append(_("{name} is an alias of {data}").format(name=name, data=data))
        else:
            what = _record_words(a.get("type")) or a.get("type")
            parts.append(_("{name} has {what} {data}").format(name=name, what=what, data=data))
    # TRANSLATORS: {answers} are the records of a DNS answer, {ttl} its time to live in seconds.
    return _("{answers} (cache it {ttl} s)").format(answers=joined(parts), ttl=answers[0].get("ttl"))


def dns_question(info: dict) -> str:
    """A query in short, as the view shows it: 'A chat.sockviz.test.?'."""
    qs = info.get("questions") or []
    if not qs:
        return _("(no question)")
    asked = ", ".join(f"{q.get('type', '?')} {q.get('name', '?')}" for q in qs)
    # TRANSLATORS: {questions} are "TYPE name" pairs; the question mark ends the query.
    return _("{questions}?").format(questions=asked)


_RCODE_WORDS = {"NXDOMAIN": NP_("rcode", "no such name"),
                "SERVFAIL": NP_("rcode", "the server failed"), "REFUSED": NP_("rcode", "refused")}


def dns_answer(info: dict) -> str:
    """A response in short, as the view shows it: 'A 192.0.2.2 (ttl 300)'."""
    rcode = info.get("rcode", "?")
    answers = info.get("answers") or []
    if rcode != "NOERROR":
        words = _RCODE_WORDS.get(rcode)
        return f"{rcode}" + (f" ({pgettext(*words)})" if words else "")
    if not answers:
        return _("NOERROR but no record of that type (NODATA)")
    return ", ".join(f"{a.get('type')} {a.get('data')} (ttl {a.get('ttl')})" for a in answers)


def dns_lesson(*, both_families: bool, together: bool, ports: list, retried: bool,
               answered: bool) -> str | None:
    """What the DNS traffic of one resolver call showed (correlate.dns_facts measures it)."""
    bits = []
    if both_families:
        how = _("together") if together else _("one after the other (the AAAA after the A's answer)")
        if len(ports) == 1:
            where = _("from one UDP socket (port {port})").format(port=ports[0])
        else:
            where = _("from {count} sockets").format(count=len(ports))
        bits.append(_("the resolver sent the A and AAAA queries {how}, {where}, and waited for "
                      "both answers").format(how=how, where=where))
    if retried:
        bits.append(_("some queries went out again: no usable answer came in time, so the resolver "
                      "retried (resolv.conf options timeout and attempts)"))
    if not answered:
        bits.append(_("no DNS answer at all"))
    return joined(bits) or None


# -- ICMP ------------------------------------------------------------------------------

# Destination unreachable codes (RFC 792, RFC 1812 §5.2.7.1; RFC 4443 §3.1).
UNREACH_CODES: dict[int, str] = {
    0: N_("network unreachable"),
    1: N_("host unreachable"),
    2: N_("protocol unreachable"),
    3: N_("port unreachable"),
    4: N_("fragmentation needed"),
    9: N_("network administratively prohibited"),
    10: N_("host administratively prohibited"),
    13: N_("communication administratively prohibited"),
}
UNREACH6_CODES: dict[int, str] = {
    0: N_("no route to destination"),
    1: N_("administratively prohibited"),
    3: N_("address unreachable"),
    4: N_("port unreachable"),
    5: N_("source address failed policy"),
    6: N_("reject route"),
}
# Message names (RFC 792, RFC 4443 §2.1, RFC 4861 §4).
ICMP_NAMES: dict[int, str] = {
    0: N_("echo reply"), 3: N_("destination unreachable"), 4: N_("source quench"),
    5: N_("redirect"), 8: N_("echo request"), 11: N_("time exceeded"),
    12: N_("parameter problem"),
}
ICMP6_NAMES: dict[int, str] = {
    1: N_("destination unreachable"), 2: N_("packet too big"), 3: N_("time exceeded"),
    4: N_("parameter problem"), 128: N_("echo request"), 129: N_("echo reply"),
    133: N_("router solicitation"), 134: N_("router advertisement"),
    135: N_("neighbour solicitation"), 136: N_("neighbour advertisement"), 137: N_("redirect"),
}


def unreachable_words(code, *, v6: bool) -> str:
    """Why a destination was unreachable, from the ICMP code."""
    msgid = (UNREACH6_CODES if v6 else UNREACH_CODES).get(code)
    return _(msgid) if msgid else _("code {code}").format(code=code)


def icmp_name(icmp_type, icmp_code, *, v6: bool) -> str | None:
    """The message's name ('port unreachable' for a destination unreachable, by its code)."""
    msgid = (ICMP6_NAMES if v6 else ICMP_NAMES).get(icmp_type)
    if icmp_type == (1 if v6 else 3):  # destination unreachable: the code says why
        msgid = (UNREACH6_CODES if v6 else UNREACH_CODES).get(icmp_code, msgid)
    return _(msgid) if msgid else None


# -- the terminal view -----------------------------------------------------------------


def arrows() -> dict[str | None, str]:
    """The direction column: '→ out', '← in ' and '·    ', one width in each language."""
    labels = _memo.get("arrows")
    if labels is None:
        # TRANSLATORS: a packet's direction, in a narrow column: sent by this host ("out")...
        out = "→ " + pgettext("direction", "out")
        # TRANSLATORS: ... and received by it ("in").
        into = "← " + pgettext("direction", "in")
        width = max(len(out), len(into))
        labels = _memo["arrows"] = {Direction.OUT: out.ljust(width), Direction.IN: into.ljust(width),
                                    None: "·".ljust(width)}
    return labels


def legend() -> str:
    """The line under a live run's title: what the direction column means."""
    labels = arrows()
    return _("capturing on every interface before the first call · {sent}: sent by this host · "
             "{received}: received").format(sent=labels[Direction.OUT].rstrip(),
                                            received=labels[Direction.IN].rstrip())


def call_place(file: str, line: int, fd: int | None, thread: str | None) -> str:
    """Where a traced call came from, so several sockets and threads are told apart:
    'client.py:7 · fd 4 · thread serveur'."""
    parts = [f"{posixpath.basename(file)}:{line}"]
    if fd is not None:
        parts.append(_("fd {fd}").format(fd=fd))
    if thread and thread != "MainThread":
        parts.append(_("thread {name}").format(name=thread))
    return " · ".join(parts)


def name_resolved_inside(call: str, host: str) -> str:
    """A name given to connect(): CPython resolves it inside the call (socketmodule.c)."""
    return _("{call}() was given the name {host!r}: CPython resolved it inside the call "
             "(getaddrinfo), so the DNS queries above belong to {call}() itself"
             ).format(call=call, host=host)


def name_resolved_each_sendto(host: str) -> str:
    return _("sendto() was given the name {host!r}: CPython resolves it inside every "
             "sendto(), so each datagram sent to a name asks the resolver again").format(host=host)


def between_cells(ago: str) -> str:
    """A notebook cell's output: packets that came while no cell ran."""
    return _("arrived between cells, {ago} before this cell ran").format(ago=ago)


def notebook_needs_rights() -> str:
    return _("sockviz: capturing packets needs root or the CAP_NET_RAW capability, so this "
             "notebook's socket calls are not traced (your code still runs). Start Jupyter in "
             "the lab as yourself with that right alone: sudo sockviz lab run -- jupyter lab")


def program_legend() -> str:
    """The line under ``sockviz run``'s title."""
    labels = arrows()
    return _("capturing on every interface before the program's first line · {sent}: sent by "
             "this host · {received}: received").format(sent=labels[Direction.OUT].rstrip(),
                                                       received=labels[Direction.IN].rstrip())


def payload_length(n: int) -> str:
    """A segment's or datagram's payload in the view's fields: '14 bytes'."""
    # TRANSLATORS: English says "bytes" whatever the count here.
    return ngettext("{count} bytes", "{count} bytes", n).format(count=n)


def arp_who_has(dst, src) -> str:
    return _("who has {dst}? tell {src}").format(dst=dst, src=src)


def arp_is_at(src, mac) -> str:
    return _("{src} is at {mac}").format(src=src, mac=mac)


def ndp_who_has(target) -> str:
    return _(": who has {target}?").format(target=target)


def ndp_is_at(target, mac) -> str:
    return _(": {target} is at {mac}").format(target=target, mac=mac)


def quoted_packet(proto, src: str, dst: str) -> str:
    """The packet an ICMP error quotes: 'about UDP a:1 > b:2'."""
    return _("about {proto} {src} > {dst}").format(proto=proto, src=src, dst=dst)


def dns_for(question: str) -> str:
    """Which query a response answers, after the answer."""
    return _("for {question}").format(question=question)


def conversation_head(number: int, head: str) -> str:
    return _("conversation {number}: {head}").format(number=number, head=head)


def packets_count(n: int) -> str:
    return ngettext("{count} packet", "{count} packets", n).format(count=n)


def calls_count(n: int) -> str:
    return ngettext("{count} call", "{count} calls", n).format(count=n)


def kernel_drops(n: int) -> str:
    return ngettext("{count} dropped by the kernel", "{count} dropped by the kernel", n).format(count=n)


def unrelated(n: int) -> str:
    return ngettext("{count} unrelated packet not shown", "{count} unrelated packets not shown",
                    n).format(count=n)


def saved_to(path: str) -> str:
    return _("saved to {path}  (open it in Wireshark, or: sockviz replay {path})").format(path=path)


# Tables' column headings, by their English name.
COLUMNS: dict[str, tuple[str, str]] = {
    "proto": NP_("column", "proto"),
    "endpoint A": NP_("column", "endpoint A"),
    "endpoint B": NP_("column", "endpoint B"),
    "packets": NP_("column", "packets"),
    "state": NP_("column", "state"),
    "protocol": NP_("column", "protocol"),
    "bytes": NP_("column", "bytes"),
    "DNS name": NP_("column", "DNS name"),
    "types": NP_("column", "types"),
    "queries": NP_("column", "queries"),
    "answers": NP_("column", "answers"),
    "result": NP_("column", "result"),
}


def column(name: str) -> str:
    """A table's column heading, by its English name: 'endpoint A', 'packets', 'state'..."""
    return pgettext(*COLUMNS[name])


def tcp_state(c: Mapping) -> str:
    """A TCP conversation's state in the summary's table (a conversation record's fields)."""
    if c["reset"]:
        return pgettext("state", "reset")
    if c["closed"]:
        return pgettext("state", "closed")
    if c["handshake"]:
        return pgettext("state", "open")
    return pgettext("state", "no handshake")


# -- the overview (replay --summary) ---------------------------------------------------


def overview_title() -> str:
    return _("overview")


def overview_packets(n: int) -> str:
    # TRANSLATORS: English says "packets" whatever the count here.
    return ngettext("{count} packets", "{count} packets", n).format(count=number(n))


def overview_bytes(n: int) -> str:
    # TRANSLATORS: English says "bytes" whatever the count here.
    return ngettext("{count} bytes on the wire", "{count} bytes on the wire", n).format(count=number(n))


def conversations_count(n: int) -> str:
    return ngettext("{count} conversation", "{count} conversations", n).format(count=number(n))


def tcp_heading() -> str:
    return _("TCP: ")


def tcp_counts(syn: int, handshakes: int, teardowns: int) -> str:
    """'2 connection attempts (SYN), 1 handshake completed, 1 connection closed with FIN, '."""
    return _("{attempts} (SYN), {handshakes}, {teardowns}, ").format(
        attempts=ngettext("{count} connection attempt", "{count} connection attempts",
                          syn).format(count=number(syn)),
        handshakes=ngettext("{count} handshake completed", "{count} handshakes completed",
                            handshakes).format(count=number(handshakes)),
        teardowns=ngettext("{count} connection closed with FIN", "{count} connections closed with FIN",
                           teardowns).format(count=number(teardowns)),
    )


def resets(n: int) -> str:
    # TRANSLATORS: connections reset (RST); English says "reset" whatever the count.
    return ngettext("{count} reset", "{count} reset", n).format(count=number(n))


def refused(n: int) -> str:
    return ngettext(" ({count} refused: nobody listening)", " ({count} refused: nobody listening)",
                    n).format(count=number(n))


def retransmissions(n: int) -> str:
    return ngettext(", {count} retransmission", ", {count} retransmissions", n).format(count=number(n))


def zero_windows(n: int) -> str:
    return ngettext(", {count} zero window", ", {count} zero windows", n).format(count=number(n))


def no_answer() -> str:
    return _("no answer")


def more_names(n: int) -> str:
    return ngettext("… and {count} more names", "… and {count} more names", n).format(count=number(n))


def busiest_heading() -> str:
    return _("busiest conversations")


def calls_heading() -> str:
    return _("calls")


def call_packets(n: int) -> str:
    return ngettext("{count} packet", "{count} packets", n).format(count=number(n))


def more_calls(n: int) -> str:
    return ngettext("… and {count} more calls", "… and {count} more calls", n).format(count=number(n))


# -- a long transfer, summed up (render/console.py) ------------------------------------


def window_owner(direction: str | None) -> str:
    if direction == Direction.OUT:
        return _("your window")
    if direction == Direction.IN:
        return _("the peer's window")
    return _("window")


def window_stayed(who: str, at: str) -> str:
    return _("{who} stayed at {size}").format(who=who, size=at)


def window_moved(who: str, first: str, last: str, low: str, high: str) -> str:
    return _("{who} {first} → {last} (between {low} and {high})").format(
        who=who, first=first, last=last, low=low, high=high)


def transfer_in_progress() -> str:
    return _("transfer in progress: ")


def transfer_so_far(payload: str, segments: int, acks: int) -> str:
    return _("{size} in {segments}, {acks}").format(
        size=payload,
        segments=ngettext("{count} segments", "{count} segments", segments).format(count=number(segments)),
        acks=ngettext("{count} ACKs", "{count} ACKs", acks).format(count=number(acks)))


def retransmitted(n: int) -> str:
    return ngettext(", {count} retransmitted", ", {count} retransmitted", n).format(count=number(n))


def summed_up(n: int) -> str:
    return ngettext("{count} more packets summed up: ", "{count} more packets summed up: ",
                    n).format(count=number(n))


def transfer_carried(segments: int, payload: int, acks: int) -> str:
    return _("{segments} carrying {bytes}, {acks}").format(
        segments=ngettext("{count} data segments", "{count} data segments",
                          segments).format(count=number(segments)),
        bytes=ngettext("{count} bytes", "{count} bytes", payload).format(count=number(payload)),
        acks=ngettext("{count} ACKs", "{count} ACKs", acks).format(count=number(acks)))


def transfer_retransmissions(n: int) -> str:
    return ngettext(", {count} retransmissions", ", {count} retransmissions", n).format(count=number(n))


def transfer_zero_windows(n: int) -> str:
    return ngettext(", {count} zero windows", ", {count} zero windows", n).format(count=number(n))


def transfer_span(span: float, rate: str) -> str:
    return _(", in {span}{rate}").format(span=seconds(span, 3), rate=rate)


def then(words: str) -> str:
    """A last clause after a semicolon: '; your window stayed at 64 KiB'."""
    return _("; {words}").format(words=words)


def every_packet_kept() -> str:
    return _(" (every packet is in the capture file and in --json)")


# -- the built-in lessons (commands/tcp.py, udp.py, resolve.py, serve.py; lessons/) ---
#
# A lesson's notes are stored in its capture as a key and fields (``Said``), not
# as text, so that a replay says them again in the replay's language.


class Said(str):
    """A sentence that remembers how it was said: the phrase (``key``) and its ``fields``.

    It is the text itself wherever text is wanted; the capture writer stores the
    key and fields beside it (core/callcomment.py) and ``said_again`` says them
    in the language of the replay.
    """

    key: str | None
    fields: dict

    def __new__(cls, text: str = "", key: str | None = None, fields: dict | None = None):
        self = super().__new__(cls, text)
        self.key = key
        self.fields = dict(fields or {})
        return self


_SAYINGS: dict = {}  # key -> the function that says it (fields as keyword arguments)


def _keyed(fn):
    """``fn`` returns a ``Said`` that names it (its name is the key) and its arguments."""
    code = fn.__code__
    positional = code.co_varnames[: code.co_argcount]
    _SAYINGS[fn.__name__] = fn

    def say(*args, **fields) -> Said:
        fields.update(zip(positional, args, strict=False))
        return Said(fn(**fields), fn.__name__, fields)

    say.__name__, say.__doc__, say.__wrapped__ = fn.__name__, fn.__doc__, fn
    return say


def said_again(key, fields) -> Said | None:
    """The sentence ``key`` with ``fields``, in the current language; None when the key is
    unknown or the fields do not fit it (a file from another version, or damaged)."""
    fn = _SAYINGS.get(key) if isinstance(key, str) else None
    if fn is None or not isinstance(fields, dict):
        return None
    try:
        return Said(fn(**fields), key, fields)
    except Exception:  # whatever a damaged file holds: the stored text is shown instead
        return None


# The tracer's own notes (tracing/session.py) are said again in a replay's language too.
name_resolved_inside = _keyed(name_resolved_inside)
name_resolved_each_sendto = _keyed(name_resolved_each_sendto)


def code_header() -> str:
    """The second line of a lesson's program (``--code``), under the command it comes from."""
    return _("the program of this lesson: sockviz shows each of its socket calls with the "
             "packets it caused")


def code_prompt() -> str:
    """The prompt of a lesson's program that reads the messages typed on a terminal."""
    return _("message to send (an empty line or Ctrl-D ends) > ")


def code_echo_read(read: str, size: str) -> str:
    """What the bulk TCP program prints at its end (``read`` and ``size`` are code)."""
    return _("{read} bytes of echo read back, of {size} sent").format(read=read, size=size)


def code_listening(port: str) -> str:
    """What the server program prints once it listens (``port`` is code)."""
    return _("listening on port {port} (TCP and UDP); Ctrl-C stops").format(port=port)


def family_conflict(host: str, literal: int, family: int) -> str:
    return _("{host} is an IPv{literal} address but -{family} asks for IPv{family}; drop the "
             "option or give an IPv{family} address").format(host=host, literal=literal,
                                                             family=family)


def name_without_family(host: str, family: int) -> str:
    other = 4 if family == 6 else 6
    return _("the name {host!r} exists but has no IPv{family} address; try -{other}"
             ).format(host=host, family=family, other=other)


def no_dns_answer(host: str, reason: str) -> str:
    return _("no DNS server answered for {host!r} ({reason}); check the network and "
             "/etc/resolv.conf, or give an address").format(host=host, reason=reason)


def name_does_not_resolve(host: str, reason: str) -> str:
    return _("the name {host!r} does not resolve ({reason}); check the spelling, or give an "
             "address").format(host=host, reason=reason)


def connect_refused(host: str, port: int) -> str:
    return _("connect() was refused: nobody listens on {host} port {port} (the RST above "
             "says so)").format(host=host, port=port)


def connect_no_answer(host: str, port: int, timeout: float) -> str:
    return _("connect() got no answer from {host} port {port} within {timeout} (see the SYN "
             "retransmissions above); the host may be down or filtered"
             ).format(host=host, port=port, timeout=seconds(timeout, 1))


def call_failed(call: str, error: str) -> str:
    return _("{call}() failed: {error}").format(call=call, error=error)


@_keyed
def no_reply(call: str, timeout: float) -> str:
    return _("no reply within {timeout}: {call}() gave up (the --timeout); the server may "
             "simply not answer").format(call=call, timeout=seconds(timeout, 1))


@_keyed
def gave_up(call: str, timeout: float) -> str:
    return _("{call}() gave up after {timeout} (the --timeout)").format(
        call=call, timeout=seconds(timeout, 1))


@_keyed
def peer_closed(call: str) -> str:
    return _("{call}() returned b'': the server closed the connection").format(call=call)


@_keyed
def datagram_too_big(size: int) -> str:
    return _("{size} bytes do not fit in one UDP datagram (at most 65,507 over IPv4, 65,527 "
             "over IPv6: the IP length field is 16 bits)").format(size=number(size))


@_keyed
def icmp_error_waiting(call: str) -> str:
    return _("an earlier ICMP port unreachable was waiting on the connected socket: {call}() "
             "reports it as ConnectionRefusedError").format(call=call)


@_keyed
def datagram_truncated(call: str, size: int) -> str:
    return _("{call}({size}) returned only the first {size} bytes: the rest of the datagram "
             "is discarded, never returned by a later call").format(call=call, size=size)


@_keyed
def resolver_setup(order: list, servers: list) -> str:
    """The resolve lesson's first line: where glibc will look, and which DNS servers."""
    if servers:
        asked = ngettext("its DNS server (/etc/resolv.conf): {servers}",
                         "its DNS servers (/etc/resolv.conf): {servers}",
                         len(servers)).format(servers=", ".join(servers))
    else:
        asked = _("no DNS server in /etc/resolv.conf (it would ask 127.0.0.1)")
    return _("the resolver (glibc) follows /etc/nsswitch.conf, hosts: {order}; {asked}"
             ).format(order=" ".join(order), asked=asked)


@_keyed
def getaddrinfo_answered(name: str, literal: bool, hosts: list, service, port) -> str:
    """Why getaddrinfo() needed no packet (an address, /etc/hosts) and where a service's port came from."""
    parts = []
    if literal:
        parts.append(_("{name} is already an address: getaddrinfo() only converts the text "
                       "(as inet_pton does), nothing to resolve, no packet").format(name=name))
    elif hosts:
        parts.append(_("{name} is in /etc/hosts ({addresses}), and nsswitch looks in 'files' "
                       "first: answered without a single packet"
                       ).format(name=name, addresses=", ".join(hosts)))
    if service is not None and port is not None:
        parts.append(_("the service {service!r} became port {port} through /etc/services (a "
                       "file: no packet)").format(service=service, port=port))
    return joined(parts)


@_keyed
def ptr_lookup(ptr: str, v6: bool) -> str:
    tree = (_("ip6.arpa, RFC 3596 §2.5") if v6 else _("in-addr.arpa, RFC 1035 §3.5"))
    return _("getnameinfo() asks DNS for the PTR record of {ptr} (the reverse tree: {tree})"
             ).format(ptr=ptr, tree=tree)


@_keyed
def ptr_found(address: str, host: str, ptr: str) -> str:
    return _("{address} → {host}: the PTR record of {ptr}").format(address=address, host=host,
                                                                  ptr=ptr)


@_keyed
def ptr_missing(address: str, ptr: str) -> str:
    return _("no name for {address}: the PTR query for {ptr} found nothing, and without the "
             "NI_NAMEREQD flag getnameinfo() returns the address itself as text"
             ).format(address=address, ptr=ptr)


_GAI_MEANINGS = {
    "EAI_NONAME": N_("EAI_NONAME: the DNS server answered that the name does not exist "
                     "(NXDOMAIN), or it has no address of the family asked for"),
    "EAI_AGAIN": N_("EAI_AGAIN: no DNS server gave an answer in time (see the retries above); "
                    "a temporary failure, try again later"),
    "EAI_SERVICE": N_("EAI_SERVICE: the service is not known for this socket type"),
    "EAI_NODATA": N_("EAI_NODATA: the name exists but has no address"),
}


@_keyed
def gai_meaning(code: str, errno: int, reason: str) -> str:
    """What a socket.gaierror means (``code``: the EAI_ constant's name, or '')."""
    meaning = _GAI_MEANINGS.get(code)
    if meaning is not None:
        return _(meaning)
    return _("socket.gaierror {errno}: {reason}").format(errno=errno, reason=reason)


@_keyed
def resolver_given_up(call: str, timeout: float) -> str:
    return _("no answer within {timeout} (the --timeout): sockviz stopped waiting for "
             "{call}(); the resolver may still be retrying").format(call=call,
                                                                  timeout=seconds(timeout, 1))


def lookup_failed(call: str, name: str, reason: str) -> str:
    return _("{call}() failed for {name}: {reason}").format(call=call, name=name, reason=reason)


def service_unknown(service: str) -> str:
    return _("the service {service!r} is not in /etc/services; give a port number instead"
             ).format(service=service)


def address_needs_port(service: str) -> str:
    return _("with an address, give a port number, not {service!r}").format(service=service)


@_keyed
def server_listening(port: int) -> str:
    return _("the server listens on port {port}, TCP and UDP: connect a client to it, e.g. "
             "sockviz tcp HOST {port}").format(port=port)


def cannot_listen(where: str, reason: str, in_use: bool) -> str:
    if in_use:
        return _("cannot listen on {where}: {reason} (is another server already using it?)"
                 ).format(where=where, reason=reason)
    return _("cannot listen on {where}: {reason}").format(where=where, reason=reason)
