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
from collections.abc import Callable, Iterable, Mapping

from sockviz.core.text import duration_unit

DOMAIN = "sockviz"
# os.path, not pathlib: this module is imported before the capture starts (pathlib: 7 ms).
LOCALE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "locale")
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
    FINAL_ACK = "final-ack"  # the ACK of the second FIN: its sender enters TIME-WAIT
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
    BUFFERED_PIGGYBACK = "buffered-piggyback"  # the same, and the segment carries an ACK
    AFTER_CLOSE = "after-close"  # our kernel's own segment after close() returned
    CLOSED_RST = "closed-rst"  # our FIN acknowledged after close(): data now draws RST
    PEER_CLOSED = "peer-closed"  # the peer's FIN, sent when its program closed
    FIN_PIGGYBACK = "fin-piggyback"  # a FIN carrying the ACK of the other FIN: 3 segments
    KERNEL_ACK = "kernel-ack"  # the kernel acknowledges received data
    PIGGYBACK = "piggyback"  # a data segment carrying an ACK of new data
    ARP = "arp"  # the kernel's ARP
    NDP = "ndp"  # the kernel's neighbour discovery
    NEIGHBOUR_FIRST = "neighbour-first"  # a packet waits for this ARP/NDP (fields: call, needed_for)
    NEIGHBOUR_WAITED = "neighbour-waited"  # the packet that waited for the ARP/NDP exchange
    ERROR_KEPT = "error-kept"  # a connected UDP socket keeps the ICMP error
    ERROR_UNHEARD = "error-unheard"  # an unconnected UDP socket never hears of it
    ICMP_ANSWER = "icmp-answer"  # an ICMP error answering an earlier packet (field: call)
    ACK_NOT_WAITED = "ack-not-waited"  # the peer's ACK under send() (field: peer)
    ACK_FREES_ROOM = "ack-frees-room"  # the peer's ACK under sendall() (field: peer)
    ACK_OF_EARLIER = "ack-of-earlier"  # the peer's ACK under another call (fields: peer, call)
    DATA_NOT_CALL = "data-not-call"  # the peer's data under a call that did not ask for it
    WINDOW_UPDATE = "window-update"  # recv() made room: a window update (field: peer)
    KERNEL_ACK_DURING = "kernel-ack-during"  # our ACK of data that came during a call (field: call)
    DELAYED_ACK = "delayed-ack"  # a pure ACK held back (field: delay, in seconds)


class Lesson(enum.StrEnum):
    """What a finished call taught, as decided from how it ended (see correlate._lesson)."""

    CONNECTED = "connected"  # field: diagram
    REFUSED = "refused"
    TIMED_OUT = "timed-out"  # field: backoff (a Backoff) and first (seconds)
    TCP_GAVE_UP = "tcp-gave-up"  # the same, ended by TCP's own limit (ETIMEDOUT)
    UNREACHABLE = "unreachable"
    SENT = "sent"
    SENT_ALL = "sent-all"
    TEARDOWN = "teardown"  # field: diagram
    ABORTED = "aborted"  # close() with unread bytes: RST
    RESET_BY_PEER = "reset-by-peer"  # an RST from the peer during close()
    LISTENER_RESET = "listener-reset"  # close() of a listening socket resets what waits
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
_chosen = False  # set_language() was called (the CLI always calls it)
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
    global _language, _translations, _chosen
    _chosen = True
    if lang is None:
        code = language_from_environ(os.environ)
    else:
        code = _code(lang)
        if code is None:
            raise ValueError(f"sockviz speaks {', '.join(LANGUAGES)}, not {lang!r}")
    if code == "en":
        translations = _gettext.NullTranslations()
    else:
        translations = _gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[code])
    _language, _translations = code, translations
    _memo.clear()
    _templates.clear()
    _contexts.clear()
    _bytes_said.clear()
    _peers.clear()
    _dns_words.clear()
    return code


def current_language() -> str:
    """The language sockviz speaks now: 'en' or 'fr'."""
    return _language


def language_from_locale_unless_chosen() -> str:
    """For sockviz used as a library (``sockviz.trace()``, the notebook): the locale's
    language, as gettext programs choose it, unless one was chosen already."""
    return _language if _chosen else set_language(None)


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
    """A call's duration for people: '0.42 ms', '13.1 ms', '3.004 s' (French '3,004 s'),
    in text.duration_unit's units."""
    if x is None:
        return ""
    value, places, unit = duration_unit(x)
    return f"{decimal(value, places)}{_unit_space()}{unit}"


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
        Direction.OUT: N_("you ask {peer} to open a connection: SYN with your initial sequence number, ISN {isn} (seq and ack are shown relative to each side's ISN, so this SYN is seq=0), and your options"),
        Direction.IN: N_("{peer} asks to open a connection: SYN with its initial sequence number, ISN {isn} (seq and ack are shown relative to each side's ISN)"),
        None: N_("{src} asks {dst} to open a connection: SYN with its initial sequence number, ISN {isn} (seq and ack are shown relative to each side's ISN)"),
    },
    Step.SYN_RETRANSMIT: {
        Direction.OUT: N_("still no SYN/ACK: your kernel sends the SYN again, {interval} after the last one (attempt {attempt}; the retransmission timer, RFC 6298)"),
        Direction.IN: N_("{peer} sends its SYN again (attempt {attempt}, {interval} later)"),
        None: N_("SYN sent again by {src} (attempt {attempt}, {interval} later)"),
    },
    Step.SYNACK: {
        Direction.OUT: N_("your kernel answers for the listening socket, before and apart from accept(): SYN/ACK acknowledges {peer}'s SYN and carries your own, ISN {isn}{scaling}"),
        Direction.IN: N_("{peer}'s kernel answers for its listening socket (its accept() plays no part here): SYN/ACK acknowledges your SYN (ack = your ISN + 1) and carries its own, ISN {isn}{scaling}"),
        None: N_("{src}'s kernel answers the SYN for its listening socket: SYN/ACK, with a SYN of its own, ISN {isn}{scaling}"),
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
        Direction.OUT: N_("your kernel sends these {bytes} again, judging them lost: either no ACK came before its retransmission timer ran out (RFC 6298), or the ACKs that came showed a gap (fast retransmit, RFC 5681 §3.2, or Linux's RACK-TLP, RFC 8985)"),
        Direction.IN: N_("{peer} sends {bytes} again, judging them lost: its retransmission timer ran out (RFC 6298), or the ACKs showed a gap (fast retransmit, RFC 5681 §3.2, or RACK-TLP, RFC 8985)"),
        None: N_("{bytes} sent again by {src}: a retransmission (after its timer ran out, or a fast retransmit or RACK-TLP one)"),
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
        Direction.OUT: N_("you close your side too (FIN): {peer} closed first, so your socket was in CLOSE-WAIT until your program called close(); it now waits in LAST-ACK for {peer}'s ACK"),
        Direction.IN: N_("{peer} closes its side too (FIN): it leaves when {peer}'s program calls close() (or shutdown()), once its recv() has returned b''"),
        None: N_("{src} closes its side too (FIN)"),
    },
    Step.FIN_RETRANSMIT: {
        Direction.OUT: N_("your FIN was not acknowledged in time: your kernel sends it again"),
        Direction.IN: N_("{peer} sends its FIN again"),
        None: N_("FIN sent again by {src}"),
    },
    Step.ACK_FIN: {
        Direction.OUT: N_("your kernel acknowledges {peer}'s FIN: your socket is in CLOSE-WAIT (recv() returns b'') until your program closes it, which sends your FIN"),
        Direction.IN: N_("{peer}'s kernel acknowledges your FIN: your socket waits in FIN-WAIT-2, and {peer}'s in CLOSE-WAIT, until {peer}'s program closes and its FIN comes"),
        None: N_("{src} acknowledges the FIN: the other side waits in FIN-WAIT-2 for its FIN"),
    },
    Step.FINAL_ACK: {
        Direction.OUT: N_("you acknowledge {peer}'s FIN: your socket is now in TIME-WAIT, not yet closed; for 2×MSL (RFC 9293 §3.6; 60 s on Linux) it can send this ACK again should it be lost and the FIN come back, and old duplicate segments die out before the same ports make a new connection; {peer}, in LAST-ACK, is closed when this ACK reaches it"),
        Direction.IN: N_("{peer} acknowledges your FIN: your socket, in LAST-ACK, is closed, and {peer}'s waits in TIME-WAIT (2×MSL, RFC 9293 §3.6; 60 s on Linux)"),
        None: N_("{src} acknowledges the last FIN: it waits in TIME-WAIT (2×MSL, RFC 9293 §3.6), and the other side is closed"),
    },
    Step.RST_REFUSED: {
        Direction.OUT: N_("nobody listens on port {sport} here: your kernel refuses with RST"),
        Direction.IN: N_("nobody listens on port {sport} at {src}: its kernel refuses your SYN with RST, seq 0 and ack = your ISN + 1, as RFC 9293 §3.10.7.1 says for a segment without ACK"),
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
        Direction.OUT: N_("glibc's resolver, in your program's own process (not your kernel), asks the DNS server {dst} for {question} ({dns_rfc})"),
        Direction.IN: N_("{src} asks for {question} ({dns_rfc})"),
        None: N_("{src} asks {dst} for {question} ({dns_rfc})"),
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
        Direction.OUT: N_("your kernel reports {exceeded}"),
        Direction.IN: N_("{src} reports {exceeded}"),
        None: N_("{src} reports {exceeded}"),
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
    if template in _worded:  # it reads words made from the facts: no failed first try
        return template.format_map(Facts(facts))
    try:
        return template.format_map(facts)
    except KeyError:
        _worded.add(template)
        return template.format_map(Facts(facts))


_worded: set[str] = set()  # the templates that read more than packet_facts gives


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
    from {dns}, {what} and {exceeded} from {icmp_code}, {dns_rfc} from {dns}.
    A field nobody supplied reads
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
        elif key == "exceeded" and "icmp_code" in self:
            word = exceeded_words(self["icmp_code"], v6=get("proto") == "ICMPv6")
        elif key == "dns_rfc":
            word = dns_rfc(get("dns") or {})
        elif key == "scaling":
            word = ""  # no window scale known: nothing to say of it
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
    Why.AFTER_CLOSE: N_("after close() returned: your kernel sends this on its own"),
    Why.CLOSED_RST: N_("after close(), unlike shutdown(SHUT_WR), no program reads this socket any more: data that still arrives is answered with RST (RFC 1122 §4.2.2.13)"),
    Why.PEER_CLOSED: N_("not your kernel's doing: your FIN was acknowledged earlier, and your socket sat in FIN-WAIT-2 (the other end's in CLOSE-WAIT) until the other end's program closed"),
    Why.FIN_PIGGYBACK: N_("this FIN also carries the first ACK of the other side's FIN (piggybacked): its program closed at once, so the teardown takes three segments instead of four"),
    Why.KERNEL_ACK: N_("no call needed: your kernel acknowledges received data on its own"),
    Why.PIGGYBACK: N_("its ACK field also acknowledges the data that came the other way: the ACK rides on this data segment (piggybacked) instead of going alone"),
    Why.ARP: N_("no call caused it directly: the kernel answers ARP and keeps its neighbour cache up to date on its own (RFC 826, RFC 1122 §2.3.2)"),
    Why.NDP: N_("no call caused it directly: the kernel answers neighbour discovery and keeps its neighbour cache up to date on its own (RFC 4861 §7)"),
    Why.NEIGHBOUR_FIRST: N_("not a packet of {call}() itself: the one waiting for this answer is the next one to {needed_for}, below"),
    Why.NEIGHBOUR_WAITED: N_("the packet that waited for the neighbour's MAC address: your kernel held it back until the exchange above answered"),
    Why.ERROR_KEPT: N_("the connected socket keeps this error: the call waiting on it, or the next one, raises ConnectionRefusedError"),
    Why.ERROR_UNHEARD: N_("it answers the datagram it quotes, sent earlier: an unconnected UDP socket is not told of it (Linux reports ICMP errors only to connected UDP sockets, unless the IP_RECVERR or IPV6_RECVERR option is set)"),
    Why.ICMP_ANSWER: N_("not {call}()'s doing: it answers the packet it quotes, sent earlier"),
    Why.ACK_NOT_WAITED: N_("not send()'s doing: {peer}'s kernel sends this ACK when your data arrives, and send() does not wait for it"),
    Why.ACK_FREES_ROOM: N_("{peer}'s kernel acknowledges your data as it arrives: each ACK frees room in your send buffer, which sendall() waits for whenever the buffer is full"),
    Why.ACK_OF_EARLIER: N_("not {call}()'s doing: {peer}'s kernel acknowledges data you sent earlier"),
    Why.DATA_NOT_CALL: N_("not {call}()'s doing: {peer}'s program sent these bytes; they wait in your receive buffer until you read them"),
    Why.KERNEL_ACK_DURING: N_("not {call}()'s doing: your kernel acknowledges on its own the data that has just arrived"),
    Why.WINDOW_UPDATE: N_("a window update: recv() made room in your receive buffer, so your kernel tells {peer} the larger window, acknowledging nothing new (RFC 9293 §3.8.6.2.2)"),
    Why.DELAYED_ACK: N_("a delayed ACK, {delay} after the data it acknowledges: your kernel held it back, hoping to send it on data of its own (RFC 1122 §4.2.3.2: less than 0.5 s); Linux adapts the delay, about 40 to 200 ms, and early in a connection (quick-ACK mode) acknowledges at once"),
}

