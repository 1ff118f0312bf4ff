"""What happened to companies over a period, read from tables item and story.

Shared by the company card (`lookup`, 90 days) and the weekly digest. One real event is counted
once however many outlets covered it: events are de-duplicated per story (or per item when the
item joined no story). An item's time is its published time, else when it was first seen.

A leadership change is one move however it was reported: in one story, the early "its founder
joins Meta" and the later "CEO Alexandr Wang leaves for Meta" are the same event of Scale AI
(the named person wins), and a person leaving one company for another is one move with two sides,
each side knowing the other (`EventRecord.also_at`), so that totals count it once (`event_key`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from watchers.models import EVENT_TYPES, Event
from watchers.storage.stories import Story
from watchers.storage.tables import Item, ItemCompany


@dataclass(frozen=True)
class EventRecord:
    type: str
    subject: str
    counterparty: str | None
    when: datetime
    title: str
    link: str | None
    story_id: int | None
    group: str = ""  # the story (or lone item) it was reported in: StoryRecord.key
    status: str = "done"
    amount_usd: float | None = None
    round: str | None = None
    person: str | None = None
    role: str | None = None
    also_at: tuple[str, ...] = ()  # a leadership move's other sides: the other companies of the same move


def event_key(event: EventRecord) -> tuple:
    """What makes an event one real event across companies: a move with two sides is one."""
    if event.type == "leadership_change" and event.also_at:
        sides = frozenset((event.subject, *event.also_at))
        return (event.group, event.type, sides, (event.person or "").lower() or None)
    return (event.group, event.type, event.subject, event.counterparty, event.person)


def distinct_events(events: Iterable[EventRecord]) -> list[EventRecord]:
    """Each real event once (the two sides of a move counted once; an unnamed side joins a named one)."""
    chosen: dict[tuple, EventRecord] = {}
    for event in events:
        chosen.setdefault(event_key(event), event)
    named = {key[:3] for key in chosen if key[1] == "leadership_change" and len(key) == 4 and key[3]}
    return [e for k, e in chosen.items()
            if not (k[1] == "leadership_change" and len(k) == 4 and k[3] is None and k[:3] in named)]


@dataclass(frozen=True)
class StoryRecord:
    key: str
    title: str
    link: str | None
    outlets: int
    items: int
    last_at: datetime


@dataclass
class CompanyActivity:
    slug: str
    events: list[EventRecord] = field(default_factory=list)  # the company is the subject; oldest first
    stories: list[StoryRecord] = field(default_factory=list)  # most outlets first

    def counts(self) -> dict[str, int]:
        counter = Counter(e.type for e in self.events)
        return {t: counter[t] for t in EVENT_TYPES if counter[t]}

    def of_type(self, kind: str) -> list[EventRecord]:
        return [e for e in self.events if e.type == kind]

    def money_raised(self) -> float:
        return sum(e.amount_usd or 0.0 for e in self.of_type("funding"))

    def customers_lost(self) -> list[str]:
        return _unique(e.counterparty for e in self.of_type("customer_loss"))

    def customers_won(self) -> list[str]:
        return _unique(e.counterparty for e in self.of_type("partnership"))

    def only(self, types: Iterable[str]) -> "CompanyActivity":
        """The same activity narrowed to some event types (all when `types` is empty)."""
        wanted = set(types)
        if not wanted:
            return self
        return replace(self, events=[e for e in self.events if e.type in wanted])


def _unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


@dataclass(frozen=True, slots=True)
class ActivityItem:
    """What the activity reads of an item: the columns it needs, not the whole row (no summary)."""

    id: int
    story_id: int | None
    title: str
    link: str | None
    at: datetime  # published, else first seen
    companies: list[str]
    events: list[Event]


_ACTIVITY_COLUMNS = (Item.id, Item.story_id, Item.title, Item.link, Item.published_at, Item.first_seen_at,
                     Item.companies, Item.events)


def _named_in(slugs: list[str], since: datetime, until: datetime, *, subjects_only: bool = False) -> Any:
    """The ids of the items that name one of `slugs` with their time in [since, until): one range
    of table item_company's (slug, at) index per company (one million items:
    benchmarks/bench_million.py). `subjects_only`: only where the company is an event's subject."""
    query = select(ItemCompany.item_id).where(ItemCompany.slug.in_(slugs),  # type: ignore[attr-defined]
                                              ItemCompany.at >= since, ItemCompany.at < until)
    return query.where(ItemCompany.is_subject) if subjects_only else query


