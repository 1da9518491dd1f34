"""``python -m sockviz``: the command line. A Ctrl-C while it loads ends quietly too (130)."""

import sys

try:
    from sockviz.cli import main
except KeyboardInterrupt:
    sys.exit(130)

raise SystemExit(main())