# Contexts said as two clauses, each a WHY of its own.
_COMPOSED: dict[Why, tuple[Why, Why]] = {Why.BUFFERED_PIGGYBACK: (Why.BUFFERED, Why.PIGGYBACK)}


def context(why: Why | None, facts: Mapping | None = None) -> str | None:
    """What caused a packet when it is not the call around it (``Why``), or None.

    A delayed ACK's ``facts`` hold its {delay} (s); the contexts that name
    the call or the peer read them from ``facts`` too (a packet during a
    call: the general path alone). The others are the same for every packet
    and said once: the replay's fast path asks for them without facts.
    """
    if why is None:
        return None
    text = _contexts.get(why)
    if text is None:
        if why == Why.DELAYED_ACK:
            return delayed_ack((facts or {}).get("delay") or 0.0)
        parts = _COMPOSED.get(why, (why,))
        text = joined(_(WHY[part]) for part in parts)
        if "{" in text:
            return text.format_map(Facts(facts or {}))
        _contexts[why] = text
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
    "close/TCP": N_("no connection on this socket (a listening one, or never connected): close() sends nothing; closing a listening socket would reset (RST) any connection still waiting in its accept queue"),
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
    Lesson.CONNECTED: N_("connect() = the three-way handshake: {diagram} (RFC 9293 §3.5); it returns when the SYN/ACK arrives and your socket is ESTABLISHED (your kernel answers it with the ACK at once); the server's socket becomes ESTABLISHED, and its accept() can return, when that ACK reaches it"),
    Lesson.REFUSED: N_("the SYN was answered by RST: nobody listens on that port, so connect() raises ConnectionRefusedError"),
    Lesson.TIMED_OUT: N_("no answer at all: your kernel sent the SYN again and again, {backoff}, until Python's timeout (settimeout()) ended connect(); without one, TCP itself gives up after net.ipv4.tcp_syn_retries retransmissions"),
    Lesson.TCP_GAVE_UP: N_("no answer at all: your kernel sent the SYN again and again, {backoff}, until TCP gave up after net.ipv4.tcp_syn_retries retransmissions (ETIMEDOUT)"),
    Lesson.UNREACHABLE: N_("no route or no neighbour answered: the kernel could not even deliver the SYN"),
    Lesson.SENT: N_("send() returns how many bytes your kernel took into its send buffer, which can be fewer than len(data) on a socket with a timeout or a non-blocking one (sendall() repeats until all are taken); with the buffer full it waits for room. It does not wait for the ACK, and a segment can still be held back by Nagle's algorithm (RFC 896), the congestion window (RFC 5681) or the peer's window"),
    Lesson.TEARDOWN: N_("close() starts the teardown, {diagram}: each side sends its FIN and acknowledges the other's, four segments (RFC 9293 §3.6); three when the peer's program closes at once and its ACK rides on its own FIN; the side that closed first waits in TIME-WAIT (60 s on Linux)"),
    Lesson.ABORTED: N_("close() with unread bytes in the receive buffer: your kernel aborts the connection with RST instead of FIN, so the peer learns that data was lost (RFC 1122 §4.2.2.13; RFC 2525 §2.17 describes stacks that fail to)"),
    Lesson.LISTENER_RESET: N_("close() on a listening socket: Linux resets (RST) each connection whose handshake was done but that no accept() had taken yet, since no program will ever read it; the listening socket itself sends nothing (RFC 9293 §3.10.4: a CLOSE in LISTEN only deletes it)"),
    Lesson.RESET_BY_PEER: N_("the RST came from the peer, not from your kernel: it reset the connection (its program closed with unread data, or aborted), and close() ends at once"),
    Lesson.SENT_ALL: N_("sendall() returns once your kernel has taken every byte into its send buffer (calling send() as often as needed, waiting whenever the buffer is full): it does not wait for the ACKs"),
    Lesson.END_OF_STREAM: N_("recv() returned b'': the other side's FIN had arrived, the end of its stream; nothing more will come on this connection"),
    Lesson.DATAGRAM_SENDTO: N_("one sendto() = one datagram: no handshake, no acknowledgement, and the message boundary is kept (RFC 768)"),
    Lesson.DATAGRAM_SEND: N_("one send() = one datagram: no handshake, no acknowledgement, and the message boundary is kept (RFC 768)"),
    Lesson.FRAGMENTED: N_("the datagram was larger than the link MTU, so IP carried it in fragments; the receiver reassembles them, and losing any one loses the whole datagram (RFC 791, RFC 8900)"),
    Lesson.RECVFROM_TIMEOUT: N_("an unconnected UDP socket is not told about ICMP errors (Linux reports them only to connected sockets, unless the IP_RECVERR or IPV6_RECVERR option is set), so recvfrom() waits until the timeout"),
    Lesson.RECVFROM_SILENT: N_("no datagram came back, and nothing says why: UDP has no acknowledgement, so a lost datagram and a server that does not answer look the same (RFC 768)"),
    Lesson.UDP_REFUSED: N_("on a connected UDP socket, Linux turns the ICMP port unreachable into ConnectionRefusedError"),
}


