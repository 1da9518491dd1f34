"""Replay: a saved capture through the same correlator and sinks as a live run.

``engine.py`` is the loop (``run``, ``replay``), ``source.py`` puts the calls
kept in the file's comments back among its frames, ``worker.py`` reads the
frames, a batch at a time, here or in a second process. Nothing heavy is
imported until a replay starts.
"""

from sockviz.replay.engine import replay, run
from sockviz.replay.worker import WorkerStopped

__all__ = ["WorkerStopped", "replay", "run"]
