"""The name-resolution lesson against the lab's DNS server (a real one, on a test host)."""

from __future__ import annotations

import sys
import time

import pytest

from livehelpers import sockviz

pytestmark = pytest.mark.netns


def dns(run, qr):
    return [p for p in run.packets() if p["proto"] == "DNS" and p["dns"]["qr"] == qr]


def test_getaddrinfo_a_and_aaaa_from_one_socket(lab):
    run = sockviz(lab.client, "resolve", "chat.sockviz.test", "3001", "--type", "stream")
    assert run.status == 0, run.stderr
    gai = run.call("getaddrinfo")
    assert sorted(tuple(r[4][:2]) for r in gai["result"]) == [("192.0.2.2", 3001), ("2001:db8::2", 3001)]
    queries = dns(run, "query")
    assert sorted(q["dns"]["questions"][0]["type"] for q in queries) == ["A", "AAAA"]
    assert len({q["sport"] for q in queries}) == 1 and queries[0]["dst"] == "192.0.2.2"
    answers = dns(run, "response")
    assert {a["dns"]["answers"][0]["data"] for a in answers} == {"192.0.2.2", "2001:db8::2"}
    assert all(a["dns"]["answers"][0]["ttl"] == 300 for a in answers)
    assert "A and AAAA" in gai["lesson"]


def test_cname_chain_and_service_name(lab):
    run = sockviz(lab.client, "resolve", "www.sockviz.test", "https", "-4", "--type", "stream")
    assert run.status == 0, run.stderr
    assert run.call("getaddrinfo")["result"][0][4] == ["192.0.2.2", 443]
    answer = dns(run, "response")[0]["dns"]["answers"]
    assert [a["type"] for a in answer] == ["CNAME", "A"]
    assert "/etc/services" in run.call("getaddrinfo")["lesson"]


def test_ipv4_only_asks_only_for_a(lab):
    run = sockviz(lab.client, "resolve", "chat.sockviz.test", "-4")
    assert [q["dns"]["questions"][0]["type"] for q in dns(run, "query")] == ["A"]


def test_nxdomain_raises_gaierror(lab):
    run = sockviz(lab.client, "resolve", "nosuch.sockviz.test")
    assert run.status == 3
    assert run.call("getaddrinfo")["error"].startswith("gaierror")
    assert {a["dns"]["rcode"] for a in dns(run, "response")} == {"NXDOMAIN"}


def test_hosts_file_answers_without_a_packet(lab):
    lab.client.write_hosts({"192.0.2.2": ["prof.sockviz.test"]})
    run = sockviz(lab.client, "resolve", "prof.sockviz.test", "--type", "stream")
    assert run.status == 0, run.stderr
    assert run.call("getaddrinfo")["packets"] == 0 and not dns(run, "query")
    assert "/etc/hosts" in run.call("getaddrinfo")["lesson"]


@pytest.mark.parametrize("address, name, ptr", [
    ("192.0.2.2", "chat.sockviz.test", "2.2.0.192.in-addr.arpa."),
    ("2001:db8::2", "chat.sockviz.test",
     "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."),
])
def test_getnameinfo_sends_a_ptr_query(lab, address, name, ptr):
    run = sockviz(lab.client, "resolve", address, "80")
    assert run.status == 0, run.stderr
    assert run.call("getnameinfo")["result"] == [name, "http"]
    query = dns(run, "query")[0]["dns"]["questions"][0]
    assert query == {"name": ptr, "type": "PTR"}


def test_getnameinfo_without_ptr_returns_the_number(lab):
    run = sockviz(lab.client, "resolve", "192.0.2.99", "25")
    assert run.status == 0, run.stderr
    assert run.call("getnameinfo")["result"] == ["192.0.2.99", "smtp"]
    assert {a["dns"]["rcode"] for a in dns(run, "response")} == {"NXDOMAIN"}
    assert "returns the address itself" in run.call("getnameinfo")["lesson"]


