"""Storage basics on both databases: migration, UTC datetimes, JSON columns, constraints."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, column, table, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import select

from watchers.models import Event
from watchers.storage.db import session_scope, upgrade, upgrade_sync
from watchers.storage.tables import Feed, Item


async def test_upgrade_is_idempotent(database_url: str) -> None:
    await upgrade(database_url)
    upgrade_sync(database_url)


def test_the_migrations_build_the_schema_the_tables_declare(database_url: str) -> None:
    """A table or index added to the models without a migration (or the reverse) shows here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from watchers.storage.all_tables import metadata

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    finally:
        engine.dispose()


async def test_datetimes_come_back_aware_utc_and_json_round_trips(engine) -> None:  # noqa: ANN001
    when = datetime(2025, 6, 12, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    async with session_scope(engine) as session:
        feed = Feed(url="https://example.com/feed.xml", name="Example")
        session.add(feed)
        await session.flush()
        session.add(Item(key="k1", feed_id=feed.id, title="Meta invests in Scale AI", content_hash="h",
                         published_at=when, companies=["meta", "scale-ai"], events=[Event(type="funding", subject="scale-ai")]))
    async with session_scope(engine) as session:
        item = (await session.exec(select(Item))).one()
        assert item.published_at == when
        assert item.published_at.tzinfo is not None and item.published_at.utcoffset() == timedelta(0)
        assert item.companies == ["meta", "scale-ai"] and item.events == [Event(type="funding", subject="scale-ai")]


_RAW_ITEMS = table("item", column("id"), column("events", JSON))  # the events column as plain JSON


async def test_events_are_stored_as_json_objects_and_read_back_as_events(engine) -> None:  # noqa: ANN001
    event = Event("funding", "scale-ai", "meta", amount_usd=14.3e9, rule="funding.stake")
    async with session_scope(engine) as session:
        session.add(Item(key="k1", title="Meta invests in Scale AI", content_hash="h", events=[event]))
    async with session_scope(engine) as session:
        raw = (await session.exec(select(_RAW_ITEMS.c.events))).one()
        assert raw == [{"type": "funding", "subject": "scale-ai", "counterparty": "meta", "status": "done",
                        "amount_usd": 14.3e9, "rule": "funding.stake", "confidence": 1.0}]
        assert (await session.exec(select(Item.events))).one() == [event]


async def test_events_written_by_an_older_version_still_load(engine) -> None:  # noqa: ANN001
    async with session_scope(engine) as session:
        session.add(Item(key="k1", title="Scale AI raises $1B", content_hash="h"))
    async with session_scope(engine) as session:
        await session.exec(update(_RAW_ITEMS).values(events=[
            {"type": "funding", "subject": "scale-ai", "amount_usd": 1000000000, "sentiment": "up"}, "junk"]))
    async with session_scope(engine) as session:
        item = (await session.exec(select(Item))).one()
    assert item.events == [Event("funding", "scale-ai", amount_usd=1e9)]


async def test_an_events_column_refuses_plain_dicts(engine) -> None:  # noqa: ANN001
    with pytest.raises(StatementError, match="Event objects"):
        async with session_scope(engine) as session:
            session.add(Item(key="k1", title="t", content_hash="h", events=[{"type": "funding"}]))


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
