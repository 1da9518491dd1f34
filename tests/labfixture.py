"""Pytest plugin: test hosts as network namespaces (see sockviz.lab.netns).

Loaded from tests/conftest.py (``pytest_plugins = ["labfixture"]``). Fixtures:

- ``lab``: a fresh :class:`sockviz.lab.netns.Lab`, up, with the DNS server
  (192.0.2.2 and 2001:db8::2, port 53) and the chat server (port 3001) running
  on ``lab.server``; the client's resolv.conf points at the DNS server.
- ``bare_lab``: the same hosts without any server.
- ``slow_lab``: the same hosts with the wire host between them (delay and loss,
  see sockviz.lab.wire): 40 ms each way unless parametrized.
- ``require_lab``: no lab, only the skip, for tests that build their own.

All are function-scoped and always torn down (also when the test fails).
They skip the test when this process cannot build a lab (not root, no ``ip``).
Mark such tests ``@pytest.mark.netns``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    import sockviz  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sockviz.lab import netns


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "netns: needs root and network namespaces (real packets between test hosts)"
    )


def _require_lab() -> None:
    ok, why = netns.available()
    if not ok:
        pytest.skip(f"no lab: {why}")


@pytest.fixture
def require_lab() -> None:
    """Skip unless this process can build labs (for tests that build their own)."""
    _require_lab()


@pytest.fixture
def bare_lab() -> Iterator[netns.Lab]:
    """Client and server hosts joined by a veth pair; no servers running."""
    _require_lab()
    with netns.Lab() as lab:
        yield lab


@pytest.fixture
def lab() -> Iterator[netns.Lab]:
    """Client and server hosts, with the lab DNS server and chat server running."""
    _require_lab()
    with netns.Lab(dns=True, chat=True) as lab:
        yield lab


@pytest.fixture
def slow_lab(request: pytest.FixtureRequest) -> Iterator[netns.Lab]:
    """Client and server with the wire host between them: 40 ms each way by
    default (an 80 ms round trip), no servers running. Parametrize it
    indirectly with the Lab's keywords to change that, e.g.
    ``@pytest.mark.parametrize("slow_lab", [{"loss_pct": 10, "seed": 1}], indirect=True)``.
    """
    _require_lab()
    kwargs = {"delay_ms": 40.0, **getattr(request, "param", {})}
    with netns.Lab(**kwargs) as lab:
        yield lab
