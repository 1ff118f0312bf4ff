"""The story step: file a classified item into a story (rows of table story, item.story_id).

Called by the orchestrator inside its own session for every stored, non-history item with
events. Matching is watchers.stories.cluster's; this module loads the candidate stories of the window
and keeps each story's summary columns (events, facts, best headline, outlets) up to date.

A story joined by an item is locked (SELECT ... FOR UPDATE on PostgreSQL) and re-read, so that
workers adding coverage at once lose no update. New stories: on PostgreSQL every filing
transaction first takes one transaction-scoped advisory lock (FILING_LOCK), so that filings are
serialized across replicas as they are within one process (the orchestrator's filing slot): two
replicas filing the first items of one new story at the same instant would otherwise each start
a story, and each channel got two alerts for it (seen by tests/test_replicas.py). The lock is
held from the first filing of a transaction to its commit and taken before any story row lock,
so it cannot deadlock with them. SQLite has one writer at a time already.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from watchers.feeds.outlets import outlet_name
from watchers.rules.facts import money_spans
from watchers.stories.cluster import ItemView, StoryView, best_story, headline, item_view
from watchers.models import Classification, Event
from watchers.storage.stories import Story
from watchers.storage.tables import Item

MAX_CANDIDATE_STORIES = 500
UNCONFIRMED = ("rumored", "in_talks", "planned")
FACT_NAMES = ("amount_usd", "stake_pct", "valuation_usd", "round", "person", "role", "status")
FILING_LOCK = 0x76770001  # pg_advisory_xact_lock key of story filing ("vw" 1)


def item_time(item: Item, now: datetime) -> datetime:
    """When the item happened as far as grouping goes: published, else first seen; never in the future."""
    when = item.published_at or item.first_seen_at or now
    return min(when, now)


def outlet_of(item: Item) -> str | None:
    """The outlet counted and shown for an item: named from its link (watchers.feeds.outlets)."""
    return outlet_name(item.link, item.outlet)


async def file_item(session: AsyncSession, item: Item, classification: Classification, *, now: datetime,
                    window_hours: float) -> list[int]:
    """The ids of the stories the item joined or started (one, or none when it has no event)."""
    if item.story_id is not None:
        return [item.story_id]
    events = list(classification.events)
    if not events:
        return []
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # re-entrant within the transaction; released at its commit or rollback
        await session.exec(text("SELECT pg_advisory_xact_lock(:key)"), params={"key": FILING_LOCK})
    at = item_time(item, now)
    view = item_view(item.title, events, at=at, companies=classification.companies, outlet=item.outlet,
                     link=item.link, summary=item.summary)
    stories = await _candidates(session, at, window_hours, view.subjects, now)
    chosen = best_story(view, list(stories.values()), window_hours) if stories else None
    if chosen is None:
        story = Story(subject=events[0].subject, event_types=[], companies=[], events=[], facts={},
                      title=headline(item.title, item.outlet), link=item.link, outlets=[], item_count=0,
                      first_seen_at=at, last_item_at=at, updated_at=now)
        session.add(story)
    else:
        # locked and re-read: two workers adding coverage to one story at once must not lose an update
        story = await session.get(Story, chosen.id, with_for_update=True, populate_existing=True)
        assert story is not None
    _merge(story, item, events, classification.companies, at, now)
    await session.flush()
    item.story_id = story.id
    session.add(item)
    await session.flush()
    return [story.id]


# Story members' views, kept between filings: in a busy window each filing would otherwise re-read
# and re-build the views of every member of every candidate story. Keyed by what a view is built
# from (an edit changes content_hash with title, events and companies), bounded, process-local.
_MEMBER_VIEWS: OrderedDict[tuple, ItemView] = OrderedDict()
MAX_CACHED_VIEWS = 5000


def _cache_key(member: Any, now: datetime) -> tuple | None:
    """None for an item dated in the future: its `at` is `now`, which moves."""
    if item_time(member, now) != (member.published_at or member.first_seen_at):
        return None
    return (member.id, member.content_hash, member.published_at, member.first_seen_at, member.outlet, member.link)


def _remember(key: tuple, view: ItemView) -> None:
    _MEMBER_VIEWS[key] = view
    if len(_MEMBER_VIEWS) > MAX_CACHED_VIEWS:
        _MEMBER_VIEWS.popitem(last=False)


async def _candidates(session: AsyncSession, at: datetime, window_hours: float, subjects: Iterable[str],
                      now: datetime) -> dict[int, StoryView]:
    """The stories of the window that share a subject with the item, with their members' views.

    Only the columns matching reads are loaded, as plain rows: whole ORM objects (summaries,
    facts, outlets) for every story of the window made filing slow once a window held many stories.
    """
    window = timedelta(hours=window_hours)
    rows = (await session.exec(
        select(Story.id, Story.events).where(Story.last_item_at >= at - window, Story.first_seen_at <= at + window)
        .order_by(col(Story.last_item_at).desc()).limit(MAX_CANDIDATE_STORIES))).all()
    wanted = set(subjects)
    ids = [row.id for row in rows if any(e.subject in wanted for e in row.events)]
    if not ids:
        return {}
    views = {story_id: StoryView(id=story_id) for story_id in ids}
    members = (await session.exec(
        select(Item.story_id, Item.id, Item.content_hash, Item.published_at, Item.first_seen_at, Item.outlet,
               Item.link).where(col(Item.story_id).in_(ids)))).all()
    cached: dict[int, ItemView] = {}
    for member in members:
        key = _cache_key(member, now)
        if key in _MEMBER_VIEWS:
            _MEMBER_VIEWS.move_to_end(key)
            cached[member.id] = _MEMBER_VIEWS[key]
    missing = [m.id for m in members if m.id not in cached]
    fields: dict[int, Any] = {}
    for start in range(0, len(missing), 500):
        rows = await session.exec(select(Item.id, Item.title, Item.events, Item.companies)
                                     .where(col(Item.id).in_(missing[start:start + 500])))
        fields.update((row.id, row) for row in rows)
    for member in members:
        view = cached.get(member.id)
        if view is None:
            heavy = fields[member.id]
            view = item_view(heavy.title, heavy.events, at=item_time(member, now), companies=heavy.companies,
                             outlet=member.outlet, link=member.link)
            key = _cache_key(member, now)
            if key is not None:
                _remember(key, view)
        views[member.story_id].members.append(view)
    return {k: v for k, v in views.items() if v.members}


def _filled(known: Event, news: Event) -> Event:
    """`known` with the fields it lacks (None or "") taken from `news`, and confirmed when `news`
    reports flatly what `known` called a rumour. A new Event: the story's old list is left as loaded."""
    gaps = {name: value for name, value in news.to_json().items() if getattr(known, name) in (None, "")}
    if news.status == "done" and known.status in UNCONFIRMED:
        gaps["status"] = "done"
    return replace(known, **gaps) if gaps else known


