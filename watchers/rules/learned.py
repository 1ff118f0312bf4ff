"""The learned event model: a small linear model for what the rules and frames do not reach.

It reads an item as the rules engine did (reading.ItemReading: cleaned clauses, each company
with a role written as a token) and scores each of the item's companies as the subject of each
event type. Features are binary and plain: the words of title and summary and their bigrams,
lowercased and crudely stemmed, with the company being scored written `xsubj`, every other
tracked company `xcomp`, an amount of money `xmoney` and any other number `xnum`; the two words
before and after the company (`before:WORD`, `after:WORD`); and whether the company is named in
the title, first there, or alone. One logistic classifier per type
(weights, bias and a threshold chosen by cross-validation over stories, for precision), and
one "any" classifier whose best score over the item's companies tells an eventful item.

What it does with them, after the rules and frames (`EventModel.revise`), in this order:
1. veto: when the item's best "any" score is under the veto threshold, the item is judged
   eventless and the events the rules and frames found are dropped (one decision, explained);
2. additions: a company of the item that is in no event (as subject or counterparty), scored at
   or over a type's threshold as that type's subject, unless it is in a role that makes it the
   event's actor (NOT_SUBJECT), becomes an event with the title as evidence, rule `learned.TYPE`, status and
   facts read from the title as for the rules' events; its counterparty is the item's one other company for the types that have one
   (customer loss, partnership, acquisition), else null.
A type or the veto without a threshold (none kept precision in cross-validation) is not used.

Weights are trained by `python -m evaluation.train` (evaluation/README.md) and shipped as
seeds/event_model.json; inference is dictionary look-ups, no numpy.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from pathlib import Path

from watchers.models import Event, FeatureWeight, LearnedDecision
from watchers.rules.facts import extract_facts, extract_person_role, extract_status
from watchers.rules.reading import ItemReading

MODEL_FILE = "event_model.json"
ANY = "any"
COUNTERPARTY_TYPES = ("customer_loss", "partnership", "acquisition")
SUBJECT, OTHER = "xsubj", "xcomp"
# A company in these roles is the actor, not the subject, of a type's event, whatever its score: the
# plaintiff of a legal action ("X sues", "X filed suit", "X accuses", "X takes Y to court", "sued by X").
# A bag of words cannot tell who sues whom; these bigrams (stemmed, see _stem) can.
NOT_SUBJECT = {"legal": frozenset({"xsubj_sue", "xsubj_su", "xsubj_fil", "xsubj_accus", "xsubj_tak", "xsubj_drag",
                                   "xsubj_lodg", "xsubj_bring", "by_xsubj"})}
WINDOW = 2  # words on each side of the company being scored that are features of their own
_TOKEN_WORD = re.compile(r"\u27e6(\d+)\u27e7")
# one pass over the lowercased clause: a company token, money ("$14.3 billion", "us\$82.8 million",
# "€600m", "1.5 billion"), any other number, or a word
_PIECE = re.compile(r"""
    (\u27e6\d+\u27e7)
  | ((?:us|c|a)?\\?[$\u20ac\u00a3]\s?\d[\d,.]*(?:\s*(?:billion|million|trillion|bn|mn|[bmk])\b)?
     | \b\d[\d,.]*\s*(?:billion|million|trillion|bn|mn)\b)
  | (\d[\d,.]*)
  | ([a-z][a-z']*)
""", re.VERBOSE)
_SUFFIXES = ("ing", "ed", "es", "s")


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """A crude stem that folds the usual inflections together ("raises", "raised", "raising")."""
    word = word.rstrip("'")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def item_words(reading: ItemReading) -> list[list[str]]:
    """Each clause as stemmed words, a company token kept as "⟦n⟧" (read once per item)."""
    clauses = []
    for slot_text in reading.slot_texts:
        clauses.append([token or ("xmoney" if money else "xnum" if number else _stem(word))
                        for token, money, number, word in _PIECE.findall(slot_text.lower())])
    return clauses


def role_slugs(reading: ItemReading) -> list[str]:
    """The companies with a role in some clause (a token left in its slot text), in order."""
    return list(dict.fromkeys(reading.tokens[int(n)].slug for slot_text in reading.slot_texts
                              for n in _TOKEN_WORD.findall(slot_text)))


def candidate_features(reading: ItemReading, clauses: list[list[str]], slug: str | None) -> set[str]:
    """The features of company `slug` as the subject (None: every company is `xcomp`)."""
    features: set[str] = set()
    title_companies: list[str] = []
    for index, words in enumerate(clauses):
        named = [SUBJECT if word[0] == "\u27e6" and reading.tokens[int(word[1:-1])].slug == slug
                 else OTHER if word[0] == "\u27e6" else word for word in words]
        if index < reading.titles:
            title_companies += [reading.tokens[int(w[1:-1])].slug for w in words if w[0] == "\u27e6"]
        features.update(named)
        features.update(f"{a}_{b}" for a, b in zip(named, named[1:]))
        for at, word in enumerate(named):
            if word == SUBJECT:  # the words just before and after the company being scored
                features.update(f"before:{w}" for w in named[max(0, at - WINDOW):at])
                features.update(f"after:{w}" for w in named[at + 1:at + 1 + WINDOW])
    if slug is not None:
        if slug in title_companies:
            features.add("@in_title")
            if title_companies[0] == slug:
                features.add("@first_in_title")
        if len(role_slugs(reading)) == 1:
            features.add("@only_company")
    return features


@dataclass(frozen=True, slots=True)
class EventModel:
    """Weights of the heads in use (event types, "any" for the veto), as `python -m evaluation.train` writes them."""

    weights: dict[str, dict[str, float]]  # head -> feature -> weight (absent: 0)
    bias: dict[str, float]
    thresholds: dict[str, float]  # head -> probability threshold; a head without one is not used
    veto_threshold: float | None  # an item whose best "any" score is under this is eventless

    @classmethod
    def from_json(cls, data: dict) -> "EventModel":
        """The model of the file's JSON, whose weights are feature -> head -> weight."""
        by_head: dict[str, dict[str, float]] = {head: {} for head in data["bias"]}
        for feature, weights in data["weights"].items():
            for head, weight in weights.items():
                by_head[head][feature] = weight
        return cls(by_head, data["bias"], {k: v for k, v in data["thresholds"].items() if v is not None},
                   data.get("veto_threshold"))

    def scores(self, features: set[str]) -> dict[str, float]:
        """Each head's probability for one company's features."""
        return {head: 1.0 / (1.0 + math.exp(-(bias + sum(map(self.weights[head].get, features, repeat(0.0))))))
                for head, bias in self.bias.items()}

    def carried_by(self, features: set[str], head: str, top: int = 6) -> tuple[FeatureWeight, ...]:
        """The features that pushed `head`'s score up most."""
        weights = self.weights[head]
        pushed = sorted(((weights[f], f) for f in features if weights.get(f, 0.0) > 0), reverse=True)
        return tuple(FeatureWeight(feature, round(weight, 3)) for weight, feature in pushed[:top])

    def revise(self, reading: ItemReading, events: list[Event]) -> tuple[list[Event], list[LearnedDecision]]:
        """The rules' events after the veto and with the additions (see the module's docstring)."""
        slugs = role_slugs(reading)
        busy = {e.subject for e in events} | {e.counterparty for e in events if e.counterparty}
        veto = bool(events) and self.veto_threshold is not None
        free = [slug for slug in slugs if slug not in busy]
        if not free and not veto:
            return events, []
        clauses = item_words(reading)
        by_slug = {slug: candidate_features(reading, clauses, slug) for slug in (slugs if veto else free)}
        scores = {slug: self.scores(features) for slug, features in by_slug.items()}
        decisions: list[LearnedDecision] = []
        if veto:
            best = max(slugs, key=lambda slug: scores[slug][ANY])
            if scores[best][ANY] < self.veto_threshold:
                decisions.append(LearnedDecision(ANY, best, round(scores[best][ANY], 3), self.veto_threshold,
                                                 self.carried_by(by_slug[best], ANY), vetoed=True))
                return [], decisions
        added = list(events)
        title = " ".join(reading.texts[: reading.titles])
        for head, slug in ((head, slug) for slug in free for head in self.thresholds if head != ANY):
            score = scores[slug][head]
            if score < self.thresholds[head] or not by_slug[slug].isdisjoint(
                    NOT_SUBJECT.get(head, ())):
                continue
            others = [other for other in slugs if other != slug]
            counterparty = others[0] if head in COUNTERPARTY_TYPES and len(others) == 1 else None
            added.append(_event(head, slug, counterparty, title, score))
            decisions.append(LearnedDecision(head, slug, round(score, 3), self.thresholds[head],
                                             self.carried_by(by_slug[slug], head)))
        return added, decisions


def _event(kind: str, subject: str, counterparty: str | None, title: str, score: float) -> Event:
    """A learned event with the status and facts its title states."""
    event = Event(kind, subject, counterparty, status=extract_status(title), evidence=title,
                  rule=f"learned.{kind}", confidence=round(score, 3))
    if kind in ("funding", "acquisition"):
        facts = extract_facts(title)
        event.amount_usd, event.valuation_usd, event.stake_pct, event.round = (
            facts.amount_usd, facts.valuation_usd, facts.stake_pct, facts.round)
    elif kind == "leadership_change":
        event.person, event.role = extract_person_role(title)
    return event


def explain_decision(decision: LearnedDecision) -> str:
    """One line of `--explain`: the model's decision and the features that carried it."""
    what = f"vetoed every event: best 'any' score {decision.score} < {decision.threshold}" if decision.vetoed \
        else f"learned: score {decision.score} >= threshold {decision.threshold}"
    return f"  {what}; carried by " + ", ".join(f"{w.feature} ({w.weight:+.2f})" for w in decision.carried_by)


def load_event_model(seeds_dir: Path) -> EventModel | None:
    """The shipped model of a seeds directory, None when it has none (the rules alone then)."""
    path = Path(seeds_dir) / MODEL_FILE
    if not path.is_file():
        return None
    return EventModel.from_json(json.loads(path.read_text(encoding="utf-8")))
