"""Story matching: is this item more coverage of a story we already have?

Pure functions over plain views of items and stories (no storage). An item can join a story
that is about the same tracked subject, within the story window, when

- it shares a (subject, event type) with the story, and it came within CLOSE_HOURS of the
  story's coverage (the burst in which outlets cover one event), or later with evidence: the
  same canonical link, the same counterparty, amount or person, or a very similar headline;
- or it brings a new event type for the same subject (the hire announced after the
  investment), when its events involve only the story's companies, at least two of them, and
  it is close in time; or its headline is very similar.

The same two companies in the same event type count as the same event whichever is read as
subject ("Meta invests in Scale AI" vs "Scale AI confirms Meta investment").

A story whose counterparty for that event differs (Google funds Anthropic vs Amazon funds
Anthropic in the same week) is never joined. Titles are compared with rapidfuzz's
token_set_ratio on stemmed content words, after the " - Outlet" suffix is cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Sequence

from rapidfuzz import fuzz

from watchers.models import Event
from watchers.rules.facts import money_spans
from watchers.rules.textnorm import clean, strip_outlet

CLOSE_HOURS = 36.0  # coverage of one event by many outlets comes within about a day and a half
SIMILAR_TITLE = 75.0  # a later item with a headline this similar joins without other evidence
NEW_TYPE_TITLE = 80.0  # a new event type with no shared companies needs a headline this similar
NEW_TYPE_WITH_COMPANIES = 50.0  # a new event type that names the same other companies
AMOUNT_TOLERANCE = 0.05

_STOPWORDS = frozenset(
    "a an the of to in on for and or as at by with from after over its it is be are was were says said say new "
    "amid into up about than more this that their his her has have will would could may report reports".split())
_WORD = re.compile(r"[a-z0-9$€£]+(?:[.,]\d+)?")


def title_tokens(title: str, outlet: str | None = None) -> tuple[str, ...]:
    """Stemmed content words of a headline, in order."""
    text = strip_outlet(clean(title, 1000), outlet).lower()
    return tuple(word[:5] for word in _WORD.findall(text) if word not in _STOPWORDS)


def headline(title: str, outlet: str | None = None) -> str:
    """The headline as shown: plain text, without a trailing " - Outlet"."""
    return strip_outlet(clean(title, 1000), outlet).strip()


@dataclass(frozen=True)
class ItemView:
    """What matching needs to know of one item."""

    tokens: tuple[str, ...]
    at: datetime
    pairs: frozenset[tuple[str, str]]  # (subject, event type)
    companies: frozenset[str]
    counterparties: Mapping[tuple[str, str], frozenset[str]]
    amounts: frozenset[float]
    persons: frozenset[str]
    link: str | None = None

    @property
    def subjects(self) -> frozenset[str]:
        return frozenset(subject for subject, _ in self.pairs)

    @property
    def dyads(self) -> frozenset[tuple[frozenset[str], str]]:
        """({subject, counterparty}, type) of each event with a counterparty, whichever way round the rules read it."""
        return frozenset((frozenset((subject, other)), kind) for (subject, kind), others in self.counterparties.items()
                         for other in others)

    @property
    def actors(self) -> frozenset[str]:
        return self.subjects | frozenset(c for cs in self.counterparties.values() for c in cs)


def item_view(title: str, events: Iterable[Event], *, at: datetime, companies: Iterable[str] = (),
              outlet: str | None = None, link: str | None = None, summary: str = "") -> ItemView:
    """Build the view from an item's headline and its events."""
    events = list(events)
    pairs = frozenset((e.subject, e.type) for e in events if e.subject and e.type)
    counterparties: dict[tuple[str, str], set[str]] = {}
    amounts: set[float] = set()
    persons: set[str] = set()
    for event in events:
        if event.counterparty:
            counterparties.setdefault((event.subject, event.type), set()).add(event.counterparty)
        amounts.update(usd for usd in (event.amount_usd, event.valuation_usd) if usd is not None and usd > 0)
        if event.person:
            persons.add(event.person.casefold())
    amounts.update(usd for _, _, usd in money_spans(clean(title, 1000)) if usd >= 1e5)
    all_companies = set(companies) | {s for s, _ in pairs} | {c for cs in counterparties.values() for c in cs}
    return ItemView(tokens=title_tokens(title, outlet), at=at, pairs=pairs, companies=frozenset(all_companies),
                    counterparties={k: frozenset(v) for k, v in counterparties.items()}, amounts=frozenset(amounts),
                    persons=frozenset(persons), link=link or None)


