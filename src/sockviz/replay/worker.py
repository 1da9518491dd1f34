"""Where a replay gets its frames, a batch at a time: here, or in a second process.

Without ``--json`` (or with ``--summary``) the batches are the reader's own
records. With it:

``core.json_fast_path.prepare`` does the part of a packet's work that depends on
the frame alone (reading it, its headers, its preview, its time's text);
``JsonFastPath.write_run`` does the rest, which follows the conversations in order.
On a machine with two cores or more, a big file's frames are prepared by a
forked child while this process writes the lines of the batch before: the
two halves cost about the same, so a replay takes about half the time.

The child sends each batch as one marshal blob after its length, on a pipe;
the frames' bytes stay in the file (``prepare(for_pipe=True)``) and are
read again only for the rare frame the fast path leaves to the general one.
The child never writes anything else and always ends with ``os._exit``: it
runs no cleanup of its parent's (buffers, temporary files, test fixtures).
When the replay stops early (Ctrl-C, an error), closing the pipe and a
SIGTERM end the child, and it is waited for: nothing is left behind.
"""

from __future__ import annotations

import marshal
import os
import signal
import struct
from collections.abc import Iterator
from itertools import islice

from sockviz.core.json_fast_path import prepare

BATCH = 512  # frames a batch
WORKER_MIN = 8 << 20  # files this big are worth a second process
_LENGTH = struct.Struct("!I")


class WorkerStopped(RuntimeError):
    """The second process ended before the end of the file (killed, out of memory)."""


def wants_worker(reader, choice: bool | None = None) -> bool:
    """A second process, for a file big enough, on a machine with a second core.

    ``choice`` (the command passes ``Environment.replay_worker``) forces
    it on or off whatever the file's size (the tests compare the two ways).
    """
    if choice is not None:
        return choice
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return cores >= 2 and getattr(reader, "size", 0) >= WORKER_MIN


def batches(reader, *, fast: bool) -> Iterator[list]:
    """The file's frames, a batch at a time, read in this process: prepared when ``fast``.

    Else they stay the reader's records (for the general path alone).
    """
    records = reader.records()
    while True:
        items = prepare(records, BATCH) if fast else list(islice(records, BATCH))
        if not items:
            return
        yield items


def batches_from_worker(reader) -> Iterator[list]:
    """The file's frames prepared by a child process, a batch at a time.

    The reader's ``bytes_read``, ``shb_comments`` and, at the end,
    ``problem`` follow the child's, as if this process had read the file.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent says when to stop
            _prepare_all(reader, write_end)
            code = 0
        except BrokenPipeError:
            code = 0  # the parent stopped reading: nothing more to do
        finally:
            os._exit(code)
    os.close(write_end)
    pipe = os.fdopen(read_end, "rb", buffering=1 << 16)
    try:
        while True:
            head = pipe.read(_LENGTH.size)
            size = _LENGTH.unpack(head)[0] if len(head) == _LENGTH.size else 0
            blob = pipe.read(size) if size else b""
            if not size or len(blob) < size:  # the pipe ended before the end message
                raise WorkerStopped()
            items, bytes_read, comments, problem = marshal.loads(blob)
            reader.bytes_read = bytes_read
            reader.shb_comments.extend(comments)
            if items is None:
                reader.problem = problem
                return
            yield items
    finally:
        pipe.close()
        os.kill(pid, signal.SIGTERM)  # done or not (not yet waited for, it still exists)
        os.waitpid(pid, 0)


def _prepare_all(reader, fd: int) -> None:
    """In the child: every batch, then the end (None) with the reader's problem, to ``fd``."""
    out = os.fdopen(fd, "wb", buffering=1 << 16)
    records = reader.records()
    sent = 0  # section header comments already sent
    while True:
        items = prepare(records, BATCH, for_pipe=True)
        comments = reader.shb_comments[sent:]
        sent += len(comments)
        end = not items
        blob = marshal.dumps((None if end else items, reader.bytes_read, comments,
                              reader.problem if end else None))
        out.write(_LENGTH.pack(len(blob)))
        out.write(blob)
        if end:
            out.flush()
            return
