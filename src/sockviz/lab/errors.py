"""The lab's one error, shared by the hosts, their offloads, the wire and the services."""


class LabError(RuntimeError):
    """A lab operation failed (an ``ip`` command, setns, a missing privilege)."""