def lesson(which: Lesson, *, diagram: str = "", backoff: Backoff = Backoff.NONE,
           first: float = 0.0) -> str:
    """The lesson of a finished call: ``diagram`` as rules.diagram draws it, the SYNs' backoff."""
    text = _(LESSONS[which])
    if which in (Lesson.TIMED_OUT, Lesson.TCP_GAVE_UP):
        return text.format(backoff=backoff_words(backoff, first))
    return text.format(diagram=diagram) if which in (Lesson.CONNECTED, Lesson.TEARDOWN) else text


BACKOFF: dict[Backoff, str] = {
    Backoff.NONE: N_("without a single retry in time"),
    Backoff.ONCE: N_("after {seconds} (the initial retransmission timeout, RFC 6298 §2)"),
    Backoff.LINEAR: N_("every {seconds} at a fixed interval (since Linux 6.5 the first retries are not backed off: sysctl net.ipv4.tcp_syn_linear_timeouts, 4 by default)"),
    Backoff.DOUBLING: N_("doubling the wait each time (exponential backoff, RFC 6298 §5.5)"),
    Backoff.MIXED: N_("first at a fixed interval, then doubling the wait (since Linux 6.5: net.ipv4.tcp_syn_linear_timeouts retries, then exponential backoff, RFC 6298 §5.5)"),
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
    Step.ACK_FIN: "ACK",
    Step.FINAL_ACK: "ACK",
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


def _reverse_address(name: str) -> str | None:
    """The address a reverse-tree name stands for (RFC 1035 §3.5, RFC 3596 §2.5), or None.

    A meaning says "the reverse name of 2001:db8::2" rather than the 72 characters of
    its ip6.arpa name again: the packet's own line shows that name once.
    """
    import ipaddress

    labels = name.lower().rstrip(".").split(".")
    try:
        if labels[-2:] == ["ip6", "arpa"] and len(labels) == 34:
            nibbles = "".join(reversed(labels[:32]))
            return str(ipaddress.IPv6Address(bytes.fromhex(nibbles)))
        if labels[-2:] == ["in-addr", "arpa"] and len(labels) == 6:
            return str(ipaddress.IPv4Address(".".join(reversed(labels[:4]))))
    except ValueError:
        return None
    return None


def _dns_name(name: str) -> str:
    """A DNS name as a meaning says it: a reverse-tree name by the address it stands for."""
    address = _reverse_address(name)
    if address is None:
        return name
    return _("the reverse name of {address}").format(address=address)


def _dns_said(kind: str, entries, make: Callable[[], str]) -> str:
    """``make()``'s words for a message's questions or answers, said once for the same ones.

    A capture asks the same few names again and again, each message a new dict.
    """
    try:
        key = (kind, *[tuple(e.items()) for e in entries])
        words = _dns_words.get(key)
    except (AttributeError, TypeError):  # not dicts of plain values: no cache
        return make()
    if words is None:
        words = make()
        if len(_dns_words) >= 4096:
            _dns_words.clear()
        _dns_words[key] = words
    return words


_dns_words: dict[tuple, str] = {}  # (kind, entries' items) -> words, in the current language


def dns_question_words(info: dict) -> str:
    """What a query asks for: 'the A record (IPv4 address) of chat.sockviz.test'."""
    qs = info.get("questions") or []
    return _dns_said("q", qs, lambda: _question_words(qs))


def _question_words(qs: list) -> str:
    if not qs:
        return _("nothing (no question)")
    parts = []
    for q in qs:
        t = q.get("type", "?")
        what = _record_words(t)
        name = _dns_name(str(q.get("name", "?")).rstrip("."))
        if what:
            parts.append(_("the {type} record ({what}) of {name}").format(type=t, what=what, name=name))
        else:
            parts.append(_("the {type} record of {name}").format(type=t, name=name))
    return _listed(parts)


def dns_answer_words(info: dict) -> str:
    """What a response answers: 'chat.sockviz.test has IPv4 address 192.0.2.2 (TTL 300 s ...)'."""
    rcode = info.get("rcode", "?")
    if rcode == "NXDOMAIN":
        return _("NXDOMAIN, no such name (RFC 1035 §4.1.1)")
    if rcode != "NOERROR":
        return dns_answer(info)
    answers = info.get("answers") or []
    if not answers:
        return _("the name exists but has no record of that type (NODATA, RFC 2308)")
    return _dns_said("a", answers, lambda: _answer_words(answers))


def _answer_words(answers: list) -> str:
    parts = []
    for a in answers:
        name = _dns_name(str(a.get("name", "?")).rstrip("."))
        data = str(a.get("data", "?")).rstrip(".")
        if a.get("type") == "CNAME":
            parts.append(_("{name} is an alias of {data}").format(name=name, data=data))
        else:
            what = _record_words(a.get("type")) or a.get("type")
            parts.append(_("{name} has {what} {data}").format(name=name, what=what, data=data))
    # TRANSLATORS: {answers} are the records of a DNS answer, {ttl} its time to live in seconds.
    return _("{answers} (TTL {ttl} s: how long a caching resolver may keep it; glibc's own resolver "
             "keeps no cache, so the next lookup asks again)").format(
                 answers=joined(parts), ttl=answers[0].get("ttl"))


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
        bits.append(_("family 0 (AF_UNSPEC) asks for both kinds of address: glibc's resolver, "
                      "in your program's process (not your kernel), sent the A and AAAA queries "
                      "{how}, {where}, and waited for both answers; Python passes flags 0, so "
                      "without AI_ADDRCONFIG the AAAA query goes out even from a host with no "
                      "IPv6 address").format(how=how, where=where))
    if retried:
        bits.append(_("some queries went out again: no usable answer came in time, so the resolver "
                      "retried (resolv.conf options timeout and attempts)"))
    if not answered:
        bits.append(_("no DNS answer at all"))
    return joined(bits) or None


def getaddrinfo_lesson(*, first_family: str | None, both_families: bool, canonname_empty: bool,
                       per_address: int | None) -> str | None:
    """What getaddrinfo()'s list shows (correlate.addrinfo_facts reads it from the result).

    ``first_family`` 'AF_INET6' or 'AF_INET' when both families came back;
    ``per_address`` the tuples for each address (1 with a socket type given,
    3 without: SOCK_STREAM, SOCK_DGRAM, SOCK_RAW), None when they differ.
    """
    bits = []
    if both_families and first_family == "AF_INET6":
        bits.append(_("the IPv6 address comes first: glibc sorts the list by the destination "
                      "address selection of RFC 6724 (/etc/gai.conf can change it), and this "
                      "host has an IPv6 source address to reach it"))
    elif both_families and first_family == "AF_INET":
        bits.append(_("the IPv4 address comes first: glibc sorts the list by the destination "
                      "address selection of RFC 6724 (/etc/gai.conf can change it), which puts "
                      "IPv4 first when this host has no IPv6 source address to use"))
    if canonname_empty:
        bits.append(_("canonname is '' in every tuple: getaddrinfo() fills it in (in the first "
                      "tuple) only when flags holds AI_CANONNAME"))
    if per_address == 1:
        bits.append(_("one tuple per address, because a socket type was given"))
    elif per_address == 3:
        bits.append(_("each address three times, once per socket type (SOCK_STREAM, SOCK_DGRAM, "
                      "SOCK_RAW), because no type was given"))
    return joined(bits) or None


def getnameinfo_lesson(*, ptr: str | None, rcode: str | None, answered: bool,
                       gave_number: bool, again: bool, service: str | None) -> str | None:
    """What a getnameinfo() showed (correlate.nameinfo_facts measures it)."""
    bits = []
    if ptr:
        tree = ("ip6.arpa, RFC 3596 §2.5" if ptr.rstrip(".").lower().endswith("ip6.arpa")
                else "in-addr.arpa, RFC 1035 §3.5")
        bits.append(_("a PTR record lives in the reverse tree ({tree}): the address written "
                      "backwards, under it").format(tree=tree))
    if rcode == "NXDOMAIN" and gave_number:
        bits.append(_("the answer was NXDOMAIN: without the NI_NAMEREQD flag getnameinfo() then "
                      "returns the address itself as text (with it, it fails with EAI_NONAME)"))
    if again:
        bits.append(_("no usable DNS answer came: glibc fails with EAI_AGAIN, a temporary failure, "
                      "with or without NI_NAMEREQD (it returns the number only when the name is "
                      "known not to exist)") if not answered else
                    _("the DNS server failed: glibc reports EAI_AGAIN, a temporary failure"))
    if service:
        bits.append(_("the service name {service!r} comes from /etc/services (NI_NUMERICSERV "
                      "would keep the port number)").format(service=service))
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


def exceeded_words(code, *, v6: bool) -> str:
    """What an ICMP time exceeded reports, by its code (RFC 792; RFC 4443 §3.3)."""
    if code == 1:
        # TRANSLATORS: after "{src} reports" (an ICMP time exceeded, code 1).
        return _("that it gave up reassembling your fragmented datagram: not every fragment "
                 "arrived within its reassembly time, so the whole datagram is lost (code 1, "
                 "fragment reassembly time exceeded; {rfc})").format(
                     rfc="RFC 4443 §3.3, RFC 8200 §4.5" if v6 else "RFC 792, RFC 791")
    if code == 0:
        # TRANSLATORS: after "{src} reports" (an ICMP time exceeded, code 0).
        return _("that your packet's TTL (hop limit) ran out on the way (code 0, time to live "
                 "exceeded in transit; {rfc})").format(rfc="RFC 4443 §3.3" if v6 else "RFC 792")
    # TRANSLATORS: after "{src} reports" (an ICMP time exceeded of an unknown code).
    return _("a time exceeded, code {code}").format(code=code)


def window_scaling(scale_src: int | None, scale_dst: int | None) -> str:
    """What a SYN/ACK says of window scaling, once both SYNs announced a scale (else '')."""
    if scale_src is None or scale_dst is None:
        return ""
    a, b = 1 << min(scale_src, 14), 1 << min(scale_dst, 14)
    factors = f"×{a}" if a == b else f"×{b} / ×{a}"
    # TRANSLATORS: the end of a SYN/ACK's meaning (it starts with a semicolon). {factors} is
    # "×1024", or the factors of the SYN's sender and of the SYN/ACK's sender: "×128 / ×1024".
    return _("; both SYNs announced a window scale (RFC 7323 §2.2): the window of a SYN is "
             "never scaled, but from the next segment on each window field is multiplied by "
             "its sender's scale ({factors}), so win= jumps from the SYNs' figures to "
             "multiples of it").format(factors=factors)


def dns_rfc(info: dict) -> str:
    """Where the records a query asks for are defined: A, PTR (RFC 1035), AAAA, ip6.arpa (RFC 3596)."""
    qs = info.get("questions") or ()
    return _dns_said("rfc", qs, lambda: _rfc_of(qs))


def _rfc_of(qs) -> str:
    refs: list[str] = []
    for q in qs:
        t, name = q.get("type"), str(q.get("name") or "").lower().rstrip(".")
        if t == "AAAA":
            ref = "RFC 3596 §2.1"
        elif t == "PTR" and name.endswith("ip6.arpa"):
            ref = "RFC 3596 §2.5"
        elif t == "PTR" and name.endswith("in-addr.arpa"):
            ref = "RFC 1035 §3.5"
        else:
            ref = "RFC 1035"
        if ref not in refs:
            refs.append(ref)
    return ", ".join(refs) or "RFC 1035"


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


def call_place(file: str, line: int, fd: int | None, thread: str | None,
               cell: int | None = None) -> str:
    """Where a traced call came from, so several sockets and threads are told apart:
    'client.py:7 · fd 4 · thread serveur'; in a notebook's cell, 'Cell In[3], line 1'
    as IPython's tracebacks say it (the kernel's file for a cell, 973638359.py, means
    nothing to a student)."""
    if cell is not None and _is_cell_file(file):
        parts = [_("Cell In[{cell}], line {line}").format(cell=cell, line=line)]
    else:
        parts = [f"{posixpath.basename(file)}:{line}"]
    if fd is not None:
        parts.append(_("fd {fd}").format(fd=fd))
    if thread and thread != "MainThread":
        parts.append(_("thread {name}").format(name=thread))
    return " · ".join(parts)


def packet_for(call: str, fd: int | None) -> str:
    """On a packet's line, the call it was captured for when several calls run and the
    line above is another call's: 'for recv() · fd 8'."""
    if fd is None:
        return _("for {call}()").format(call=call)
    return _("for {call}() · fd {fd}").format(call=call, fd=fd)


def _is_cell_file(file: str) -> bool:
    """A cell's code as ipykernel compiles it (/tmp/ipykernel_PID/HASH.py), or IPython's
    terminal (<ipython-input-N-...>)."""
    folder = posixpath.basename(posixpath.dirname(file))
    return folder.startswith("ipykernel_") or file.startswith("<ipython-input-")


def name_resolved_inside(call: str, host: str) -> str:
    """A name given to connect(): CPython resolves it inside the call (socketmodule.c)."""
    return _("{call}() was given the name {host!r}: CPython resolved it inside the call "
             "(getaddrinfo), so the DNS queries above belong to {call}() itself"
             ).format(call=call, host=host)


def name_resolved_each_sendto(host: str) -> str:
    return _("sendto() was given the name {host!r}: CPython resolves it inside every "
             "sendto(), so each datagram sent to a name asks the resolver again").format(host=host)


def close_while_files_use_it() -> str:
    """close() on a socket a makefile() object still uses (socket.py: close() only marks
    it closed while _io_refs > 0; the last file's close() closes the kernel's socket)."""
    return _("close() only let go of this socket object: a file object made by its "
             "makefile() still reads or writes through it (http.client reads a response "
             "through one), so the kernel's socket stays open and nothing goes on the "
             "wire; the connection is closed when the last of those files is closed too")


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
    return ngettext("{count} byte", "{count} bytes", n).format(count=n)


def relative_to_isn(isn: int) -> str:
    """Beside a SYN's seq=0: the numbers shown are relative, and the real ISN."""
    # TRANSLATORS: after "seq=0" on a SYN: sequence numbers are shown relative to the ISN.
    return _("(relative; ISN {isn})").format(isn=isn)


def first_fragment_length(data: int) -> str:
    """A first IP fragment's payload: the UDP header and the first bytes of the datagram's data."""
    return _("{total} bytes: the 8-byte UDP header and the first {data} bytes of data").format(
        total=data + 8, data=data)


# -- the compact layout and the Δt column (render/compact.py, render/view.py) ----------


def delta(seconds: float) -> str:
    """The time since the previous packet: '+32 µs', '+7.5 ms', '+2.002 s', '+802 s'."""
    sign = "+" if seconds >= 0 else "−"  # a capture's clock may step back (merged files)
    seconds = abs(seconds)
    if seconds >= 100:
        return f"{sign}{seconds:.0f}{_unit_space()}s"
    if seconds >= 10:
        return f"{sign}{decimal(seconds, 1)}{_unit_space()}s"
    return sign + duration(seconds)


def byte_range(first: int, n: int) -> str:
    """The stream's bytes a segment carries, in relative numbers: 'bytes 1-14' (RFC 9293 §3.4)."""
    if n == 1:
        # TRANSLATORS: the one byte of the stream a TCP segment carries: "byte 15".
        return _("byte {first}").format(first=first)
    # TRANSLATORS: the bytes of the stream a TCP segment carries: "bytes 1-14".
    return _("bytes {first}-{last}").format(first=first, last=first + n - 1)


def compact_legend() -> str:
    """The compact layout's first line: how to read its gutter, arrows and times."""
    labels = arrows()
    # TRANSLATORS: one line, at most 80 characters once filled in (the projector's terminal).
    return _("│ in a call  · outside calls  {sent}  {received}  +Δt: since the previous packet"
             ).format(sent=labels[Direction.OUT].rstrip(), received=labels[Direction.IN].rstrip())


def your_end() -> str:
    """This host's end of a connection, where its TCP state changes: 'you: SYN-SENT'."""
    # TRANSLATORS: this host's end of a TCP connection, before its state: "you: ESTABLISHED".
    return pgettext("tcp end", "you")


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
    return ngettext("{count} packet", "{count} packets", n).format(count=number(n))


def overview_bytes(n: int) -> str:
    return ngettext("{count} byte on the wire", "{count} bytes on the wire", n).format(count=number(n))


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
    return ngettext("… and {count} more name", "… and {count} more names", n).format(count=number(n))


def busiest_heading() -> str:
    return _("busiest conversations")


def calls_heading() -> str:
    return _("calls")


def call_packets(n: int) -> str:
    return ngettext("{count} packet", "{count} packets", n).format(count=number(n))


def more_calls(n: int) -> str:
    return ngettext("… and {count} more call", "… and {count} more calls", n).format(count=number(n))


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
        segments=ngettext("{count} segment", "{count} segments", segments).format(count=number(segments)),
        acks=ngettext("{count} ACK", "{count} ACKs", acks).format(count=number(acks)))


