"""Test hosts as Linux network namespaces: the throwaway lab.

A :class:`Lab` is two hosts, ``client`` and ``server``, each a network
namespace, joined by a veth pair (``eth0`` on both sides)::

    client 192.0.2.1/24  2001:db8::1/64  ── veth ──  server 192.0.2.2/24  2001:db8::2/64
           routes 198.51.100.0/24, 2001:db8:ffff::/48    forwarding on, blackhole routes
           via the server                                 for both (the "silent" destination)

Everything uses documentation address ranges (RFC 5737, RFC 3849) and names
under ``.test`` (RFC 6761), so no packet can leave the machine.

The "silent" destination (198.51.100.0/24 and 2001:db8:ffff::/48) drops every
packet without an answer: a ``blackhole`` route discards silently, whereas
``unreachable``/``prohibit`` routes would send ICMP errors back. A SYN sent
there is retransmitted until ``connect()`` times out (RFC 6298 backoff), and a
DNS server there shows the resolver's timeouts and retries.

Only the standard library is used: ``ip`` (iproute2) through subprocess, and
``setns(2)`` through ctypes for :meth:`Host.enter`.

Names are unique per run and share the prefix ``svz-``::

    svz-<owner pid>-<counter>-<random hex>-client

The owner pid (and its start time) is also recorded in a small state file,
``/run/sockviz/<lab id>.json``, written before anything is created and removed
after everything is gone, so :func:`cleanup_stale` can remove what a killed run
left behind (only when its owner is dead: labs of live processes are never
touched). The veth pair is created directly inside the namespaces
(``ip -n A link add eth0 type veth peer name eth0 netns B``), so it never
exists in the root namespace, and deleting a namespace deletes the pair.

Delay and loss (``Lab(delay_ms=..., loss_pct=...)``): this kernel has no netem,
so the lab then gets a third namespace, the *wire* host ``svz-...-wire``,
between the two, with two veth pairs instead of one::

    client eth0 ── c0 [wire] s0 ── eth0 server

The wire has no address and IPv6 off (it sends nothing of its own); a process
there (:mod:`sockviz.lab.wire`) forwards every frame from one end to the other
after the delay (each way: a round trip takes twice ``delay_ms``), dropping
``loss_pct`` percent. Client and server keep their addresses and MACs and still
see each other on-link (ARP and NDP pass through). Forwarded frames must carry
complete checksums, so checksum and segmentation offloads are off on all four
veth ends (SIOCETHTOOL, no ``ethtool`` needed): every packet is one frame of at
most the MTU, as on a real cable. Without delay or loss the lab is the two
hosts above, offloads untouched.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import itertools
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sockviz.lab.errors import LabError
from sockviz.lab.offloads import disable_offloads

if TYPE_CHECKING:
    from sockviz.lab.wire import WireProcess, WireStats

PREFIX = "svz-"
NETNS_DIR = Path("/run/netns")
ETC_NETNS_DIR = Path("/etc/netns")
STATE_DIR = Path("/run/sockviz")

#: The lab's DNS zone and well-known names.
ZONE = "sockviz.test"
CHAT_NAME = "chat.sockviz.test"
CHAT_PORT = 3001

CLIENT_V4, SERVER_V4 = "192.0.2.1", "192.0.2.2"
CLIENT_V6, SERVER_V6 = "2001:db8::1", "2001:db8::2"
V4_PREFIXLEN, V6_PREFIXLEN = 24, 64
#: Locally administered MACs ("svz" = 73:76:7a), fixed so captures are stable.
CLIENT_MAC, SERVER_MAC = "02:73:76:7a:00:01", "02:73:76:7a:00:02"
IFACE = "eth0"
#: The wire host's ends: toward the client, toward the server.
WIRE_CLIENT_END, WIRE_SERVER_END = "c0", "s0"

#: The DNS server runs on the server host.
DNS_V4, DNS_V6 = SERVER_V4, SERVER_V6
#: Destinations that swallow every packet (blackholed on the server).
SILENT_NET_V4, SILENT_NET_V6 = "198.51.100.0/24", "2001:db8:ffff::/48"
SILENT_V4, SILENT_V6 = "198.51.100.1", "2001:db8:ffff::1"

DEFAULT_RESOLV_OPTIONS = ("timeout:1", "attempts:2")

_CLONE_NEWNET = 0x40000000
_NAME_RE = re.compile(r"^svz-(?P<pid>\d+)-(?P<n>\d+)-(?P<rand>[0-9a-f]+)(?:-(?P<role>[a-z]+))?$")
_counter = itertools.count()
_libc: Any = None


def available() -> tuple[bool, str]:
    """Can this process build a lab? Returns ``(ok, reason if not)``."""
    from sockviz.core import phrases

    if os.geteuid() != 0:
        return False, phrases.lab_needs_root_short()
    if shutil.which("ip") is None:
        return False, phrases.lab_needs_ip()
    if not Path("/proc/thread-self/ns/net").exists():
        return False, phrases.lab_needs_netns()
    return True, ""


# --------------------------------------------------------------------------- helpers


def _ip(*args: str, input: str | None = None, check: bool = True) -> str:
    """Run ``ip ARGS`` and return stdout; raise LabError on failure.

    Interrupted (Ctrl-C, or SIGTERM with ``handle_signals``), it still lets ``ip``
    finish before re-raising: killed half-way, or left running while
    :meth:`Lab.down` looks, it could make a namespace after the teardown
    checked for it, and leave it behind.
    """
    stdin = subprocess.PIPE if input is not None else subprocess.DEVNULL
    with subprocess.Popen(["ip", *args], stdin=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:  # fmt: skip
        try:
            out, err = proc.communicate(input, timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise LabError(f"ip {' '.join(args)}: no answer in 30 s") from None
        except BaseException:
            with contextlib.suppress(Exception):
                proc.communicate(timeout=10)
            raise
    if check and proc.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {err.strip() or proc.returncode}")
    return out


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _proc_start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (field 22 of /proc/PID/stat).

    None when there is no such process, or only its corpse: a killed owner
    stays a zombie until its parent reaps it, and must count as dead.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces: split after its ")".
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):  # zombie or dead (field 3, the state)
        return None
    return int(fields[19])


def _owner_alive(pid: int, start: int | None) -> bool:
    now = _proc_start_time(pid)
    if now is None:
        return False
    return start is None or now == start


def _write_sysctls(values: Mapping[str, str]) -> None:
    """Write /proc/sys entries of the *current thread's* network namespace."""
    for key, value in values.items():
        Path("/proc/sys", key.replace(".", "/")).write_text(value)


