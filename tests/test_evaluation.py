"""Scores of the rules engine stay above floors set from the figures of the last change
(evaluation/README.md). The locked test half is read only through evaluation.score's aggregate
numbers; no item is printed."""

from __future__ import annotations

import json

import pytest

from evaluation.score import SHARED_DEV, score
from evaluation.split import load_half
from watchers.rules.classify import RulesEngine
from watchers.settings import default_seeds_dir

# (F1 of type and subject, look-alike alarms at most): the figures of the frames' first version, less a margin
FLOORS = {"dev": (0.63, 0.11), "test": (0.63, 0.23), "shared": (0.99, 0.01)}


@pytest.fixture(scope="module")
def engine() -> RulesEngine:
    return RulesEngine.load(default_seeds_dir())


def _items(half: str) -> list[dict]:
    if half == "shared":
        if not SHARED_DEV.is_file():
            pytest.skip("shared/eval/dev.jsonl is not here")
        return [json.loads(line) for line in SHARED_DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return load_half(half)


@pytest.mark.parametrize("half", sorted(FLOORS))
def test_scores_stay_above_floors(engine: RulesEngine, half: str) -> None:
    scores = score(engine, _items(half))
    f1_floor, alarms_ceiling = FLOORS[half]
    assert scores["all"]["f1"] >= f1_floor, f"{half}: F1 {scores['all']['f1']:.3f} < {f1_floor}"
    assert (scores["lookalike_alarms"] or 0) <= alarms_ceiling, f"{half}: look-alike alarms {scores['lookalike_alarms']:.3f}"
