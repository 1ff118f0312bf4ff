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

# (F1 of type and subject, look-alike alarms at most), less a margin, as measured at the end of issue
# 11's work of 2026-12-05 on the corpus with its six more blind batches (dev half 796 items, test half
# 757): dev 0.87 / 0.08 (the learned model is trained on the development half), test 0.74 / 0.17,
# shared 1.00 / 0.00. The dev half holds the blind batches' dev items, harder than the rest.
# 2026-12-06: eight more blind batches (fresh_i..fresh_p) joined both halves; their development items
# (the engine's recall on them was 0.3-0.8 before reading) and a model retrained with features seen
# three times or more (its customer-loss threshold rose 0.82 -> 0.93 in cross-validation: fewer
# in-sample events) set the development figures at F1 0.84, customer-loss precision 0.935 and
# counterparty 0.69.
FLOORS = {"dev": (0.82, 0.11), "test": (0.71, 0.20), "shared": (0.99, 0.01)}
# precision of the types a user acts on, on the development half (0.83, 0.96, 0.935), less a margin.
# 2026-12-06, later: four more blind batches (fresh_z..fresh_zc) joined; the 124 development items among
# them have customer-loss precision 0.77 (the older 1,275: 0.943), the whole half 0.917
DEV_PRECISION_FLOORS = {"funding": 0.80, "leadership_change": 0.93, "customer_loss": 0.90}
# customer losses whose customer is right, on the development half (0.69), less a margin
DEV_COUNTERPARTY_FLOOR = 0.66


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


def test_precision_of_the_types_acted_on_stays_above_floors(engine: RulesEngine) -> None:
    types = score(engine, _items("dev"))["types"]
    for kind, floor in DEV_PRECISION_FLOORS.items():
        assert types[kind]["precision"] >= floor, f"{kind}: precision {types[kind]['precision']:.3f} < {floor}"


def test_customer_loss_counterparty_stays_above_floor(engine: RulesEngine) -> None:
    right = score(engine, _items("dev"))["customer_loss_counterparty"]
    assert right >= DEV_COUNTERPARTY_FLOOR, f"customer-loss counterparty right {right:.3f} < {DEV_COUNTERPARTY_FLOOR}"
