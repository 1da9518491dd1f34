"""Test set-up: the lab fixtures, and hypothesis's files kept out of the checkout."""

import os
import shutil
import tempfile

# Hypothesis keeps a folder of its own (.hypothesis/) where it runs, even with no
# example database: a temporary one instead, removed when the tests end.
_HYPOTHESIS_DIR = tempfile.mkdtemp(prefix="sockviz-hypothesis-")
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", _HYPOTHESIS_DIR)

pytest_plugins = ["labfixture"]


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_HYPOTHESIS_DIR, ignore_errors=True)
