"""The DNS messages of a lesson (RFC 1035), as the timeline shows them.

Only packets to or from the DNS ports come here. The bytes are read by the
core's codec (``sockviz.core.dnscodec``), in microseconds and without scapy:
scapy's DNS layer, used before, took a fraction of a second to import (on the
live pipeline's thread, at the first DNS packet) and ~0.3 ms a message.

What is shown is what scapy's dissection gave, field for field, so the
timeline, its JSON lines and the goldens did not change: names with their
trailing dot (bytes outside ASCII as ``\\xNN``), scapy's mnemonics for the
types (decimal for the others), an address for A and AAAA, the name for NS,
CNAME, PTR, DNAME (MD, MF), the strings of a TXT joined by spaces, the MNAME
of an SOA, the undecoded bytes for types scapy has no fields for, and nothing
for the types it splits into fields of their own (MX, SRV, DS, RRSIG, ...).
A record that cannot be read shows as ``{"name": "", "type": "?", "ttl":
None, "data": ""}``, and nothing after it is shown.
"""

from __future__ import annotations

from sockviz.core import dnscodec
from sockviz.core.dnscodec import NAME_TYPES, QTYPE_NAMES, RCODE_NAMES, TYPE_NAMES, read_name

__all__ = ["dns_info", "warm_up"]

#: scapy gave up on a message with more entries than this in one section
#: (its ``conf.max_list_count``): such a message is shown as plain UDP or TCP.
MAX_ENTRIES = 100

_UNREADABLE = {"name": "", "type": "?", "ttl": None, "data": ""}

# The shown header flags (AA, TC, RD, RA: bits 10 to 7), for each value of those four bits.
_FLAGS = [tuple(f for f, bit in (("aa", 8), ("tc", 4), ("rd", 2), ("ra", 1)) if i & bit) for i in range(16)]

# Types scapy splits into fields of their own, with no single "rdata" to show
# (SOA, whose MNAME is shown, and OPT, whose options are, aside).
_FIELDED = frozenset((13, 15, 33, 35, 43, 46, 47, 48, 50, 51, 64, 65, 250, 32769))

# scapy's class for each EDNS option code (RFC 6891 §6.1.2); the others are EDNS0TLV.
_OPTION_CLASSES = {4: "EDNS0OWN", 5: "EDNS0DAU", 6: "EDNS0DHU", 7: "EDNS0N3U", 8: "EDNS0ClientSubnet",
                   10: "EDNS0COOKIE", 12: "EDNS0PADDING", 15: "EDNS0ExtendedDNSError"}


def warm_up() -> None:
    """Nothing left to load ahead of need: kept for callers that still call it."""


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "backslashreplace")


def _options(data: bytes, p: int, end: int) -> str:
    """An OPT record's options as scapy named them: its class for each option
    read (``Raw`` for one it could not read, after which it read no more).
    Only OPTs outside the additional section (RFC 6891 §6.1.1 puts them there)
    come here: damaged or odd messages."""
    names = []
    while p < end:
        if end - p < 4:
            names.append("Raw")
            break
        code = (data[p] << 8) | data[p + 1]
        length = (data[p + 2] << 8) | data[p + 3]
        q = p + 4
        cls = _OPTION_CLASSES.get(code, "EDNS0TLV")
        # Where scapy's fields for the option end (it does not stop at OPTION-LENGTH
        # for all of them), and whether they fit.
        if code == 4:  # OWNER: version, sequence, primary MAC [, wakeup MAC [, password]]
            nxt = q + 8 + (6 if length >= 14 else 0)
            if nxt > end:
                names.append("Raw")
                break
            if length >= 18:
                nxt += length - 14
        elif code in (5, 6, 7):  # DAU, DHU, N3U (RFC 6975): one byte per algorithm
            items = min(length, end - q)
            if items > MAX_ENTRIES:
                names.append("Raw")
                break
            nxt = q + items
        elif code == 8:  # client subnet (RFC 7871): family, prefix lengths, address
            if q + 4 > end:
                names.append("Raw")
                break
            family = (data[q] << 8) | data[q + 1]
            prefix = data[q + 2]
            size = 16 if family == 2 else 4
            got = min((prefix + 7) // 8, size, end - q - 4)
            pad = (size * 8 - prefix) // 8 if prefix != size * 8 else 0
            if min(got + max(pad, 0), size) != size:
                names.append("Raw")
                break
            nxt = q + 4 + got
        elif code == 10:  # cookie (RFC 7873): 8 bytes of client cookie, then the server's
            nxt = q + 8 + max(0, length - 8)
        elif code == 15:  # extended error (RFC 8914): INFO-CODE, EXTRA-TEXT
            if q + 2 > end:
                names.append("Raw")
                break
            q += 2
            rest = length - 2
            nxt = q + rest if rest >= 0 else max(q, end + rest)
        else:
            nxt = q + length
        names.append(cls)
        p = nxt
    return " ".join(names)


def _record(data: bytes, r: dnscodec.Record) -> dict:
    t = r.rtype
    start = r.start
    if t == 1:
        text = "{}.{}.{}.{}".format(*data[start : start + 4])
    elif t == 28:
        text = dnscodec.format_ipv6(data[start : start + 16])
    elif t in NAME_TYPES or t == 6:  # a name; the SOA's MNAME
        text = _text(read_name(data, start, r.end)[0])
    elif t == 16:
        text = " ".join([_text(s) for s in dnscodec.character_strings(data, start, r.end)])
    elif t == 41:
        text = _options(data, start, r.end)
    elif t in _FIELDED:
        text = ""
    else:
        text = _text(data[start : r.end])
    name = TYPE_NAMES.get(t)
    # OPT has no TTL: RFC 6891 §6.1.3 makes it the extended RCODE, version and flags.
    return {"name": _text(r.name), "type": name if name is not None else str(t),
            "ttl": None if t == 41 else r.ttl, "data": text}


def _section(data: bytes, records: list, broken: bool) -> list[dict]:
    out = [_record(data, r) for r in records]
    if broken:
        out.append(dict(_UNREADABLE))
    return out


def dns_info(payload: bytes, tcp: bool = False) -> dict | None:
    """The fields the timeline shows of one DNS message, or None if unreadable.

    ``tcp``: the payload starts with the two-byte length (RFC 1035 §4.2.2).
    """
    if tcp:
        payload = dnscodec.tcp_message(payload)
        if payload is None:
            return None
    msg = dnscodec.read_message(payload, MAX_ENTRIES)
    if msg is None or msg.broken == "question":
        return None
    h = msg.header
    flags = h.flags
    rcode = flags & 0xF
    broken = msg.broken
    return {
        "id": h.id,
        "qr": "response" if flags & 0x8000 else "query",
        "rcode": RCODE_NAMES.get(rcode) or str(rcode),
        "flags": list(_FLAGS[(flags >> 7) & 0xF]),
        "questions": [{"name": _text(q.name), "type": QTYPE_NAMES.get(q.qtype) or str(q.qtype)}
                      for q in msg.questions],
        "answers": _section(payload, msg.answers, broken == "answer"),
        "authority": _section(payload, msg.authority, broken == "authority"),
    }
