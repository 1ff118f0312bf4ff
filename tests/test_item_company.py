"""Table item_company: written with the items, rewritten on an edit, pruned with them, and filled
by migration 0004 with the same rows as the writer gives (both databases)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import select

from bot.company_activity import load_activity
from tests.delivery_support import META_SCALE, T0, add_item
from watchers.models import Classification, Event, NewsItem
from watchers.storage.db import make_engine, session_scope, sync_url, upgrade_sync
from watchers.storage.item_store import company_rows, plan_items, write_company_rows, write_items
from watchers.storage.retention import prune
from watchers.storage.tables import Feed, Item, ItemCompany

NOW = datetime(2025, 6, 20, 12, 0, tzinfo=timezone.utc)
FUNDING = Event(type="funding", subject="scale-ai", counterparty="meta", amount_usd=14.3e9)


async def _rows(session) -> set[tuple]:  # noqa: ANN001
    rows = (await session.exec(select(ItemCompany))).all()
    return {(r.item_id, r.slug, r.at, r.is_subject) for r in rows}


def _news(key: str, title: str, published: datetime | None) -> NewsItem:
    return NewsItem(key=key, title=title, outlet="Example", link=f"https://example.com/{key}", summary="",
                    published=published, content_hash=title)


async def test_write_items_writes_the_companies_and_an_edit_rewrites_them(engine) -> None:  # noqa: ANN001
    classified = {"Meta invests in Scale AI": Classification(companies=["scale-ai", "meta"], events=[FUNDING]),
                  "Scale AI and OpenAI": Classification(companies=["scale-ai", "openai"]),
                  "Weather": Classification()}
    published = NOW - timedelta(days=2)
    async with session_scope(engine) as session:
        feed = Feed(url="https://example.com/feed.xml")
        session.add(feed)
        await session.flush()
        items = [_news("a", "Meta invests in Scale AI", published), _news("b", "Weather", None)]
        plan = await plan_items(session, items, feed_id=feed.id, first_poll=False, now=NOW, max_age_hours=72,
                                classify=lambda item: classified[item.title])
        inserted = await write_items(session, plan, feed_id=feed.id, now=NOW)
        first = {row.key: row.id for row, _new in inserted}
        assert await _rows(session) == {(first["a"], "scale-ai", published, True),
                                        (first["a"], "meta", published, False)}
    async with session_scope(engine) as session:  # the same key edited: new title, time and companies
        edited = [_news("a", "Scale AI and OpenAI", NOW - timedelta(days=1))]
        plan = await plan_items(session, edited, feed_id=feed.id, first_poll=False, now=NOW, max_age_hours=72,
                                classify=lambda item: classified[item.title])
        assert len(plan.edited) == 1
        await write_items(session, plan, feed_id=feed.id, now=NOW)
        assert await _rows(session) == {(first["a"], "scale-ai", NOW - timedelta(days=1), False),
                                        (first["a"], "openai", NOW - timedelta(days=1), False)}


async def test_retention_prunes_the_company_rows_with_their_items(engine) -> None:  # noqa: ANN001
    async with session_scope(engine) as session:
        old = Item(key="old", title="old", content_hash="o", first_seen_at=NOW - timedelta(days=400),
                   published_at=NOW - timedelta(days=400), companies=["scale-ai"], events=[FUNDING])
        new = Item(key="new", title="new", content_hash="n", first_seen_at=NOW, companies=["openai"])
        session.add_all([old, new])
        await session.flush()
        await write_company_rows(session, [old, new])
    result = await prune(engine, now=NOW, days=180)
    assert result.deleted["item"] == 1
    async with session_scope(engine) as session:
        assert await _rows(session) == {(new.id, "openai", NOW, False)}


# (companies, events) as older versions stored them, odd values included
STORED = [
    (["scale-ai", "meta"], [{"type": "funding", "subject": "scale-ai", "counterparty": "meta"}]),
    (["openai"], []),
    ([], [{"type": "layoffs", "subject": "xai"}, {"type": "legal", "subject": "xai", "counterparty": "openai"}]),
    (["meta", "meta", ""], [{"type": "funding", "subject": "meta"}, "not an event", {"type": "legal"}]),
    (["x" * 101, 7], [{"type": "funding", "subject": 5, "counterparty": "anthropic"}]),
    ([], []),
]


async def test_migration_0004_fills_the_table_as_the_writer_would(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade_sync(url, "0003")
    engine = create_engine(sync_url(url))

    def stored(when: datetime | None) -> datetime | str | None:  # as watchers.storage.types.UTCDateTime binds it
        if when is None or engine.dialect.name != "sqlite":
            return when
        return when.strftime("%Y-%m-%d %H:%M:%S.%f")

    with engine.begin() as conn:
        for n, (companies, events) in enumerate(STORED):
            published = None if n % 2 else stored(NOW - timedelta(days=n))
            conn.execute(text("INSERT INTO item (key, title, summary, published_at, first_seen_at, content_hash, "
                              "history, companies, events) VALUES (:key, 't', '', :published, :seen, 'h', false, "
                              ":companies, :events)"),
                         {"key": f"k{n}", "published": published, "seen": stored(NOW - timedelta(hours=n)),
                          "companies": json.dumps(companies), "events": json.dumps(events)})
    engine.dispose()
    upgrade_sync(url)
    engine = make_engine(url)
    try:
        async with session_scope(engine) as session:
            items = (await session.exec(select(Item))).all()
            assert len(items) == len(STORED)
            expected = {(row["item_id"], row["slug"], row["at"], row["is_subject"]) for item in items
                        for row in company_rows(item.id, item.companies, item.events,
                                                item.published_at or item.first_seen_at)}
            assert {slug for _id, slug, _at, _subject in expected} == {"scale-ai", "meta", "openai", "xai",
                                                                       "anthropic"}
            assert await _rows(session) == expected
    finally:
        await engine.dispose()


async def test_the_trends_events_only_read_gives_the_same_events_as_the_full_one(engine) -> None:  # noqa: ANN001
    """The trend reads only items where a company is an event's subject: the events must not change."""
    await add_item(engine, "Meta to take 49% of Scale AI and hire its CEO", META_SCALE, at=T0, outlet="Reuters")
    await add_item(engine, "Scale AI CEO Alexandr Wang leaves for Meta", META_SCALE[1:], at=T0 + timedelta(hours=2),
                   outlet="The Verge")
    await add_item(engine, "Google to cut ties with Scale AI",
                   [Event(type="customer_loss", subject="scale-ai", counterparty="google")],
                   at=T0 + timedelta(days=1), outlet="TechCrunch")
    await add_item(engine, "Meta and Google in talks", [Event(type="partnership", subject="meta", counterparty="google")],
                   at=T0 + timedelta(days=2), outlet="CNBC")
    slugs = ["scale-ai", "meta", "google"]
    async with session_scope(engine) as session:
        full = await load_activity(session, slugs, T0 - timedelta(days=1), T0 + timedelta(days=7))
        only = await load_activity(session, slugs, T0 - timedelta(days=1), T0 + timedelta(days=7), events_only=True)
    assert sum(len(a.events) for a in full.values()) >= 4
    assert {slug: a.events for slug, a in only.items()} == {slug: a.events for slug, a in full.items()}
    assert all(not a.stories for a in only.values()) and full["google"].stories
