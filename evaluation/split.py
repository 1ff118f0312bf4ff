"""The development and locked test halves of the corpus, split by story.

A story's half is fixed by a hash of its id, so adding items never moves a story between
halves. A test story that someone had to read is moved to the development half by name.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
# read by mistake while linking a new batch's stories (2026-12-06): fe-selipsky-aws-ceo-2021's titles were
# printed; fk-aws-ceo, perhaps the same event and unread, goes with it
# printed by mistake (2026-12-06, a grep's context lines while looking up a development item): three stories of fresh_b
MOVED_TO_DEV: frozenset[str] = frozenset({"fe-selipsky-aws-ceo-2021", "fk-aws-ceo", "fb-mistral-helsing",
                                          "fb-anthropic-spark-2023", "fb-parikh-joins-microsoft"})


def half_of(story: str) -> str:
    if story in MOVED_TO_DEV:
        return "dev"
    return "test" if int(hashlib.sha256(story.encode()).hexdigest(), 16) % 2 else "dev"


def load_corpus() -> list[dict]:
    items = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                item = json.loads(line)
                item["story"] = item.get("story") or f"{path.stem}:{number}"
                items.append(item)
    return items


def load_half(half: str) -> list[dict]:
    return [item for item in load_corpus() if half_of(item["story"]) == half]


if __name__ == "__main__":
    if sys.argv[1:] != ["dev"]:
        sys.exit("usage: python -m evaluation.split dev   (the test half stays locked)")
    for item in load_half("dev"):
        print(json.dumps(item, ensure_ascii=False))
