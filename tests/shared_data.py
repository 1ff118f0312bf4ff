"""Where tests find what is not in their own folder: the team's shared data and the console script.

Shared data (eval sets, corpora) is `shared/` beside the checkout, where CI lays it and where a
developer's checkout has it; VW_SHARED_DIR overrides. A test whose data is missing fails under
CI (CI=true or VW_REQUIRE_SHARED=1), as the PostgreSQL tests do, and elsewhere is skipped with a
reason that names the missing file: never silently.

`VENDORWATCH` is the console script of the interpreter running the tests, so that `pytest`
works the same inside and outside `make` (a venv, a wheel install, CI).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VW_SHARED_DIR") or ROOT.parent / "shared")
DEV_SET = SHARED / "eval" / "dev.jsonl"
FEEDPARSER_CORPUS = SHARED / "corpus" / "feedparser-tests"
VENDORWATCH = Path(sys.executable).with_name("vendorwatch")


def require(path: Path) -> Path:
    """`path`, or the test fails (under CI) or is skipped with the reason (elsewhere)."""
    if path.exists():
        return path
    reason = f"shared data missing: {path} (set VW_SHARED_DIR to the shared/ folder)"
    if os.environ.get("CI") == "true" or os.environ.get("VW_REQUIRE_SHARED") == "1":
        pytest.fail(reason)
    pytest.skip(reason)
