"""What each call causes on the wire: as data.

Like h11's state table, the teaching's facts live in tables, not in
branches: the steps a call is expected to cause (``EXPECTED``), from which
each call's diagram is drawn, and how measured SYN retransmissions are
classed. The sentences that tell them are in ``core/phrases.py``.

Protocol facts cite their RFC; Linux specifics say "Linux".
"""

from __future__ import annotations

import itertools

from sockviz.core import phrases
from sockviz.core.phrases import Backoff, Step

# The packets a call is expected to cause, in order (the client's view).
EXPECTED: dict[tuple[str, str], tuple[Step, ...]] = {
    ("connect", "TCP"): (Step.SYN, Step.SYNACK, Step.HANDSHAKE_ACK),
    ("send", "TCP"): (Step.DATA, Step.ACK),
    ("sendall", "TCP"): (Step.DATA, Step.ACK),
    ("recv", "TCP"): (),
    # Four segments (RFC 9293 §3.6): each FIN and its ACK. Three appear when the
    # peer's program closes at once, so its kernel's ACK rides on its own FIN.
    ("close", "TCP"): (Step.FIN_FIRST, Step.ACK_FIN, Step.FIN_SECOND, Step.FINAL_ACK),
    ("sendto", "UDP"): (Step.UDP,),
    ("send", "UDP"): (Step.UDP,),
    ("recvfrom", "UDP"): (),
    ("recv", "UDP"): (),
    ("close", "UDP"): (),
    ("getaddrinfo", "DNS"): (Step.DNS_QUERY, Step.DNS_RESPONSE),
    ("getnameinfo", "DNS"): (Step.DNS_QUERY, Step.DNS_RESPONSE),
}


def diagram(call: str, transport: str) -> str:
    """The packets ``call`` is expected to cause, drawn from ``EXPECTED``: 'SYN → SYN/ACK → ACK'."""
    return " → ".join(phrases.step_label(s) for s in EXPECTED.get((call, transport), ()))


def backoff_kind(intervals: list[float]) -> Backoff:
    """How measured SYN retransmission intervals (seconds, in order) were spaced.

    Since Linux 6.5 the first retries come at a fixed interval (sysctl
    net.ipv4.tcp_syn_linear_timeouts, 4 by default), then the wait doubles
    (exponential backoff, RFC 6298 §5.5); before 6.5 it doubles from the
    first. What ends connect() is Python's timeout when one is set, else
    TCP's own limit (net.ipv4.tcp_syn_retries).
    """
    if not intervals:
        return Backoff.NONE
    if len(intervals) == 1:
        return Backoff.ONCE
    pairs = list(itertools.pairwise(intervals))
    if all(abs(b - a) < 0.35 * a for a, b in pairs):
        return Backoff.LINEAR
    if all(abs(b - 2 * a) < 0.35 * a for a, b in pairs):
        return Backoff.DOUBLING
    return Backoff.MIXED