def retransmitted(n: int) -> str:
    return ngettext(", {count} retransmitted", ", {count} retransmitted", n).format(count=number(n))


def summed_up(n: int) -> str:
    return ngettext("{count} more packet summed up: ", "{count} more packets summed up: ",
                    n).format(count=number(n))


def transfer_carried(segments: int, payload: int, acks: int) -> str:
    return _("{segments} carrying {bytes}, {acks}").format(
        segments=ngettext("{count} data segment", "{count} data segments",
                          segments).format(count=number(segments)),
        bytes=ngettext("{count} byte", "{count} bytes", payload).format(count=number(payload)),
        acks=ngettext("{count} ACK", "{count} ACKs", acks).format(count=number(acks)))


def transfer_retransmissions(n: int) -> str:
    return ngettext(", {count} retransmission", ", {count} retransmissions", n).format(count=number(n))


def transfer_zero_windows(n: int) -> str:
    return ngettext(", {count} zero window", ", {count} zero windows", n).format(count=number(n))


def transfer_span(span: float, rate: str) -> str:
    return _(", in {span}{rate}").format(span=seconds(span, 3), rate=rate)


def then(words: str) -> str:
    """A last clause after a semicolon: '; your window stayed at 64 KiB'."""
    return _("; {words}").format(words=words)


