"""Where the team's shared data (eval sets, corpora) lives: `shared/` beside the checkout.

CI clones the repository with shared/ beside it; a developer's checkout has it at the same
place. VW_SHARED_DIR overrides.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    override = os.environ.get("VW_SHARED_DIR")
    if override:
        return Path(override)
    for candidate in (ROOT.parent / "shared", Path("/work/shared")):
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared"


SHARED = shared_dir()
DEV_SET = SHARED / "eval" / "dev.jsonl"
FEEDPARSER_CORPUS = SHARED / "corpus" / "feedparser-tests"