async def load_activity(session: AsyncSession, slugs: Iterable[str], since: datetime, until: datetime, *,
                        events_only: bool = False) -> dict[str, CompanyActivity]:
    """Each company's de-duplicated events and its stories with items in [since, until).

    `events_only` (the digest's trend): the events alone, read from the items where a company
    is an event's subject, the only ones that give it events; no stories."""
    wanted = list(dict.fromkeys(slugs))
    result = {slug: CompanyActivity(slug) for slug in wanted}
    if not wanted:
        return result
    query = select(*_ACTIVITY_COLUMNS).where(
        Item.id.in_(_named_in(wanted, since, until, subjects_only=events_only)))  # type: ignore[union-attr]
    items = sorted((ActivityItem(row.id, row.story_id, row.title, row.link, row.published_at or row.first_seen_at,
                                 row.companies, row.events) for row in await session.exec(query)),
                   key=lambda i: (i.at, i.id))
    story_ids = set() if events_only else {i.story_id for i in items if i.story_id is not None}
    stories = {s.id: s for s in (await session.exec(select(Story).where(Story.id.in_(story_ids)))).all()} \
        if story_ids else {}  # type: ignore[union-attr]

    seen_events: dict[tuple, int] = {}
    seen_stories: dict[str, set[str]] = {slug: set() for slug in wanted}
    for item in items:
        group = f"story:{item.story_id}" if item.story_id is not None else f"item:{item.id}"
        for event in item.events:
            if event.subject not in result or event.status == "denied" or event.type not in EVENT_TYPES:
                continue
            if event.type == "leadership_change":
                _add_move(result[event.subject], group, event, item, _other_sides(event, item.events))
            else:
                _add_event(result[event.subject], seen_events, group, event, item)
        if events_only:
            continue
        involved = set(item.companies or []) | {e.subject for e in item.events} | {e.counterparty for e in item.events}
        for slug in involved & set(wanted):
            if group in seen_stories[slug]:
                continue
            seen_stories[slug].add(group)
            result[slug].stories.append(_story_record(group, item, stories.get(item.story_id)))
    for activity in result.values():
        activity.stories.sort(key=lambda s: (-s.outlets, -s.items, -s.last_at.timestamp()))
    return result


def _add_event(activity: CompanyActivity, seen: dict[tuple, int], group: str, event: Event,
               item: ActivityItem) -> None:
    key = (group, event.type, event.subject, event.counterparty, event.person)
    amount = event.amount_usd if event.amount_usd is not None and event.amount_usd >= 0 else None
    if key in seen:
        index = seen[key]
        known = activity.events[index]
        if amount is not None and (known.amount_usd is None or amount > known.amount_usd):
            activity.events[index] = replace(known, amount_usd=amount)
        return
    seen[key] = len(activity.events)
    activity.events.append(EventRecord(
        type=event.type, subject=event.subject, counterparty=event.counterparty, when=item.at,
        title=item.title, link=item.link, story_id=item.story_id, group=group, status=event.status or "done",
        amount_usd=amount, round=event.round, person=event.person, role=event.role))


def _same_move(a: Any, b: Any) -> bool:
    """Two leadership events of one item or story are one move unless they name different people."""
    return not a.person or not b.person or a.person.lower() == b.person.lower()


def _other_sides(event: Event, events: list[Event]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(e.subject for e in events if e.type == "leadership_change" and e.subject
                               and e.subject != event.subject and e.status != "denied" and _same_move(e, event)))


def _add_move(activity: CompanyActivity, group: str, event: Event, item: ActivityItem, sides: tuple[str, ...]) -> None:
    """A leadership event, merged into the same move already reported in this story (the named person wins)."""
    for index, known in enumerate(activity.events):
        if known.type == "leadership_change" and known.group == group and _same_move(known, event):
            also_at = tuple(dict.fromkeys((*known.also_at, *sides)))
            if not known.person and event.person:
                known = replace(known, person=event.person, role=event.role or known.role)
            elif not known.role and event.role:
                known = replace(known, role=event.role)
            activity.events[index] = replace(known, also_at=also_at)
            return
    activity.events.append(EventRecord(
        type=event.type, subject=event.subject, counterparty=event.counterparty, when=item.at,
        title=item.title, link=item.link, story_id=item.story_id, group=group, status=event.status or "done",
        person=event.person, role=event.role, also_at=sides))


def _story_record(group: str, item: ActivityItem, story: Story | None) -> StoryRecord:
    if story is None:
        return StoryRecord(group, item.title, item.link, 1, 1, item.at)
    return StoryRecord(group, story.title, story.link, max(len(story.outlets or []), 1), story.item_count,
                       story.last_item_at)


def format_usd(amount: float) -> str:
    """$950K, $14.3M, $1.2B."""
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if amount >= limit:
            text = f"{amount / limit:.1f}".rstrip("0").rstrip(".")
            return f"${text}{suffix}"
    return f"${amount:,.0f}"
