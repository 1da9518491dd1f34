"""sockviz: see the packets behind every socket API call.

``sockviz.trace()`` traces a block of your own code; ``%load_ext sockviz``
traces every cell of a notebook. Nothing heavy is imported here.
"""

__version__ = "0.1.0"


def trace(**options):
    """Trace the socket calls of a block: ``with sockviz.trace() as t: ...`` (see tracing.api)."""
    from sockviz.tracing.api import trace as _trace

    return _trace(**options)


def load_ipython_extension(ipython) -> None:
    """``%load_ext sockviz``: every following cell's socket calls, with their packets."""
    from sockviz.notebook import load

    load(ipython)


def unload_ipython_extension(ipython) -> None:
    from sockviz.notebook import unload

    unload(ipython)
