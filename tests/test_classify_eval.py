"""Quality on the labeled dev set (shared/eval/dev.jsonl), measured and asserted.

Per type: precision and recall over (type, subject) pairs; subject right and, for
customer_loss, counterparty right on the true events; company detection precision and recall;
no event at all on look-alike items (no company labeled). Predictions are limited to the
companies tracked in the eval set: the bundled registry tracks more.
Run with `-s` to see the figures.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from watchers.rules.classify import RulesEngine
from tests.shared_data import DEV_SET, require
from watchers.models import EVENT_TYPES

ROOT = Path(__file__).resolve().parent.parent
DEV = DEV_SET
EVAL_SLUGS = set(("scale-ai mercor surge-ai turing invisible labelbox snorkel-ai handshake appen toloka sama imerit "
                  "prolific micro1 openai anthropic google meta xai microsoft amazon apple nvidia mistral cohere "
                  "deepseek ssi thinking-machines perplexity").split())
ASSERTED = ("funding", "leadership_change", "customer_loss")



@pytest.fixture(scope="module")
def figures() -> dict:
    rules_engine = RulesEngine.load(ROOT / "seeds")
    tp, fp, fn, roles_right, roles_total = Counter(), Counter(), Counter(), Counter(), Counter()
    company = Counter()
    lookalike_events = []
    for line in require(DEV).read_text().splitlines():
        item = json.loads(line)
        result = rules_engine.classify(item["title"], item.get("summary", ""), source=item.get("source"))
        gold_companies, found_companies = set(item["companies"]), set(result.companies) & EVAL_SLUGS
        company["tp"] += len(gold_companies & found_companies)
        company["fp"] += len(found_companies - gold_companies)
        company["fn"] += len(gold_companies - found_companies)
        found = {(e.type, e.subject, e.counterparty) for e in result.events if e.subject in EVAL_SLUGS}
        gold = {(e["type"], e["subject"], e.get("counterparty")) for e in item["events"]}
        if not item["companies"] and result.events:
            lookalike_events.append(item["id"])
        found_pairs, gold_pairs = {(t, s) for t, s, _ in found}, {(t, s) for t, s, _ in gold}
        for kind in EVENT_TYPES:
            tp[kind] += len({p for p in found_pairs & gold_pairs if p[0] == kind})
            fp[kind] += len({p for p in found_pairs - gold_pairs if p[0] == kind})
            fn[kind] += len({p for p in gold_pairs - found_pairs if p[0] == kind})
        for event in gold:
            roles_total[event[0]] += 1
            if event[0] == "customer_loss":
                roles_right[event[0]] += event in found
            else:
                roles_right[event[0]] += (event[0], event[1]) in found_pairs
    result = {"lookalike_events": lookalike_events,
              "company_precision": company["tp"] / max(1, company["tp"] + company["fp"]),
              "company_recall": company["tp"] / max(1, company["tp"] + company["fn"])}
    print(f"\ncompanies: precision {result['company_precision']:.3f} recall {result['company_recall']:.3f}")
    for kind in EVENT_TYPES:
        result[kind] = {"precision": tp[kind] / max(1, tp[kind] + fp[kind]),
                        "recall": tp[kind] / max(1, tp[kind] + fn[kind]),
                        "roles": roles_right[kind] / max(1, roles_total[kind]), "support": roles_total[kind]}
        print(f"{kind:18} precision {result[kind]['precision']:.3f} recall {result[kind]['recall']:.3f} "
              f"roles {result[kind]['roles']:.3f} (n={roles_total[kind]}, tp {tp[kind]} fp {fp[kind]} fn {fn[kind]})")
    return result


@pytest.mark.parametrize("kind", ASSERTED)
def test_precision_recall_and_roles(figures: dict, kind: str) -> None:
    assert figures[kind]["precision"] >= 0.95
    assert figures[kind]["recall"] >= 0.90
    assert figures[kind]["roles"] >= 0.95


@pytest.mark.parametrize("kind", [k for k in EVENT_TYPES if k not in ASSERTED])
def test_other_types_stay_good(figures: dict, kind: str) -> None:
    if figures[kind]["support"]:
        assert figures[kind]["precision"] >= 0.9 and figures[kind]["recall"] >= 0.85


def test_company_detection(figures: dict) -> None:
    assert figures["company_precision"] >= 0.98
    assert figures["company_recall"] >= 0.95


def test_no_event_on_lookalikes(figures: dict) -> None:
    assert figures["lookalike_events"] == []
