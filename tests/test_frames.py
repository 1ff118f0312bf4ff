"""Event frames (watchers/rules/frames.py, seeds/lexicon.toml): one table of named cases, each a
phrasing newsrooms use, written in general form."""

from __future__ import annotations

import pytest

from watchers.rules.classify import RulesEngine
from watchers.rules.frames import inflect
from watchers.settings import default_seeds_dir


@pytest.fixture(scope="module")
def engine() -> RulesEngine:
    return RulesEngine.load(default_seeds_dir())


CASES = [
    # name, title, expected {(type, subject, counterparty)}, expected status of the first event or None
    ("planning a round", "Mercor is planning a $500 million round", {("funding", "mercor", None)}, "planned"),
    ("final stages of raising", "Surge AI in the final stages of raising $1 billion",
     {("funding", "surge-ai", None)}, "in_talks"),
    ("completed a deal to raise", "Labelbox has completed a deal to raise $110 million",
     {("funding", "labelbox", None)}, "done"),
    ("escaped dollar sign", "Turing secures \\$72 million", {("funding", "turing", None)}, "done"),
    ("co-founder is leaving", "Scale AI co-founder Lucy Guo is leaving", {("leadership_change", "scale-ai", None)}, None),
    ("will step down", "Appen CEO will step down next year", {("leadership_change", "appen", None)}, "planned"),
    ("loses its head to a rival", "Apple loses its head of AI models to Meta",
     {("leadership_change", "apple", None), ("leadership_change", "meta", None)}, None),
    ("customer by apposition", "Google, Appen's largest customer, will end its contract",
     {("customer_loss", "appen", "google")}, None),
    ("moves on from a vendor", "OpenAI moves on from Scale AI", {("customer_loss", "scale-ai", "openai")}, None),
    ("no longer uses", "Meta no longer uses Surge AI for labeling", {("customer_loss", "surge-ai", "meta")}, None),
    ("vendor loses a contract", "Appen loses Google contract", {("customer_loss", "appen", "google")}, None),
    ("regulator's order to a list", "FTC orders OpenAI, Meta and xAI to hand over data",
     {("legal", "openai", None), ("legal", "meta", None), ("legal", "xai", None)}, None),
    ("untracked buyer", "SoftBank agrees to buy Labelbox", {("acquisition", "labelbox", None)}, None),
    ("passive acquisition", "Labelbox is acquired by Scale AI", {("acquisition", "labelbox", "scale-ai")}, None),
    ("investment into", "Nvidia pours $2 billion into Mistral AI", {("funding", "mistral", "nvidia")}, None),
    ("faces a class action", "Mercor faces class action over data breach", {("legal", "mercor", None)}, None),
    ("layoffs noun after company", "Sama announces layoffs of 200 staff", {("layoffs", "sama", None)}, None),
    # what frames must not raise
    ("intention is no event", "Microsoft considers dropping Scale AI", set(), None),
    ("denial is no event", "Mercor denies it is raising $1 billion", set(), None),
    ("compound adjective is no funding", "Amazon-backed Anthropic launches a new model", set(), None),
    ("background after months", "Anthropic wins praise months after cutting off OpenAI", set(), None),
    ("researchers are no leaders", "Meta poaches three OpenAI researchers", set(), None),
    ("imperative verb is no company", "Scale your startup with these tips", set(), None),
    ("the anthropic principle", "The Anthropic principle, explained", set(), None),
]


@pytest.mark.parametrize("title,expected,status", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case(engine: RulesEngine, title: str, expected: set, status: str | None) -> None:
    result = engine.classify(title)
    assert {(e.type, e.subject, e.counterparty) for e in result.events} == expected, engine.explain(result)
    if status is not None:
        assert result.events[0].status == status
    for event in result.events:
        assert event.rule and event.evidence


def test_verb_forms_are_generated_from_lemmas() -> None:
    assert {"drops", "dropped", "dropping"} <= inflect("drop")
    assert {"leaves", "left", "leaving"} <= inflect("leave")
    assert {"acquires", "acquired", "acquiring"} <= inflect("acquire")
    assert {"sues", "sued", "suing"} <= inflect("sue")
