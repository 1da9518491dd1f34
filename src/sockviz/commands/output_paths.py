"""Where a run's files go (the capture, ``--svg``, ``--html``), checked before anything runs."""

from __future__ import annotations

import datetime
import os
import re

from sockviz.core import phrases
from sockviz.refusal import Refusal
from sockviz.status import ExitStatus


def default_capture_path(command: str, target: str) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", target).strip("_") or "run"
    return os.path.join("captures", f"{command}-{safe}-{stamp}.pcapng")


def capture_path(args, command: str, target: str) -> str | None:
    if getattr(args, "no_save", False):
        return None
    path = getattr(args, "save", None) or default_capture_path(command, target)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise Refusal(phrases.cannot_create_capture_folder(folder, exc.strerror),
                      ExitStatus.ERROR) from None
    if not os.access(folder, os.W_OK):
        raise Refusal(phrases.cannot_write_capture(folder), ExitStatus.ERROR)
    return path


def output_file(path: str | None, kind: str) -> str | None:
    """``path`` if a file can be written there, else a Refusal that says why.

    ``kind``: 'svg' or 'html' (what the sentences call it: phrases.OUTPUTS).
    """
    if path is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        example = os.path.join(path, f"run.{kind}")
        raise Refusal(phrases.output_is_a_folder(path, kind, example), ExitStatus.CANNOT_WRITE)
    if not os.path.isdir(folder):
        raise Refusal(phrases.output_folder_missing(folder, kind), ExitStatus.CANNOT_WRITE)
    if not os.access(folder, os.W_OK):
        raise Refusal(phrases.cannot_write_output(folder, kind), ExitStatus.CANNOT_WRITE)
    return path
