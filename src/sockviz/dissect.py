"""Where scapy pays: the DNS messages of a lesson (RFC 1035), on demand.

Only packets to or from port 53 come here, so scapy's slow, thorough
dissector never sits on the capture's hot path. Only scapy's DNS layer is
imported (``import scapy.all`` alone costs 0.6 s).
"""

from __future__ import annotations

import struct

_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
_dns_cls = None


def _layer():
    global _dns_cls
    if _dns_cls is None:
        import logging

        logging.getLogger("scapy").setLevel(logging.ERROR)
        from scapy.layers.dns import DNS

        _dns_cls = DNS
    return _dns_cls


def warm_up() -> None:
    """Import the DNS layer ahead of need (called from a background thread)."""
    _layer()


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "backslashreplace")
    return str(value)


def _rr_type(rr) -> str:
    try:
        return rr.get_field("type").i2repr(rr, rr.type)
    except Exception:
        return str(getattr(rr, "type", "?"))


def _rr_data(rr) -> str:
    data = getattr(rr, "rdata", None)
    if isinstance(data, list):
        return " ".join(_text(x) for x in data)
    if data is None:
        mname = getattr(rr, "mname", None)
        return _text(mname) if mname is not None else ""
    return _text(data)


def _records(seq) -> list[dict]:
    out = []
    for rr in seq or []:
        out.append({"name": _text(getattr(rr, "rrname", b"")), "type": _rr_type(rr),
                    "ttl": getattr(rr, "ttl", None), "data": _rr_data(rr)})
    return out


def dns_info(payload: bytes, tcp: bool = False) -> dict | None:
    """The fields the timeline shows of one DNS message, or None if unreadable."""
    if tcp:
        # RFC 1035 §4.2.2: over TCP each message has a two-byte length first.
        if len(payload) < 2:
            return None
        (length,) = struct.unpack_from("!H", payload)
        payload = payload[2 : 2 + length]
    if len(payload) < 12:
        return None
    try:
        msg = _layer()(payload)
        questions = [
            {"name": _text(q.qname), "type": q.get_field("qtype").i2repr(q, q.qtype)}
            for q in (msg.qd or [])
        ]
        flags = [f for f in ("aa", "tc", "rd", "ra") if getattr(msg, f, 0)]
        return {
            "id": msg.id,
            "qr": "response" if msg.qr else "query",
            "rcode": _RCODES.get(msg.rcode, str(msg.rcode)),
            "flags": flags,
            "questions": questions,
            "answers": _records(msg.an),
            "authority": _records(msg.ns),
        }
    except Exception:
        # A damaged message is shown as plain UDP; scapy raises many kinds.
        return None
