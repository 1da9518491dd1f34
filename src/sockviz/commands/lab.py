"""``sockviz lab shell``: a shell on the lab's client host, the course server beside it.

The lab is two network namespaces joined by a veth pair: the client
(192.0.2.1, 2001:db8::1) and the server chat.sockviz.test (192.0.2.2,
2001:db8::2) with the chat server on port 3001 and a DNS server. It is
removed when the shell exits, on error and on Ctrl-C; a later run removes what
a killed run left.
"""

from __future__ import annotations

import os
import shutil

from sockviz.core import phrases
from sockviz.refusal import Refusal
from sockviz.status import ExitStatus


def open_lab(*, argv: list[str], dns: bool = True, chat: bool = True, delay_ms: float = 0.0,
             loss_pct: float = 0.0, zone_file: str | None = None, environ=None):
    """The lab, up, or a Refusal saying why it cannot be.

    ``zone_file``: a teacher's names for the lab's DNS server too (lab/zonefile.py),
    read with the rights of the user behind sudo (``environ``'s SUDO_UID).

    With a delay or a loss, a wire host between client and server forwards each
    frame after ``delay_ms`` and drops ``loss_pct`` percent (this kernel, like
    many, has no netem: see ``sockviz.lab.wire``). ``argv``: the command's
    arguments, for the ``sudo`` command a refusal gives.
    """
    from sockviz.lab import netns

    if os.geteuid() != 0:
        import shlex
        import sys

        command = shlex.join(["sudo", sys.executable, "-m", "sockviz", *argv])
        raise Refusal(phrases.lab_needs_root(command), ExitStatus.NEED_ROOT)
    zone = None
    if zone_file is not None:
        from sockviz import privileges
        from sockviz.lab.zonefile import ZoneFileError, lab_zone

        try:
            zone = lab_zone(zone_file, privileges.invoking_user(environ or os.environ))
        except ZoneFileError as exc:
            raise Refusal(str(exc), ExitStatus.BAD_FILE) from None
    ok, why = netns.available()
    if not ok:
        raise Refusal(phrases.lab_impossible_here(why), ExitStatus.ERROR)
    lab = netns.Lab(dns=dns, chat=chat, handle_signals=True, delay_ms=delay_ms,
                    loss_pct=loss_pct, zone=zone)
    try:
        lab.up()
    except netns.LabError as exc:
        raise Refusal(phrases.lab_failed(str(exc)), ExitStatus.ERROR) from None
    return lab


def run(args, env, argv) -> int:
    if args.command_argv[:1] in (["-h"], ["--help"]) and getattr(args, "help_text", None):
        env.stdout.write(args.help_text())  # 'lab run --help' asks for help, not a command
        return ExitStatus.OK
    if args.action == "run":
        return _run_command(args, env, argv)
    if args.command_argv:
        raise Refusal(phrases.lab_shell_takes_no_command(), ExitStatus.USAGE)
    lab = open_lab(argv=argv, delay_ms=args.delay, loss_pct=args.loss,
                   zone_file=getattr(args, "zone", None), environ=env.environ)
    try:
        env.stdout.write(phrases.lab_banner())
        env.stdout.flush()
        shell = env.environ.get("SHELL") or shutil.which("bash") or "/bin/sh"
        argv_shell = [shell]
        if os.path.basename(shell) == "bash":
            argv_shell = [shell, "--norc", "-i"]
        child_env = {**env.environ, "PS1": "(sockviz lab) \\w# ", "SOCKVIZ_LAB": lab.lab_id,
                     **_language_environ(args)}
        return lab.client.interactive(argv_shell, env=child_env)
    finally:
        lab.down()


def _run_command(args, env, argv: list[str]) -> int:
    """``sockviz lab run -- COMMAND``: COMMAND on the lab's client host, then the lab goes.

    Under sudo it runs as the invoking user with CAP_NET_RAW as an ambient
    capability, its one privilege (``setpriv``), so a notebook kernel can
    capture while everything it writes belongs to the user.
    """
    import sys

    from sockviz import privileges

    command = _link_options(args, list(args.command_argv or []))
    if not command:
        raise Refusal(phrases.lab_run_needs_a_command(), ExitStatus.USAGE)
    path = _path(sys.executable, env.environ)
    found = shutil.which(command[0], path=path)
    if found is None:
        raise Refusal(phrases.no_such_command(command[0]), ExitStatus.NO_PROGRAM)
    user = privileges.invoking_user(env.environ)
    child_argv = [found, *command[1:]]
    child_env = {**env.environ, "PATH": path, **_language_environ(args)}
    if user is not None:
        uid, gid = user
        # Groups, then ids; CAP_NET_RAW kept across the exec as an ambient capability.
        child_argv = [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={gid}",
                      "--init-groups", "--inh-caps=+net_raw", "--ambient-caps=+net_raw", "--",
                      *child_argv]
        import pwd

        try:
            entry = pwd.getpwuid(uid)
            child_env.update(HOME=entry.pw_dir, USER=entry.pw_name, LOGNAME=entry.pw_name)
        except KeyError:
            pass
        for key in ("SUDO_UID", "SUDO_GID", "SUDO_USER", "SUDO_COMMAND"):
            child_env.pop(key, None)  # the command is that user now: nothing to give up again
    lab = open_lab(argv=argv, delay_ms=args.delay, loss_pct=args.loss,
                   zone_file=getattr(args, "zone", None), environ=env.environ)
    try:
        child_env["SOCKVIZ_LAB"] = lab.lab_id
        return lab.client.interactive(child_argv, env=child_env)
    finally:
        lab.down()


def _link_options(args, words: list[str]) -> list[str]:
    """``lab run --delay 40 -- CMD``: the lab's own options stand before ``--``, the command after."""
    if "--" not in words:
        return words
    cut = words.index("--")
    if cut:
        import argparse

        from sockviz.cli import _milliseconds, _percent

        # Its own errors raised, not printed: the refusal below is the one sentence.
        own = argparse.ArgumentParser(prog="sockviz lab run", add_help=False,
                                      exit_on_error=False)
        own.add_argument("--delay", type=_milliseconds, default=args.delay)
        own.add_argument("--loss", type=_percent, default=args.loss)
        own.add_argument("--zone", default=getattr(args, "zone", None))
        try:
            found, rest = own.parse_known_args(words[:cut])
        except argparse.ArgumentError as exc:  # a bad value: the type's own sentence
            raise Refusal(exc.message, ExitStatus.USAGE) from None
        if rest:
            raise Refusal(phrases.lab_run_options(), ExitStatus.USAGE)
        args.delay, args.loss, args.zone = found.delay, found.loss, found.zone
    return words[cut + 1:]


def _language_environ(args) -> dict[str, str]:
    """``lab --lang fr``: the commands run in the lab speak it too (gettext reads LANGUAGE first)."""
    lang = getattr(args, "lang", None)
    return {"LANGUAGE": lang} if lang else {}


def _path(python: str, environ) -> str:
    """PATH with this sockviz's venv first: sudo resets PATH, and the venv has the tools."""
    here = os.path.dirname(python)
    rest = [p for p in environ.get("PATH", os.defpath).split(os.pathsep) if p and p != here]
    return os.pathsep.join([here, *rest])