def every_packet_kept() -> str:
    return _(" (every packet is in the capture file and in --json)")


# -- each end's TCP state (RFC 9293 §3.3.2), in the views ----------------------------------


def end_name(role: str | None) -> str | None:
    """An end of a TCP connection by its role, before its state: 'the server'; None if unknown."""
    # TRANSLATORS: before a TCP state change: "the server: LISTEN → SYN-RECEIVED".
    if role == Role.SERVER:
        return pgettext("tcp end", "the server")
    if role == Role.CLIENT:
        return pgettext("tcp end", "the client")
    return None


def state_change(who: str, path: Iterable[str | None]) -> str:
    """'you: SYN-SENT → ESTABLISHED': one end's states through one segment, as RFC 9293 spells them."""
    # TRANSLATORS: {who} is "you", "the server"... or an address; {path} the states, unchanged.
    return _("{who}: {path}").format(who=who, path=" → ".join(s or "?" for s in path))


def kernel_disagrees(call: str, kernel: str, inferred: str) -> str:
    """The kernel's state of the call's socket (TCP_INFO, /proc/net/tcp) is not the packets' one."""
    return _("The kernel says this socket was {kernel} when {call}() returned; its packets "
             "show {inferred}. One of them is missing a step: a packet the capture did not see, "
             "or a state the packets cannot show.").format(call=call, kernel=kernel,
                                                          inferred=inferred)


# -- commands and errors: refusals, the CLI, the lab, demo, run, replay, the notebook --
#
# One plain sentence each (sockviz/refusal.py ``say`` writes "sockviz: " before
# it). {reason} is the system's own words (strerror), left as the system says them.


def sentence_prefix() -> str:
    # TRANSLATORS: before every sentence sockviz writes on stderr: "sockviz: there is no file".
    return _("sockviz: {sentence}")


def interrupted() -> str:
    """What Ctrl-C leaves on stderr."""
    return _("Interrupted.")


def unexpected_error(kind: str, detail: str, where: str) -> str:
    """A bug: {kind} the exception's class, {where} ' in sockviz/x.py line N' (or nothing)."""
    return _("unexpected error ({kind}: {detail}{where}); this is a bug in sockviz; please report "
             "it on the project's issue tracker with the command you ran (run it again with "
             "--debug to see the traceback)").format(kind=kind, detail=detail, where=where)


def where_in_code(path: str, line: int) -> str:
    return _(" in {path} line {line}").format(path=path, line=line)


def usage_error(prog: str, message: str) -> str:
    """argparse's error line ({message} is argparse's own, or one of the sentences below)."""
    return _("{prog}: error: {message}").format(prog=prog, message=message)


def bad_language(text: str) -> str:
    return _("{text!r} is not a language sockviz speaks: fr or en").format(text=text)


def bad_port(text: str) -> str:
    return _("{text!r} is not a port number (1-65535)").format(text=text)


def port_out_of_range(port: int) -> str:
    return _("{port} is not a port number: ports go from 1 to 65535").format(port=port)


def bad_seconds(text: str) -> str:
    return _("{text!r} is not a number of seconds").format(text=text)


def timeout_out_of_range() -> str:
    return _("the timeout must be between 0 and 3600 seconds")


def bad_size(text: str) -> str:
    return _("{text!r} is not a size (e.g. 1400, 64k, 50M)").format(text=text)


def negative_size() -> str:
    return _("a size cannot be negative")


def bad_packet_number(text: str) -> str:
    return _("{text!r} is not a packet number (1, 2, ...)").format(text=text)


def packets_from_one() -> str:
    return _("packets are numbered from 1, as Wireshark numbers them")


def bad_percent(text: str) -> str:
    return _("{text!r} is not a percentage (e.g. 10)").format(text=text)


def loss_out_of_range() -> str:
    return _("the loss is a percentage from 0 to less than 100")


def bad_milliseconds(text: str) -> str:
    return _("{text!r} is not a number of milliseconds").format(text=text)


def delay_out_of_range() -> str:
    return _("the delay must be between 0 and 10000 ms")


def no_packet_socket() -> str:
    return _("this process may not open a packet socket: it lacks the CAP_NET_RAW capability, "
             "even as root; run sockviz where it has it")


def capture_needs_root(command: str) -> str:
    return _("capturing packets needs root (or the CAP_NET_RAW capability); run it as: {command}"
             ).format(command=command)


def cannot_create_capture_folder(folder: str, reason: str) -> str:
    return _("cannot create the folder {folder} for the capture ({reason}); choose another with "
             "--save PATH or use --no-save").format(folder=folder, reason=reason)


def cannot_write_capture(folder: str) -> str:
    return _("cannot write the capture into {folder}; choose another place with --save PATH or "
             "use --no-save").format(folder=folder)


# What --svg and --html write, as the sentences below name it (with its article).
OUTPUTS: dict[str, tuple[str, str]] = {
    "svg": NP_("output", "the SVG picture"),
    "html": NP_("output", "the HTML page"),
}


def output_is_a_folder(path: str, kind: str, example: str) -> str:
    return _("{path} is a folder; give {what} a file name, e.g. {example}").format(
        path=path, what=pgettext(*OUTPUTS[kind]), example=example)


def output_folder_missing(folder: str, kind: str) -> str:
    return _("the folder {folder} does not exist; create it or write {what} elsewhere").format(
        folder=folder, what=pgettext(*OUTPUTS[kind]))


def cannot_write_output(folder: str, kind: str) -> str:
    return _("cannot write {what} into {folder}; choose another place").format(
        folder=folder, what=pgettext(*OUTPUTS[kind]))


def diagram_written(path: str) -> str:
    return _("the diagram is in {path}").format(path=path)


def capture_could_not_start(reason: str) -> str:
    return _("{reason}; the capture could not start").format(reason=reason)


# The capture process and its reader (sources/live.py, sources/capture_process.py).


def capture_process_not_started(reason: str) -> str:
    return _("cannot start the capture process ({reason})").format(reason=reason)


def capture_process_ended_early() -> str:
    return _("the capture process ended before it listened")


def capture_process_died(code: int) -> str:
    return _("the capture process ended unexpectedly (status {code}); the packets after that were "
             "not captured").format(code=code)


def spool_failed(reason: str) -> str:
    return _("reading the capture's spool failed ({reason})").format(reason=reason)


def packet_socket_refused(reason: str) -> str:
    return _("cannot open a packet socket: {reason}").format(reason=reason)


def packet_socket_setup_failed(reason: str) -> str:
    return _("cannot set up the packet socket: {reason}").format(reason=reason)


def capture_failed(reason: str) -> str:
    return _("the capture failed: {reason}").format(reason=reason)


# The lab (commands/lab.py, lab/netns.py).


def lab_needs_root(command: str) -> str:
    return _("the lab builds network namespaces, which needs root; run it as: {command}").format(
        command=command)


def lab_impossible_here(why: str) -> str:
    return _("cannot build the lab here: {why}").format(why=why)


def lab_failed(detail: str) -> str:
    return _("cannot build the lab: {detail}").format(detail=detail)


def lab_needs_ip() -> str:
    return _("needs the `ip` command (iproute2)")


def lab_needs_netns() -> str:
    return _("needs /proc/thread-self/ns/net (Linux network namespaces)")


def lab_needs_root_short() -> str:
    return _("needs root (network namespaces)")


def lab_shell_takes_no_command() -> str:
    return _("lab shell takes no command; to run one, use: sockviz lab run -- COMMAND")


def lab_run_needs_a_command() -> str:
    return _("say which command to run in the lab: sockviz lab run -- COMMAND [ARGS...] (for "
             "example: sockviz lab run -- sockviz run client.py)")


def no_such_command(name: str) -> str:
    return _("there is no command {name!r} here (looked in the venv of this sockviz and on PATH); "
             "check its name").format(name=name)


def lab_run_options() -> str:
    return _("before -- only --delay MS, --loss PERCENT and --zone FILE may stand: sockviz lab "
             "run [--delay MS] [--loss PERCENT] [--zone FILE] -- COMMAND")

# A teacher's zone file for the lab's DNS server (lab/zonefile.py, RFC 1035 §5.1).


def zone_unreadable(path: str, reason: str) -> str:
    return _("cannot read the zone file {path} ({reason}): check its path").format(
        path=path, reason=reason)


def zone_not_text(path: str) -> str:
    return _("the zone file {path} is not UTF-8 text: save it as text").format(path=path)


def zone_empty(path: str) -> str:
    return _("the zone file {path} holds no record: one a line, NAME [TTL] [IN] TYPE VALUE"
             ).format(path=path)


def zone_line(path: str, line: int, why: str) -> str:
    """A wrong line of a zone file: where, then ``why`` (one of the zone_* reasons)."""
    return _("the zone file {path}, line {line}: {why}").format(path=path, line=line, why=why)


def zone_quote_open() -> str:
    return _("a quote is not closed")


def zone_origin_takes_a_name() -> str:
    return _("$ORIGIN takes one name")


def zone_at_without_origin() -> str:
    return _("@ stands for $ORIGIN, and none was given above it")


def zone_no_name() -> str:
    return _("a record without a name (the line starts with a blank, and no record came before)")


def zone_record_shape() -> str:
    return _("a record is NAME [TTL] [IN] TYPE VALUE")


