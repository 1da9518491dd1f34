"""The lab: namespaces (root), the DNS server (unit + in the lab), the chat server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sockviz.core.resolver_files import reverse_name
from sockviz.lab import chatserver, dnsserver, netns
from sockviz.lab.dnsserver import (
    AAAA,
    CNAME,
    FORMERR,
    NOERROR,
    NOTIMP,
    NXDOMAIN,
    OPT,
    PTR,
    REFUSED,
    SOA,
    A,
    DNSFormatError,
    Message,
    Question,
    ResourceRecord,
    Zone,
    build_message,
    decode_name,
    encode_name,
    handle_query,
    parse_message,
)

SRC = str(Path(__file__).resolve().parents[1] / "src")
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])),
}


def query(name: str, qtype: int, ident: int = 0x1234, **kw) -> bytes:
    return build_message(
        Message(id=ident, rd=True, questions=(Question(name=name, qtype=qtype),), **kw)
    )


def ask(name: str, qtype: int, zone: Zone | None = None) -> Message:
    wire = handle_query(query(name, qtype), zone or Zone())
    assert wire is not None
    return parse_message(wire)


# --------------------------------------------------------------------------- DNS units (no root)


def test_name_roundtrip_and_compression() -> None:
    buf = bytearray(b"\x00" * 12)
    table: dict = {}
    encode_name("chat.sockviz.test", buf, table)
    start = len(buf)
    encode_name("www.SOCKVIZ.test", buf, table)
    # "www" then a pointer to "sockviz.test" at offset 12 + len("\x04chat") = 17
    assert bytes(buf[start:]) == b"\x03www\xc0\x11"
    assert decode_name(bytes(buf), 12) == ("chat.sockviz.test", start)
    assert decode_name(bytes(buf), start) == ("www.sockviz.test", len(buf))
    assert encode_name("") == b"\x00"


@pytest.mark.parametrize(
    "wire",
    [
        b"\xc0\x00",  # points at itself
        b"\x03abc\xc0\x05",  # points forward
        b"\x05ab",  # label runs past the end
        b"\x80",  # reserved label type
        b"\x3f"
        + b"a" * 63
        + b"\x3f"
        + b"a" * 63
        + b"\x3f"
        + b"a" * 63
        + b"\x3f"
        + b"a" * 63
        + b"\x00",
    ],
)
def test_decode_name_rejects_malformed(wire: bytes) -> None:
    with pytest.raises(DNSFormatError):
        decode_name(wire, 0)


@pytest.mark.parametrize(
    ("name", "qtype", "rcode", "answers"),
    [
        ("chat.sockviz.test", A, NOERROR, [(A, "192.0.2.2")]),
        ("chat.sockviz.test", AAAA, NOERROR, [(AAAA, "2001:db8::2")]),
        ("CHAT.Sockviz.TEST", A, NOERROR, [(A, "192.0.2.2")]),
        ("client.sockviz.test", AAAA, NOERROR, [(AAAA, "2001:db8::1")]),
        ("www.sockviz.test", A, NOERROR, [(CNAME, "chat.sockviz.test"), (A, "192.0.2.2")]),
        ("www.sockviz.test", CNAME, NOERROR, [(CNAME, "chat.sockviz.test")]),
        ("v4only.sockviz.test", AAAA, NOERROR, []),
        ("nope.sockviz.test", A, NXDOMAIN, []),
        ("2.2.0.192.in-addr.arpa", PTR, NOERROR, [(PTR, "chat.sockviz.test")]),
        ("1.2.0.192.in-addr.arpa", PTR, NOERROR, [(PTR, "client.sockviz.test")]),
        (reverse_name("2001:db8::2").rstrip("."), PTR, NOERROR, [(PTR, "chat.sockviz.test")]),
        (reverse_name("2001:db8::1").rstrip("."), PTR, NOERROR, [(PTR, "client.sockviz.test")]),
        ("99.2.0.192.in-addr.arpa", PTR, NXDOMAIN, []),
        ("sockviz.test", SOA, NOERROR, [(SOA, None)]),
        ("example.com", A, REFUSED, []),
        ("1.100.51.198.in-addr.arpa", PTR, REFUSED, []),
    ],
)
def test_zone_answers(name: str, qtype: int, rcode: int, answers: list) -> None:
    msg = ask(name, qtype)
    assert msg.qr and msg.id == 0x1234 and msg.rd and not msg.ra
    assert msg.questions == (Question(name=name, qtype=qtype),)
    assert msg.rcode == rcode
    assert msg.aa == (rcode != REFUSED)
    got = [(rr.rtype, rr.data if rr.rtype != SOA else None) for rr in msg.answers]
    assert got == answers
    assert all(rr.ttl == 300 for rr in msg.answers + msg.authority)
    negative = rcode == NXDOMAIN or (rcode == NOERROR and not answers)
    # RFC 2308: negative answers carry the zone's SOA in the authority section.
    assert [rr.rtype for rr in msg.authority] == ([SOA] if negative else [])


def test_empty_non_terminal_is_nodata() -> None:
    # RFC 8020: a name with descendants exists, even without records of its own.
    name = reverse_name("2001:db8::2").rstrip(".").split(".", 8)[-1]
    msg = ask(name, PTR)
    assert (msg.rcode, msg.answers) == (NOERROR, ())


def test_cross_check_with_scapy() -> None:
    from scapy.layers.dns import DNS, DNSQR

    q = bytes(DNS(id=77, rd=1, qd=[DNSQR(qname="www.sockviz.test", qtype="A")]))
    wire = handle_query(q, Zone())
    assert wire is not None
    r = DNS(wire)
    assert (r.id, r.qr, r.aa, r.rcode, r.ancount) == (77, 1, 1, 0, 2)
    rrs = [r.an[i] for i in range(r.ancount)]
    assert rrs[0].type == 5 and rrs[0].rdata == b"chat.sockviz.test."
    assert rrs[1].type == 1 and rrs[1].rdata == "192.0.2.2" and rrs[1].ttl == 300
    # And NXDOMAIN with an SOA that scapy decodes field by field.
    r = DNS(handle_query(bytes(DNS(id=5, qd=[DNSQR(qname="x.sockviz.test")])), Zone()))
    assert r.rcode == 3 and r.ns[0].type == 6 and r.ns[0].mname == b"ns.sockviz.test."


def test_multiple_and_no_questions_are_formerr() -> None:
    two = build_message(
        Message(id=9, questions=(Question(name="chat.sockviz.test", qtype=A),
                                 Question(name="chat.sockviz.test", qtype=AAAA)))
    )  # fmt: skip
    msg = parse_message(handle_query(two, Zone()))
    assert (msg.id, msg.rcode, len(msg.questions), msg.answers) == (9, FORMERR, 2, ())
    msg = parse_message(handle_query(build_message(Message(id=10)), Zone()))
    assert (msg.id, msg.rcode) == (10, FORMERR)


def test_garbage_is_ignored_or_formerr() -> None:
    zone = Zone()
    assert handle_query(b"", zone) is None
    assert handle_query(b"\x01\x02\x03", zone) is None
    response = struct.pack("!HHHHHH", 1, 0x8400, 0, 0, 0, 0)
    assert handle_query(response, zone) is None  # never answer a response
    bad = struct.pack("!HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0) + b"\x05ab"
    msg = parse_message(handle_query(bad, zone))
    assert (msg.id, msg.qr, msg.rcode, msg.rd) == (0xBEEF, True, FORMERR, True)
    notify = struct.pack("!HHHHHH", 3, 4 << 11, 0, 0, 0, 0)
    assert parse_message(handle_query(notify, zone)).rcode == NOTIMP


def test_edns_and_truncation() -> None:
    opt = ResourceRecord(name="", rtype=OPT, rclass=4096, ttl=0, data=b"")
    msg = parse_message(handle_query(query("chat.sockviz.test", A, additional=(opt,)), Zone()))
    assert msg.edns is not None and msg.edns.rclass == dnsserver.EDNS_MAX
    big = Zone({"big.sockviz.test": {"A": [f"192.0.2.{i}" for i in range(1, 60)]}})
    udp = parse_message(handle_query(query("big.sockviz.test", A), big, udp=True))
    assert udp.tc and udp.answers == ()
    tcp = parse_message(handle_query(query("big.sockviz.test", A), big, udp=False))
    assert not tcp.tc and len(tcp.answers) == 59


def test_dns_server_on_loopback_udp_and_tcp() -> None:
    handle = dnsserver.run_in_thread(["127.0.0.1"], 0)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            s.sendto(query("chat.sockviz.test", AAAA, ident=4242), ("127.0.0.1", handle.port))
            msg = parse_message(s.recv(4096))
        assert msg.id == 4242 and [rr.data for rr in msg.answers] == ["2001:db8::2"]
        with socket.create_connection(("127.0.0.1", handle.port), timeout=2) as s:
            for ident in (1, 2):  # two queries on one connection (RFC 7766)
                q = query("www.sockviz.test", A, ident=ident)
                s.sendall(struct.pack("!H", len(q)) + q)
                (length,) = struct.unpack("!H", _recv_exactly(s, 2))
                msg = parse_message(_recv_exactly(s, length))
                assert msg.id == ident and len(msg.answers) == 2
    finally:
        handle.stop()
    assert not handle.running


def _recv_exactly(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        assert chunk, "connection closed early"
        data += chunk
    return data


def test_chat_server_on_loopback_without_root() -> None:
    log: list[str] = []
    handle = chatserver.run_in_thread("127.0.0.1", 0, log=log.append)
    try:
        with socket.create_connection(("127.0.0.1", handle.port), timeout=2) as s:
            s.sendall(b"hello\n")
            assert _recv_exactly(s, 6) == b"hello\n"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(2)
            u.sendto(b"ping", ("127.0.0.1", handle.port))
            assert u.recvfrom(100) == (b"ping", ("127.0.0.1", handle.port))
    finally:
        handle.stop()


# --------------------------------------------------------------------------- namespaces (root)


def _snapshot() -> dict[str, set[str]]:
    def run(*argv: str) -> set[str]:
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        return {line.split()[0].rstrip(":") if argv[1] == "netns" else line.split(":")[1].strip()
                for line in out.splitlines() if line.strip()}  # fmt: skip

    mine = f"{netns.PREFIX}{os.getpid()}-"

    def listdir(p: Path) -> set[str]:
        return {x.name for x in p.iterdir()} if p.is_dir() else set()

    snap = {
        "netns": run("ip", "netns", "list"),
        "veth": run("ip", "-o", "link", "show", "type", "veth"),
        "etc": listdir(netns.ETC_NETNS_DIR),
        "state": listdir(netns.STATE_DIR),
    }
    # Other people's labs may come and go meanwhile: compare ours only.
    return {
        k: {n for n in v if n.startswith(mine if k != "veth" else "svz")} for k, v in snap.items()
    }


@pytest.mark.netns
def test_lab_up_down_leaves_nothing(require_lab: None) -> None:
    before = _snapshot()
    with netns.Lab() as lab:
        during = _snapshot()
        names = {h.name for h in lab.hosts}
        assert names <= during["netns"] and names <= during["etc"]
        assert f"{lab.lab_id}.json" in during["state"]
        assert during["veth"] == before["veth"]  # the pair lives only inside the namespaces
        out = subprocess.run(["ip", "-n", lab.client.name, "-o", "link", "show", "eth0"],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert lab.client.mac in out
        resolv = (lab.client.etc_dir / "resolv.conf").read_text()
        assert "nameserver 192.0.2.2" in resolv and "options timeout:1 attempts:2" in resolv
        assert "search" not in resolv
    assert _snapshot() == before
    lab.down()  # idempotent


@pytest.mark.netns
@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_lab_torn_down_when_body_raises(require_lab: None, exc: type[BaseException]) -> None:
    before = _snapshot()
    with pytest.raises(exc), netns.Lab() as lab:
        proc = lab.server.run(["sleep", "60"])
        raise exc("boom")
    assert _snapshot() == before
    assert proc.poll() is not None  # processes started with host.run are stopped


@pytest.mark.netns
def test_sigterm_tears_down_and_cleanup_stale_after_sigkill(bare_lab: netns.Lab) -> None:
    script = (
        "import sys, time\n"
        "from sockviz.lab.netns import Lab\n"
        "lab = Lab(handle_signals=True).up()\n"
        "print(lab.client.name, lab.server.name, flush=True)\n"
        "time.sleep(30)\n"
    )
    for sig in (signal.SIGTERM, signal.SIGKILL):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                text=True, env=ENV)  # fmt: skip
        try:
            names = proc.stdout.readline().split()
            assert len(names) == 2
            assert set(names) <= _all_netns()
            proc.send_signal(sig)
            assert proc.wait(timeout=10) == (128 + sig if sig == signal.SIGTERM else -sig)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
        if sig == signal.SIGTERM:
            assert not set(names) & _all_netns()
        else:
            # Killed outright: the leftovers stay until a later run cleans them,
            # and that cleanup leaves live labs (ours) alone.
            assert set(names) <= _all_netns()
            assert set(names) <= set(netns.cleanup_stale())
            assert not set(names) & _all_netns()
            assert not any((netns.ETC_NETNS_DIR / n).exists() for n in names)
            assert {h.name for h in bare_lab.hosts} <= _all_netns()


@pytest.mark.netns
def test_cleanup_stale_counts_an_unreaped_owner_as_dead(require_lab) -> None:
    """A killed owner stays a zombie until its parent reaps it: its lab is still stale."""
    script = (
        "import time\n"
        "from sockviz.lab.netns import Lab\n"
        "lab = Lab().up()\n"
        "print(lab.client.name, lab.server.name, flush=True)\n"
        "time.sleep(30)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env=ENV)  # fmt: skip
    try:
        names = proc.stdout.readline().split()
        proc.kill()
        deadline = time.monotonic() + 5  # wait for the zombie, without reaping it
        while Path(f"/proc/{proc.pid}/stat").read_text().split(")")[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert set(names) <= set(netns.cleanup_stale())
        assert not set(names) & _all_netns()
    finally:
        proc.kill()
        proc.wait(5)
        proc.stdout.close()
        netns.cleanup_stale()


def _all_netns() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _ns_inode() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


@pytest.mark.netns
@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
def test_tcp_connect_between_hosts(bare_lab: netns.Lab, family: socket.AddressFamily) -> None:
    client, server = bare_lab.client, bare_lab.server
    v6 = family == socket.AF_INET6
    home = _ns_inode()
    with server.enter():
        listener = socket.socket(family, socket.SOCK_STREAM)
    assert _ns_inode() == home  # back where we were
    try:
        listener.bind((server.ipv6 if v6 else server.ipv4, 5000))
        listener.listen()
        listener.settimeout(3)

        def connect() -> tuple:
            with client.enter(), socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(3)
                s.connect((server.ipv6 if v6 else server.ipv4, 5000))
                s.sendall(b"hi")
                return s.getsockname()[0], s.recv(2)

        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(connect)
            conn, peer = listener.accept()
            with conn:
                assert conn.recv(2) == b"hi"
                conn.sendall(b"ok")
                assert future.result(timeout=3) == (client.ipv6 if v6 else client.ipv4, b"ok")
        assert peer[0] == (client.ipv6 if v6 else client.ipv4)
    finally:
        listener.close()


@pytest.mark.netns
def test_silent_destination_swallows_syns(bare_lab: netns.Lab) -> None:
    client = bare_lab.client
    with client.enter():
        sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    try:
        sniffer.bind((client.iface, 0))
        sniffer.setblocking(False)

        def connect(address: str) -> float:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            with client.enter(), socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(1.5)
                t0 = time.monotonic()
                with pytest.raises(TimeoutError):  # no RST, no ICMP error: just nothing
                    s.connect((address, 80))
                return time.monotonic() - t0

        with ThreadPoolExecutor(2) as pool:
            waits = list(pool.map(connect, [bare_lab.silent_v4, bare_lab.silent_v6]))
        assert all(w >= 1.4 for w in waits)
        syns = incoming = 0
        while True:
            try:
                frame, addr = sniffer.recvfrom(65535)
            except BlockingIOError:
                break
            ethertype = frame[12:14]
            proto = (
                frame[23]
                if ethertype == b"\x08\x00"
                else frame[20]
                if ethertype == b"\x86\xdd"
                else None
            )
            is_error_icmp6 = proto == 58 and frame[54] < 128
            if addr[2] == socket.PACKET_OUTGOING and proto == 6:
                syns += 1
            elif proto in (6, 1) or is_error_icmp6:
                incoming += 1
        assert syns >= 4  # at least the SYN and one retransmission each, v4 and v6
        assert incoming == 0
    finally:
        sniffer.close()


@pytest.mark.netns
def test_host_run_processes_stop_at_down(bare_lab: netns.Lab) -> None:
    out = bare_lab.client.call(["ip", "-o", "addr", "show", "eth0"], capture_output=True, text=True)
    assert "192.0.2.1/24" in out.stdout and "2001:db8::1/64" in out.stdout
    proc = bare_lab.client.run(["sleep", "60"])
    bare_lab.down()
    assert proc.poll() is not None


# --------------------------------------------------------------------------- DNS in the lab (root)

RESOLVE = """
import json, socket, sys
what, arg = sys.argv[1], sys.argv[2]
try:
    if what == "gai":
        res = [[f.name, a[0], c] for f, _, _, c, a in socket.getaddrinfo(
            arg, 3001, type=socket.SOCK_STREAM, flags=socket.AI_CANONNAME)]
    else:
        res = socket.getnameinfo((arg, 3001), 0)[0]