@dataclass
class StoryView:
    """A story as matching sees it: the union of its items."""

    id: int
    members: list[ItemView] = field(default_factory=list)

    @property
    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(p for m in self.members for p in m.pairs)

    @property
    def companies(self) -> frozenset[str]:
        return frozenset(c for m in self.members for c in m.companies)

    @property
    def dyads(self) -> frozenset[tuple[frozenset[str], str]]:
        return frozenset(d for m in self.members for d in m.dyads)

    def counterparties(self, pair: tuple[str, str]) -> frozenset[str]:
        return frozenset(c for m in self.members for c in m.counterparties.get(pair, ()))

    @property
    def last_at(self) -> datetime:
        return max(m.at for m in self.members)


def _hours(delta: timedelta) -> float:
    return abs(delta.total_seconds()) / 3600.0


def _same_amount(a: Iterable[float], b: Iterable[float]) -> bool:
    return any(abs(x - y) <= AMOUNT_TOLERANCE * max(x, y) for x in a for y in b)


def title_similarity(item: ItemView, story: StoryView) -> float:
    text = " ".join(item.tokens)
    return max((fuzz.token_set_ratio(text, " ".join(m.tokens)) for m in story.members if m.tokens), default=0.0)


def match_score(item: ItemView, story: StoryView, window_hours: float) -> float | None:
    """How well the item fits the story (higher is better), or None when it must not join."""
    if not story.members:
        return None
    gap = min(_hours(item.at - m.at) for m in story.members)
    if gap > window_hours:
        return None
    shared_subjects = item.subjects & frozenset(s for s, _ in story.pairs)
    shared_dyads = item.dyads & story.dyads
    if not shared_subjects and not shared_dyads:
        return None
    if item.link and any(m.link == item.link for m in story.members):
        return 200.0
    shared_pairs = item.pairs & story.pairs
    conflicts = 0
    same_counterparty = False
    for pair in shared_pairs:
        mine, theirs = item.counterparties.get(pair, frozenset()), story.counterparties(pair)
        if mine and theirs:
            if mine & theirs:
                same_counterparty = True
            else:
                conflicts += 1
    if shared_pairs and conflicts == len(shared_pairs):
        return None
    strong = (same_counterparty or bool(shared_dyads) or _same_amount(item.amounts, (a for m in story.members for a in m.amounts))
              or bool(item.persons & frozenset(p for m in story.members for p in m.persons)))
    similarity = title_similarity(item, story)
    close = gap <= min(CLOSE_HOURS, window_hours)
    score = similarity + (30.0 if strong else 0.0) + 10.0 * len(shared_pairs) - gap / 4.0
    if shared_pairs or shared_dyads:
        return score if close or strong or similarity >= SIMILAR_TITLE else None
    # a new event type: its companies must all be the story's, and name another besides the subject
    same_actors = item.actors <= story.companies and len(item.actors & story.companies) >= 2
    if close and same_actors and (similarity >= NEW_TYPE_WITH_COMPANIES or strong):
        return score
    if close and similarity >= NEW_TYPE_TITLE:
        return score
    return None


def best_story(item: ItemView, stories: Sequence[StoryView], window_hours: float) -> StoryView | None:
    """The story the item should join, or None for a new story."""
    best: tuple[float, int] | None = None
    chosen = None
    for story in stories:
        score = match_score(item, story, window_hours)
        if score is not None and (best is None or (score, -story.id) > best):
            best, chosen = (score, -story.id), story
    return chosen


class StoryIndex:
    """Stories in memory: the same matching as the database's story step, for evaluation and demos."""

    def __init__(self, window_hours: float):
        self.window_hours = window_hours
        self.stories: list[StoryView] = []

    def file(self, item: ItemView) -> int | None:
        """The id of the story the item joined or started; None when it has no event."""
        if not item.pairs:
            return None
        low = item.at - timedelta(hours=self.window_hours)
        recent = [s for s in self.stories if s.last_at >= low]
        story = best_story(item, recent, self.window_hours)
        if story is None:
            story = StoryView(id=len(self.stories) + 1)
            self.stories.append(story)
        story.members.append(item)
        return story.id
