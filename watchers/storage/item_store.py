"""Storing normalized items: one row per key, however many feeds or edits bring it.

Two steps, so that classification (CPU) runs outside any write transaction:
`plan_items` reads which keys exist and classifies only what is new or edited; `write_items`
then inserts the new rows (insert-or-ignore: a feed polled at the same moment may have stored
the same key first, and then it is not new here) and updates the edited ones. An edit updates
text, hash, time and classification, but the item stays what it was: not new, never alerted again.

In the same transaction `write_items` writes which companies each item names to table
item_company (`company_rows`), the index lookup and the digest read; an edit rewrites them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from watchers.models import Classification, Event, NewsItem
from watchers.storage.tables import Item, ItemCompany

KEY_CHUNK = 500
MAX_OUTLET = 300
MAX_SLUG = 100  # item_company.slug; no company has a longer slug (tracked_company.slug is as long)

Classify = Callable[[NewsItem], Classification]


@dataclass(slots=True)
class NewItem:
    item: NewsItem
    classification: Classification
    history: bool


@dataclass(slots=True)
class EditedItem:
    row_id: int
    item: NewsItem
    classification: Classification
    at: datetime  # the item's time after the edit: its new published time, else the one stored


@dataclass(slots=True)
class ItemPlan:
    new: list[NewItem] = field(default_factory=list)
    edited: list[EditedItem] = field(default_factory=list)
    unchanged: int = 0


@dataclass(slots=True)
class _Known:
    id: int
    content_hash: str
    feed_id: int | None
    published_at: datetime | None
    first_seen_at: datetime


def is_history(item: NewsItem, *, first_poll: bool, now: datetime, max_age_hours: float,
               retained_since: datetime | None = None) -> bool:
    """On a feed's first poll, items older than the limit (or undated) are history, never alerted.

    On every poll, an item published before `retained_since` (the retention horizon) and before
    the first-poll limit is history: it may be one that retention pruned and that the feed still
    lists. (A first-poll limit set further back, as the demo and tests do to replay recorded
    feeds, moves this bound back with it.)"""
    if retained_since is not None and item.published is not None:
        bound = min(retained_since, now - timedelta(hours=max_age_hours))
        if item.published < bound:
            return True
    if not first_poll:
        return False
    return item.published is None or item.published < now - timedelta(hours=max_age_hours)


async def plan_items(session: AsyncSession, items: list[NewsItem], *, feed_id: int, first_poll: bool, now: datetime,
                     max_age_hours: float, classify: Classify, retained_since: datetime | None = None) -> ItemPlan:
    """Sort a feed's items into new, edited and unchanged, classifying the first two."""
    unique: dict[str, NewsItem] = {}
    for item in items:
        unique.setdefault(item.key, item)
    known: dict[str, _Known] = {}
    keys = list(unique)
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start:start + KEY_CHUNK]
        rows = await session.exec(select(Item.id, Item.key, Item.content_hash, Item.feed_id,
                                         Item.published_at, Item.first_seen_at).where(Item.key.in_(chunk)))
        for row in rows:
            known[row.key] = _Known(row.id, row.content_hash, row.feed_id, row.published_at, row.first_seen_at)
    plan = ItemPlan()
    for key, item in unique.items():
        seen = known.get(key)
        if seen is None:
            history = is_history(item, first_poll=first_poll, now=now, max_age_hours=max_age_hours,
                                 retained_since=retained_since)
            plan.new.append(NewItem(item, classify(item), history))
        elif _edited(seen, item, feed_id):
            at = item.published or seen.published_at or seen.first_seen_at
            plan.edited.append(EditedItem(seen.id, item, classify(item), at))
        else:
            plan.unchanged += 1
    return plan


def _edited(seen: _Known, item: NewsItem, feed_id: int) -> bool:
    # Only the feed that first brought an item edits it: two feeds carrying different
    # versions of one item must not overwrite each other on every poll.
    if seen.feed_id is not None and seen.feed_id != feed_id:
        return False
    return seen.content_hash != item.content_hash or (
        item.published is not None and seen.published_at != item.published)


