"""The recorder: every socket call a program makes, with its place in the program (no root).

Real sockets on the loopback interface; the sink is a list, no capture.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from sockviz.tracing import kernelstate
from sockviz.tracing.recorder import Recorder, show


class ListSink:
    def __init__(self) -> None:
        self.started, self.ended, self.holds = [], [], []
        self.beginnings, self.endings, self.abandoned = {}, [], []
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    def beginning(self, call_id) -> None:
        self.beginnings[call_id] = time.time()

    def begin(self, call, *, hold=False) -> None:
        assert self.beginnings[call.id] <= call.start  # said before the start is stamped
        self.started.append(call)
        if hold:
            self.holds.append(call.name)

    def ending(self, call_id) -> None:
        self.endings.append(call_id)

    def abandon(self, call_id) -> None:
        self.abandoned.append(call_id)

    def end(self, call, *, wait=0.0) -> None:
        assert call.id in self.endings  # said before the end is stamped
        self.ended.append(call)

    def names(self):
        return [c.name for c in self.ended]


@pytest.fixture
def recorded():
    sink = ListSink()
    recorder = Recorder(sink)
    recorder.install()
    try:
        yield sink
    finally:
        recorder.uninstall()
    assert recorder.failures == []


def _listener(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    if kind == socket.SOCK_STREAM:
        s.listen()
    return s


def test_a_tcp_client_and_server_in_one_program(recorded):
    server = _listener()
    port = server.getsockname()[1]
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.connect(("127.0.0.1", port))
    conn, peer = server.accept()
    client.sendall(b"Test en classe")
    assert conn.recv(1024) == b"Test en classe"
    with conn:
        conn.send(b"ok")
    assert client.recv(10) == b"ok"
    client.close()
    server.close()
    names = recorded.names()
    assert names[:3] == ["socket", "bind", "listen"]
    assert names.count("socket") == 2  # accept()'s socket is not a socket() call
    for name in ("connect", "accept", "sendall", "recv", "send", "close"):
        assert name in names
    connect = next(c for c in recorded.ended if c.name == "connect")
    assert connect.peer == ("127.0.0.1", port) and connect.local[0] == "127.0.0.1"
    assert connect.transport == "TCP" and connect.error is None
    accept = next(c for c in recorded.ended if c.name == "accept")
    assert accept.local == ("127.0.0.1", port) and accept.peer == peer
    # The socket named by fd, the place in this file, the thread.
    assert connect.socket is not None and connect.thread == threading.current_thread().name
    file, _line, text = connect.source
    assert file == __file__ and text == 'client.connect(("127.0.0.1", port))'
    assert "with conn" not in text
    closes = [c for c in recorded.ended if c.name == "close"]
    assert any(c.source[2] == 'conn.send(b"ok")' or c.source[2].startswith("with conn")
               or c.source[2] == "client.close()" for c in closes)


def test_with_block_closes_through_close(recorded):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
    assert recorded.names() == ["socket", "bind", "close"]


def test_errors_are_recorded_and_still_raised(recorded):
    port = _listener().getsockname()[1]  # bound, not listening: refused
    s = socket.socket()
    with pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", port))
    connect = next(c for c in recorded.ended if c.name == "connect")
    assert connect.error.startswith("ConnectionRefusedError: [Errno 111]")
    assert connect.result is None


def test_a_name_given_to_connect_holds_its_frames(recorded):
    server = _listener()
    s = socket.create_connection(("localhost", server.getsockname()[1]))
    s.close()
    create = next(c for c in recorded.ended if c.name == "create_connection")
    children = [c for c in recorded.ended if c.parent == create.id]
    assert [c.name for c in children][:3] == ["getaddrinfo", "socket", "connect"]
    assert children[0].transport == "DNS"
    # create_connection passes the resolved address: nothing to hold for...
    assert "connect" not in recorded.holds
    s = socket.socket()
    s.connect(("localhost", server.getsockname()[1]))  # ...a name given to connect() is
    s.close()
    assert recorded.holds == ["connect"]


def test_the_standard_library_clients_are_seen_at_the_programs_line(recorded):
    class Hello(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"bonjour")

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=httpd.handle_request, name="http-server")
    thread.start()
    body = urllib.request.urlopen(f"http://127.0.0.1:{httpd.server_port}/").read()
    thread.join(5)
    httpd.server_close()
    assert body == b"bonjour"
    client = [c for c in recorded.ended if c.thread == threading.current_thread().name]
    assert {"create_connection", "sendall", "recv_into"} <= {c.name for c in client}
    assert all(c.source[0] == __file__ for c in client)
    lines = {c.source[2] for c in client if c.name in ("create_connection", "sendall")}
    assert lines == {'body = urllib.request.urlopen(f"http://127.0.0.1:{httpd.server_port}/").read()'}
    server = [c for c in recorded.ended if c.thread == "http-server"]
    assert {"accept"} <= {c.name for c in server}


def test_big_buffers_are_recorded_by_their_size(recorded):
    a, b = socket.socketpair()
    a.sendall(bytes(100_000))
    send = next(c for c in recorded.ended if c.name == "sendall")
    assert send.text == "sendall(<100000 bytes>)"
    assert repr(send.args[0]) == "<100000 bytes>"
    a.close()
    b.close()


def test_sockviz_threads_are_not_the_program(recorded):
    t = threading.Thread(target=lambda: socket.socket().close(), name="sockviz-pipeline")
    t.start()
    t.join()
    assert recorded.names() == []


def test_uninstall_puts_the_socket_module_back():
    before = (socket.socket.connect, socket.getaddrinfo, socket.socket.__init__)
    recorder = Recorder(ListSink())
    recorder.install()
    assert socket.getaddrinfo is not before[1]
    recorder.uninstall()
    assert (socket.socket.connect, socket.getaddrinfo, socket.socket.__init__) == before


def test_show_names_sockets_and_sizes():
    s = socket.socket()
    assert show((s, ("192.0.2.2", 3001))) == f"(<socket fd={s.fileno()}>, ('192.0.2.2', 3001))"
    assert show(b"x" * 5000) == "<5000 bytes>"
    assert show(socket._GLOBAL_DEFAULT_TIMEOUT) == "_GLOBAL_DEFAULT_TIMEOUT"  # not <object at 0x…>
    s.close()


def test_the_kernels_tcp_state_is_recorded(recorded):
    server = _listener()
    client = socket.create_connection(server.getsockname())
    conn, _ = server.accept()
    client.close()  # our FIN is acknowledged at once: FIN-WAIT-2 in the kernel's table
    conn.close()
    server.close()
    state = {c.name: c.tcp_state for c in recorded.ended if c.socket is not None}
    assert state["listen"] == "LISTEN"
    # accept() is recorded with the new connection's endpoints, so with its state too
    assert state["accept"] == "ESTABLISHED"
    assert next(c.tcp_state for c in recorded.ended if c.name == "connect") == "ESTABLISHED"
    closes = [c.tcp_state for c in recorded.ended if c.name == "close"]
    assert closes[0] in ("FIN-WAIT-2", "FIN-WAIT-1")  # the fd is gone, the connection is not
    assert closes[1] in ("LAST-ACK", "CLOSED", None)  # its answer FIN, then it goes


def test_a_connection_in_time_wait_with_its_fd_still_open_is_time_wait(recorded):
    # shutdown(SHUT_WR), then the peer's FIN: Linux moves the connection to a time-wait
    # socket and sets the fd's own socket to CLOSE, so TCP_INFO alone says CLOSED.
    server = _listener()
    client = socket.create_connection(server.getsockname())
    conn, _ = server.accept()
    client.shutdown(socket.SHUT_WR)
    assert conn.recv(10) == b""
    conn.close()  # its FIN reaches the client, which acks it: TIME-WAIT
    deadline = time.monotonic() + 2
    while kernelstate.of_socket(client) not in ("TIME-WAIT",) and time.monotonic() < deadline:
        time.sleep(0.01)
    raw = client.getsockopt(socket.IPPROTO_TCP, kernelstate.TCP_INFO, 8)
    assert kernelstate.LINUX_STATES[raw[0]] == "CLOSED"  # what TCP_INFO says of the fd
    assert kernelstate.of_socket(client) == "TIME-WAIT"  # what the connection is in
    fd = client.fileno()
    client.close()  # the fd goes, the connection stays in the kernel's table
    assert next(c.tcp_state for c in recorded.ended
                if c.name == "close" and c.socket == fd) == "TIME-WAIT"
    server.close()


def test_the_records_sink_gives_back_the_entries_it_was_given():
    """It keeps a call's entries as tuples of their fields (for the garbage collector's
    sake): read back, they are equal to the timeline's, and so are their records."""
    from sockviz.core import jsonmodel
    from sockviz.core.events import Call
    from sockviz.core.timeline import CallEnded, CallStarted, Note, Summary
    from sockviz.tracing.session import RecordsSink

    start = Call(id=1, name="connect", text="connect(('192.0.2.2', 3001))",
                 args=(("192.0.2.2", 3001),), start=1.0, peer=("192.0.2.2", 3001),
                 source=("prog.py", 3, "s.connect(...)"), socket=3, thread="MainThread")
    end = Call(id=1, name="connect", text=start.text, args=start.args, start=1.0, end=1.5,
               result_text="None", local=("192.0.2.1", 40000), peer=start.peer,
               source=start.source, socket=3, thread="MainThread", tcp_state="ESTABLISHED")
    given = [CallStarted(call=start), Note(time=1.2, text="a note"),
             CallEnded(call=end, packets=3, lesson="the handshake"),
             Summary(packets=3, calls=1, kernel_drops=0)]
    sink = RecordsSink()
    for entry in given:
        sink.handle(entry)
    assert sink.entries == given
    assert sink.records[:2] == [jsonmodel.note_json(given[1]), jsonmodel.call_json(given[2])]
    assert sink.records[2]["type"] == "summary"
    sink.handle(Note(time=2.0, text="later"))
    assert len(sink.records) == 4 and sink.entries[-1].text == "later"
