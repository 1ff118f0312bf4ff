"""Scores of the rules engine on the corpus halves and on shared/eval/dev.jsonl.

Per event type: precision and recall of (type, subject) pairs per item; type and subject F1
over all types; the share of true customer losses whose counterparty is right; company
precision and recall; and look-alike alarms (items labeled with no event on which the engine
raised one).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from evaluation.split import load_half
from watchers.models import EVENT_TYPES
from watchers.rules.classify import RulesEngine
from watchers.settings import default_seeds_dir

SHARED_DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"


def classify(rules_engine: RulesEngine, item: dict):  # noqa: ANN201
    return rules_engine.classify(item["title"], item.get("summary") or "", link=item.get("link"))


def score(rules_engine: RulesEngine, items: list[dict]) -> dict:
    hit, false, missed = Counter(), Counter(), Counter()
    cp_right = cp_total = 0
    comp_tp = comp_fp = comp_fn = 0
    alarms = quiet = 0
    for item in items:
        result = classify(rules_engine, item)
        gold = {(e["type"], e["subject"]) for e in item["events"]}
        found = {(e.type, e.subject) for e in result.events}
        for pair in found & gold:
            hit[pair[0]] += 1
        for pair in found - gold:
            false[pair[0]] += 1
        for pair in gold - found:
            missed[pair[0]] += 1
        for event in item["events"]:
            if event["type"] == "customer_loss":
                cp_total += 1
                cp_right += any(e.type == "customer_loss" and e.subject == event["subject"]
                                and e.counterparty == event.get("counterparty") for e in result.events)
        comp_gold, comp_found = set(item["companies"]), set(result.companies)
        comp_tp += len(comp_gold & comp_found)
        comp_fp += len(comp_found - comp_gold)
        comp_fn += len(comp_gold - comp_found)
        if not item["events"]:
            quiet += 1
            alarms += bool(result.events)
    rows = {}
    for kind in EVENT_TYPES:
        tp, fp, fn = hit[kind], false[kind], missed[kind]
        rows[kind] = {"n": tp + fn, "precision": tp / (tp + fp) if tp + fp else None,
                      "recall": tp / (tp + fn) if tp + fn else None}
    tp, fp, fn = sum(hit.values()), sum(false.values()), sum(missed.values())
    precision, recall = tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0
    return {"items": len(items), "types": rows,
            "all": {"precision": precision, "recall": recall,
                    "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0},
            "customer_loss_counterparty": cp_right / cp_total if cp_total else None,
            "companies": {"precision": comp_tp / (comp_tp + comp_fp) if comp_tp + comp_fp else None,
                          "recall": comp_tp / (comp_tp + comp_fn) if comp_tp + comp_fn else None},
            "lookalike_alarms": alarms / quiet if quiet else None, "eventless_items": quiet}


def misses(rules_engine: RulesEngine, items: list[dict]) -> None:
    for item in items:
        result = classify(rules_engine, item)
        gold = {(e["type"], e["subject"], e.get("counterparty")) for e in item["events"]}
        found = {(e.type, e.subject, e.counterparty) for e in result.events}
        if gold != found:
            print(json.dumps({"id": item["id"], "title": item["title"], "summary": item.get("summary", ""),
                              "missed": sorted(map(str, gold - found)), "false": sorted(map(str, found - gold))},
                             ensure_ascii=False))


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def report(name: str, result: dict) -> str:
    lines = [f"## {name} ({result['items']} items)", "| type | n | precision | recall |", "| --- | --- | --- | --- |"]
    for kind, row in result["types"].items():
        lines.append(f"| {kind} | {row['n']} | {_fmt(row['precision'])} | {_fmt(row['recall'])} |")
    total = result["all"]
    lines.append(f"| type + subject, all | | {_fmt(total['precision'])} | {_fmt(total['recall'])} (F1 {_fmt(total['f1'])}) |")
    lines.append(f"customer-loss counterparty right: {_fmt(result['customer_loss_counterparty'])}; "
                 f"companies P {_fmt(result['companies']['precision'])} R {_fmt(result['companies']['recall'])}; "
                 f"look-alike alarms {_fmt(result['lookalike_alarms'])} of {result['eventless_items']} eventless items")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", choices=["dev", "shared-dev"], help="print what went wrong on a development set")
    parser.add_argument("--with-test", action="store_true",
                        help="also score the locked test half (a deliberate look: count it in the closing note)")
    args = parser.parse_args()
    rules_engine = RulesEngine.load(default_seeds_dir())
    shared = [json.loads(line) for line in SHARED_DEV.read_text().splitlines() if line.strip()] \
        if SHARED_DEV.exists() else []
    if args.misses:
        misses(rules_engine, load_half("dev") if args.misses == "dev" else shared)
        return 0
    print(report("corpus, development half", score(rules_engine, load_half("dev"))))
    if args.with_test:
        print(report("corpus, locked test half", score(rules_engine, load_half("test"))))
    if shared:
        print(report("shared/eval/dev.jsonl", score(rules_engine, shared)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
