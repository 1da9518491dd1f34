"""A teacher's names for the lab's DNS server: ``sockviz lab --zone FILE`` (RFC 1035 §5.1)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from sockviz.lab.dnsserver import AAAA, CNAME, NOERROR, NXDOMAIN, PTR, TXT, A, Question
from sockviz.lab.zonefile import ZoneFileError, lab_zone, parse_zone, read_zone

COURSE = textwrap.dedent("""\
    ; the course's own names
    $ORIGIN cours.example.
    $TTL 3600
    serveur        A      192.0.2.2
                   AAAA   2001:DB8::2        ; the previous line's name
    www    600 IN  CNAME  serveur
    @              TXT    "GIF-3001 ; automne"
    serveur.ulaval.ca.  A  192.0.2.2
    3.0.2.192.in-addr.arpa.  PTR  www.cours.example.
""")
NOBODY = 65534


def test_a_course_zone_reads_as_rfc_1035_writes_it():
    records, origins, ttls = parse_zone(COURSE)
    assert records == {
        "serveur.cours.example": {"A": ["192.0.2.2"], "AAAA": ["2001:db8::2"]},
        "www.cours.example": {"CNAME": ["serveur.cours.example"]},
        "cours.example": {"TXT": ["GIF-3001 ; automne"]},
        "serveur.ulaval.ca": {"A": ["192.0.2.2"]},
        "3.0.2.192.in-addr.arpa": {"PTR": ["www.cours.example"]},
    }
    assert origins == ["cours.example"]
    # Each record's own TTL, else the $TTL above it (RFC 1035 §5.1, RFC 2308 §4).
    assert ttls == {("serveur.cours.example", "A"): 3600, ("serveur.cours.example", "AAAA"): 3600,
                    ("www.cours.example", "CNAME"): 600, ("cours.example", "TXT"): 3600,
                    ("serveur.ulaval.ca", "A"): 3600, ("3.0.2.192.in-addr.arpa", "PTR"): 3600}


def test_what_editors_and_rfc_1035_also_write_is_read():
    """A byte-order mark, the class before the TTL, a relative $ORIGIN (RFC 1035 §5.1:
    relative to the one before), an escaped quote, an apostrophe outside quotes."""
    records, origins, ttls = parse_zone(
        "\ufeff$ORIGIN example.\n$ORIGIN sub\n"
        "www IN 300 A 192.0.2.5\n"
        'note TXT l\'ecole "dit \\"bonjour\\" ; pas un commentaire" ; un commentaire\n')
    assert records == {"www.sub.example": {"A": ["192.0.2.5"]},
                       "note.sub.example": {"TXT": ["l'ecole dit \"bonjour\" ; pas un commentaire"]}}
    assert origins == ["example", "sub.example"]
    assert ttls == {("www.sub.example", "A"): 300}  # no $TTL: the lab's own for the rest


@pytest.mark.parametrize("text, line, words", [
    ("serveur A 192.0.2.2\n\nfoo MX 10 mail\n", 3, "the type 'MX' is not one the lab serves"),
    ("$ORIGIN a.example.\nx A 2001:db8::1\n", 2, "an A record holds an IPv4 address"),
    ("x AAAA 192.0.2.1\n", 1, "an AAAA record holds an IPv6 address"),
    ("x A 192.0.2.300\n", 1, "'192.0.2.300' is not an IP address"),
    ("@ A 192.0.2.1\n", 1, "@ stands for $ORIGIN"),
    ("  A 192.0.2.1\n", 1, "a record without a name"),
    ("x.example.\n", 1, "a record is NAME [TTL] [IN] TYPE VALUE"),
    ("$TTL one hour\nx A 192.0.2.1\n", 1, "a TTL is a number of seconds"),
    ("x 2147483648 A 192.0.2.1\n", 1, "a TTL is a number of seconds"),
    ('x TXT "open\n', 1, "a quote is not closed"),
    ("x..example. A 192.0.2.1\n", 1, "is not a domain name"),
    ("x CNAME a b\n", 1, "a CNAME record takes one value"),
    ("$ORIGIN\n", 1, "$ORIGIN takes one name"),
    ("www CNAME a.example.\nwww A 192.0.2.1\n", 2, "a CNAME must be its name's only record"),
    ("www A 192.0.2.1\nwww CNAME a.example.\n", 2, "a CNAME must be its name's only record"),
])
def test_a_wrong_line_is_one_sentence_with_its_number(text, line, words):
    with pytest.raises(ZoneFileError) as caught:
        parse_zone(text, "cours.zone")
    message = str(caught.value)
    assert message.startswith(f"the zone file cours.zone, line {line}: ") and words in message
    assert "\n" not in message


def test_a_file_without_records_or_missing_says_so(tmp_path):
    with pytest.raises(ZoneFileError, match="holds no record"):
        parse_zone("; nothing\n$ORIGIN a.example.\n", "vide.zone")
    with pytest.raises(ZoneFileError, match=r"cannot read the zone file .*nosuch\.zone"):
        read_zone(str(tmp_path / "nosuch.zone"))
    (tmp_path / "bin.zone").write_bytes(b"\xff\xfe x A 1.2.3.4\n")
    with pytest.raises(ZoneFileError, match="is not UTF-8 text"):
        read_zone(str(tmp_path / "bin.zone"))


def test_the_lab_answers_the_teachers_names_beside_its_own(tmp_path):
    path = tmp_path / "cours.zone"
    path.write_text(COURSE)
    zone = lab_zone(str(path))

    def answer(name, qtype):
        rcode, _aa, answers, _authority = zone.lookup(Question(name=name, qtype=qtype))
        return rcode, [str(a.data) for a in answers]

    assert answer("serveur.cours.example", A) == (NOERROR, ["192.0.2.2"])
    assert answer("serveur.cours.example", AAAA) == (NOERROR, ["2001:db8::2"])
    assert answer("www.cours.example", A) == (NOERROR, ["serveur.cours.example", "192.0.2.2"])
    assert answer("cours.example", TXT) == (NOERROR, ["GIF-3001 ; automne"])
    assert answer("serveur.ulaval.ca", A) == (NOERROR, ["192.0.2.2"])
    assert answer("3.0.2.192.in-addr.arpa", PTR) == (NOERROR, ["www.cours.example"])
    # A name the file does not hold, in a zone it brought: NXDOMAIN, as a real server says.
    assert answer("autre.cours.example", A)[0] == NXDOMAIN
    assert answer("autre.ulaval.ca", A)[0] == NXDOMAIN
    # The lab's own names and the course notebook's are still there.
    assert answer("chat.sockviz.test", A) == (NOERROR, ["192.0.2.2"])
    assert answer("chat.gif3001.beon.ca", A) == (NOERROR, ["192.0.2.2"])
    assert answer("www.sockviz.test", CNAME) == (NOERROR, ["chat.sockviz.test"])
    # The file's TTLs on its answers (the $TTL, or the record's own), the lab's on its own.
    ttl = {a.name.rstrip("."): a.ttl for a in zone.lookup(Question(name="www.cours.example",
                                                                    qtype=A))[2]}
    assert ttl == {"www.cours.example": 600, "serveur.cours.example": 3600}
    assert zone.lookup(Question(name="chat.sockviz.test", qtype=A))[2][0].ttl == 300


def test_a_teachers_cname_replaces_a_lab_name_and_an_address_replaces_a_lab_cname(tmp_path):
    """A CNAME is its name's only record (RFC 1034 §3.6.2), in the merged zone too."""
    path = tmp_path / "alias.zone"
    path.write_text("chat.sockviz.test. CNAME www.google.com.\nwww.sockviz.test. A 192.0.2.7\n")
    zone = lab_zone(str(path))

    def answer(name, qtype):
        return [str(a.data) for a in zone.lookup(Question(name=name, qtype=qtype))[2]]

    assert answer("chat.sockviz.test", A) == ["www.google.com", "192.0.2.80"]
    assert answer("chat.sockviz.test", AAAA) == ["www.google.com", "2001:db8::80"]
    assert answer("www.sockviz.test", A) == ["192.0.2.7"]
    assert answer("www.sockviz.test", AAAA) == []  # no CNAME left to follow


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming another user needs root")
def test_under_sudo_the_zone_file_is_read_with_the_users_rights():
    """Root reading a file the user names would read what the user may not."""
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="sockviz-zone-"))
    os.chmod(folder, 0o755)  # pytest's own folders are root's alone
    secret = folder / "secret.zone"
    secret.write_text("x A 192.0.2.9\n")
    os.chmod(secret, 0o600)  # root's alone
    with pytest.raises(ZoneFileError, match="Permission denied"):
        read_zone(str(secret), (NOBODY, NOBODY))
    assert (os.geteuid(), os.getegid()) == (0, 0)  # the effective ids came back
    try:
        os.chmod(secret, 0o644)
        assert read_zone(str(secret), (NOBODY, NOBODY))[0] == {"x": {"A": ["192.0.2.9"]}}
    finally:
        secret.unlink()
        folder.rmdir()