def zone_ttl_number() -> str:
    """RFC 2181 §8: a TTL is an unsigned number of seconds below 2^31."""
    return _("a TTL is a number of seconds, from 0 to 2147483647 (RFC 2181 §8); $TTL takes one")


def zone_unknown_type(kind: str, types: str) -> str:
    return _("the type {kind!r} is not one the lab serves ({types})").format(kind=kind, types=types)


def zone_not_a_name(name: str) -> str:
    return _("{name!r} is not a domain name (labels of 1 to 63 characters, 253 in all: "
             "RFC 1035 §2.3.4)").format(name=name)


def zone_cname_alone(name: str) -> str:
    return _("{name} has a CNAME record and another record: a CNAME must be its name's only "
             "record (RFC 1034 §3.6.2)").format(name=name)


def zone_one_value(kind: str) -> str:
    return _("a {kind} record takes one value").format(kind=kind)


def zone_not_an_address(value: str) -> str:
    return _("{value!r} is not an IP address").format(value=value)


def zone_wrong_family(kind: str, version: int) -> str:
    return _("an {kind} record holds an IPv{version} address").format(kind=kind, version=version)


def lab_banner() -> str:
    """What ``sockviz lab shell`` says before the shell's prompt (several lines)."""
    examples = ("python3 -c \"import socket; print(socket.getaddrinfo('chat.sockviz.test', 3001))\"",
                'sockviz tcp chat.sockviz.test 3001 --send "Test en classe"',
                'sockviz udp chat.sockviz.test 3001 --send "Test en classe"',
                "sockviz resolve 2001:db8::2 80")
    # TRANSLATORS: three lines, as they are cut here; the example commands follow them.
    head = _("You are on the lab's client host: 192.0.2.1 and 2001:db8::1.\n"
             "The course server is chat.sockviz.test (192.0.2.2, 2001:db8::2): chat server on\n"
             "port 3001 (TCP and UDP) and a DNS server that knows the sockviz.test names.\n"
             "Try the seed's own code, or sockviz:")
    tail = _("Type exit (or Ctrl-D) to leave: the lab is then removed.")
    return head + "\n" + "".join(f"    {line}\n" for line in examples) + tail + "\n"


# The demo's lesson cards (commands/demo.py): a title and what to watch for, by lesson.
DEMO_CARDS: dict[str, tuple[str, str]] = {
    "tcp": (N_("TCP client (IPv4)"),
            N_("socket(), connect() to the server's name, send(), recv(), close(): the DNS queries and the handshake inside connect(), the data and its ACKs, the teardown after close().")),
    "udp": (N_("UDP client (IPv4)"),
            N_("socket(SOCK_DGRAM), sendto() to the server's name, recvfrom(), close(): the name resolved inside sendto(), no connection, one datagram per call, and close() sends nothing.")),
    "getaddrinfo": (N_("getaddrinfo(): from a name to addresses"),
                    N_("The DNS queries behind getaddrinfo('www.sockviz.test', 'https', type=SOCK_STREAM): a CNAME, then the A and AAAA records; the service name comes from /etc/services.")),
    "getnameinfo": (N_("getnameinfo(): from an address back to a name (IPv4)"),
                    N_("The PTR query in in-addr.arpa behind getnameinfo(('192.0.2.2', 25), 0).")),
    "getnameinfo6": (N_("getnameinfo(): IPv6"),
                     N_("The PTR query in ip6.arpa behind getnameinfo(('2001:db8::2', 80), 0).")),
    "tcp6": (N_("TCP client over IPv6"),
             N_("The same TCP client over IPv6: NDP (neighbour solicitation) instead of ARP, then the same handshake.")),
    "udp-unreachable": (N_("UDP to a port where nobody listens"),
                        N_("The server's kernel answers with ICMP port unreachable, but an unconnected UDP socket is not told (unless it asks with IP_RECVERR): recvfrom() waits until its timeout.")),
    "tcp-refused": (N_("TCP to a closed port"),
                    N_("The SYN is answered by RST, and connect() raises ConnectionRefusedError.")),
}


def demo_card(lesson: str) -> tuple[str, str]:
    """A demo lesson's (title, what to watch for)."""
    title, intro = DEMO_CARDS[lesson]
    return _(title), _(intro)


def demo_card_title(number: int, total: int, title: str) -> str:
    return _("Lesson {number} of {total}: {title}").format(number=number, total=total, title=title)


def demo_next() -> str:
    return _("Enter: next lesson · Ctrl-C: stop")


def demo_lesson_failed(title: str, status: int) -> str:
    return _("{title} ended with status {status}").format(title=title, status=status)


def demo_went_wrong(failures: list[str]) -> str:
    return _("the demo did not go as expected: {failures}").format(failures=joined(failures))


def demo_done(folder: str, first: str, command: str) -> tuple[str, str]:
    """The demo's last paragraph: its first sentence (shown in bold), then the rest."""
    return (_("That was every lesson."),
            _("The captures are in {folder}/ (sockviz replay {first}, or open them in Wireshark). "
              "The lab is gone; {command} opens it for you.").format(
                  folder=folder, first=first, command=command))


# sockviz run (commands/run.py).


def no_such_module(name: str) -> str:
    return _("there is no module named {name!r}; check its name, or give a script's path").format(
        name=name)


def say_what_to_run() -> str:
    return _("say what to run: sockviz run SCRIPT.py [ARGS...], -m MODULE or -c CODE")


def no_such_script(script: str, folder: str) -> str:
    return _("there is no script {script!r}; check the path (it is read from {folder})").format(
        script=script, folder=folder)


def folder_not_script(script: str) -> str:
    return _("{script!r} is a folder without a __main__.py; give a script").format(script=script)


# sockviz replay (replay/engine.py, replay/worker.py, render/layers.py).


def no_such_file(path: str) -> str:
    return _("there is no file {path!r}; check the path").format(path=path)


def file_is_a_folder(path: str) -> str:
    return _("{path} is a folder; give a .pcap or .pcapng file inside it").format(path=path)


def file_not_readable(path: str) -> str:
    return _("cannot read {path}: permission denied").format(path=path)


def file_unreadable(path: str, reason: str) -> str:
    return _("cannot read {path} ({reason})").format(path=path, reason=reason)


def replay_progress(name: str, percent: int, packets: int) -> str:
    """The progress line of a big replay: 'replaying big.pcap: 42% · 12,000 packets'."""
    return _("replaying {name}: {percent}% · {packets}").format(
        name=name, percent=percent, packets=packets_count_grouped(packets))


def packets_count_grouped(n: int) -> str:
    return ngettext("{count} packet", "{count} packets", n).format(count=number(n))


def big_file_notice(path: str, megabytes: float) -> str:
    return _("{path} holds {size} MB: every packet is shown below, which takes a while; for the "
             "overview: sockviz replay {path} --summary").format(
                 path=path, size=decimal(megabytes, 0, grouped=True))


def replay_worker_stopped() -> str:
    return _("the replay's worker process stopped before the end of the file; run the replay "
             "again (SOCKVIZ_REPLAY_WORKER=0 does without it)")


def no_packets_in_file() -> str:
    return _("the file has no packets")


def packet_numbers_start_at_one(n: int, count: int) -> str:
    return ngettext("packet numbers start at 1, not {n}: the file has {count} packet",
                    "packet numbers start at 1, not {n}: the file has {count} packets",
                    count).format(n=n, count=number(count))


def no_such_packet(n: int, count: int) -> str:
    return ngettext("there is no packet {n}: the file has {count} packet",
                    "there is no packet {n}: the file has {count} packets",
                    count).format(n=n, count=number(count))


def stopped_early(text: str, problem: str) -> str:
    return _("{text} (reading stopped early: {problem})").format(text=text, problem=problem)


# The notebook (notebook.py) and sockviz.trace() (tracing/api.py).


def notebook_capture_failed(reason: str) -> str:
    return _("sockviz: {reason}; the cells are not traced").format(reason=reason)


def notebook_state(on: bool, capture: str | None) -> str:
    if capture is None:
        return (_("sockviz is on; no capture file") if on else _("sockviz is off; no capture file"))
    return (_("sockviz is on; capture: {path}") if on else _("sockviz is off; capture: {path}")
            ).format(path=capture)


def notebook_unknown_word(word: str) -> str:
    return _("sockviz: %sockviz does not know {word!r}; use on, off, --save PATH, --no-save, "
             "--compact, --full or --lang fr|en").format(word=word)


def trace_needs_rights() -> str:
    return _("capturing packets needs root or the CAP_NET_RAW capability: run Python with sudo, "
             "or in the lab as yourself: sudo sockviz lab run -- python SCRIPT.py")


# -- replay problems: what the capture reader says about a file (capfile/reader.py) ----
#
# One sentence each, where reading stopped and why; {at} is a byte offset in
# the file, {packet} a packet's number (from 1, as Wireshark counts), {btype}
# a pcapng block type in hex ("0x00000006"). The reader's own tests pin the
# English; a replay shows them, and --json carries them as the summary's problem.


def file_empty(path: str) -> str:
    return _("{path} is empty (0 bytes), so it is not a pcap or pcapng capture file.").format(path=path)


