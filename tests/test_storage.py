"""Storage basics on both databases: migration, UTC datetimes, JSON columns, constraints."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from watchers.storage.db import session_scope, upgrade, upgrade_sync
from watchers.storage.tables import Feed, Item


async def test_upgrade_is_idempotent(database_url: str) -> None:
    await upgrade(database_url)
    upgrade_sync(database_url)


async def test_datetimes_come_back_aware_utc_and_json_round_trips(engine) -> None:  # noqa: ANN001
    when = datetime(2025, 6, 12, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    async with session_scope(engine) as session:
        feed = Feed(url="https://example.com/feed.xml", name="Example")
        session.add(feed)
        await session.flush()
        session.add(Item(key="k1", feed_id=feed.id, title="Meta invests in Scale AI", content_hash="h",
                         published_at=when, companies=["meta", "scale-ai"], events=[{"type": "funding"}]))
    async with session_scope(engine) as session:
        item = (await session.exec(select(Item))).one()
        assert item.published_at == when
        assert item.published_at.tzinfo is not None and item.published_at.utcoffset() == timedelta(0)
        assert item.companies == ["meta", "scale-ai"] and item.events == [{"type": "funding"}]


async def test_item_key_is_unique(engine) -> None:  # noqa: ANN001
    async with session_scope(engine) as session:
        session.add(Item(key="same", title="a", content_hash="h"))
    with pytest.raises(IntegrityError):
        async with session_scope(engine) as session:
            session.add(Item(key="same", title="b", content_hash="h"))


async def test_naive_datetime_is_refused(engine) -> None:  # noqa: ANN001
    with pytest.raises(Exception, match="naive"):
        async with session_scope(engine) as session:
            session.add(Feed(url="https://example.com/a", next_check_at=datetime(2025, 1, 1)))