def test_silent_dns_server_shows_retries_and_the_wait(lab):
    lab.client.write_resolv_conf([lab.silent_v4], options=["timeout:1", "attempts:2"])
    run = sockviz(lab.client, "resolve", "chat.sockviz.test", "-4")
    assert run.status == 3
    gai = run.call("getaddrinfo")
    assert gai["error"].startswith("gaierror")
    assert gai["end"] - gai["start"] > 1.5
    queries = dns(run, "query")
    assert len(queries) >= 2 and not dns(run, "response")
    assert "retried" in gai["lesson"] or "no DNS answer" in gai["lesson"]


def test_numeric_address_sends_nothing(lab):
    run = sockviz(lab.client, "resolve", "2001:db8::2", "3001", "--getaddrinfo", "--type", "dgram")
    assert run.status == 0, run.stderr
    gai = run.call("getaddrinfo")
    assert gai["packets"] == 0 and not dns(run, "query")
    assert gai["result"][0][4][:2] == ["2001:db8::2", 3001]
    assert "already an address" in gai["lesson"]


def test_local_stub_resolver_is_seen_once_on_loopback(lab):
    """A stub resolver on 127.0.0.53 (as systemd-resolved) is asked over lo: each query once."""
    stub = lab.client.run([sys.executable, "-m", "sockviz.lab.dnsserver", "--listen", "127.0.0.53"])
    try:
        lab.client.write_resolv_conf(["127.0.0.53"], options=["timeout:1", "attempts:2"])
        time.sleep(0.5)
        run = sockviz(lab.client, "resolve", "chat.sockviz.test", "-4")
    finally:
        stub.terminate()
        stub.wait(5)
    assert run.status == 0, run.stderr
    queries, answers = dns(run, "query"), dns(run, "response")
    assert len(queries) == 1 and len(answers) == 1
    assert queries[0]["iface"] == "lo" and queries[0]["dir"] == "out" and answers[0]["dir"] == "in"


def test_timeout_stops_waiting_for_a_resolver_that_keeps_retrying(lab, tmp_path):
    """glibc's getaddrinfo() cannot be interrupted: at --timeout sockviz closes the capture,
    says why, and ends; the file holds the call's start and the retries seen so far."""
    from livehelpers import replay_json

    lab.client.write_resolv_conf([lab.silent_v4], options=["timeout:5", "attempts:3"])
    path = tmp_path / "slow.pcapng"
    run = sockviz(lab.client, "resolve", "chat.sockviz.test", "-4", "--timeout", "1.5",
                  "--save", str(path))
    assert run.status == 4, run.stderr
    said = ("no answer within 1.5 s (the --timeout): sockviz stopped waiting for getaddrinfo(); "
            "the resolver may still be retrying")
    assert run.stderr == f"sockviz: {said}\n"
    assert [r["text"] for r in run.records if r["type"] == "note"][-1] == said
    assert run.calls() == []  # the call never ended
    assert len(dns(run, "query")) == 1  # the retry would come 5 s later
    kinds = [r["type"] for r in run.records]
    assert kinds.count("summary") == 1 and kinds[-1] == "summary"  # after the open call's lines
    assert kinds.index("packet") < kinds.index("summary")
    replayed = replay_json(path)
    assert [r["text"] for r in replayed if r["type"] == "note"][-1] == said


def test_each_call_is_a_line_of_the_lesson_program(lab):
    run = sockviz(lab.client, "resolve", "192.0.2.2", "25")
    assert run.call("getnameinfo")["source"] == {
        "file": "resolution.py", "line": 6,
        "text": 'print(socket.getnameinfo(("192.0.2.2", 25), 0))'}
    assert "('chat.sockviz.test', 'smtp')" in run.stderr  # what the program printed
    notes = [r["text"] for r in run.records if r["type"] == "note"]
    assert notes[0].startswith("the resolver (glibc) follows /etc/nsswitch.conf, hosts: ")
    assert notes[1].startswith("getnameinfo() asks DNS for the PTR record of 2.2.0.192.in-addr.arpa.")