def file_too_short(path: str, n: int) -> str:
    return ngettext("{path} is too short ({count} byte) to be a pcap or pcapng capture file.",
                    "{path} is too short ({count} bytes) to be a pcap or pcapng capture file.",
                    n).format(path=path, count=n)


def not_a_capture(path: str, start: str) -> str:
    """{start}: what the file starts with (``file_looks_like``, ``file_starts_with``...)."""
    return _("{path} is not a pcap or pcapng capture file ({start}).").format(path=path, start=start)


# What a file that is no capture looks like, from its first bytes.
FILE_KINDS: dict[str, str] = {
    "png": N_("a PNG image"),
    "gzip": N_("gzip-compressed data (decompress it first)"),
    "zip": N_("a zip archive"),
    "jpeg": N_("a JPEG image"),
    "pdf": N_("a PDF document"),
    "elf": N_("an ELF executable"),
}


def file_looks_like(kind: str) -> str:
    return _("it looks like {what}").format(what=_(FILE_KINDS[kind]))


def file_starts_with(text: str) -> str:
    return _("it starts with {text!r}").format(text=text)


def file_starts_with_bytes(hexes: str) -> str:
    return _("it starts with bytes {bytes}").format(bytes=hexes)


def pcap_header_truncated(n: int) -> str:
    return ngettext("The file is truncated: its 24-byte pcap file header has only {count} byte.",
                    "The file is truncated: its 24-byte pcap file header has only {count} bytes.",
                    n).format(count=n)


def record_too_long(at: int, packet: int, caplen: int, most: int) -> str:
    return _("Stopped at byte {at}: packet {packet} claims {caplen} captured bytes, more than the "
             "{most} a record may hold, so the file is damaged from there on.").format(
                 at=at, packet=packet, caplen=caplen, most=most)


def record_header_truncated(packet: int, at: int, n: int, header: int) -> str:
    return ngettext("The file is truncated: packet {packet} at byte {at} has only {count} byte of "
                    "its {header}-byte record header.",
                    "The file is truncated: packet {packet} at byte {at} has only {count} bytes of "
                    "its {header}-byte record header.", n).format(
                        packet=packet, at=at, count=n, header=header)


def stray_bytes(at: int, n: int) -> str:
    return ngettext("The file is truncated: it ends at byte {at} with {count} stray byte, too few "
                    "for a block.",
                    "The file is truncated: it ends at byte {at} with {count} stray bytes, too few "
                    "for a block.", n).format(at=at, count=n)


def bad_byte_order_mark(at: int, bom: str) -> str:
    return _("Stopped at byte {at}: the section header has an invalid byte-order mark {bom}."
             ).format(at=at, bom=bom)


def impossible_block_length(at: int, btype: str, length: int) -> str:
    return _("Stopped at byte {at}: block type {btype} has an impossible length {length}.").format(
        at=at, btype=btype, length=length)


def block_too_big(at: int, btype: str, length: int, most: int) -> str:
    return _("Stopped at byte {at}: block type {btype} claims {length} bytes, more than the {most} "
             "this reader accepts for one block.").format(at=at, btype=btype, length=length,
                                                          most=most)


def packet_block_truncated(packet: int, at: int, length: int, left: int) -> str:
    return _("The file is truncated: packet {packet} at byte {at} claims {length} bytes but only "
             "{left} remain.").format(packet=packet, at=at, length=length, left=left)


def block_truncated(btype: str, at: int, length: int, left: int) -> str:
    return _("The file is truncated: block type {btype} at byte {at} claims {length} bytes but "
             "only {left} remain.").format(btype=btype, at=at, length=length, left=left)


def block_lengths_differ(at: int, btype: str, length: int, trailer: int) -> str:
    return _("Stopped at byte {at}: block type {btype} says {length} bytes at its start but "
             "{trailer} at its end.").format(at=at, btype=btype, length=length, trailer=trailer)


def unknown_pcapng_version(at: int, major: int, minor: int) -> str:
    return _("Stopped at byte {at}: the section header declares pcapng version {major}.{minor}, "
             "which this reader does not understand.").format(at=at, major=major, minor=minor)


def unknown_interface(at: int, packet: int, iface: int, described: int) -> str:
    if described == 0:
        return _("Stopped at byte {at}: packet {packet} refers to interface {iface}, but no "
                 "interface was described before it.").format(at=at, packet=packet, iface=iface)
    return ngettext("Stopped at byte {at}: packet {packet} refers to interface {iface}, but only "
                    "{count} interface was described before it.",
                    "Stopped at byte {at}: packet {packet} refers to interface {iface}, but only "
                    "{count} interfaces were described before it.", described).format(
                        at=at, packet=packet, iface=iface, count=described)


def impossible_timestamp(at: int, packet: int, late: bool) -> str:
    if late:
        return _("Stopped at byte {at}: packet {packet} has a timestamp after the year 2262, so its "
                 "block or its interface's time resolution or offset is damaged.").format(
                     at=at, packet=packet)
    return _("Stopped at byte {at}: packet {packet} has a timestamp before the year 1677, so its "
             "block or its interface's time resolution or offset is damaged.").format(
                 at=at, packet=packet)


def no_room_for_packet(at: int, packet: int, caplen: int, room: int) -> str:
    return _("Stopped at byte {at}: packet {packet} claims {caplen} captured bytes but its block has "
             "room for only {room}.").format(at=at, packet=packet, caplen=caplen, room=room)


# -- the ladder, its SVG and HTML, and the stepper (render/ladder.py, ladder_svg.py, stepper.py) --
#
# Arrow labels are short: flags, relative numbers and field names (seq=, ack=,
# win=, ttl, id, type, code) stay as the RFCs and Wireshark write them.

# The two ends of a conversation, over their lifelines.
LANE_TITLES: dict[str, tuple[str, str]] = {
    "you": NP_("lane", "you"),
    "your resolver": NP_("lane", "your resolver"),
    "client": NP_("lane", "client"),
    "server": NP_("lane", "server"),
    "DNS server": NP_("lane", "DNS server"),
    "resolver": NP_("lane", "resolver"),
    "peer": NP_("lane", "peer"),
}


def lane_title(key: str) -> str:
    """An end's title over its lifeline, by its English name: 'you', 'DNS server'..."""
    return pgettext(*LANE_TITLES[key])


def dns_over(tcp: bool) -> str:
    return _("DNS over TCP") if tcp else _("DNS over UDP")


def ladder_no_packets() -> str:
    """A section's protocol when it holds calls and no packet."""
    return _("no packets")


def ladder_heading(number: int | None, proto: str, left: str, right: str) -> str:
    """'conversation 1 · TCP · 192.0.2.1:40000 ⇄ 192.0.2.2:3001'."""
    head = (_("conversation {number}").format(number=number) if number is not None
            else _("no conversation"))
    return f"{head} · {proto} · {left} ⇄ {right}"


def arrow_bytes(n: int) -> str:
    """A payload's size on an arrow: '14 B' (French '14 o')."""
    return f"{n}{_unit_space()}{pgettext('unit', 'B')}"


def arrow_again() -> str:
    # TRANSLATORS: after an arrow's flags, for a retransmission: "PSH,ACK 1:15 (14 B) again".
    return _(" again")


def arrow_arp_is_at(mac: str) -> str:
    return _("ARP is at {mac}").format(mac=mac)


def arrow_arp_who_has(dst: str) -> str:
    return _("ARP who has {dst}?").format(dst=dst)


def arrow_ns_who_has(target: str) -> str:
    return _("NS who has {target}?").format(target=target)


def arrow_na_is_at(mac: str) -> str:
    return _("NA is at {mac}").format(mac=mac)


def arrow_fragment(offset: int, more: bool, n: int) -> str:
    # TRANSLATORS: an IP fragment on an arrow; MF (more fragments) is the flag's name.
    return _("IP fragment @{offset}{mf} ({size})").format(offset=offset, mf=" MF" if more else "",
                                                         size=arrow_bytes(n))


def dns_asked(question: str) -> str:
    """One DNS question on an arrow: 'A chat.sockviz.test?' (dns_question's mark)."""
    return _("{questions}?").format(questions=question)


def arrow_dns_no_question() -> str:
    return _("query, no question")


def arrow_dns_no_record() -> str:
    return _("no record (NODATA)")


def arrow_via_cname(aliases: str) -> str:
    return _("via CNAME {aliases}").format(aliases=aliases)


# ICMP messages, as short as an arrow needs them (RFC 792, RFC 4443 §2.1).
ARROW_ICMP: dict[int, tuple[str, str]] = {
    0: NP_("arrow", "echo reply"), 3: NP_("arrow", "unreachable"), 4: NP_("arrow", "source quench"),
    5: NP_("arrow", "redirect"), 8: NP_("arrow", "echo request"), 11: NP_("arrow", "time exceeded"),
    12: NP_("arrow", "parameter problem"),
}
ARROW_ICMP6: dict[int, tuple[str, str]] = {
    1: NP_("arrow", "unreachable"), 2: NP_("arrow", "packet too big"), 3: NP_("arrow", "time exceeded"),
    4: NP_("arrow", "parameter problem"), 128: NP_("arrow", "echo request"),
    129: NP_("arrow", "echo reply"), 133: NP_("arrow", "router solicitation"),
    134: NP_("arrow", "router advertisement"), 137: NP_("arrow", "redirect"),
}


