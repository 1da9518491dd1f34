"""Record every socket API call a program makes: one mechanism for every caller.

``socket.socket`` is a Python class over ``_socket.socket``, and the standard
library's clients and servers (``http.client``, ``urllib``, ``smtplib``,
``socketserver``, ``asyncio``) call its methods and the module's functions, so
wrapping those sees every call, with its start, end, result or exception.
(``sys.addaudithook`` sees some of them too, but only as they start.)

Each call is handed to a *sink* (``beginning(id)`` just before its start is
stamped, ``begin(call, hold)``, ``ending(id)`` just before its end is stamped,
``end(call)``; ``abandon(id)`` if recording it failed; as
:class:`sockviz.session.LiveSession` has them). A call's place in the program
is the innermost frame outside the standard library, installed packages and
sockviz: for ``urlopen(...)`` the ``urlopen`` line, not ``http/client.py``.
Calls made inside a recorded call (``create_connection`` calls
``getaddrinfo``, ``socket`` and ``connect``) name it as their parent.
"""

from __future__ import annotations

import _socket
import dataclasses
import enum
import functools
import linecache
import os
import socket as _socket_module
import sys
import sysconfig
import threading
import time
from collections.abc import Callable

from sockviz.core.events import Call
from sockviz.core.fast_init import positional
from sockviz.core.lookups import RESOLVERS, is_numeric_host
from sockviz.tracing import kernelstate

TYPE_CHECKING = False  # typing loads behind the capture's start (issue 12)
if TYPE_CHECKING:
    from typing import Any

BIG = 4096  # bytes: larger buffers are recorded as "<N bytes>"

# Two Calls a call (its start, then its end): made by fast_init's constructor, not
# the frozen dataclass's own (19 fields through object.__setattr__: 3 µs each).
# Positional, in this order: said here once, checked at import.
_CALL_FIELDS = ("id", "name", "text", "args", "start", "end", "result", "result_text", "error",
                "note", "transport", "local", "peer", "source", "socket", "thread", "parent",
                "cell", "tcp_state")
if tuple(f.name for f in dataclasses.fields(Call)) != _CALL_FIELDS:  # pragma: no cover
    raise ImportError("sockviz.core.events.Call changed: update recorder._CALL_FIELDS")
_new_call = positional(Call)
# The socket's family and type as the C socket has them (plain ints): socket.socket's
# own properties make an IntEnum of each, 1 µs apiece.
_raw_family = _socket.socket.family.__get__
_raw_type = _socket.socket.type.__get__
# Values whose text is their repr (exact types: an IntEnum goes the general way).
_PLAIN = frozenset({int, str, float, bool, type(None)})
_SOCKET_FILE = _socket_module.__file__
# The sentinel create_connection() takes for "the default timeout" (getdefaulttimeout()).
_DEFAULT_TIMEOUT = getattr(_socket_module, "_GLOBAL_DEFAULT_TIMEOUT", object())

# Module functions and socket methods recorded, and what each may learn.
FUNCTIONS = ("getaddrinfo", "getnameinfo", "gethostbyname", "gethostbyname_ex",
             "gethostbyaddr", "create_connection", "create_server")
METHODS = ("connect", "connect_ex", "bind", "listen", "accept", "send", "sendall", "sendto",
           "sendmsg", "recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg", "shutdown",
           "close", "setsockopt", "settimeout", "setblocking")
# Calls whose address argument names the peer (a name is resolved inside them).
ADDRESSED = {"connect": 0, "connect_ex": 0, "sendto": -1}
# Calls after which the socket's endpoints may be newly known.
LEARNS = {"connect", "connect_ex", "bind", "listen", "accept", "sendto", "sendmsg",
          "recvfrom", "recvfrom_into", "create_connection", "create_server"}
# Calls that only set an option of the socket: its TCP state cannot change, and reading
# it from the kernel (TCP_INFO) would cost them a third of what tracing costs a call.
KEEPS_STATE = frozenset(("setsockopt", "settimeout", "setblocking"))


def _skipped_prefixes() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    found = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found.add(here)
    return tuple(sorted(os.path.realpath(p) + os.sep for p in found if p))


