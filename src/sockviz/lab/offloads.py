"""Checksum and segmentation offloads of a lab host's interface, read and turned off.

The wire host forwards frames as they are (:mod:`sockviz.lab.wire`), so every
veth end it touches must send complete checksums and one frame per segment.
SIOCETHTOOL through ``fcntl.ioctl``, so no ``ethtool`` binary is needed (it is
the fallback when the ioctls fail).
"""

from __future__ import annotations

import ctypes
import fcntl
import re
import shutil
import socket
import struct
from typing import TYPE_CHECKING

from sockviz.lab.errors import LabError

if TYPE_CHECKING:
    from sockviz.lab.netns import Host

SIOCETHTOOL = 0x8946
#: The offloads the wire needs off, as ``ethtool -k`` groups them: group ->
#: (``ethtool -K`` word, legacy get and set commands, the group's features).
#: linux/ethtool.h: ETHTOOL_GTXCSUM/STXCSUM, GTSO/STSO, GGSO/SGSO, GGRO/SGRO.
OFFLOADS: dict[str, tuple[str, int, int, str]] = {
    "tx-checksumming": ("tx", 0x16, 0x17, r"tx-checksum-.*"),
    "tcp-segmentation-offload": ("tso", 0x1E, 0x1F, r"tx-tcp.*-segmentation"),
    "generic-segmentation-offload": ("gso", 0x23, 0x24, r"tx-generic-segmentation"),
    "generic-receive-offload": ("gro", 0x2B, 0x2C, r"rx-gro"),
}
_ETHTOOL_GSSET_INFO, _ETHTOOL_GSTRINGS = 0x37, 0x1B
_ETHTOOL_GFEATURES, _ETHTOOL_SFEATURES = 0x3A, 0x3B
_ETH_SS_FEATURES = 4
_ETH_GSTRING_LEN = 32
_IFREQ_SIZE = 40  # struct ifreq on 64-bit Linux: the name, then a union holding ifr_data


def _ethtool_raw(sock: socket.socket, iface: str, request: bytes) -> bytes:
    """One SIOCETHTOOL call: ``request`` is the ethtool struct; returns it as the
    kernel left it."""
    buf = ctypes.create_string_buffer(request, len(request))
    ifreq = struct.pack("16sP", iface.encode(), ctypes.addressof(buf)).ljust(_IFREQ_SIZE, b"\0")
    fcntl.ioctl(sock.fileno(), SIOCETHTOOL, ifreq)
    return buf.raw


def _ethtool(sock: socket.socket, iface: str, cmd: int, data: int = 0) -> int:
    """A legacy command with a ``struct ethtool_value {u32 cmd; u32 data}``."""
    return struct.unpack("=II", _ethtool_raw(sock, iface, struct.pack("=II", cmd, data)))[1]


def _features(sock: socket.socket, iface: str) -> tuple[list[str], list[tuple[int, int, int, int]]]:
    """The device's feature names (ETH_SS_FEATURES) and their bit blocks
    ``(available, requested, active, never_changed)`` (ETHTOOL_GFEATURES)."""
    info = _ethtool_raw(sock, iface, struct.pack("=IIQI", _ETHTOOL_GSSET_INFO, 0,
                                                 1 << _ETH_SS_FEATURES, 0))  # fmt: skip
    count = struct.unpack_from("=I", info, 16)[0]
    raw = _ethtool_raw(sock, iface, struct.pack("=III", _ETHTOOL_GSTRINGS, _ETH_SS_FEATURES, count)
                       + bytes(count * _ETH_GSTRING_LEN))  # fmt: skip
    names = [raw[12 + i * _ETH_GSTRING_LEN : 12 + (i + 1) * _ETH_GSTRING_LEN].split(b"\0")[0].decode()
             for i in range(count)]  # fmt: skip
    size = (count + 31) // 32
    raw = _ethtool_raw(sock, iface, struct.pack("=II", _ETHTOOL_GFEATURES, size) + bytes(16 * size))
    blocks = [struct.unpack_from("=IIII", raw, 8 + 16 * i) for i in range(size)]
    return names, blocks