def _sockviz(*argv, **kwargs):
    return subprocess.run([sys.executable, "-m", "sockviz", *argv], capture_output=True,
                          text=True, timeout=60, **kwargs)


@pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root")
def test_a_wrong_zone_file_is_one_sentence_and_status_5(tmp_path):
    bad = tmp_path / "bad.zone"
    bad.write_text("serveur A 192.0.2.2\nwww MX 10 serveur\n")
    for argv in (["lab", "run", "--zone", str(bad), "--", "true"],
                 ["lab", "--zone", str(bad), "run", "--", "true"]):
        proc = _sockviz(*argv)
        assert proc.returncode == 5, proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
        assert f"the zone file {bad}, line 2: the type 'MX'" in proc.stderr
    french = _sockviz("lab", "--lang", "fr", "run", "--zone", str(bad), "--", "true")
    assert f"le fichier de zone {bad}, ligne 2\u00a0: le type 'MX'" in french.stderr
    # Only the lab's own options stand before --: one sentence says which.
    other = _sockviz("lab", "run", "--zone", str(bad), "--lang", "fr", "--", "true")
    assert other.returncode == 64 and other.stderr.count("\n") == 1
    assert "--zone FILE may stand" in other.stderr


@pytest.mark.netns
def test_in_the_lab_a_program_resolves_the_teachers_names(require_lab, tmp_path):
    zone = tmp_path / "cours.zone"
    zone.write_text(COURSE)
    code = ("import socket; print(sorted({a[4][0] for a in socket.getaddrinfo("
            "'serveur.cours.example', 3001, type=socket.SOCK_STREAM)}))")
    proc = _sockviz("lab", "run", "--zone", str(zone), "--", sys.executable, "-c", code)
    assert proc.returncode == 0, proc.stderr
    assert "['192.0.2.2', '2001:db8::2']" in proc.stdout
    unknown = _sockviz("lab", "run", "--zone", str(zone), "--", sys.executable, "-c",
                       "import socket; socket.getaddrinfo('autre.cours.example', 3001)")
    assert unknown.returncode == 1 and "Name or service not known" in unknown.stderr