@functools.lru_cache(maxsize=4096)
def _is_library(filename: str, prefixes: tuple[str, ...]) -> bool:
    if filename.startswith("<frozen"):
        return True
    try:
        real = os.path.realpath(filename)
    except (OSError, ValueError):
        return False
    return real.startswith(prefixes)


def describe_error(exc: BaseException) -> str:
    """'ConnectionRefusedError: [Errno 111] Connection refused', as Python prints it."""
    name = type(exc).__name__
    if name == "timeout":  # socket.timeout is TimeoutError since 3.10
        name = "TimeoutError"
    text = str(exc)
    return f"{name}: {text}" if text else name


class _Elided:
    """A big buffer, recorded by its size (a pcapng comment holds 64 KiB at most)."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        self.size = size

    def __repr__(self) -> str:
        return f"<{self.size} bytes>"


def recorded(value):
    """``value`` as the call's record keeps it: a big buffer by its size."""
    kind = type(value)
    if kind in _PLAIN or (kind is bytes and len(value) <= BIG):  # most values: at once
        return value
    if isinstance(value, (bytes, bytearray, memoryview)) and len(value) > BIG:
        return _Elided(len(value))
    if isinstance(value, tuple) and any(isinstance(v, (bytes, bytearray)) for v in value):
        return tuple(recorded(v) for v in value)
    return value


def _constant(value, enum) -> str:
    try:
        return enum(value).name
    except ValueError:
        return repr(value)


