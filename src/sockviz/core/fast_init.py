"""Make frozen, slotted dataclass instances fast, for the per-packet records.

A frozen dataclass's generated ``__init__`` sets every field through
``object.__setattr__``: about 0.15 µs a field, so a ``PacketShown`` (14
fields) costs 2 µs, more than the decoding of the packet it describes. The
same trick as ``decode._Builder``: a twin class with the very same slots
assigns them plainly, then turns the instance into the real class (CPython
allows the ``__class__`` assignment because the layouts are identical). The
result is an ordinary, immutable instance of the dataclass, equal to one made
by its constructor; a probe checks that at import, and the plain constructor
is used instead should an interpreter refuse.

Kept for its measured cost (CPython 3.11, issue 11): a ``PacketShown`` takes
0.37 µs this way against 1.45 µs through the dataclass's ``__init__``, a
replay's every packet on the general path; a NamedTuple instead would cost its
readers (renderers read fields by name) and is not frozen against ``replace``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable


def positional(cls: type) -> Callable:
    """A constructor for ``cls`` taking every field positionally, in declaration order."""
    names = [f.name for f in dataclasses.fields(cls)]
    if tuple(names) != tuple(cls.__slots__):
        return _slow(cls, names)
    args = ", ".join(names)
    body = "".join(f"    self.{n} = {n}\n" for n in names)
    namespace: dict = {}
    exec(f"def __init__(self, {args}):\n{body}    self.__class__ = cls\n", {"cls": cls}, namespace)
    twin = type(f"_Fast{cls.__name__}", (object,), {"__slots__": cls.__slots__,
                                                    "__init__": namespace["__init__"]})
    slow = _slow(cls, names)
    probe_args = [_probe_value(f) for f in dataclasses.fields(cls)]
    try:
        probe = twin(*probe_args)
    except TypeError:  # pragma: no cover - an interpreter without the layout rule
        return slow
    if type(probe) is not cls or probe != slow(*probe_args):
        return slow  # pragma: no cover
    return twin


def _slow(cls: type, names: list[str]) -> Callable:
    def make(*values):
        return cls(**dict(zip(names, values, strict=True)))

    return make


def _probe_value(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None
