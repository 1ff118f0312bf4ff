"""Train the learned event model (watchers/rules/learned.py) and write seeds/event_model.json.

    python -m evaluation.train            # train, cross-validate, write the weights
    python -m evaluation.train --check    # train again and compare with the shipped file (exit 1 if not equal)

Training data: the development half of the corpus and, where present, ../shared/eval/dev.jsonl
(skipped cleanly where absent: the file records which sets it was trained on and their hash).
The locked test half is never read. One row per (item, company with a role): its features
(learned.candidate_features) and, per event type, whether the item's labels make that company a
subject of that type; "any" is whether it is the subject of any event.

Each head is an L2-regularised logistic regression fitted by full-batch Adam from zero weights
for a fixed number of steps (plain numpy, no randomness: the same data gives the same weights).
Thresholds come from 5-fold cross-validation grouped by story (a story's items are never split
across folds). A type's threshold is the lowest out-of-fold score at which the model alone is
right at least PRECISION of the time over all (company, type) pairs, with MIN_RIGHT right at
least: that depends on the data only, not on what the rules of the day happen to find. It is
kept only when adding the model's events to the rules' on the same folds raises that type's F1
without taking its precision under min(PRECISION, the rules' own); else the type adds nothing.
The veto threshold: the highest best-"any" score under which the items whose rule events would
be vetoed are eventless at least PRECISION of the time (two such items at least), else none.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")  # one thread: the same sums in the same order, run after run
import numpy as np  # noqa: E402

from evaluation.score import SHARED_DEV
from evaluation.split import load_half
from watchers.models import EVENT_TYPES
from watchers.rules.classify import RulesEngine
from watchers.rules.learned import ANY, COUNTERPARTY_TYPES, MODEL_FILE, NOT_SUBJECT, candidate_features, item_words, role_slugs
from watchers.settings import default_seeds_dir

HEADS = (*EVENT_TYPES, ANY)
FOLDS = 5
PRECISION = 0.90
MIN_RIGHT = 5
MIN_DOCS = 4  # a feature seen in fewer training rows is left out
L2 = 3e-3
STEPS = 400
LEARNING_RATE = 0.05
KEEP_WEIGHT = 5e-4  # smaller weights round to zero
# Types kept out of the model although cross-validation admitted them: the issue admits a learned
# component where it beats the rules on the locked test half AND keeps precision there. Looked at once:
WITHHELD = {"legal": "test half, 2026-12-05: legal precision 0.95 with the rules alone, 0.87 with the "
                     "model's events (recall 0.55 -> 0.68): precision not kept",
            "any": "the veto, test half, 2026-12-05: look-alike alarms 0.19 -> 0.18 but funding recall "
                   "0.74 -> 0.72 (no gain), and it scores every company of every item with events: "
                   "a fifth of classify's speed, under the 5,000 items/s floor",
            "partnership": "test half, 2026-12-05 (680 items, look 8): the head admitted by cross-validation "
                           "changed no result there (partnership P 0.75 R 0.54 with and without it): no gain",
            "leadership_change": "test half, 2026-12-06 (1,114 items, look 12): admitted once thresholds aim at 90% "
                                 "precision, it raised leadership recall 0.74 -> 0.84 but lowered its precision "
                                 "0.85 -> 0.81 and raised look-alike alarms 0.141 -> 0.164: precision not kept"}
_DATA_FIELDS = ("id", "title", "summary", "link", "source", "events", "story")
# what --check compares: the figures of cross-validation and the rules' hash follow the rules of the day
CHECKED = ("trained_on", "items", "rows", "data_sha256", "settings", "heads", "thresholds", "veto_threshold",
           "bias", "weights")


@dataclass(slots=True)
class TrainingItem:
    """One labeled item as the rules read it: its companies' features, gold pairs and rule events."""

    story: str
    gold: set[tuple[str, str]]  # (type, subject)
    rule_pairs: set[tuple[str, str]]  # (type, subject) of the rules' and frames' events
    busy: set[str]  # companies in some rule event, as subject or counterparty (no addition for them)
    slugs: list[str]
    features: list[set[str]] = field(default_factory=list)  # per slug


