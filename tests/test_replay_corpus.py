"""Every file of tcpdump's test captures replays without a traceback or a hang."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sockviz.capfile.reader import NotACapture, open_capture
from sockviz.environment import Environment
from sockviz.replay import replay

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "tcpdump-tests"
FILES = sorted(p.name for p in CORPUS.iterdir()) if CORPUS.is_dir() else []


@pytest.mark.skipif(not FILES, reason="../shared/corpus/tcpdump-tests is not here")
@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("json_output", [False, True], ids=["view", "json"])
def test_corpus_file_replays(name, json_output):
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), width=100, color=False)
    try:
        reader = open_capture(CORPUS / name)
    except NotACapture as exc:
        assert str(exc).count(".") >= 1  # one plain sentence
        return
    with reader:
        status = replay(reader, env, json=json_output)
    assert status in (0, 6)
    assert env.stdout.getvalue()