INTERACTIVE_GRACE = 8.0  # s: how long a command of lab run or lab shell may take to end


def _kill_group(proc: subprocess.Popen[Any], grace: float = 2.0) -> None:
    """Terminate a child started with its own session, and its whole process group."""
    if proc.poll() is not None:
        return
    try:
        own_group = os.getpgid(proc.pid) == proc.pid
    except ProcessLookupError:
        return

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if own_group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)

    send(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)


def _kill_netns_pids(name: str) -> None:
    """Kill every process still living in namespace ``name`` (except ourselves)."""
    out = _ip("netns", "pids", name, check=False)
    pids = [int(p) for p in out.split() if p.isdigit() and int(p) != os.getpid()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
                alive.append(pid)
        deadline = time.monotonic() + 1.0
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if _proc_start_time(p) is not None]
            time.sleep(0.02)
        pids = alive
        if not pids:
            return


def _remove_netns(name: str) -> None:
    if (NETNS_DIR / name).exists():
        _kill_netns_pids(name)
        _ip("netns", "del", name, check=False)
    shutil.rmtree(ETC_NETNS_DIR / name, ignore_errors=True)


# --------------------------------------------------------------------------- hosts


@dataclass(eq=False)
class Host:
    """One test host: a network namespace with one interface.

    ``name`` is the namespace (as in ``ip netns list``), ``iface`` the interface
    inside it, ``ipv4``/``ipv6`` its addresses (no prefix length), ``mac`` its
    Ethernet address.
    """

    name: str
    role: str
    iface: str
    ipv4: str
    ipv6: str
    mac: str
    _procs: list[subprocess.Popen[Any]] = field(default_factory=list, repr=False)

    @property
    def netns_path(self) -> Path:
        return NETNS_DIR / self.name

    @property
    def etc_dir(self) -> Path:
        """``/etc/netns/NAME``: files here replace ``/etc/FILE`` under ``ip netns exec``."""
        return ETC_NETNS_DIR / self.name

    def argv(self, argv: Sequence[str]) -> list[str]:
        """The command line that runs ``argv`` on this host."""
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv: Sequence[str], **popen_kwargs: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` on this host with ``ip netns exec`` and return the Popen.

        ``ip netns exec`` also bind-mounts ``/etc/netns/NAME/*`` over ``/etc``,
        so the child's resolver reads this host's resolv.conf and hosts. The child
        gets its own session (process group) unless told otherwise; the lab
        kills that group when it goes down.
        """
        popen_kwargs.setdefault("start_new_session", True)
        proc = subprocess.Popen(self.argv(argv), **popen_kwargs)
        self._procs.append(proc)
        return proc

    def call(
        self, argv: Sequence[str], *, timeout: float = 30.0, **run_kwargs: Any
    ) -> subprocess.CompletedProcess[Any]:
        """Run ``argv`` on this host to completion (``subprocess.run`` semantics)."""
        run_kwargs.setdefault("start_new_session", True)
        return subprocess.run(self.argv(argv), timeout=timeout, check=False, **run_kwargs)

    def interactive(self, argv: Sequence[str], *, env: Mapping[str, str],
                    **run_kwargs: Any) -> int:
        """Run an interactive command on this host, in the foreground of the current
        terminal, with the environment ``env`` (the caller's: the lab reads none),
        and return its exit status.

        Unlike :meth:`run`, the child stays in our session and process group so
        it owns the terminal (job control, Ctrl-C). Like ``system(3)``, we
        ignore SIGINT and SIGQUIT while waiting, so a Ctrl-C typed in the shell
        does not take the lab down under it.
        """
        # Started before we ignore them: an ignored signal stays ignored across exec
        # (signal(7)), and subprocess's restore_signals gives back SIGPIPE, SIGXFZ and
        # SIGXFSZ only, so a child started after would never see its Ctrl-C.
        proc = subprocess.Popen(self.argv(argv), env=env, **run_kwargs)
        in_main = threading.current_thread() is threading.main_thread()
        saved = {}
        try:
            if in_main:
                for sig in (signal.SIGINT, signal.SIGQUIT):
                    saved[sig] = signal.signal(sig, signal.SIG_IGN)
            return proc.wait()
        except BaseException:  # SIGTERM (the lab's handler), or a Ctrl-C before we ignored it
            # The command goes too, given the time to end cleanly: a Jupyter server asks
            # its kernels to shut down (5 s at most, jupyter_client's shutdown_wait_time),
            # and a kernel's sockviz then completes its capture file.
            proc.terminate()
            try:
                proc.wait(timeout=INTERACTIVE_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)

    @contextlib.contextmanager
    def enter(self) -> Iterator[Host]:
        """Move the *current thread* into this host's network namespace.

        Sockets created inside the block belong to the namespace and stay
        there after the block. On exit the thread goes back to the namespace it
        was in. Only the network namespace changes: glibc in this process still
        reads the root ``/etc/resolv.conf`` and ``/etc/hosts`` (use :meth:`run`
        for name resolution as the host sees it).
        """
        orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            target = os.open(self.netns_path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _setns(target)
            finally:
                os.close(target)
            try:
                yield self
            finally:
                _setns(orig)
        finally:
            os.close(orig)

    def write_resolv_conf(
        self,
        nameservers: Iterable[str],
        options: Iterable[str] = DEFAULT_RESOLV_OPTIONS,
        search: Iterable[str] = (),
    ) -> Path:
        """Write this host's resolv.conf (``ip netns exec`` mounts it on /etc)."""
        lines = ["# sockviz lab: written by sockviz.lab.netns"]
        lines += [f"nameserver {ns}" for ns in nameservers]
        search = list(search)
        if search:
            lines.append("search " + " ".join(search))
        options = list(options)
        if options:
            lines.append("options " + " ".join(options))
        return self._write_etc("resolv.conf", "\n".join(lines) + "\n")

    def write_hosts(self, entries: Mapping[str, Iterable[str] | str] = ()) -> Path:
        """Write this host's hosts file: the usual localhost lines, then ``entries``
        (address -> name or names)."""
        lines = [
            "# sockviz lab: written by sockviz.lab.netns",
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
        ]
        for addr, names in dict(entries).items():
            names = [names] if isinstance(names, str) else list(names)
            lines.append(f"{addr}\t{' '.join(names)}")
        return self._write_etc("hosts", "\n".join(lines) + "\n")

    def _write_etc(self, filename: str, text: str) -> Path:
        self.etc_dir.mkdir(parents=True, exist_ok=True)
        path = self.etc_dir / filename
        tmp = path.with_name(f".{filename}.tmp")
        tmp.write_text(text)
        tmp.chmod(0o644)
        tmp.replace(path)
        return path

    def stop_processes(self) -> None:
        """Stop every process started with :meth:`run` (its whole process group)."""
        while self._procs:
            _kill_group(self._procs.pop())


# --------------------------------------------------------------------------- the lab


class Lab:
    """Two hosts joined by a veth pair, plus a silent destination.

    Use it as a context manager (``with Lab() as lab:``) or call :meth:`up` and
    :meth:`down`. :meth:`down` is idempotent and runs on exit from the ``with``
    block (also on exceptions and KeyboardInterrupt) and at interpreter exit
    (``atexit``). With ``handle_signals=True`` (main thread only) a SIGTERM or
    SIGHUP raises ``SystemExit(128 + signum)`` so the stack unwinds and the lab
    is torn down; the previous handlers come back at :meth:`down`.

    ``dns=True`` / ``chat=True`` start the lab's DNS server and chat server on
    the server host during :meth:`up` (see :meth:`start_dns`, :meth:`start_chat`).

    ``delay_ms`` (one way, so a round trip takes twice as long) and ``loss_pct``
    (percent of frames dropped, each direction) put the wire host :attr:`wire`
    between client and server (see the module docstring); ``seed`` fixes the
    random loss. Either may then change with :meth:`set_link`, and
    :meth:`wire_stats` tells what the wire forwarded and dropped. With both 0
    (the default) there is no wire: the two hosts share one veth pair.
    """

    def __init__(
        self,
        *,
        dns: bool = False,
        chat: bool = False,
        chat_port: int = CHAT_PORT,
        zone: Any = None,  # dnsserver.ZoneData or a Zone; None: the lab's own names
        handle_signals: bool = False,
        clean_stale: bool = True,
        delay_ms: float = 0,
        loss_pct: float = 0,
        seed: int | None = None,
    ) -> None:
        if not (math.isfinite(delay_ms) and delay_ms >= 0):
            raise ValueError(f"delay_ms must be a finite number >= 0, not {delay_ms!r}")
        if not (math.isfinite(loss_pct) and 0 <= loss_pct <= 100):
            raise ValueError(f"loss_pct must be between 0 and 100, not {loss_pct!r}")
        self.lab_id = f"{PREFIX}{os.getpid()}-{next(_counter)}-{secrets.token_hex(3)}"
        self.client = Host(
            f"{self.lab_id}-client", "client", IFACE, CLIENT_V4, CLIENT_V6, CLIENT_MAC
        )
        self.server = Host(
            f"{self.lab_id}-server", "server", IFACE, SERVER_V4, SERVER_V6, SERVER_MAC
        )
        self.delay_ms, self.loss_pct, self.seed = float(delay_ms), float(loss_pct), seed
        #: The wire host, or None for a plain cable. It has no address (``ipv4``,
        #: ``ipv6`` and ``mac`` are empty); ``iface`` is its end toward the client.
        self.wire: Host | None = None
        if delay_ms or loss_pct:
            self.wire = Host(f"{self.lab_id}-wire", "wire", WIRE_CLIENT_END, "", "", "")
        self._wire_proc: WireProcess | None = None  # once up
        self.silent_v4, self.silent_v6 = SILENT_V4, SILENT_V6
        self.chat_port = chat_port
        self._want_dns, self._want_chat, self._zone = dns, chat, zone
        self._handle_signals = handle_signals
        self._clean_stale = clean_stale
        self._services: list[Any] = []
        self._old_handlers: dict[int, Any] = {}
        self._lock = threading.RLock()
        self._state = "new"  # new -> up -> down

    # -- properties

    @property
    def hosts(self) -> tuple[Host, Host]:
        """The client and the server (not the wire)."""
        return (self.client, self.server)

    @property
    def all_hosts(self) -> tuple[Host, ...]:
        """Every namespace of the lab: the hosts, and the wire if there is one."""
        return self.hosts if self.wire is None else (*self.hosts, self.wire)

    @property
    def state_file(self) -> Path:
        return STATE_DIR / f"{self.lab_id}.json"

    # -- context manager

    def __enter__(self) -> Lab:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    # -- up

    def up(self) -> Lab:
        """Build the hosts; on any failure (or interruption) tear down and re-raise."""
        with self._lock:
            if self._state != "new":
                raise LabError(f"lab {self.lab_id} is already {self._state}")
            ok, why = available()
            if not ok:
                raise LabError(why)
            self._state = "up"
            atexit.register(self.down)
            try:
                if self._handle_signals:
                    self._install_signal_handlers()
                if self._clean_stale:
                    cleanup_stale()
                self._write_state()
                self._build()
                if self._want_dns:
                    self.start_dns(self._zone)
                if self._want_chat:
                    self.start_chat(self.chat_port)
            except BaseException:
                self.down()
                raise
        return self

    def _write_state(self) -> None:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        state = {
            "pid": os.getpid(),
            "start": _proc_start_time(os.getpid()),
            "netns": [h.name for h in self.all_hosts],
        }
        self.state_file.write_text(json.dumps(state) + "\n")

    def _build(self) -> None:
        c, s, w = self.client, self.server, self.wire
        for host in self.all_hosts:
            _ip("netns", "add", host.name)
        # Created directly inside the namespaces: the pairs never show in the root one.
        if w is None:
            _ip("-n", c.name, "link", "add", IFACE, "address", c.mac, "type", "veth",
                "peer", "name", IFACE, "address", s.mac, "netns", s.name)  # fmt: skip
        else:
            with w.enter():
                # No IPv6 on the wire's ends (set before they exist): no link-local
                # address, no MLD or NDP of its own. With no IPv4 address either,
                # the wire never sends a frame: it only forwards.
                _write_sysctls({"net.ipv6.conf.all.disable_ipv6": "1",
                                "net.ipv6.conf.default.disable_ipv6": "1"})  # fmt: skip
            for host, end in ((c, WIRE_CLIENT_END), (s, WIRE_SERVER_END)):
                _ip("-n", host.name, "link", "add", IFACE, "address", host.mac, "type", "veth",
                    "peer", "name", end, "netns", w.name)  # fmt: skip
            for host, iface in ((c, IFACE), (s, IFACE), (w, WIRE_CLIENT_END), (w, WIRE_SERVER_END)):
                disable_offloads(host, iface)
            script = ["link set lo up"] + [
                f"link set {end} promisc on up" for end in (WIRE_CLIENT_END, WIRE_SERVER_END)
            ]
            _ip("-n", w.name, "-batch", "-", input="\n".join(script) + "\n")
        quiet = {
            # No DAD: addresses usable at once (and no DAD probes in captures).
            f"net.ipv6.conf.{IFACE}.accept_dad": "0",
            # No router solicitations / RAs: no stray ICMPv6 in the lessons' captures.
            f"net.ipv6.conf.{IFACE}.router_solicitations": "0",
            f"net.ipv6.conf.{IFACE}.accept_ra": "0",
            # MLD reports for the solicited-node groups are unavoidable, but sent at
            # once (retransmits in 1 ms, not up to 1 s later), before any lesson starts.
            f"net.ipv6.conf.{IFACE}.mldv1_unsolicited_report_interval": "1",
            f"net.ipv6.conf.{IFACE}.mldv2_unsolicited_report_interval": "1",
        }
        with c.enter():
            _write_sysctls(quiet)
        with s.enter():
            _write_sysctls(quiet)
            # The server forwards toward the silent nets, where blackhole routes drop.
            _write_sysctls({"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1"})
        for host in self.hosts:
            script = [
                "link set lo up",
                f"link set {IFACE} up",
                f"addr add {host.ipv4}/{V4_PREFIXLEN} dev {IFACE}",
                f"addr add {host.ipv6}/{V6_PREFIXLEN} dev {IFACE} nodad",
            ]
            if host is c:
                script += [
                    f"route add {SILENT_NET_V4} via {SERVER_V4} dev {IFACE}",
                    f"route add {SILENT_NET_V6} via {SERVER_V6} dev {IFACE}",
                ]
            else:
                # blackhole: discard silently (unreachable/prohibit would send ICMP).
                script += [
                    f"route add blackhole {SILENT_NET_V4}",
                    f"route add blackhole {SILENT_NET_V6}",
                ]
            _ip("-n", host.name, "-batch", "-", input="\n".join(script) + "\n")
        # Let the link-up chatter (the MLD reports above) go out before anyone sniffs.
        time.sleep(0.05)
        if w is not None:
            # Started after that chatter, which the wire's ends swallow (a long delay
            # would otherwise bring it into the first lesson's capture).
            from sockviz.lab.wire import WireProcess

            self._wire_proc = WireProcess.start(
                w, WIRE_CLIENT_END, WIRE_SERVER_END,
                delay_ms=self.delay_ms, loss_pct=self.loss_pct, seed=self.seed,
            )  # fmt: skip
        c.write_resolv_conf([DNS_V4])
        # Only the localhost lines: every lab name goes to DNS (add entries with
        # write_hosts to show a name that resolves without any packet).
        c.write_hosts()
        s.write_resolv_conf([DNS_V4])
        s.write_hosts()

    # -- services

    def start_dns(self, zone: Any = None) -> Any:
        """Start the lab DNS server (UDP+TCP port 53) on the server host, in a thread."""
        from sockviz.lab import dnsserver

        handle = dnsserver.run_in_thread([DNS_V4, DNS_V6], 53, zone=zone, netns_host=self.server)
        self._services.append(handle)
        return handle

    def start_chat(self, port: int = CHAT_PORT, host: str = "::") -> Any:
        """Start the chat server (TCP+UDP ``port``) on the server host, in a thread."""
        from sockviz.lab import chatserver

        handle = chatserver.run_in_thread(host, port, netns_host=self.server)
        self._services.append(handle)
        return handle

    # -- the wire

    @property
    def wire_pid(self) -> int | None:
        """The wire process's pid (None without a wire)."""
        return self._wire_proc.pid if self._wire_proc is not None else None

    def set_link(self, delay_ms: float | None = None, loss_pct: float | None = None) -> None:
        """Change the wire's delay (one way, ms) and loss (percent); None keeps one.

        Applies to the frames arriving from then on. Needs a lab built with a wire
        (a ``delay_ms`` or ``loss_pct`` at construction).
        """
        with self._lock:
            if self._wire_proc is None or self._state != "up":
                raise LabError("no wire: build the lab with delay_ms or loss_pct, and up()")
            delay = self.delay_ms if delay_ms is None else float(delay_ms)
            loss = self.loss_pct if loss_pct is None else float(loss_pct)
            self._wire_proc.set_link(delay, loss)
            self.delay_ms, self.loss_pct = delay, loss

    def wire_stats(self, timeout: float = 5.0) -> WireStats | None:
        """What the wire has forwarded and dropped, each way: a
        :class:`sockviz.lab.wire.WireStats` (after :meth:`down`, its last report),
        or None without a wire."""
        if self._wire_proc is None:
            return None
        return self._wire_proc.stats(timeout)

    # -- down

    def down(self) -> None:
        """Stop services and processes, remove namespaces, /etc/netns folders and
        the state file. Idempotent; never raises for what is already gone."""
        with self._lock:
            if self._state == "down":
                return
            self._state = "down"
            try:
                while self._services:
                    with contextlib.suppress(Exception):
                        self._services.pop().stop()
                if self._wire_proc is not None:
                    with contextlib.suppress(Exception):
                        self._wire_proc.stop()
                for host in self.all_hosts:
                    host.stop_processes()
                for host in self.all_hosts:
                    _remove_netns(host.name)
                self.state_file.unlink(missing_ok=True)
            finally:
                atexit.unregister(self.down)
                self._restore_signal_handlers()

    # -- signals

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise LabError("handle_signals=True needs the main thread (Python signal handlers)")

        def handler(signum: int, frame: object) -> None:
            if self._state != "up":
                return  # already tearing down: let it finish
            raise SystemExit(128 + signum)

        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, handler)

    def _restore_signal_handlers(self) -> None:
        while self._old_handlers:
            sig, old = self._old_handlers.popitem()
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, old)


# --------------------------------------------------------------------------- stale labs


def _stale_names() -> list[str]:
    """Namespace names with our prefix whose owning process is gone."""
    owners: dict[str, tuple[int, int | None]] = {}
    if STATE_DIR.is_dir():
        for path in STATE_DIR.glob(f"{PREFIX}*.json"):
            try:
                state = json.loads(path.read_text())
                pid, start = int(state["pid"]), state.get("start")
            except (OSError, ValueError, KeyError, TypeError):
                continue
            for name in state.get("netns", []):
                owners[name] = (pid, start)
    names: set[str] = set()
    for d in (NETNS_DIR, ETC_NETNS_DIR):
        if d.is_dir():
            names.update(p.name for p in d.iterdir() if p.name.startswith(PREFIX))
    stale = []
    for name in sorted(names):
        if name in owners:
            pid, start = owners[name]
        else:
            m = _NAME_RE.match(name)
            if m is None:
                continue  # not one of ours
            pid, start = int(m["pid"]), None
        if not _owner_alive(pid, start):
            stale.append(name)
    return stale


def cleanup_stale() -> list[str]:
    """Remove namespaces, /etc/netns folders and state files left by dead runs.

    A lab belongs to the process recorded in its state file (pid and start
    time) or, failing that, named in its namespace name; labs whose owner is
    alive are left alone. Returns the namespace names removed.
    """
    removed = _stale_names()
    for name in removed:
        _remove_netns(name)
    if STATE_DIR.is_dir():
        for path in STATE_DIR.glob(f"{PREFIX}*.json"):
            try:
                state = json.loads(path.read_text())
                alive = _owner_alive(int(state["pid"]), state.get("start"))
            except (OSError, ValueError, KeyError, TypeError):
                alive = False
            if not alive:
                with contextlib.suppress(OSError):
                    path.unlink()
    # No veth to chase: the pair only ever lives inside the namespaces and dies
    # with them (see the module docstring).
    return removed


__all__ = [
    "CHAT_NAME",
    "CHAT_PORT",
    "ZONE",
    "Host",
    "Lab",
    "LabError",
    "available",
    "cleanup_stale",
]
