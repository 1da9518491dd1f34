"""Bad input or an unusable situation, said in one plain sentence with its own exit status."""

from __future__ import annotations

from sockviz.core import phrases
from sockviz.environment import Environment
from sockviz.status import ExitStatus


class Refusal(Exception):
    """Bad input or an unusable situation: one sentence for the user, one status."""

    def __init__(self, sentence: str, status: ExitStatus) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.status = status


def say(env: Environment, sentence: str) -> None:
    """One plain sentence on stderr (never a traceback)."""
    env.stderr.write(phrases.sentence_prefix().format(sentence=sentence) + "\n")
    env.stderr.flush()
