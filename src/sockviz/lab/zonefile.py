"""A teacher's names for the lab's DNS server: a zone file (``sockviz lab --zone FILE``).

The master file format of RFC 1035 §5.1, the part a course needs: one record
a line, ``NAME [TTL] [IN] TYPE VALUE``, for A, AAAA, CNAME, PTR and TXT;
``$ORIGIN`` (names without a final dot are relative to it, ``@`` is it) and
``$TTL``; comments after ``;``; a line that starts with a blank has the
previous line's name. A record's TTL is its own, else the ``$TTL`` above it,
else the lab's (300 s); the records of one name and type share the first
one given (RFC 2181 §5.2: an RRset has one TTL).

    $ORIGIN cours.example.
    serveur     A      192.0.2.2
    serveur     AAAA   2001:db8::2
    www         CNAME  serveur
    2.2.0.192.in-addr.arpa.  PTR  serveur.cours.example.

The lab answers for each ``$ORIGIN``, and for the domain of each name outside
every zone it answers for (``serveur.ulaval.ca.`` -> ``ulaval.ca``): a name
there that the file does not hold gets NXDOMAIN, as from a real server.
"""

from __future__ import annotations

import ipaddress
import re

from sockviz.core import phrases

TYPES = ("A", "AAAA", "CNAME", "PTR", "TXT")


class ZoneFileError(ValueError):
    """What is wrong with a zone file, as a sentence (its line, and why)."""


Records = dict[str, dict[str, list[str]]]  # name (no final dot) -> type -> values
TTLs = dict[tuple[str, str], int]  # (name, type) -> its TTL, when the file gives one
TTL_MAX = 2**31 - 1  # RFC 2181 §8


def read_zone(path: str, user: tuple[int, int] | None = None,
              ) -> tuple[Records, list[str], TTLs]:
    """The records of the zone file at ``path``, its ``$ORIGIN``s and the TTLs it gives;
    read with ``user``'s rights (sudo's user)."""
    from sockviz.privileges import read_text_as

    try:
        text = read_text_as(user, path)
    except OSError as exc:
        raise ZoneFileError(phrases.zone_unreadable(path, exc.strerror or str(exc))) from None
    except UnicodeDecodeError:
        raise ZoneFileError(phrases.zone_not_text(path)) from None
    return parse_zone(text, path)


def parse_zone(text: str, path: str = "zone") -> tuple[Records, list[str], TTLs]:
    records: Records = {}
    ttls: TTLs = {}
    default_ttl: int | None = None
    origins: list[str] = []
    origin: str | None = None
    last: str | None = None
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some editors write UTF-8
    for number, raw in enumerate(text.splitlines(), 1):
        def wrong(why: str, number=number) -> ZoneFileError:
            return ZoneFileError(phrases.zone_line(path, number, why))

        line = _without_comment(raw)
        if not line.strip():
            continue
        words = _words(line)
        if words is None:
            raise wrong(phrases.zone_quote_open())
        if words[0].upper() == "$ORIGIN":
            if len(words) != 2:
                raise wrong(phrases.zone_origin_takes_a_name())
            origin = _absolute(words[1], origin, wrong)  # relative to the one before
            if origin not in origins:
                origins.append(origin)
            continue
        if words[0].upper() == "$TTL":
            if len(words) != 2:
                raise wrong(phrases.zone_ttl_number())
            default_ttl = _ttl(words[1], wrong)
            continue
        if line[:1].isspace():  # the previous record's name (RFC 1035 §5.1)
            if last is None:
                raise wrong(phrases.zone_no_name())
            name = last
        else:
            name = _absolute(words.pop(0), origin, wrong)
        ttl = default_ttl
        for _ in range(2):  # [TTL] [IN] in either order (RFC 1035 §5.1)
            if words and words[0].isdigit():
                ttl = _ttl(words.pop(0), wrong)
            elif words and words[0].upper() == "IN":
                words.pop(0)
        if len(words) < 2:
            raise wrong(phrases.zone_record_shape())
        kind, values = words[0].upper(), words[1:]
        if kind not in TYPES:
            raise wrong(phrases.zone_unknown_type(words[0], ", ".join(TYPES)))
        value = " ".join(values) if kind == "TXT" else _value(kind, values, origin, wrong)
        held = records.setdefault(name, {})
        if held and (kind == "CNAME" or "CNAME" in held):
            raise wrong(phrases.zone_cname_alone(name))  # RFC 1034 §3.6.2
        held.setdefault(kind, []).append(value)
        if ttl is not None:
            ttls.setdefault((name, kind), ttl)
        last = name
    if not records:
        raise ZoneFileError(phrases.zone_empty(path))
    return records, origins, ttls


def _ttl(word: str, wrong) -> int:
    if not word.isdigit() or int(word) > TTL_MAX:
        raise wrong(phrases.zone_ttl_number())
    return int(word)


def lab_zone(path: str, user: tuple[int, int] | None = None):
    """The lab's zone with the names of the zone file at ``path`` added (a name the lab
    has already takes the file's records of each type the file gives it)."""
    from sockviz.lab.dnsserver import DEFAULT_ORIGINS, DEFAULT_ZONE, Zone

    records, origins, ttls = read_zone(path, user)
    merged = {name: dict(rrsets) for name, rrsets in DEFAULT_ZONE.items()}
    for name, rrsets in records.items():
        held = merged.setdefault(name, {})
        if "CNAME" in rrsets or "CNAME" in held:  # a CNAME is its name's only record
            held.clear()
        held.update(rrsets)
    known = [*DEFAULT_ORIGINS, *origins]
    for name in records:  # outside every zone the lab answers for: its domain becomes one
        if not any(name == o or name.endswith("." + o) for o in known):
            domain = name.partition(".")[2] or name
            known.append(domain)
    return Zone(merged, origins=known, ttls=ttls)


_WORD = re.compile(r'"((?:[^"\\]|\\.)*)"|([^\s"]+)|(")')


def _words(line: str) -> list[str] | None:
    """A line's fields: blank-separated, a double-quoted string one field with its
    backslash escapes (RFC 1035 §5.1); None when a quote is not closed."""
    words = []
    for quoted, plain, stray in _WORD.findall(line):
        if stray:
            return None
        words.append(re.sub(r"\\(.)", r"\1", quoted) if plain == "" else plain)
    return words


def _without_comment(line: str) -> str:
    """``line`` up to a ``;`` outside quotes (a quote escaped with a backslash is text)."""
    quoted = escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            return line[:i]
    return line


def _absolute(name: str, origin: str | None, wrong) -> str:
    """A name as the lab's zone keys it: lower case, no final dot."""
    if name == "@":
        if origin is None:
            raise wrong(phrases.zone_at_without_origin())
        return origin
    if name.endswith("."):
        name = name[:-1]
    elif origin is not None:
        name = f"{name}.{origin}"
    name = name.lower()
    labels = name.split(".")
    if not name or any(not label or len(label) > 63 for label in labels) or len(name) > 253:
        raise wrong(phrases.zone_not_a_name(name))
    return name


def _value(kind: str, values: list[str], origin: str | None, wrong) -> str:
    if len(values) != 1:
        raise wrong(phrases.zone_one_value(kind))
    value = values[0]
    if kind in ("A", "AAAA"):
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise wrong(phrases.zone_not_an_address(value)) from None
        if (address.version == 4) != (kind == "A"):
            raise wrong(phrases.zone_wrong_family(kind, 4 if kind == "A" else 6))
        return str(address)
    return _absolute(value, origin, wrong)  # CNAME, PTR: a name
