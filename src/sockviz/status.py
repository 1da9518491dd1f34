"""Exit statuses, in one place (httpie's ``status.py``)."""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1  # something unexpected went wrong
    NEED_ROOT = 2  # capturing needs root or CAP_NET_RAW
    BAD_HOST = 3  # the name does not resolve, or the address is not usable
    CALL_FAILED = 4  # the lesson ran and a call failed: refused, timed out, unreachable
    BAD_FILE = 5  # replay: not a capture file, or cannot be opened
    DAMAGED_FILE = 6  # replay: a damaged capture, shown up to where it breaks
    NO_PROGRAM = 7  # run: the script or module to trace cannot be found
    CANNOT_WRITE = 8  # an output file (--svg, --html) cannot be written there
    USAGE = 64  # bad arguments (EX_USAGE); argparse's own 2 is taken by NEED_ROOT
    INTERRUPTED = 130  # Ctrl-C