def _row(new: NewItem, feed_id: int, now: datetime) -> dict[str, Any]:
    item = new.item
    return dict(key=item.key, feed_id=feed_id, title=item.title, outlet=(item.outlet or None) and item.outlet[:MAX_OUTLET],
                link=item.link, summary=item.summary or "", published_at=item.published, first_seen_at=now,
                updated_at=None, content_hash=item.content_hash, history=new.history,
                companies=list(new.classification.companies),
                events=list(new.classification.events), story_id=None)


def _insert(session: AsyncSession):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Item)


_ITEMS = Item.__table__
# Core, one executemany per shape: an edit is a plain column update, the ORM adds nothing to it.
_EDIT = (update(_ITEMS).where(_ITEMS.c.id == bindparam("row_id"))
         .values(title=bindparam("new_title"), summary=bindparam("new_summary"),
                 content_hash=bindparam("new_content_hash"), updated_at=bindparam("new_updated_at"),
                 companies=bindparam("new_companies"), events=bindparam("new_events")))
_EDIT_DATED = _EDIT.values(published_at=bindparam("new_published_at"))


def _edit_params(edited: EditedItem, now: datetime) -> dict[str, Any]:
    item = edited.item
    params: dict[str, Any] = dict(row_id=edited.row_id, new_title=item.title, new_summary=item.summary or "",
                                  new_content_hash=item.content_hash, new_updated_at=now,
                                  new_companies=list(edited.classification.companies),
                                  new_events=list(edited.classification.events))
    if item.published is not None:
        params["new_published_at"] = item.published
    return params


def company_rows(item_id: int, companies: Iterable[str], events: Iterable[Event], at: datetime) -> list[dict[str, Any]]:
    """The item_company rows of one item: each company it names (in `companies`, or as an event's
    subject or counterparty) once, at the item's time; `is_subject` when it is an event's subject.
    Migration 0004 fills the table for older items with the same rule, in SQL."""
    named: dict[str, bool] = {}
    for slug in companies:
        named.setdefault(slug, False)
    for event in events:
        named[event.subject] = True
        if event.counterparty:
            named.setdefault(event.counterparty, False)
    return [dict(item_id=item_id, slug=slug, at=at, is_subject=is_subject)
            for slug, is_subject in named.items() if isinstance(slug, str) and 0 < len(slug) <= MAX_SLUG]


async def write_company_rows(session: AsyncSession, items: Iterable[Item]) -> None:
    """(Re)write the item_company rows of stored items from their columns (tests store items this way)."""
    items = list(items)
    await session.exec(delete(ItemCompany).where(ItemCompany.item_id.in_([i.id for i in items])))  # type: ignore[attr-defined]
    rows = [row for i in items for row in company_rows(i.id, i.companies, i.events, i.published_at or i.first_seen_at)]
    if rows:
        await session.exec(insert(ItemCompany), params=rows)


async def write_items(session: AsyncSession, plan: ItemPlan, *, feed_id: int,
                      now: datetime) -> list[tuple[Item, NewItem]]:
    """Insert the new items and update the edited ones, and their item_company rows; returns the
    rows this call inserted."""
    inserted: list[tuple[Item, NewItem]] = []
    if plan.new:
        by_key = {new.item.key: new for new in plan.new}
        statement = _insert(session).on_conflict_do_nothing(index_elements=["key"]).returning(Item)
        result = await session.exec(statement, params=[_row(new, feed_id, now) for new in plan.new])
        rows = result.scalars().all()
        inserted = [(row, by_key[row.key]) for row in rows]
    named = [company_row for row, new in inserted
             for company_row in company_rows(row.id, new.classification.companies, new.classification.events,
                                             row.published_at or row.first_seen_at)]
    with_date = [_edit_params(edited, now) for edited in plan.edited if edited.item.published is not None]
    without_date = [_edit_params(edited, now) for edited in plan.edited if edited.item.published is None]
    if with_date:
        await session.exec(_EDIT_DATED, params=with_date)
    if without_date:
        await session.exec(_EDIT, params=without_date)
    if plan.edited:  # an edit may change the time and the companies: its rows are written anew
        await session.exec(delete(ItemCompany).where(
            ItemCompany.item_id.in_([edited.row_id for edited in plan.edited])))  # type: ignore[attr-defined]
        named.extend(company_row for edited in plan.edited
                     for company_row in company_rows(edited.row_id, edited.classification.companies,
                                                     edited.classification.events, edited.at))
    if named:
        await session.exec(insert(ItemCompany), params=named)
    return inserted
