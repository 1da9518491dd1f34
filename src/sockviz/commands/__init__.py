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
}


def dispatch(args, env: Environment, argv: list[str]) -> int:
    module = importlib.import_module(_MODULES[args.command])
    return module.run(args, env, argv)