def _merge_events(story_events: list[Event], events: list[Event]) -> list[Event]:
    """The story's events with the item's folded in: one per (type, subject, counterparty); an
    event without a counterparty completes its twin, one with a counterparty absorbs the bare ones."""
    merged = list(story_events)
    for event in events:
        same = [m for m in merged if m.type == event.type and m.subject == event.subject]
        twin = next((m for m in same if m.counterparty == event.counterparty), None)
        if twin is None and not event.counterparty:
            twin = same[0] if same else None
        if twin is None:
            for bare in [m for m in same if not m.counterparty]:
                merged.remove(bare)
                event = replace(bare, **event.to_json())
            merged.append(event)
            continue
        merged[merged.index(twin)] = _filled(twin, event)
    return merged


def _merge(story: Story, item: Item, events: list[Event], companies: list[str], at: datetime,
           now: datetime) -> None:
    """Fold one item into the story's summary columns (new lists, so that JSON columns are saved)."""
    story.events = _merge_events(story.events, events)
    story.event_types = list(dict.fromkeys([*story.event_types, *(e.type for e in events)]))
    story.companies = list(dict.fromkeys([*story.companies, *companies, *(e.subject for e in events),
                                          *(e.counterparty for e in events if e.counterparty)]))
    facts = dict(story.facts)
    for event in events:
        for name in FACT_NAMES:
            value = getattr(event, name)
            if facts.get(name) in (None, "") and value not in (None, ""):
                facts[name] = value
        if event.status == "done" and facts.get("status") in UNCONFIRMED:
            facts["status"] = "done"
    story.facts = facts
    outlet = outlet_of(item)
    if outlet and outlet not in story.outlets:
        story.outlets = [*story.outlets, outlet]
    title = headline(item.title, item.outlet)
    if story.item_count == 0 or _headline_rank(title, events) > _headline_rank(story.title, story.events):
        story.title, story.link = title, item.link or story.link
    story.item_count += 1
    story.last_item_at = max(story.last_item_at, at)
    story.first_seen_at = min(story.first_seen_at, at)
    story.updated_at = now


def _headline_rank(title: str, events: list[Event]) -> int:
    """Headlines that carry the facts (an amount, a person) are better; very long ones worse."""
    rank = 2 if money_spans(title) else 0
    if any(e.person and e.person.split()[-1] in title for e in events):
        rank += 1
    return rank - (1 if len(title) > 160 else 0)