def show(value) -> str:
    """A value as the call's text shows it: sockets by fd, constants by name, big buffers by size."""
    kind = type(value)
    if kind in _PLAIN:
        return repr(value)
    if kind is bytes:
        return repr(value) if len(value) <= BIG else f"<{len(value)} bytes>"
    if kind is _Name:  # setsockopt()'s constants, by name
        return str.__str__(value)
    if isinstance(value, _socket_module.socket):
        return f"<socket fd={value.fileno()}>"
    if isinstance(value, (bytes, bytearray, memoryview)) and len(value) > BIG:
        return f"<{len(value)} bytes>"
    if isinstance(value, enum.Enum):  # socket.AF_INET, SOCK_STREAM, MSG_PEEK: by name
        return value.name or repr(value)
    if value is _DEFAULT_TIMEOUT:  # create_connection()'s "no timeout given": by its name
        return "_GLOBAL_DEFAULT_TIMEOUT"
    if isinstance(value, tuple):
        inner = ", ".join(show(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return repr(value)


def _transport(sock) -> str | None:
    try:
        family, kind = _raw_family(sock), _raw_type(sock)
    except (OSError, TypeError):
        return None
    return _kind_transport(family, kind) if family != -1 else None


def _endpoint(fn: Callable) -> tuple[str, int] | None:
    try:
        addr = fn()
    except OSError:
        return None
    if isinstance(addr, tuple) and len(addr) >= 2:
        return (str(addr[0]), int(addr[1]))
    return None


def _numeric(host) -> bool:
    return not isinstance(host, str) or is_numeric_host(host)


class Recorder:
    """Wraps the socket module while installed; hands each call to ``sink``.

    ``cell`` is read when a call starts (the notebook's cell number); ``wait``
    says how long a call's end may wait for its packets to be shown.
    """

    def __init__(self, sink, *, cell: Callable[[], int | None] = lambda: None,
                 wait: Callable[[Call], float] = lambda call: 0.0,
                 notes: Callable[[Call], str | None] | None = None) -> None:
        self.sink = sink
        self.cell = cell
        self.wait = wait
        self.notes = notes
        self._saved: list[tuple[Any, str, Any]] = []
        self._local = threading.local()
        self._prefixes = _skipped_prefixes()
        # Per code object: is it the library's (stdlib, site-packages, sockviz)? And
        # per (file, line): its text. A loop's call finds both here after its first.
        self._library: dict[Any, bool] = {}
        self._lines: dict[tuple[str, int], str] = {}
        self.calls = 0
        self.failures: list[BaseException] = []

    # -- install / uninstall
    def install(self) -> None:
        if self._saved:
            return
        mod, cls = _socket_module, _socket_module.socket
        for name in FUNCTIONS:
            original = getattr(mod, name)
            self._saved.append((mod, name, original))
            setattr(mod, name, self._wrap_function(name, original))
        for name in METHODS:
            original = getattr(cls, name)
            self._saved.append((cls, name, cls.__dict__.get(name)))
            setattr(cls, name, self._wrap_method(name, original))
        original_init = cls.__init__
        self._saved.append((cls, "__init__", cls.__dict__.get("__init__")))
        cls.__init__ = self._wrap_init(original_init)

    def uninstall(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)

    def __enter__(self) -> Recorder:
        self.install()
        return self

    def __exit__(self, *exc) -> None:
        self.uninstall()

    # -- where a call comes from
    def _source(self) -> tuple[str, int, str] | None:
        frame = sys._getframe(3)
        first = None
        library, prefixes = self._library, self._prefixes
        while frame is not None:
            code = frame.f_code
            known = library.get(code)
            if known is None:
                known = library[code] = _is_library(code.co_filename, prefixes)
                if len(library) > 100_000:  # code made on the fly (exec in a loop)
                    library.clear()
            if not known:
                return self._where(code.co_filename, frame.f_lineno)
            if first is None and "sockviz" not in code.co_filename \
                    and code.co_filename != _SOCKET_FILE:
                # Code that is the library's alone (a server thread of socketserver):
                # the library's innermost frame that is not the socket module itself,
                # the API traced (socket.py:706 is makefile()'s readinto for every reader).
                first = frame
            frame = frame.f_back
        if first is None:
            return None
        return self._where(first.f_code.co_filename, first.f_lineno)

    def _where(self, filename: str, line: int) -> tuple[str, int, str]:
        key = (filename, line)
        text = self._lines.get(key)
        if text is None:
            if len(self._lines) > 100_000:
                self._lines.clear()
            text = self._lines[key] = linecache.getline(filename, line).strip()
        return (filename, line, text)

    def _stack(self) -> list[int]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    # -- one call
    def _record(self, name: str, fn: Callable, args: tuple, kwargs: dict, *, sock=None,
                text: str, transport: str | None, peer=None, hold: bool = False):
        """Perform ``fn(*args, **kwargs)`` as the recorded call ``name`` (``args`` without
        the socket, which ``sock`` names: a method is called as ``fn(sock, *args)``)."""
        thread = threading.current_thread().name
        if thread.startswith("sockviz-"):
            # sockviz's own threads are not the program
            return fn(sock, *args, **kwargs) if sock is not None else fn(*args, **kwargs)
        stack = self._stack()
        call_id = self.sink.next_id()
        fd = None
        if sock is not None:
            try:
                fd = sock.fileno()
            except OSError:
                fd = None
        before = None
        if name == "close" and transport == "TCP":
            # After close() the fd is gone: the kernel's table is asked by endpoints.
            before = (_endpoint(sock.getsockname), _endpoint(sock.getpeername))
        source, kept_args, cell = self._source(), tuple(map(recorded, args)) if args else (), \
            self.cell()
        # Said before the start is stamped, as ending() before the end: the thread may
        # lose the GIL before begin() queues the start's mark, and frames stamped
        # after the start must wait for it (LiveSession.beginning).
        try:
            self.sink.beginning(call_id)  # inside: a Ctrl-C after it lets go of the hold
            # Stamped as late as it can be: the recorder's own work before the call (tens
            # of µs after a pause, when the caches are cold) is not the call's duration.
            start = time.time()
            call = _new_call(call_id, name, text, kept_args, start,
                             None, None, None, None, None, transport, None, peer, source,
                             fd if fd is not None and fd >= 0 else None, thread,
                             stack[-1] if stack else None, cell, None)
            self.calls += 1
            self.sink.begin(call, hold=hold)
        except BaseException:
            self.sink.abandon(call_id)
            raise
        stack.append(call_id)
        error = None
        try:
            result = fn(sock, *args, **kwargs) if sock is not None else fn(*args, **kwargs)
        except BaseException as exc:
            error = exc
            raise
        finally:
            stack.pop()
            # Said before the end is stamped: the end's mark is queued only after the
            # kernel's state is read, and frames stamped in between must wait for it
            # (LiveSession.ending). It appends one tuple to a deque: a fraction of a µs.
            try:
                self.sink.ending(call_id)  # inside: a Ctrl-C after it lets go of the hold
                end = time.time()
                self._finish(call, end, None if error else result, error, sock, before)
            except Exception as exc:  # a bug of ours must never change the program's call
                self.failures.append(exc)
                self.sink.abandon(call_id)
            except BaseException:  # Ctrl-C while its end was being recorded
                self.sink.abandon(call_id)
                raise
        return result

    def _finish(self, call: Call, end: float, result, error, sock, before=None) -> None:
        local = peer = None
        tcp_state = None
        if call.transport == "TCP" and sock is not None and call.name not in KEEPS_STATE:
            if before is not None:
                tcp_state = kernelstate.of_connection(*before) if before[0] else None
            else:
                tcp_state = kernelstate.of_socket(sock)
        if call.name == "accept":
            if error is None and result:  # the new connection's endpoints, and its state
                local = _endpoint(result[0].getsockname)
                peer = _endpoint(result[0].getpeername)
                # The record names the new connection: its state, not the listener's LISTEN.
                tcp_state = kernelstate.of_socket(result[0]) if tcp_state else None
        elif sock is not None and call.name in LEARNS:
            local = _endpoint(sock.getsockname)
            peer = _endpoint(sock.getpeername) or call.peer
        elif before is not None:  # close(): the endpoints it had, read before it
            local, peer = before
        if call.name in ("recvfrom", "recvfrom_into") and error is None and result:
            addr = result[1]
            if isinstance(addr, tuple) and len(addr) >= 2:
                peer = (str(addr[0]), int(addr[1]))
        if call.name in ("create_connection", "create_server") and error is None and result:
            local = _endpoint(result.getsockname)
            peer = _endpoint(result.getpeername)
        if error is None:
            result_text = show(result)
            kept = result_text if _holds_socket(result) else recorded(result)
            text_error = None
        else:
            result_text, kept = None, None
            text_error = describe_error(error)
        note = None
        if call.name == "close" and call.transport == "TCP" and error is None \
                and getattr(sock, "_io_refs", 0) > 0:
            from sockviz.core import phrases

            note = phrases.close_while_files_use_it()
        finished = _new_call(call.id, call.name, call.text, call.args, call.start, end, kept,
                             result_text, text_error, note, call.transport,
                             local or call.local, peer or call.peer, call.source, call.socket,
                             call.thread, call.parent, call.cell, tcp_state)
        if self.notes is not None:
            note = self.notes(finished)
            if note:
                finished = _with_note(finished, note)
        self.sink.end(finished, wait=self.wait(finished))

    # -- wrappers
    def _wrap_function(self, name: str, original: Callable) -> Callable:
        record = self._record
        transport = "DNS" if name in RESOLVERS else None

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            return record(name, original, args, kwargs, text=_text(name, args, kwargs),
                          transport=transport)

        return wrapper

    def _wrap_method(self, name: str, original: Callable) -> Callable:
        record = self._record
        where = ADDRESSED.get(name)

        @functools.wraps(original)
        def wrapper(sock, *args, **kwargs):
            peer, hold = None, False
            if where is not None and args:
                addr = args[where]
                if isinstance(addr, tuple) and len(addr) >= 2:
                    if _numeric(addr[0]):
                        peer = (str(addr[0]), int(addr[1]))
                    else:
                        hold = True  # resolved inside the call: its endpoint comes at its end
            return record(name, original, args, kwargs, sock=sock,
                          text=_text(name, args, kwargs), transport=_transport(sock),
                          peer=peer, hold=hold)

        return wrapper

    def _wrap_init(self, original: Callable) -> Callable:
        recorder = self

        @functools.wraps(original)
        def __init__(sock, family=-1, type=-1, proto=-1, fileno=None):
            if fileno is not None or threading.current_thread().name.startswith("sockviz-"):
                # accept(), dup() and fromfd() make socket objects of existing sockets.
                return original(sock, family, type, proto, fileno)
            shown = [_constant(family, _socket_module.AddressFamily) if family != -1 else None,
                     _constant(type, _socket_module.SocketKind) if type != -1 else None]
            text = "socket(" + ", ".join(a for a in shown if a) + (
                f", {proto}" if proto not in (-1, 0) else "") + ")"

            def make(*_args):
                original(sock, family, type, proto, fileno)
                return sock

            recorder._record("socket", make, (), {}, text=text,
                             transport=None if family == -1 else _kind_transport(family, type))

        return __init__


def _holds_socket(value) -> bool:
    if isinstance(value, _socket_module.socket):
        return True
    return isinstance(value, tuple) and any(isinstance(v, _socket_module.socket) for v in value)


def _kind_transport(family, kind) -> str | None:
    """'TCP' or 'UDP' for an IPv4/IPv6 stream or datagram socket (-1: a family not given yet)."""
    if family not in (_socket_module.AF_INET, _socket_module.AF_INET6, -1):
        return None
    if kind == _socket_module.SOCK_STREAM:
        return "TCP"
    if kind == _socket_module.SOCK_DGRAM:
        return "UDP"
    return None


def _text(name: str, args: tuple, kwargs: dict) -> str:
    if name == "setsockopt" and len(args) >= 2:
        args = (*_option_names(args[0], args[1]), *args[2:])
    if not kwargs:
        return f"{name}({', '.join(map(show, args))})"
    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


class _Name(str):
    """A constant shown by its name (``show`` gives a str's repr, a _Name's text)."""

    def __repr__(self) -> str:
        return str(self)


# The options a course or a library sets, by level (others are shown as numbers).
_OPTIONS = {
    "SOL_SOCKET": ("SO_REUSEADDR", "SO_REUSEPORT", "SO_KEEPALIVE", "SO_BROADCAST", "SO_RCVBUF",
                   "SO_SNDBUF", "SO_LINGER", "SO_RCVTIMEO", "SO_SNDTIMEO", "SO_OOBINLINE",
                   "SO_BINDTODEVICE", "SO_RCVLOWAT", "SO_SNDLOWAT", "SO_PRIORITY", "SO_MARK"),
    "IPPROTO_IP": ("IP_TTL", "IP_TOS", "IP_HDRINCL", "IP_MULTICAST_TTL", "IP_MULTICAST_LOOP",
                   "IP_MULTICAST_IF", "IP_ADD_MEMBERSHIP", "IP_DROP_MEMBERSHIP"),
    "IPPROTO_IPV6": ("IPV6_V6ONLY", "IPV6_UNICAST_HOPS", "IPV6_MULTICAST_HOPS",
                     "IPV6_MULTICAST_LOOP", "IPV6_MULTICAST_IF", "IPV6_JOIN_GROUP",
                     "IPV6_LEAVE_GROUP", "IPV6_TCLASS"),
    "IPPROTO_TCP": ("TCP_NODELAY", "TCP_MAXSEG", "TCP_CORK", "TCP_KEEPIDLE", "TCP_KEEPINTVL",
                    "TCP_KEEPCNT", "TCP_QUICKACK", "TCP_USER_TIMEOUT", "TCP_FASTOPEN",
                    "TCP_CONGESTION"),
}


@functools.lru_cache(maxsize=256)
def _option_names(level, option) -> tuple:
    """setsockopt's level and option by name, as the program wrote them: the socket
    module gives them as plain ints (SOL_SOCKET, SO_REUSEADDR -> 1, 2)."""
    if type(level) is not int or type(option) is not int:
        return level, option
    for level_name, options in _OPTIONS.items():
        if getattr(_socket_module, level_name, None) == level:
            for name in options:
                if getattr(_socket_module, name, None) == option:
                    return _Name(level_name), _Name(name)
            return _Name(level_name), option
    return level, option


def _with_note(call: Call, note: str) -> Call:
    return dataclasses.replace(call, note=note)
