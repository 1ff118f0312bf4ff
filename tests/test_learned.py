"""The learned event model: the shipped weights, training's determinism, additions, veto and --explain."""

from __future__ import annotations

import json

import pytest

from evaluation import train
from watchers.models import EVENT_TYPES
from watchers.rules.classify import RulesEngine
from watchers.rules.learned import MODEL_FILE, EventModel, candidate_features, item_words
from watchers.rules.registry import load_registry
from watchers.rules.rulebook import load_rules
from watchers.settings import default_seeds_dir

SEEDS = default_seeds_dir()


def _engine(model: EventModel, with_rules: bool = False) -> RulesEngine:
    rules = load_rules(SEEDS / "rules.toml") if with_rules else []
    return RulesEngine(load_registry(SEEDS / "companies.toml"), rules, None, model)


def _tiny_model(**overrides) -> EventModel:
    data = {"weights": {"sue": {"legal": 3.0}, "court": {"legal": 1.0}, "xsubj": {"any": 0.5}},
            "bias": {"legal": -2.0, "any": -1.0}, "thresholds": {"legal": 0.6}, "veto_threshold": None}
    data.update(overrides)
    return EventModel.from_json(data)


def test_the_shipped_model_loads_with_the_rules() -> None:
    shipped = json.loads((SEEDS / MODEL_FILE).read_text(encoding="utf-8"))
    model = RulesEngine.load(SEEDS).learned
    assert model is not None
    assert set(model.thresholds) <= set(EVENT_TYPES) | {"any"}
    assert set(model.weights) == set(shipped["heads"]) == set(model.bias)
    assert (SEEDS / MODEL_FILE).stat().st_size < 600_000


def test_the_shipped_model_was_trained_on_the_training_data_of_now() -> None:
    shipped = json.loads((SEEDS / MODEL_FILE).read_text(encoding="utf-8"))
    items, sets = train.training_sets()
    if sets != shipped["trained_on"]:
        pytest.skip(f"training sets here {sets}, the model's {shipped['trained_on']}")
    assert train.data_hash(items) == shipped["data_sha256"], "retrain: python -m evaluation.train"


def test_a_learned_event_is_added_for_a_company_in_no_event_and_explained() -> None:
    engine = _engine(_tiny_model())
    result = engine.classify("Authors sue Anthropic over books")
    [event] = result.events
    assert (event.type, event.subject, event.counterparty) == ("legal", "anthropic", None)
    assert event.rule == "learned.legal" and event.evidence == "Authors sue Anthropic over books"
    assert event.status in ("done", "in_talks", "rumored", "planned")
    [decision] = result.learned
    assert decision.carried_by[0].feature == "sue" and decision.score >= 0.6
    explained = engine.explain(result)
    assert "rule: learned.legal" in explained
    assert "learned: score" in explained and "carried by sue (+3.00)" in explained
    assert "learned" not in json.dumps(result.to_dict()).replace("learned.legal", "")  # the output keeps its shape


def test_no_learned_event_under_the_threshold_or_for_a_company_already_in_an_event() -> None:
    assert _engine(_tiny_model()).classify("Anthropic opens an office in court street").events == []
    engine = _engine(_tiny_model(), with_rules=True)
    result = engine.classify("Scale AI raises $1 billion from Meta; authors sue")
    assert {e.rule.split(".")[0] for e in result.events} == {"funding"} and result.learned == []


def test_the_veto_drops_the_events_of_an_item_judged_eventless_and_says_why() -> None:
    model = _tiny_model(thresholds={"legal": None}, veto_threshold=0.5,
                        weights={"rais": {"any": -5.0}}, bias={"legal": 0.0, "any": 0.0})
    engine = _engine(model, with_rules=True)
    result = engine.classify("Scale AI raises $1 billion from Meta")
    assert result.events == [] and result.learned[0].vetoed
    assert "vetoed every event" in engine.explain(result)


def test_features_name_roles_money_and_numbers_not_companies() -> None:
    engine = _engine(_tiny_model())
    reading = engine.read("Meta invests $14.3 billion in Scale AI", "It takes a 49% stake, sources say.")
    features = candidate_features(reading, item_words(reading), "scale-ai")
    assert {"xcomp_invest", "invest_xmoney", "in_xsubj", "before:in", "xnum", "@in_title"} <= features
    assert not any("meta" in f or "scale" in f for f in features)
    assert "@first_in_title" in candidate_features(reading, item_words(reading), "meta")


def _fixture_items() -> list[train.TrainingItem]:
    rows = [("s1", {"sue", "court"}, True), ("s2", {"sue", "judge"}, True), ("s3", {"rais", "round"}, False),
            ("s4", {"rais", "seed"}, False), ("s5", {"sue", "rais"}, True), ("s6", {"round", "judge"}, False),
            ("s7", {"sue", "court"}, True), ("s8", {"rais", "round"}, False)]  # each word in MIN_DOCS rows or more
    return [train.TrainingItem(story, {("legal", "openai")} if sued else set(), set(), set(), ["openai"],
                               [features | {"xsubj"}]) for story, features, sued in rows]


def test_training_is_deterministic_and_learns_the_fixture() -> None:
    first, second = train.train(_fixture_items()), train.train(_fixture_items())
    assert first[0] == second[0]
    assert (first[1] == second[1]).all() and (first[2] == second[2]).all()
    vocabulary, weights, _bias = first
    legal = train.HEADS.index("legal")
    assert weights[vocabulary["sue"], legal] > 0 > weights[vocabulary["rais"], legal]
    text = train.model_text({"about": "x", "weights": {"sue": {"legal": 0.5}, "rais": {"legal": -0.5}}})
    assert json.loads(text) == {"about": "x", "weights": {"sue": {"legal": 0.5}, "rais": {"legal": -0.5}}}
