"""The pure core imports neither socket, scapy nor rich (DESIGN.md)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import sockviz.core

MODULES = sorted(m.name for m in pkgutil.iter_modules(sockviz.core.__path__))


@pytest.mark.parametrize("module", MODULES)
def test_core_module_is_pure(module):
    code = (f"import sys; import sockviz.core.{module}\n"
            "banned = ('socket', '_socket', 'scapy', 'rich')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
