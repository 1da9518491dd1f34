"""Left for ``commands/resolve.py`` alone, whose owner moves its imports (issue 11).

What was here is now in modules named for it: ``sockviz.refusal`` (Refusal,
say), ``sockviz.addresses`` (literal_family, host_addresses),
``commands/live_capture.py``, ``commands/output_paths.py`` and
``commands/sinks.py``. Delete this file once resolve.py imports from there.
"""

from sockviz.addresses import literal_family
from sockviz.refusal import Refusal

__all__ = ["Refusal", "literal_family"]
