"""Small text helpers shared by the summaries and the renderers."""

from __future__ import annotations

from json.encoder import encode_basestring as _encode_basestring

_FLAG_NAMES = {"F": "FIN", "S": "SYN", "R": "RST", "P": "PSH", "A": "ACK", "U": "URG", "E": "ECE", "C": "CWR"}
# Wireshark's order reads most naturally: SYN, ACK rather than ACK, SYN.
_FLAG_ORDER = "SFRPAUEC"


def flag_names(flags: str | None) -> str:
    """'SA' -> 'SYN, ACK'; '' -> '<none>'."""
    if flags is None:
        return ""
    names = [_FLAG_NAMES[f] for f in _FLAG_ORDER if f in flags]
    return ", ".join(names) if names else "<none>"


# Each byte as the preview shows it: printable ASCII as itself (the backslash
# doubled), \n \r \t, anything else as \xNN. A list indexed by the byte.
_SHOWN = [chr(i) if 0x20 <= i < 0x7F else f"\\x{i:02x}" for i in range(256)]
_SHOWN[ord("\\")] = "\\\\"
_SHOWN[0x0A], _SHOWN[0x0D], _SHOWN[0x09] = "\\n", "\\r", "\\t"
_SHOWN_GET = _SHOWN.__getitem__
_PLAIN = bytes(i for i in range(0x20, 0x7F) if i != ord("\\"))


def _escape_table(chunk: bytes) -> str:
    return "".join(map(_SHOWN_GET, chunk))


def _escape_c(chunk: bytes) -> str:
    # codecs.escape_encode writes bytes as a Python bytes literal would, in C:
    # the same escapes as _SHOWN except that it also escapes the quote.
    raw = _escape_encode(chunk)[0]
    if b"\\'" in raw:
        raw = raw.replace(b"\\'", b"'")
    return raw.decode("ascii")


try:
    from codecs import escape_encode as _escape_encode

    _every_byte = bytes(range(256)) + b"\\'\\\\''"
    _escape = _escape_c if _escape_c(_every_byte) == _escape_table(_every_byte) else _escape_table
except ImportError:  # pragma: no cover - an interpreter without it
    _escape = _escape_table


def preview(data: bytes, limit: int = 40) -> str:
    """A safe one-line view of payload bytes: ASCII kept, the rest escaped.

    Terminal control bytes never reach the screen (a capture can hold anything).
    Runs for every packet with a payload, so no Python code runs per byte.
    """
    chunk = data[:limit]
    text = _escape(chunk) if chunk.translate(None, _PLAIN) else chunk.decode("ascii")
    return text + "…" if len(data) > limit else text


# Printable ASCII but the double quote and the backslash: neither preview nor
# JSON changes these bytes.
_JSON_PLAIN = bytes(b for b in range(0x20, 0x7F) if b not in b'"\\')


def _preview_json(data: bytes, start: int, stop: int, limit: int = 40, more: str = "…") -> str:
    """``encode_basestring(preview(data[start:stop]))`` without its quotes: for JSON lines.

    Without copying the whole payload, and in fewer steps than the two
    apart: printable ASCII comes out of escape_encode as it went in, so the
    test for bytes to escape is not needed. A check at import compares it
    with the plain way. ``more`` ends a cut preview (the fast path's
    jsonmodel.ELLIPSIS_MARK, else '…').
    """
    end = start + limit
    chunk = data[start:end if end < stop else stop]
    if chunk.translate(None, _JSON_PLAIN):  # a byte that the preview or JSON escapes
        raw = _escape_encode(chunk)[0]
        if 39 in chunk:  # a quote, which escape_encode escapes and preview does not
            raw = raw.replace(b"\\'", b"'")
        text = _encode_basestring(raw.decode("ascii"))[1:-1]
    else:  # text such as a chat line or HTTP: as it is
        text = chunk.decode("ascii")
    return text + more if stop - start > limit else text


def _preview_json_plain(data: bytes, start: int, stop: int, limit: int = 40,
                        more: str = "…") -> str:
    chunk = data[start:stop]
    text = _encode_basestring(preview(chunk[:limit], limit))[1:-1]
    return text + more if len(chunk) > limit else text


_SAMPLES = (bytes(range(256)), b"\\'\"\\\\''\"", b'say "hi"\r\n', b"x" * 40, b"x" * 41, b"")
# The bytes way needs codecs.escape_encode (_escape_c) and must agree with the plain way.
preview_json = _preview_json if _escape is _escape_c and all(
    _preview_json(b, 0, len(b)) == _preview_json_plain(b, 0, len(b)) for b in _SAMPLES
) else _preview_json_plain


def duration_unit(seconds: float) -> tuple[float, int, str]:
    """(value, decimal places, unit) a duration is written in: the one choice of unit
    behind ``duration`` here and ``phrases.duration`` (which writes it in the language).

    Each unit from where its rounding reaches it: 999.6 µs is 1.0 ms, not 1000 µs,
    and 999.96 ms is 1.000 s.
    """
    if seconds < 0.0009995:
        return seconds * 1e6, 0, "µs"
    if seconds < 0.99995:
        return seconds * 1e3, 1, "ms"
    return seconds, 3, "s"


def duration(seconds: float | None) -> str:
    """A call's duration for people: 0.42 ms, 13.1 ms, 3.004 s (as a capture's comments keep it)."""
    if seconds is None:
        return ""
    value, places, unit = duration_unit(seconds)
    return f"{value:.{places}f} {unit}"


def tcp_options(options) -> str:
    """TCP options the way a person reads them (RFC 9293 §3.2, RFC 7323, RFC 2018)."""
    parts = []
    for name, value in options:
        if name == "MSS":
            parts.append(f"mss {value}")
        elif name == "WScale":
            parts.append(f"wscale {value} (×{1 << min(value, 14)})")
        elif name == "SAckOK":
            parts.append("sack-ok")
        elif name == "Timestamp":
            parts.append(f"TSval {value[0]} TSecr {value[1]}")
        elif name == "SAck":
            parts.append("sack " + " ".join(f"{a}-{b}" for a, b in value))
        elif name in ("NOP", "EOL"):
            continue
        else:
            parts.append(str(name).lower())
    return ", ".join(parts)


def endpoint(addr: str | None, port: int | None) -> str:
    if addr is None:
        return "?"
    if port is None:
        return addr
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"
