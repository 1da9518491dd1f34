"""A lab service (the DNS server, the chat server) on its own event loop in its own thread.

Generic: the servers hand their ``amain`` to :func:`run_service_thread`, which
enters the namespace of the host it is given (any object with an ``enter()``
context manager, :class:`sockviz.lab.netns.Host`). It imports neither the
servers nor the lab, so neither imports the other through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sockviz.lab.errors import LabError


class ServiceHandle:
    """An asyncio service running on its own event loop in its own thread.

    ``addresses`` and ``port`` are what the service reported once listening.
    :meth:`stop` asks the service to finish, waits for its thread and is
    idempotent.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.addresses: tuple[str, ...] = ()
        self.port: int | None = None
        self.thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    def __repr__(self) -> str:
        return f"<ServiceHandle {self.name} {self.addresses} port {self.port}>"

    def __enter__(self) -> ServiceHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stop.set)
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)


def run_service_thread(
    name: str,
    amain: Callable[[Callable[[Sequence[str], int], None], asyncio.Event], Awaitable[None]],
    netns_host: Any = None,
    timeout: float = 10.0,
) -> ServiceHandle:
    """Run ``amain(started, stop)`` on a new event loop in a daemon thread.

    With ``netns_host`` the thread first enters that host's network namespace
    (for its whole life), so every socket the service creates lives there.
    ``amain`` calls ``started(addresses, port)`` once listening and returns
    when ``stop`` is set. Returns once started; re-raises a startup failure.
    """
    handle = ServiceHandle(name)

    def started(addresses: Sequence[str], port: int) -> None:
        handle.addresses, handle.port = tuple(addresses), port
        handle._started.set()

    async def runner() -> None:
        handle._loop = asyncio.get_running_loop()
        handle._stop = asyncio.Event()
        await amain(started, handle._stop)

    def body() -> None:
        try:
            with netns_host.enter() if netns_host is not None else contextlib.nullcontext():
                asyncio.run(runner())
        except BaseException as exc:
            handle._error = exc
        finally:
            handle._started.set()

    handle.thread = threading.Thread(target=body, name=name, daemon=True)
    handle.thread.start()
    if not handle._started.wait(timeout):
        handle.stop()
        raise LabError(f"{name}: not listening after {timeout} s")
    if handle._error is not None:
        handle.thread.join(timeout)
        raise handle._error
    if not handle.running:
        raise LabError(f"{name}: stopped before listening")
    return handle
