"""Event's one serialisation: to_json (stored columns, the classify CLI) and from_json (rows of any version)."""

from __future__ import annotations

from watchers.models import Classification, Event


def test_to_json_leaves_out_none_and_empty_text_in_field_order() -> None:
    event = Event("funding", "scale-ai", amount_usd=1e9, round="Series F", rule="funding.raise")
    assert list(event.to_json().items()) == [("type", "funding"), ("subject", "scale-ai"), ("status", "done"),
                                             ("amount_usd", 1e9), ("round", "Series F"),
                                             ("rule", "funding.raise"), ("confidence", 1.0)]
    assert list(event.to_json(keep_empty={"counterparty"}))[:3] == ["type", "subject", "counterparty"]
    assert Classification(["scale-ai"], [event]).to_dict() == {"companies": ["scale-ai"], "events": [event.to_json()]}


def test_from_json_reads_back_what_to_json_wrote() -> None:
    event = Event("funding", "scale-ai", "meta", "rumored", 14.3e9, 49.0, 29e9, "Series F", "Alexandr Wang", "CEO",
                  "Meta takes 49%", "funding.stake", 0.8)
    assert Event.from_json(event.to_json()) == event
    assert Event.from_json(Event("layoffs", "appen").to_json()) == Event("layoffs", "appen")


def test_from_json_tolerates_rows_of_other_versions() -> None:
    old = {"type": "funding", "subject": "scale-ai", "counterparty": None, "amount_usd": 1000000000,
           "stake_pct": "lots", "person": 7, "status": None, "confidence": True, "sentiment": "positive"}
    assert Event.from_json(old) == Event("funding", "scale-ai", amount_usd=1e9)
    assert isinstance(Event.from_json(old).amount_usd, float)
    assert Event.from_json({}) == Event("", "")
