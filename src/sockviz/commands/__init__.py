"""The commands: thin runners that wire a source to the correlator and renderers."""

from __future__ import annotations

import importlib

from sockviz.environment import Environment

_MODULES = {
    "tcp": "sockviz.commands.tcp",
    "udp": "sockviz.commands.udp",
    "resolve": "sockviz.commands.resolve",
    "replay": "sockviz.commands.replay",
    "demo": "sockviz.commands.demo",
    "lab": "sockviz.commands.lab",
    "serve": "sockviz.commands.serve",
    "run": "sockviz.commands.run",
}


def dispatch(args, env: Environment, argv: list[str]) -> int:
    """Run the command; a ``Refusal`` from anywhere in it ends as one sentence and its status.

    A capturing command has closed its capture and printed its summary by
    then, so the sentence is the last thing read.
    """
    from sockviz.refusal import Refusal, say

    module = importlib.import_module(_MODULES[args.command])
    try:
        return module.run(args, env, argv)
    except Refusal as r:
        say(env, r.sentence)
        return r.status