def training_sets() -> tuple[list[dict], list[str]]:
    """The training items and the names of the sets they come from."""
    items, names = load_half("dev"), ["corpus dev half"]
    if SHARED_DEV.exists():
        items += [json.loads(line) for line in SHARED_DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
        names.append("shared/eval/dev.jsonl")
    for number, item in enumerate(items):
        item["story"] = item.get("story") or f"item:{item.get('id', number)}"
    return items, names


def data_hash(items: list[dict]) -> str:
    """SHA-256 of the fields training reads, item by item in order."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps({k: item.get(k) for k in _DATA_FIELDS}, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def rules_hash(seeds_dir: Path) -> str:
    """SHA-256 of the rules and lexicon the thresholds were chosen against (they decide what is left to add)."""
    digest = hashlib.sha256()
    for name in ("rules.toml", "lexicon.toml", "companies.toml"):
        path = seeds_dir / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def read_items(rules_engine: RulesEngine, items: list[dict]) -> list[TrainingItem]:
    """Each item through the rules alone (no learned model) and its companies' features."""
    assert rules_engine.learned is None
    read = []
    for item in items:
        title, summary, link = item["title"], item.get("summary") or "", item.get("link")
        reading = rules_engine.read(title, summary, link=link)
        events = rules_engine.classify(title, summary, link=link).events
        busy = {e.subject for e in events} | {e.counterparty for e in events if e.counterparty}
        training = TrainingItem(item["story"], {(e["type"], e["subject"]) for e in item["events"]},
                                {(e.type, e.subject) for e in events}, busy, role_slugs(reading))
        clauses = item_words(reading)
        training.features = [candidate_features(reading, clauses, slug) for slug in training.slugs]
        read.append(training)
    return read


def fit(matrix: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features x heads) and biases of one logistic regression per label column."""
    rows, width = matrix.shape
    weights, bias = np.zeros((width, labels.shape[1])), np.zeros(labels.shape[1])
    moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros_like(bias), np.zeros_like(bias)]
    for step in range(1, STEPS + 1):
        probabilities = 1.0 / (1.0 + np.exp(-(matrix @ weights + bias)))
        error = (probabilities - labels) / rows
        gradients = (matrix.T @ error + L2 * weights, error.sum(axis=0))
        for at, gradient in enumerate(gradients):
            moments[2 * at] = 0.9 * moments[2 * at] + 0.1 * gradient
            moments[2 * at + 1] = 0.999 * moments[2 * at + 1] + 0.001 * gradient**2
            step_size = LEARNING_RATE * np.sqrt(1 - 0.999**step) / (1 - 0.9**step)
            update = step_size * moments[2 * at] / (np.sqrt(moments[2 * at + 1]) + 1e-8)
            if at == 0:
                weights -= update
            else:
                bias -= update
    return weights, bias


def _rows(items: list[TrainingItem], vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(item, slug, features) for item in items for slug, features in zip(item.slugs, item.features)]
    matrix, labels = np.zeros((len(pairs), len(vocabulary))), np.zeros((len(pairs), len(HEADS)))
    for row, (item, slug, features) in enumerate(pairs):
        matrix[row, [vocabulary[f] for f in features if f in vocabulary]] = 1.0
        for column, head in enumerate(HEADS):
            labels[row, column] = any(subject == slug for _kind, subject in item.gold) if head == ANY \
                else (head, slug) in item.gold
    return matrix, labels


def _vocabulary(items: list[TrainingItem]) -> dict[str, int]:
    counts = Counter(f for item in items for features in item.features for f in features)
    return {f: n for n, f in enumerate(sorted(f for f, count in counts.items() if count >= MIN_DOCS))}


def train(items: list[TrainingItem]) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    vocabulary = _vocabulary(items)
    matrix, labels = _rows(items, vocabulary)
    weights, bias = fit(matrix, labels)
    return vocabulary, weights, bias


def fold_of(story: str) -> int:
    return int(hashlib.sha256(story.encode()).hexdigest(), 16) % FOLDS


def out_of_fold_scores(items: list[TrainingItem]) -> list[list[dict[str, float]]]:
    """Per item, per company: each head's score by the model trained on the other folds."""
    scores: list[list[dict[str, float]]] = [[] for _ in items]
    for fold in range(FOLDS):
        vocabulary, weights, bias = train([item for item in items if fold_of(item.story) != fold])
        held = [n for n, item in enumerate(items) if fold_of(item.story) == fold]
        matrix, _labels = _rows([items[n] for n in held], vocabulary)
        probabilities = 1.0 / (1.0 + np.exp(-(matrix @ weights + bias)))
        row = 0
        for n in held:
            for _slug in items[n].slugs:
                scores[n].append(dict(zip(HEADS, map(float, probabilities[row]))))
                row += 1
    return scores


def _lowest_precise(ranked: list[tuple[float, bool]]) -> float | None:
    """The lowest score at which the pairs scored at or over it are right PRECISION of the time
    (MIN_RIGHT of them at least), from (score, right) pairs ranked best first."""
    chosen, right = None, 0
    for count, (score, is_right) in enumerate(ranked, 1):
        right += is_right
        if right >= MIN_RIGHT and right / count >= PRECISION and (count == len(ranked) or ranked[count][0] < score):
            chosen = math.floor(score * 1e4) / 1e4
    return chosen


def choose_thresholds(items: list[TrainingItem], scores: list[list[dict[str, float]]]) -> dict[str, float | None]:
    """Per type, the model's own precise threshold, kept where it helps the rules (None: not used)."""
    rules_only = summary_of(items, simulate(items, scores, {}, None))
    thresholds: dict[str, float | None] = {}
    for kind in EVENT_TYPES:
        if kind in WITHHELD:
            thresholds[kind] = None
            continue
        ranked = sorted(((score[kind], (kind, slug) in item.gold) for item, item_scores in zip(items, scores)
                         for slug, score in zip(item.slugs, item_scores)), reverse=True)
        chosen = _lowest_precise(ranked)
        if chosen is not None:
            before, after = rules_only[kind], summary_of(items, simulate(items, scores, {kind: chosen}, None))[kind]
            if after["f1"] <= before["f1"] or after["precision"] < min(PRECISION, before["precision"]):
                chosen = None
        thresholds[kind] = chosen
    return thresholds


def choose_veto(items: list[TrainingItem], scores: list[list[dict[str, float]]]) -> float | None:
    """The highest best-"any" score under which vetoed items are eventless PRECISION of the time."""
    with_events = sorted((max((s[ANY] for s in item_scores), default=0.0), not item.gold)
                         for item, item_scores in zip(items, scores) if item.rule_pairs)
    chosen, right = None, 0
    for count, (score, eventless) in enumerate(with_events, 1):
        right += eventless
        if right >= 2 and right / count >= PRECISION and (count == len(with_events) or with_events[count][0] > score):
            chosen = score + 1e-4
    return None if chosen is None else round(chosen, 4)


def simulate(items: list[TrainingItem], scores: list[list[dict[str, float]]], thresholds: dict[str, float | None],
             veto: float | None) -> list[set[tuple[str, str]]]:
    """The (type, subject) pairs the engine would give each item with these thresholds (learned.revise)."""
    found = []
    for item, item_scores in zip(items, scores):
        pairs = set(item.rule_pairs)
        if pairs and veto is not None and max((s[ANY] for s in item_scores), default=1.0) < veto:
            pairs = set()
        else:
            pairs |= {(kind, slug) for slug, score, features in zip(item.slugs, item_scores, item.features)
                      for kind, threshold in thresholds.items() if threshold is not None and slug not in item.busy
                      and score[kind] >= threshold
                      and features.isdisjoint(NOT_SUBJECT.get(kind, ()))}
        found.append(pairs)
    return found


def summary_of(items: list[TrainingItem], found: list[set[tuple[str, str]]]) -> dict:
    """Precision, recall and F1 of (type, subject) pairs, per type and all, and look-alike alarms."""
    rows = {}
    for kind in (*EVENT_TYPES, None):
        tp = sum(len({p for p in f & i.gold if kind in (None, p[0])}) for i, f in zip(items, found))
        fp = sum(len({p for p in f - i.gold if kind in (None, p[0])}) for i, f in zip(items, found))
        fn = sum(len({p for p in i.gold - f if kind in (None, p[0])}) for i, f in zip(items, found))
        p, r = tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0
        rows[kind or "all"] = {"precision": round(p, 3), "recall": round(r, 3),
                               "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}
    quiet = [bool(f) for i, f in zip(items, found) if not i.gold]
    rows["lookalike_alarms"] = round(sum(quiet) / len(quiet), 3) if quiet else None
    return rows


def build(seeds_dir: Path) -> dict:
    """The model file's content: weights, bias, thresholds, data hash and the cross-validation figures."""
    rules_engine = RulesEngine.load(seeds_dir)
    rules_engine.learned = None  # the rules alone: the model adds to them
    raw, sets = training_sets()
    items = read_items(rules_engine, raw)
    scores = out_of_fold_scores(items)
    thresholds = choose_thresholds(items, scores)
    veto = None if ANY in WITHHELD else choose_veto(items, scores)
    vocabulary, weights, bias = train(items)
    used = [head for head in HEADS if thresholds.get(head) is not None or head == ANY and veto is not None]
    shipped: dict[str, dict[str, float]] = {}  # the heads in use only
    for feature, column in vocabulary.items():
        kept = {head: round(float(weights[column, n]), 4) for n, head in enumerate(HEADS)
                if head in used and abs(weights[column, n]) >= KEEP_WEIGHT}
        if kept:
            shipped[feature] = kept
    no_model = {kind: None for kind in EVENT_TYPES}
    return {
        "about": "learned event model of watchers/rules/learned.py, written by `python -m evaluation.train`",
        "trained_on": sets, "items": len(items), "rows": sum(len(item.slugs) for item in items),
        "data_sha256": data_hash(raw), "rules_sha256": rules_hash(seeds_dir),
        "settings": {"folds": FOLDS, "precision": PRECISION, "min_right": MIN_RIGHT, "min_docs": MIN_DOCS, "l2": L2,
                     "steps": STEPS, "learning_rate": LEARNING_RATE, "keep_weight": KEEP_WEIGHT, "withheld": WITHHELD},
        "cross_validation": {"rules": summary_of(items, simulate(items, scores, no_model, None)),
                             "rules_and_model": summary_of(items, simulate(items, scores, thresholds, veto))},
        "heads": used, "counterparty_types": list(COUNTERPARTY_TYPES),
        "thresholds": thresholds, "veto_threshold": veto,
        "bias": {head: round(float(bias[n]), 4) for n, head in enumerate(HEADS) if head in used},
        "weights": dict(sorted(shipped.items())),
    }


def model_text(model: dict) -> str:
    """The file's text: indented, with one line per feature's weights (a small diff per retraining)."""
    head = json.dumps({k: v for k, v in model.items() if k != "weights"}, indent=1, ensure_ascii=False)
    weights = ",\n".join(f"  {json.dumps(feature, ensure_ascii=False)}: {json.dumps(by_head)}"
                         for feature, by_head in model["weights"].items())
    return f'{head[:-2]},\n "weights": {{\n{weights}\n }}\n}}\n'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing it")
    parser.add_argument("--seeds", type=Path, default=default_seeds_dir(), help="the seeds directory (default: bundled)")
    args = parser.parse_args()
    model = build(args.seeds)
    text = model_text(model)
    path = args.seeds / MODEL_FILE
    print(json.dumps({k: model[k] for k in ("trained_on", "items", "rows", "thresholds", "veto_threshold",
                                            "cross_validation")}, indent=1))
    if args.check:
        shipped = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        different = [key for key in CHECKED if shipped.get(key) != model[key]]
        print(f"{path}: " + (f"DIFFERENT from what training writes: {', '.join(different)}" if different
                             else "the weights, thresholds and data are what training writes"))
        return 1 if different else 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} ({len(text) // 1024} KB, {len(model['weights'])} features)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