def _ethtool_socket(host: Host) -> socket.socket:
    with host.enter():  # the ioctl acts on the socket's namespace
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def _group_of(name: str) -> str | None:
    for group, (*_, pattern) in OFFLOADS.items():
        if re.fullmatch(pattern, name):
            return group
    return None


def read_offloads(host: Host, iface: str) -> dict[str, bool]:
    """``{ethtool -k group: on?}`` for :data:`OFFLOADS` of ``iface`` on ``host``.

    A group is on when any of its features is (``ethtool -k`` shows
    tcp-segmentation-offload on while tx-tcp-accecn-segmentation alone is).
    """
    err: OSError | None = None
    with _ethtool_socket(host) as sock:
        try:
            names, blocks = _features(sock, iface)
        except OSError as exc:  # an old kernel: the legacy commands, one bit a group
            try:
                return {group: bool(_ethtool(sock, iface, get))
                        for group, (_, get, _, _) in OFFLOADS.items()}  # fmt: skip
            except OSError as exc2:
                err = exc2 if exc.errno == exc2.errno else exc
        else:
            on = dict.fromkeys(OFFLOADS, False)
            for i, name in enumerate(names):
                group = _group_of(name)
                if group is not None and blocks[i // 32][2] >> (i % 32) & 1:
                    on[group] = True
            return on
    if shutil.which("ethtool"):
        proc = host.call(["ethtool", "-k", iface], capture_output=True, text=True)
        found = dict(re.findall(r"^([a-z-]+): (on|off)", proc.stdout, re.M))
        if proc.returncode == 0 and set(OFFLOADS) <= set(found):
            return {group: found[group] == "on" for group in OFFLOADS}
    raise LabError(f"{host.name} {iface}: cannot read offloads: {err}")


def disable_offloads(host: Host, iface: str) -> None:
    """Turn checksum, TSO, GSO and GRO offloads off on ``iface`` and check they are.

    With tx checksum offload, a veth hands over frames with only a partial
    checksum (the receiver's kernel is trusted to finish it); a frame the wire
    forwards that way reaches the other host with a wrong checksum and is
    dropped. Without segmentation offloads every TCP segment is one frame.

    SIOCETHTOOL from Python: the legacy commands (ETHTOOL_STXCSUM ...), then
    ETHTOOL_SFEATURES for every feature of those groups (the legacy STSO
    leaves tx-tcp-accecn-segmentation on); the ``ethtool`` command if that
    fails. Raises LabError if any is still on.
    """
    errors: list[str] = []
    with _ethtool_socket(host) as sock:
        for group, (_, _, set_cmd, _) in OFFLOADS.items():
            try:
                _ethtool(sock, iface, set_cmd, 0)
            except OSError as exc:
                errors.append(f"{group}: {exc.strerror or exc}")
        try:
            names, blocks = _features(sock, iface)
            valid = [0] * len(blocks)
            for i, name in enumerate(names):
                # Only what can change (ETHTOOL_SFEATURES refuses the fixed ones).
                if _group_of(name) is not None and blocks[i // 32][0] >> (i % 32) & 1:
                    valid[i // 32] |= 1 << (i % 32)
            request = struct.pack("=II", _ETHTOOL_SFEATURES, len(blocks))
            request += b"".join(struct.pack("=II", v, 0) for v in valid)  # requested: all off
            _ethtool_raw(sock, iface, request)
        except OSError as exc:
            errors.append(f"ETHTOOL_SFEATURES: {exc.strerror or exc}")
    try:
        still = [group for group, on in read_offloads(host, iface).items() if on]
    except LabError as exc:
        errors.append(str(exc))
        still = list(OFFLOADS)
    if still and shutil.which("ethtool"):
        words = [w for group in still for w in (OFFLOADS[group][0], "off")]
        proc = host.call(["ethtool", "-K", iface, *words], capture_output=True, text=True)
        if proc.returncode != 0:
            errors.append(f"ethtool -K: {proc.stderr.strip() or proc.returncode}")
        still = [group for group, on in read_offloads(host, iface).items() if on]
    if still:
        raise LabError(f"{host.name} {iface}: cannot turn off {', '.join(still)}"
                       + (f" ({'; '.join(errors)})" if errors else ""))  # fmt: skip