def arrow_icmp(icmp_type, icmp_code, *, v6: bool) -> str:
    """An ICMP message on an arrow: 'port unreachable', 'echo request', 'type 42'."""
    if icmp_type == (1 if v6 else 3):
        msgid = (UNREACH6_CODES if v6 else UNREACH_CODES).get(icmp_code)
        if msgid is not None:
            return _(msgid)
    words = (ARROW_ICMP6 if v6 else ARROW_ICMP).get(icmp_type)
    return pgettext(*words) if words else f"type {icmp_type}"


def ladder_elided(count: int, elsewhere: bool) -> str:
    if elsewhere:
        return ngettext("⋮ {count} more packet of other conversations not drawn (past the ladder's limit)",
                        "⋮ {count} more packets of other conversations not drawn (past the ladder's limit)",
                        count).format(count=number(count))
    return ngettext("⋮ {count} more packet not drawn (past the ladder's limit)",
                    "⋮ {count} more packets not drawn (past the ladder's limit)",
                    count).format(count=number(count))


def ladder_no_such_conversation(n: int) -> str:
    return _("no conversation {number} in this trace").format(number=n)


def ladder_nothing() -> str:
    return _("nothing to draw: no call, no packet")


def ladder_legend(*, yours: bool, calls: bool, right_calls: bool) -> str:
    """How to read the terminal's ladder, in one paragraph."""
    words = [_("▶ a packet you send · ◀ one you receive") if yours else
             _("▶ a packet from the left end to the right one · ◀ the other way")]
    if calls:
        words.append(_("left edge: your calls, name() → result (how long it took); the bracket "
                       "spans the packets sent or received while the call ran") if yours else
                     _("left edge: the calls, name() → result (how long it took); the bracket "
                       "spans the packets sent or received while the call ran"))
    if right_calls:
        words.append(_("right edge: the calls made at the other end"))
    words.append(_("Δt: time since the conversation's previous packet"))
    return " · ".join(words)


def svg_call_raised(call: str, error: str) -> str:
    return _("{call} raised {error}").format(call=call, error=error)


def svg_call_unfinished(call: str) -> str:
    return _("{call} (no end recorded)").format(call=call)


SVG_KEYS: dict[str, str] = {
    "out": N_("a packet this host sends (left to right)"),
    "in": N_("a packet it receives (right to left)"),
    "bad": N_("dashed: a refusal, an ICMP error or a loss (RST, unreachable, retransmission)"),
}


def svg_key(kind: str) -> str:
    """What an arrow's colour says, in the SVG's and the page's legend: 'out', 'in', 'bad'."""
    return _(SVG_KEYS[kind])


def svg_legend(right_calls: bool) -> str:
    text = _("Left edge: the calls, name() → result (how long it took); the bracket spans the "
             "packets sent or received while the call ran.")
    if right_calls:
        text += " " + _("Right edge: the calls made at the other end.")
    return text + " " + _("Δt: time since the conversation's previous packet. Seq and ack numbers "
                          "are relative, as Wireshark shows them.")


def svg_label() -> str:
    """The SVG's own title (for screen readers) when none is given."""
    return _("sequence diagram of the socket calls and their packets")


def html_heading() -> str:
    return _("The socket calls and their packets")


def html_what(conversations: int, packets: int, calls: int) -> str:
    return _("{conversations}, {packets}, {calls}: time goes down, each arrow is a packet between "
             "the two hosts.").format(
                 conversations=conversations_count(conversations),
                 packets=packets_count_grouped(packets), calls=calls_count(calls))


def html_how_to_read() -> str:
    return _("How to read it")


def html_hover() -> str:
    return _("Hover over an arrow or a call to see the whole packet summary and its meaning.")


# The stepper (replay --step).

STEP_NEEDS_TERMINAL = N_("--step needs a terminal: run it in a terminal, or use --ladder to see the whole diagram")


def step_question() -> str:
    return _("what will this call send?")


def step_question_hint() -> str:
    return _("(press → to see)")


def step_status(position: int, total: int, *, last: bool, first: bool) -> str:
    """``step 5 of 14 · → next · ← back · q quit``."""
    parts = [_("step {position} of {total}").format(position=position, total=total),
             _("the end") if last else _("→ next")]
    if not first:
        parts.append(_("← back"))
    parts.append(_("q quit"))
    return " · ".join(parts)


def step_ladder_above(lines: int) -> str:
    return ngettext("⋮ {count} line of the ladder above", "⋮ {count} lines of the ladder above",
                    lines).format(count=lines)


def step_nothing() -> str:
    return _("nothing to step through: no call, no packet")


def step_stops_after(kept: int, left_out: int) -> str:
    return ngettext("--step stops after the first {kept} packets: {count} more is not shown; "
                    "sockviz replay without --step shows them all",
                    "--step stops after the first {kept} packets: {count} more are not shown; "
                    "sockviz replay without --step shows them all",
                    left_out).format(kept=number(kept), count=number(left_out))


# -- decoding problems: what a packet's headers lack (core/decode.py, ``Decoded.error``) --

# The parts of a packet a decoder reads, by their English name.
DECODED_PARTS: dict[str, str] = {
    "Ethernet header": N_("Ethernet header"),
    "Linux cooked header": N_("Linux cooked header"),
    "Linux cooked v2 header": N_("Linux cooked v2 header"),
    "loopback header": N_("loopback header"),
    "802.1Q tag": N_("802.1Q tag"),
    "ARP header": N_("ARP header"),
    "ARP packet": N_("ARP packet"),
    "IPv4 header": N_("IPv4 header"),
    "IPv6 header": N_("IPv6 header"),
    "IPv6 hop-by-hop options header": N_("IPv6 hop-by-hop options header"),
    "IPv6 routing header": N_("IPv6 routing header"),
    "IPv6 fragment header": N_("IPv6 fragment header"),
    "IPv6 authentication header": N_("IPv6 authentication header"),
    "IPv6 destination options header": N_("IPv6 destination options header"),
    "TCP header": N_("TCP header"),
    "UDP header": N_("UDP header"),
    "ICMP header": N_("ICMP header"),
    "ICMPv6 header": N_("ICMPv6 header"),
    "neighbour discovery target": N_("neighbour discovery target"),
    "quoted IPv4 header": N_("quoted IPv4 header"),
    "quoted IPv6 header": N_("quoted IPv6 header"),
}


def truncated_part(what: str, have: int, need: int) -> str:
    """'truncated TCP header (24 of 28 bytes)': ``what`` one of DECODED_PARTS' names."""
    msgid = DECODED_PARTS.get(what)
    return _("truncated {what} ({have} of {need} bytes)").format(
        what=_(msgid) if msgid else what, have=max(have, 0), need=need)


def empty_packet() -> str:
    return _("empty packet")


def unknown_ip_version(version: int) -> str:
    return _("unknown IP version {version}").format(version=version)


def unsupported_arp(htype: int, hlen: int, ptype: int, plen: int) -> str:
    return _("unsupported ARP: hardware type {htype} length {hlen}, protocol type 0x{ptype:04x} "
             "length {plen}").format(htype=htype, hlen=hlen, ptype=ptype, plen=plen)


def wrong_ip_version(version: int, expected: str) -> str:
    return _("IP version {version} where {expected} was expected").format(version=version,
                                                                         expected=expected)


def bad_ihl(length: int) -> str:
    return _("bad IPv4 header length {length} (IHL below 5)").format(length=length)


def bad_ip_total_length(total: int, header: int) -> str:
    return _("bad IPv4 total length {total} (header is {header} bytes)").format(total=total,
                                                                               header=header)


def bad_tcp_header_length(length: int, offset: int) -> str:
    return _("bad TCP header length {length} (data offset {offset})").format(length=length,
                                                                            offset=offset)


def truncated_tcp_option(name) -> str:
    return _("truncated TCP option {name}").format(name=name)


def bad_tcp_option_length(name, size: int) -> str:
    return _("bad TCP option {name} length {size}").format(name=name, size=size)


def bad_udp_length(length: int, payload: int) -> str:
    return _("bad UDP length {length} (IP payload is {payload} bytes)").format(length=length,
                                                                              payload=payload)


def quoted_not_ip(version: str) -> str:
    return _("quoted packet is not a valid {version} header").format(version=version)


def decoder_error(kind: str, detail: str) -> str:
    return _("decoder error: {kind}: {detail}").format(kind=kind, detail=detail)


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
close_while_files_use_it = _keyed(close_while_files_use_it)
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
    return _("{call}() returned b'': the server's FIN arrived, its program closed its side (or "
             "shut it down for writing)").format(call=call)


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
    return _("no name for {address}: the PTR query for {ptr} found no record (NXDOMAIN or "
             "NODATA), and without the NI_NAMEREQD flag getnameinfo() returns the address itself "
             "as text (a DNS timeout fails with EAI_AGAIN instead)").format(address=address, ptr=ptr)


_GAI_MEANINGS = {
    "EAI_NONAME": N_("EAI_NONAME: the DNS server answered that the name does not exist "
                     "(NXDOMAIN), or it has no address of the family asked for"),
    "EAI_AGAIN": N_("EAI_AGAIN: no DNS server gave a usable answer in time (no answer, see the "
                    "retries above, or SERVFAIL); a temporary failure, try again later"),
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
