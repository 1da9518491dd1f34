"""The command line: parse, then hand over to a command module. No logic here.

Nothing heavy is imported at module level: ``sockviz --help`` answers before
scapy or rich would have finished importing.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from sockviz import __version__
from sockviz.environment import Environment
from sockviz.status import ExitStatus

DESCRIPTION = """\
sockviz performs the socket API calls of a networking lesson for real while
a packet sniffer listens beside them, and shows which packets each call
caused: the TCP handshake inside connect(), data and ACKs, the teardown after
close(), UDP datagrams and ICMP errors, the DNS behind getaddrinfo().
Every run is saved as a pcapng file (calls as packet comments) that
Wireshark opens and `sockviz replay` shows again.
"""

EXAMPLES = """\
commands (capturing ones need root):
  tcp       sudo sockviz tcp chat.sockviz.test 3001 --send "Test en classe"
  udp       sudo sockviz udp 192.0.2.2 3001 --send "Test en classe"
  resolve   sudo sockviz resolve www.sockviz.test https   |   sudo sockviz resolve 192.0.2.2
  replay    sockviz replay captures/tcp.pcapng
  demo      sudo sockviz demo            (an offline lab: every lesson, no network needed)
  lab       sudo sockviz lab shell       (a shell on the lab's client host)
  serve     sockviz serve --port 3001    (the course chat server, TCP and UDP)
  run       sudo sockviz run client.py   (your own program: its socket calls and their packets)
  lab run   sudo sockviz lab run -- sockviz run client.py   (any command on the lab's client)

Add --json to any command for one JSON object per line.
"""


class _LinesKept(argparse.HelpFormatter):
    """A description's and an epilog's own lines kept, each wrapped alone: the examples
    stay one per line (argparse would join them into one paragraph)."""

    def _fill_text(self, text, width, indent):
        import textwrap

        lines = text.split("\n")
        if len(lines) == 1:
            return super()._fill_text(text, width, indent)
        return "\n".join(  # a wrapped example hangs under its own start
            textwrap.fill(line.rstrip(), width, initial_indent=indent,
                          subsequent_indent=indent + " " * (len(line) - len(line.lstrip()) + 4))
            for line in lines)


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; 2 is 'needs root' here, so use EX_USAGE."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _LinesKept)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        from sockviz.core.phrases import usage_error

        self.print_usage(sys.stderr)
        self.exit(ExitStatus.USAGE, usage_error(self.prog, message) + "\n")


# The arguments' own sentences come from the phrasebook, in the language chosen
# before parsing (_early_language); argparse's words around them stay its own.


def _language(text: str) -> str:
    from sockviz.core.phrases import bad_language

    lang = text.strip().lower()
    if lang not in ("fr", "en"):
        raise argparse.ArgumentTypeError(bad_language(text))
    return lang


def _port(text: str) -> int:
    from sockviz.core import phrases

    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(phrases.bad_port(text)) from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(phrases.port_out_of_range(port))
    return port


def _seconds(text: str) -> float:
    from sockviz.core import phrases

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(phrases.bad_seconds(text)) from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(phrases.timeout_out_of_range())
    return value


def _size(text: str) -> int:
    from sockviz.core import phrases

    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    mult = 1
    if t and t[-1] in units:
        mult, t = units[t[-1]], t[:-1]
    try:
        value = int(float(t) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(phrases.bad_size(text)) from None
    if value < 0:
        raise argparse.ArgumentTypeError(phrases.negative_size())
    return value


def _positive(text: str) -> int:
    from sockviz.core import phrases

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(phrases.bad_packet_number(text)) from None
    if value < 1:
        raise argparse.ArgumentTypeError(phrases.packets_from_one())
    return value


def _add_layout(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--compact", dest="layout", action="store_const", const="compact",
                   help="the projector's layout: one line per packet, its meaning only where "
                   "it adds something (the default under 100 columns)")
    g.add_argument("--full", dest="layout", action="store_const", const="full",
                   help="the full layout, every packet's fields and meaning, whatever the width")


def _add_diagram(p: argparse.ArgumentParser) -> None:
    _add_layout(p)
    p.add_argument("--ladder", action="store_true",
                   help="draw the run as a sequence diagram: calls at the edge, each packet an "
                   "arrow between this host and its peer")
    p.add_argument("--svg", metavar="OUT.svg", help="write the diagram as an SVG picture (slides)")
    p.add_argument("--html", metavar="OUT.html", help="write the diagram as one HTML page")
    p.add_argument("--conversation", type=_positive, metavar="N",
                   help="draw only conversation N (numbered as in the summary table)")


def _add_output(p: argparse.ArgumentParser, *, save: bool = True) -> None:
    p.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    _add_diagram(p)
    if save:
        p.add_argument("--save", metavar="PATH", help="where to write the pcapng capture "
                       "(default: ./captures/<command>-<target>-<time>.pcapng)")
        p.add_argument("--no-save", action="store_true", help="do not write a capture file")


def _percent(text: str) -> float:
    from sockviz.core import phrases

    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(phrases.bad_percent(text)) from None
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(phrases.loss_out_of_range())
    return value


def _milliseconds(text: str) -> float:
    from sockviz.core import phrases

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(phrases.bad_milliseconds(text)) from None
    if not 0 <= value <= 10_000:
        raise argparse.ArgumentTypeError(phrases.delay_out_of_range())
    return value


def _add_link(p: argparse.ArgumentParser) -> None:
    p.add_argument("--delay", type=_milliseconds, default=0.0, metavar="MS",
                   help="delay each packet MS milliseconds each way on the lab's link "
                   "(40 gives an 80 ms round trip, as to a distant server)")
    p.add_argument("--loss", type=_percent, default=0.0, metavar="PERCENT",
                   help="drop PERCENT %% of the packets on the lab's link, each way "
                   "(retransmissions, SYN back-off)")
    p.add_argument("--zone", metavar="FILE",
                   help="the lab's DNS server also answers the names in FILE, a zone file "
                   "(NAME [TTL] [IN] TYPE VALUE a line, $ORIGIN; A, AAAA, CNAME, PTR, TXT)")


def _add_code(p: argparse.ArgumentParser, what: str = "this lesson") -> None:
    p.add_argument("--code", dest="show_code", action="store_true",
                   help=f"print the Python program {what} runs, with your arguments, to paste "
                   "into a notebook or run with python; nothing is captured (no root needed)")


def _add_family(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("-4", dest="family", action="store_const", const=4, help="IPv4 only")
    g.add_argument("-6", dest="family", action="store_const", const=6, help="IPv6 only")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sockviz",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sockviz {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="on an unexpected error, show the traceback (also SOCKVIZ_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("tcp", help="the TCP client lesson: connect, send, recv, close",
                       description="Perform the seed's TCP client for real and show the packets "
                       "of each call.",
                       epilog='example: sudo sockviz tcp chat.sockviz.test 3001 --send "Test en classe"')
    p.add_argument("host", help="server name or address")
    p.add_argument("port", type=_port, help="server port, e.g. 3001")
    p.add_argument("--send", action="append", metavar="TEXT",
                   help="a message to send (repeat for several); without it, type lines "
                   "(or pipe them)")
    p.add_argument("--send-bytes", type=_size, metavar="SIZE",
                   help="send SIZE bytes of generated data, 1 MiB a sendall(), while a thread "
                   "reads the echo back (e.g. 50M)")
    p.add_argument("--timeout", type=_seconds, default=10.0, metavar="S",
                   help="give up on connect() or recv() after S seconds (default 10)")
    _add_family(p)
    _add_code(p)
    _add_output(p)

    p = sub.add_parser("udp", help="the UDP client lesson: sendto, recvfrom, close",
                       description="Perform the seed's UDP client for real and show its datagrams.",
                       epilog='example: sudo sockviz udp 192.0.2.2 3001 --send "Test en classe"')
    p.add_argument("host", help="server name or address")
    p.add_argument("port", type=_port, help="server port, e.g. 3001")
    p.add_argument("--send", action="append", metavar="TEXT", help="a message to send (repeatable)")
    p.add_argument("--timeout", type=_seconds, default=3.0, metavar="S",
                   help="wait S seconds for each reply (default 3)")
    p.add_argument("--connect", action="store_true",
                   help="connect() the socket and use send()/recv(), to see how errors differ")
    p.add_argument("--size", type=_size, metavar="N",
                   help="send N bytes instead of the text (past the MTU: IP fragments)")
    _add_family(p)
    _add_code(p)
    _add_output(p)

    p = sub.add_parser("resolve", help="name resolution: getaddrinfo() or getnameinfo()",
                       description="Call getaddrinfo() on a name (or getnameinfo() on an "
                       "address) and show the DNS packets behind it.",
                       epilog="examples: sudo sockviz resolve www.sockviz.test https\n"
                       "          sudo sockviz resolve 2001:db8::2 80")
    p.add_argument("name", help="a host name, or an IPv4/IPv6 address for getnameinfo()")
    p.add_argument("service", nargs="?", help="a service name or port (e.g. https, 3001)")
    p.add_argument("--type", choices=("stream", "dgram"), help="socket type to ask for")
    p.add_argument("--getaddrinfo", action="store_true",
                   help="call getaddrinfo() even on an address (to see that nothing is resolved)")
    p.add_argument("--timeout", type=_seconds, default=15.0, metavar="S",
                   help="stop waiting for the resolver after S seconds (default 15)")
    _add_family(p)
    _add_code(p)
    _add_output(p)

    p = sub.add_parser("replay", help="show a saved capture (pcap or pcapng) the same way",
                       description="Show a pcap or pcapng capture with sockviz's view. No root "
                       "needed.",
                       epilog="example: sockviz replay captures/tcp.pcapng")
    p.add_argument("file", help="a .pcap or .pcapng file")
    p.add_argument("--summary", action="store_true",
                   help="only the overview: conversations, counts, handshakes, resets, DNS names")
    p.add_argument("--step", action="store_true",
                   help="one event per key press, forward (→) and back (←), the ladder growing; "
                   "before each call: what will it send? (needs a terminal)")
    p.add_argument("--packet", type=_positive, metavar="N",
                   help="show packet N layer by layer: every header field, its size and meaning, "
                   "and the bytes")
    _add_output(p, save=False)

    p = sub.add_parser("demo", help="run every lesson in a throwaway offline lab",
                       description="Build a lab of two hosts (network namespaces) with a DNS "
                       "server and the chat server, and run the seed's lessons against it.",
                       epilog="example: sudo sockviz demo --no-pause")
    p.add_argument("--no-pause", action="store_true", help="do not wait for Enter between lessons")
    p.add_argument("--save-dir", default="captures", metavar="DIR",
                   help="where the lessons' captures go (default ./captures)")
    p.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    _add_layout(p)
    _add_link(p)

    p = sub.add_parser("run", help="trace your own program: its socket calls and their packets",
                       description="Run a Python program as `python` would (its own __main__, "
                       "sys.argv and sys.path) with the capture listening before its first line, "
                       "and show every socket call it makes with the packets it caused. The "
                       "program's output stays its own: the view is written between its lines; "
                       "with --json the records take stdout and the program's stdout goes to "
                       "stderr.",
                       epilog="examples: sudo sockviz run client.py\n"
                       "          sudo sockviz run -m http.server 8000\n"
                       "          sudo sockviz run -c \"import socket; socket.getaddrinfo('chat', 3001)\"")
    g = p.add_mutually_exclusive_group()
    g.add_argument("-m", dest="module", metavar="MODULE", help="run a module, as python -m")
    g.add_argument("-c", dest="code", metavar="CODE", help="run a string of code, as python -c")
    _add_output(p)
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="SCRIPT [ARGS...]",
                   help="the script and its arguments (or the module's / code's arguments)")

    p = sub.add_parser("lab", help="the offline lab: 'sockviz lab shell', 'sockviz lab run -- CMD'",
                       description="Work inside the offline lab: a shell on its client host, or "
                       "any command run there (as you, with the right to capture) until it "
                       "exits; the lab is removed after.",
                       epilog="examples: sudo sockviz lab shell\n"
                       "          sudo sockviz lab run -- sockviz run client.py\n"
                       "          sudo sockviz lab run -- jupyter lab")
    p.add_argument("action", choices=("shell", "run"),
                   help="shell: a shell on the lab's client host; run: one command there")
    _add_link(p)
    p.add_argument("command_argv", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]",
                   help="with run: the command (after --)")
    p.set_defaults(help_text=p.format_help)  # 'lab run --help' (the rest is the command's)

    p = sub.add_parser("serve", help="the course chat server (TCP and UDP on one port)",
                       description="Run the chat server the course uses: over TCP each message "
                       "is echoed and relayed to the other clients; over UDP each datagram is "
                       "answered to its sender.",
                       epilog="example: sockviz serve --port 3001")
    p.add_argument("--host", default="::", help="address to listen on (default: all, IPv4 and IPv6)")
    p.add_argument("--port", type=_port, default=3001, help="port (default 3001)")
    p.add_argument("--watch", action="store_true",
                   help="show the server side live: socket, bind, listen, accept and the packets (root)")
    _add_code(p, "--watch")
    _add_output(p)
    for command in sub.choices.values():  # --debug before or after the command's name
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help=argparse.SUPPRESS)
        command.add_argument("--lang", type=_language, default=None, metavar="fr|en",
                             help="the language of the explanations (default: from the locale, "
                             "LANGUAGE, LC_ALL, LC_MESSAGES, LANG)")
    return parser


def main(argv: list[str] | None = None, env: Environment | None = None) -> int:
    """Parse, dispatch, and turn whatever escapes into one sentence and a status.

    As httpie's ``raw_main``: Ctrl-C is 130, a closed output (``| head``) is
    not an error, anything unexpected is one sentence and status 1, and
    ``--debug`` (or SOCKVIZ_DEBUG=1) shows its traceback instead.
    """
    env = env or Environment()
    try:
        return _main(argv, env)
    except KeyboardInterrupt:  # also while the parser is being built
        from sockviz.core.phrases import interrupted

        env.stderr.write("\n" + interrupted() + "\n")
        return ExitStatus.INTERRUPTED


def _main(argv: list[str] | None, env: Environment) -> int:
    from sockviz.core import phrases

    args_list = sys.argv[1:] if argv is None else argv
    _terminate_as_exit()
    _early_language(args_list, env)  # so that a bad argument is said in that language
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:
        return int(exc.code or 0)
    env.debug = env.debug or args.debug
    if args.command is None:
        parser.print_help(env.stdout)
        return ExitStatus.OK
    try:
        from sockviz.commands import dispatch

        phrases.set_language(getattr(args, "lang", None)
                             or phrases.language_from_environ(env.environ))
        return int(dispatch(args, env, args_list))
    except KeyboardInterrupt:
        env.stderr.write("\n" + phrases.interrupted() + "\n")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return ExitStatus.OK
    except Exception as exc:
        if env.show_tracebacks:
            raise
        sentence = phrases.unexpected_error(type(exc).__name__, str(exc), _where(exc))
        env.stderr.write(phrases.sentence_prefix().format(sentence=sentence) + "\n")
        return ExitStatus.ERROR


def _early_language(args_list: list[str], env: Environment) -> None:
    """The language, before argparse reads the arguments: ``--lang X`` if it is there and
    valid, else the locale's (parsing says what is wrong with a bad one, in that language)."""
    from sockviz.core import phrases

    chosen = None
    for i, word in enumerate(args_list):
        if word == "--":
            break
        if word == "--lang" and i + 1 < len(args_list):
            chosen = args_list[i + 1]
        elif word.startswith("--lang="):
            chosen = word.partition("=")[2]
    if chosen is not None and chosen.strip().lower() in phrases.LANGUAGES:
        phrases.set_language(chosen.strip().lower())
    else:
        phrases.set_language(phrases.language_from_environ(env.environ))


def _terminate_as_exit() -> None:
    """SIGTERM unwinds like Ctrl-C does: every ``finally`` runs, the capture is closed,
    the lab removed; the status is 128 + 15, as a shell reports it."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def terminated(signum, frame):
        raise SystemExit(128 + signum)

    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGTERM, terminated)


def _where(exc: BaseException) -> str:
    """' in sockviz/x.py line N': the innermost frame of sockviz's own, for the report."""
    tb, found = exc.__traceback__, ""
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if "sockviz" in name:
            from sockviz.core.phrases import where_in_code

            found = where_in_code(name.rsplit("sockviz", 1)[-1].lstrip("/"), tb.tb_lineno)
        tb = tb.tb_next
    return found


def _quiet_stdout() -> None:
    """After a closed pipe, Python's own flush at exit would complain: point stdout at nothing."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
