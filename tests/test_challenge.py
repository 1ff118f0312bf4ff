"""The behavioral challenge set (evaluation/challenge.toml): its shape, and each capability group's
failure rate under a ceiling set from the figures of its last change less a margin."""

from __future__ import annotations

import pytest

from evaluation.challenge import load_cases, failure_rates, run
from watchers.models import EVENT_TYPES
from watchers.rules.classify import RulesEngine
from watchers.settings import default_seeds_dir

# failure rate at most, per group: the figures of December 2026's challenge work (0.00, 0.06, 0.00, 0.03,
# 0.00, 0.03, 0.14 of 227 cases) plus a margin of about one or two cases
CEILINGS = {
    "investor_or_buyer": 0.05,
    "background_mention": 0.10,
    "product_names": 0.05,
    "business_verbs": 0.08,
    "modality": 0.05,
    "role_direction": 0.08,
    "market_noise": 0.20,
}


@pytest.fixture(scope="module")
def engine() -> RulesEngine:
    return RulesEngine.load(default_seeds_dir())


def test_every_group_has_fifteen_cases_half_of_them_negatives() -> None:
    cases = load_cases()
    assert {case.group for case in cases} == set(CEILINGS)
    for group in CEILINGS:
        in_group = [case for case in cases if case.group == group]
        assert len(in_group) >= 15, group
        assert sum(not case.events for case in in_group) * 2 >= len(in_group), group


def test_expected_events_name_known_types_and_tracked_companies(engine: RulesEngine) -> None:
    for case in load_cases():
        for event in case.events:
            assert event.type in EVENT_TYPES, case.title
            assert engine.registry.get(event.subject) is not None, case.title
            assert event.counterparty in (None, "") or engine.registry.get(event.counterparty) is not None, case.title


def test_each_group_fails_at_most_its_ceiling(engine: RulesEngine) -> None:
    rates = failure_rates(run(engine, load_cases()))
    over = {group: round(rate, 3) for group, rate in rates.items() if rate > CEILINGS[group]}
    assert not over, f"failure rates over their ceilings: {over} (python -m evaluation.challenge --failures)"
