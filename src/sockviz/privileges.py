"""Root for the capture alone: who invoked sudo, and becoming them.

Under ``sudo`` the capture process keeps the right to capture (and gives up
root itself once its socket is open); everything else — the lesson's calls, a
traced program, the renderers, every file written — runs as the user who typed
the command, as tcpdump ``-Z`` does. Without sudo (a root shell, a container)
nothing changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping


def invoking_user(environ: Mapping[str, str]) -> tuple[int, int] | None:
    """``(uid, gid)`` of the user behind sudo, or None when there is nobody to become."""
    if os.geteuid() != 0:
        return None
    try:
        uid, gid = int(environ["SUDO_UID"]), int(environ["SUDO_GID"])
    except (KeyError, ValueError):
        return None
    return None if uid == 0 else (uid, gid)


def _entry_and_groups(user: tuple[int, int]) -> tuple:
    """The user's password entry (None: not in the database) and their groups."""
    import pwd

    uid, gid = user
    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return None, [gid]
    return entry, os.getgrouplist(entry.pw_name, gid)


def drop_to(user: tuple[int, int], environ: MutableMapping[str, str] | None = None) -> None:
    """Become ``user`` for good: groups first (setting them needs root), then gid, then uid.

    HOME, USER and LOGNAME follow, so the user's own code finds its own files.
    """
    uid, gid = user
    entry, groups = _entry_and_groups(user)
    os.setgroups(groups)
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if environ is not None and entry is not None:
        environ["HOME"] = entry.pw_dir
        environ["USER"] = environ["LOGNAME"] = entry.pw_name


def read_text_as(user: tuple[int, int] | None, path: str) -> str:
    """The UTF-8 text of ``path``, opened with ``user``'s rights (None: ours).

    Under sudo, a file the user names (a zone file) is one they may read: root
    opening it for them would read what they may not. The effective ids change
    for the open alone and come back (the real ids stay root's), before any
    thread of ours runs. Raises OSError and UnicodeDecodeError as ``open`` does.
    """
    if user is None:
        with open(path, encoding="utf-8") as f:
            return f.read()
    uid, gid = user
    _entry, groups = _entry_and_groups(user)
    saved_groups, saved_gid, saved_uid = os.getgroups(), os.getegid(), os.geteuid()
    try:
        os.setgroups(groups)
        os.setegid(gid)
        os.seteuid(uid)
        with open(path, encoding="utf-8") as f:
            return f.read()
    finally:  # each back as it was, whichever step failed (the uid first: it allows the rest)
        os.seteuid(saved_uid)
        os.setegid(saved_gid)
        os.setgroups(saved_groups)