except socket.gaierror as e:
    res = {"gaierror": e.errno}
print(json.dumps(res))
"""


def resolve(host: netns.Host, what: str, arg: str) -> object:
    proc = host.call([sys.executable, "-c", RESOLVE, what, arg], capture_output=True, text=True,
                     timeout=15)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.netns
@pytest.mark.parametrize(
    ("what", "arg", "expected"),
    [
        ("gai", "chat.sockviz.test", [["AF_INET6", "2001:db8::2", "chat.sockviz.test"],
                                      ["AF_INET", "192.0.2.2", ""]]),
        ("gai", "www.sockviz.test", [["AF_INET6", "2001:db8::2", "chat.sockviz.test"],
                                     ["AF_INET", "192.0.2.2", ""]]),
        ("gai", "v4only.sockviz.test", [["AF_INET", "192.0.2.2", "v4only.sockviz.test"]]),
        ("gai", "nope.sockviz.test", {"gaierror": socket.EAI_NONAME}),
        ("gai", "example.com", {"gaierror": socket.EAI_AGAIN}),  # REFUSED: "try again"
        ("gni", "192.0.2.2", "chat.sockviz.test"),
        ("gni", "192.0.2.1", "client.sockviz.test"),
        ("gni", "2001:db8::2", "chat.sockviz.test"),
        ("gni", "2001:db8::1", "client.sockviz.test"),
        ("gni", "192.0.2.99", "192.0.2.99"),  # NXDOMAIN: getnameinfo returns the number
    ],
)  # fmt: skip
def test_resolver_on_client(lab: netns.Lab, what: str, arg: str, expected: object) -> None:
    assert resolve(lab.client, what, arg) == expected


@pytest.mark.netns
def test_hosts_file_and_dns_over_tcp_and_ipv6(lab: netns.Lab) -> None:
    lab.client.write_hosts({"192.0.2.2": ["files.sockviz.test"]})
    assert resolve(lab.client, "gai", "files.sockviz.test")[0][1] == "192.0.2.2"
    with lab.client.enter():
        tcp = socket.create_connection(("192.0.2.2", 53), timeout=2)
        udp6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    with tcp, udp6:
        q = query("chat.sockviz.test", A, ident=7)
        tcp.sendall(struct.pack("!H", len(q)) + q)
        (n,) = struct.unpack("!H", _recv_exactly(tcp, 2))
        assert [rr.data for rr in parse_message(_recv_exactly(tcp, n)).answers] == ["192.0.2.2"]
        udp6.settimeout(2)
        udp6.sendto(query("client.sockviz.test", AAAA, ident=8), ("2001:db8::2", 53))
        msg = parse_message(udp6.recv(512))
        assert (msg.id, [rr.data for rr in msg.answers]) == (8, ["2001:db8::1"])


# ------------------------------------------------------------------- chat server in the lab (root)


def _in_thread(host: netns.Host, coro_fn, timeout: float):
    """Run ``coro_fn()`` on a fresh event loop in a thread inside ``host``."""
    result: dict = {}

    def body() -> None:
        try:
            with host.enter():
                result["value"] = asyncio.run(asyncio.wait_for(coro_fn(), timeout))
        except BaseException as exc:
            result["error"] = exc

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(timeout + 5)
    assert not t.is_alive(), "client thread did not finish"
    if "error" in result:
        raise result["error"]
    return result["value"]


@pytest.mark.netns
def test_chat_classroom_200_clients(lab: netns.Lab) -> None:
    n, k = 200, 5

    async def classroom() -> list[list[bytes]]:
        addrs = [netns.SERVER_V4, netns.SERVER_V6]
        conns = await asyncio.gather(
            *(asyncio.open_connection(addrs[i % 2], lab.chat_port) for i in range(n))
        )
        received: list[list[bytes]] = [[] for _ in range(n)]
        hello = [asyncio.Event() for _ in range(n)]
        done = [asyncio.Event() for _ in range(n)]

        async def read(i: int, reader: asyncio.StreamReader) -> None:
            buf = b""
            count = 0
            while count < n * k:
                chunk = await reader.read(65536)
                assert chunk, f"client {i} disconnected"
                *lines, buf = (buf + chunk).split(b"\n")
                for line in lines:
                    if line == b"hello %d" % i:
                        hello[i].set()
                    elif line.startswith(b"m "):
                        received[i].append(line)
                        count += 1
            done[i].set()

        readers = [asyncio.create_task(read(i, r)) for i, (r, _) in enumerate(conns)]
        # Phase 1: everyone's hello echoed = the server has accepted everyone.
        for i, (_, w) in enumerate(conns):
            w.write(b"hello %d\n" % i)
        await asyncio.gather(*(e.wait() for e in hello))
        # Phase 2: everyone talks at once.
        for j in range(k):
            for i, (_, w) in enumerate(conns):
                w.write(b"m %d %d\n" % (i, j))
            await asyncio.gather(*(w.drain() for _, w in conns))
        await asyncio.gather(*readers)
        for _, w in conns:
            w.close()
        return received

    t0 = time.monotonic()
    received = _in_thread(lab.client, classroom, timeout=25)
    elapsed = time.monotonic() - t0
    for lines in received:
        assert len(lines) == n * k
        per_sender: dict[int, list[int]] = {}
        for line in lines:
            _, i, j = line.split()
            per_sender.setdefault(int(i), []).append(int(j))
        assert per_sender == {i: list(range(k)) for i in range(n)}  # all, in order
    print(f"{n} clients x {k} messages: {n * n * k} deliveries in {elapsed:.2f} s")


@pytest.mark.netns
def test_chat_non_reading_client_does_not_stall_others(bare_lab: netns.Lab) -> None:
    log: list[str] = []
    handle = chatserver.run_in_thread("::", 3002, netns_host=bare_lab.server, log=log.append)
    total = 8 << 20
    payload = bytes(range(256)) * 256  # 64 KiB

    async def scenario() -> tuple[int, int, bool]:
        loop = asyncio.get_running_loop()
        stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.setblocking(False)
        await loop.sock_connect(stalled, (netns.SERVER_V4, 3002))
        # Each echo proves the server accepted that client (it accepts in order).
        r_talk, w_talk = await asyncio.open_connection(netns.SERVER_V6, 3002)
        w_talk.write(b"a")
        assert await r_talk.readexactly(1) == b"a"
        r_listen, w_listen = await asyncio.open_connection(netns.SERVER_V4, 3002)
        w_listen.write(b"b")
        assert await r_listen.readexactly(1) == b"b"
        assert await r_talk.readexactly(1) == b"b"  # relayed

        progress = {"echo": 0, "relay": 0}
        moved = asyncio.Event()

        async def drain_all(reader: asyncio.StreamReader, key: str) -> int:
            got = 0
            while got < total:
                chunk = await reader.read(1 << 20)
                assert chunk, f"{key}: disconnected"
                start = got % len(payload)
                want = (payload * (2 + len(chunk) // len(payload)))[start : start + len(chunk)]
                assert chunk == want  # bytes unchanged, nothing lost or reordered
                got += len(chunk)
                progress[key] = got
                moved.set()
            return got

        async def talk() -> None:
            # A client that reads: it sends ahead of what both readers got by at most
            # `window` (a sender far ahead of a reader is the reader's problem, see
            # chatserver.HIGH_WATER).
            sent, window = 0, 256 << 10
            while sent < total:
                while sent - min(progress.values()) > window:
                    moved.clear()
                    await moved.wait()
                w_talk.write(payload)
                sent += len(payload)
                await w_talk.drain()

        echoed, relayed, _ = await asyncio.gather(
            drain_all(r_talk, "echo"), drain_all(r_listen, "relay"), talk()
        )
        # The stalled one was cut off: reading now ends in a reset (or EOF).
        stalled.setblocking(True)
        stalled.settimeout(2)
        reset = False
        try:
            while stalled.recv(1 << 16):
                pass
        except ConnectionResetError:
            reset = True
        stalled.close()
        w_talk.close()
        w_listen.close()
        return echoed, relayed, reset

    try:
        echoed, relayed, reset = _in_thread(bare_lab.client, scenario, timeout=20)
    finally:
        handle.stop()
    assert echoed == relayed == total
    assert reset
    assert any("not reading" in line for line in log)


@pytest.mark.netns
def test_chat_udp_echo(lab: netns.Lab) -> None:
    with lab.client.enter():
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
                 socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)]  # fmt: skip
    for s, server in zip(socks, (netns.SERVER_V4, netns.SERVER_V6), strict=True):
        with s:
            s.settimeout(2)
            for data in (b"ping", b"", bytes(range(256)) * 4):
                s.sendto(data, (server, lab.chat_port))
                got, addr = s.recvfrom(4096)
                assert got == data and addr[:2] == (server, lab.chat_port)


@pytest.mark.netns
def test_chatserver_main_prints_and_stops_on_ctrl_c(bare_lab: netns.Lab) -> None:
    proc = bare_lab.server.run(
        [sys.executable, "-m", "sockviz.lab.chatserver", "--port", "3005"],
        stdout=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        assert proc.stdout.readline() == "Chat server listening on [::]:3005 (TCP and UDP)\n"
        with bare_lab.client.enter():
            s = socket.create_connection((netns.SERVER_V4, 3005), timeout=2)
        with s:
            s.sendall(b"v4 client on a dual-stack socket")
            assert _recv_exactly(s, 32) == b"v4 client on a dual-stack socket"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
        assert proc.stdout.read() == ""
    finally:
        proc.stdout.close()
