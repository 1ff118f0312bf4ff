"""Retention (watchers.storage.retention): old items and stories go with their delivery rows, the
lookup and digest windows stay, in bounded batches, once across replicas; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import create_engine, func, text
from sqlmodel import select

from bot.company_activity import load_activity
from watchers.errors import UsageError
from watchers.models import Event, NewsItem
from watchers.settings import load_settings
from watchers.storage.db import session_scope, sync_url
from watchers.storage.delivery import Alert, Channel, Digest, ItemFanout, Outbox
from watchers.storage.feedback import StoryFeedback
from watchers.storage.item_store import is_history, write_company_rows
from watchers.storage.retention import (RETENTION_JOB_ID, RETENTION_LOCK_ID, RetentionJob, prune,
                                        retention_cutoff, row_counts)
from watchers.storage.stories import Story
from watchers.storage.tables import Item

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)
DAYS = 180


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def add_story(session, title: str, *, last: datetime, subject: str = "scale-ai") -> Story:  # noqa: ANN001
    story = Story(subject=subject, event_types=["funding"], companies=[subject], title=title, first_seen_at=last,
                  last_item_at=last, updated_at=last)
    session.add(story)
    await session.flush()
    return story


async def add_item(session, key: str, *, seen: datetime, published: datetime | None, story: Story | None = None,  # noqa: ANN001
                   slug: str = "scale-ai") -> Item:
    item = Item(key=key, title=f"{slug} raises money ({key})", content_hash=key, first_seen_at=seen,
                published_at=published, companies=[slug],
                events=[Event(type="funding", subject=slug, amount_usd=1e6)],
                story_id=story.id if story else None)
    session.add(item)
    await session.flush()
    await write_company_rows(session, [item])
    return item


async def add_outbox(session, key: str, channel: Channel, *, created: datetime, story: Story | None,  # noqa: ANN001
                     status: str = "sent", parent: Outbox | None = None, kind: str = "post") -> Outbox:
    row = Outbox(idempotency_key=key, channel_pk=channel.id, kind=kind, story_id=story.id if story else None,
                 parent_outbox_id=parent.id if parent else None, payload={}, status=status, created_at=created,
                 next_attempt_at=created, sent_at=created if status == "sent" else None)
    session.add(row)
    await session.flush()
    return row


async def populate(engine) -> dict:  # noqa: ANN001
    """Old and recent items, stories, alerts, outbox rows, feedback and digests."""
    async with session_scope(engine) as session:
        channel = Channel(platform="memory", channel_id="C1")
        session.add(channel)
        await session.flush()
        old_story = await add_story(session, "old story", last=ago(200))
        kept_story = await add_story(session, "story with a recent item", last=ago(10))
        recent_story = await add_story(session, "recent story", last=ago(80))
        old_item = await add_item(session, "old", seen=ago(200), published=ago(201), story=old_story)
        await add_item(session, "old-undated", seen=ago(190), published=None)
        await add_item(session, "early", seen=ago(185), published=ago(186), story=kept_story)
        await add_item(session, "late", seen=ago(10), published=ago(10), story=kept_story)
        await add_item(session, "seen-late-published-early", seen=ago(20), published=ago(300))
        await add_item(session, "seen-early-published-late", seen=ago(190), published=ago(5))
        await add_item(session, "in-lookup-window", seen=ago(80), published=ago(80), story=recent_story)
        await add_item(session, "in-digest-window", seen=ago(3), published=None)
        session.add(ItemFanout(item_id=old_item.id, story_id=old_story.id, channels=1, done_at=ago(200)))
        # the old story's delivery: its parent, a thread reply and an edit, all sent; an alert; feedback
        parent = await add_outbox(session, "alert:old", channel, created=ago(200), story=old_story)
        await add_outbox(session, "reply:old", channel, created=ago(199), story=old_story, parent=parent, kind="reply")
        await add_outbox(session, "edit:old", channel, created=ago(199), story=old_story, parent=parent, kind="edit")
        session.add(Alert(channel_pk=channel.id, story_id=old_story.id, parent_outbox_id=parent.id, created_at=ago(200),
                          updated_at=ago(199)))
        session.add(StoryFeedback(channel_pk=channel.id, story_id=old_story.id, kind="mute", created_at=ago(199)))
        # an old story's message that never went out: kept (the sender still owes it)
        await add_outbox(session, "alert:stuck", channel, created=ago(195), story=old_story, status="held")
        # the kept story's parent is old, but its alert is kept, so its row stays (replies thread under it)
        kept_parent = await add_outbox(session, "alert:kept", channel, created=ago(185), story=kept_story)
        session.add(Alert(channel_pk=channel.id, story_id=kept_story.id, parent_outbox_id=kept_parent.id,
                          created_at=ago(185), updated_at=ago(10)))
        # digests: one of an old week, one recent
        old_digest = await add_outbox(session, "digest:old", channel, created=ago(196), story=None)
        session.add(Digest(channel_pk=channel.id, week_start=ago(203).date(), outbox_id=old_digest.id, created_at=ago(196)))
        new_digest = await add_outbox(session, "digest:new", channel, created=ago(5), story=None)
        session.add(Digest(channel_pk=channel.id, week_start=ago(12).date(), outbox_id=new_digest.id, created_at=ago(5)))
        return {"channel": channel.id, "old_story": old_story.id, "kept_story": kept_story.id,
                "recent_story": recent_story.id}


async def keys(engine, model, column) -> set:  # noqa: ANN001
    async with session_scope(engine) as session:
        return set((await session.exec(select(column))).all())


async def test_prune_removes_what_is_old_and_keeps_the_windows(engine) -> None:  # noqa: ANN001
    ids = await populate(engine)
    async with session_scope(engine) as session:
        card_before = (await load_activity(session, ["scale-ai"], NOW - timedelta(days=90), NOW))["scale-ai"]
        trend_before = (await load_activity(session, ["scale-ai"], NOW - timedelta(weeks=9), NOW))["scale-ai"]

    result = await prune(engine, now=NOW, days=DAYS)

    assert result.cutoff == ago(DAYS) and not result.skipped
    assert await keys(engine, Item, Item.key) == {"late", "seen-late-published-early",
                                                 "seen-early-published-late", "in-lookup-window", "in-digest-window"}
    assert await keys(engine, Story, Story.id) == {ids["kept_story"], ids["recent_story"]}
    # the kept story lost its old item ("early") but stays with its recent one
    # the old story's alert and feedback went with it (ON DELETE CASCADE), its item's fan-out mark with the item
    assert await keys(engine, Alert, Alert.story_id) == {ids["kept_story"]}
    assert await keys(engine, StoryFeedback, StoryFeedback.id) == set()
    assert await keys(engine, ItemFanout, ItemFanout.item_id) == set()
    # sent rows of the old story and the old digest went; the unsent one and the kept alert's parent stayed
    assert await keys(engine, Outbox, Outbox.idempotency_key) == {"alert:stuck", "alert:kept", "digest:new"}
    assert await keys(engine, Digest, Digest.week_start) == {ago(12).date()}
    assert result.deleted == {"item": 3, "story": 1, "outbox": 4, "digest": 1}

    async with session_scope(engine) as session:
        card_after = (await load_activity(session, ["scale-ai"], NOW - timedelta(days=90), NOW))["scale-ai"]
        trend_after = (await load_activity(session, ["scale-ai"], NOW - timedelta(weeks=9), NOW))["scale-ai"]
    assert card_after == card_before and len(card_after.events) == 4
    assert trend_after == trend_before

    again = await prune(engine, now=NOW, days=DAYS)  # idempotent: nothing left to do
    assert again.total == 0


async def test_retention_zero_keeps_everything(engine) -> None:  # noqa: ANN001
    await populate(engine)
    before = await row_counts(engine)
    result = await prune(engine, now=NOW, days=0)
    assert result.cutoff is None and result.total == 0
    assert await row_counts(engine) == before


async def test_prune_works_in_bounded_batches(engine) -> None:  # noqa: ANN001
    async with session_scope(engine) as session:
        for n in range(25):
            await add_item(session, f"old-{n}", seen=ago(400), published=ago(400))
        await add_item(session, "new", seen=ago(1), published=ago(1))
    first = await prune(engine, now=NOW, days=DAYS, batch=10, max_batches=2)
    assert first.deleted["item"] == 20
    rest = await prune(engine, now=NOW, days=DAYS, batch=10)
    assert rest.deleted["item"] == 5
    assert await keys(engine, Item, Item.key) == {"new"}


async def test_the_database_stays_bounded(engine) -> None:  # noqa: ANN001
    """A year of daily items with a daily prune: the table never holds much more than the horizon."""
    sizes = []
    for day in range(0, 365, 5):
        now = NOW - timedelta(days=365 - day)
        async with session_scope(engine) as session:
            for n in range(5):
                at = now - timedelta(days=n)
                await add_item(session, f"d{day}-{n}", seen=at, published=at)
        await prune(engine, now=now, days=120)
        async with session_scope(engine) as session:
            sizes.append((await session.exec(select(func.count()).select_from(Item))).one())
    assert max(sizes) <= (120 // 5 + 2) * 5
    assert sizes[-1] == max(sizes)


def test_an_item_published_before_the_horizon_is_history_on_every_poll() -> None:
    def news(published: datetime | None) -> NewsItem:
        return NewsItem(key="k", title="t", summary="", link=None, outlet=None, published=published,
                        content_hash="h")

    horizon = retention_cutoff(NOW, DAYS)
    assert is_history(news(ago(400)), first_poll=False, now=NOW, max_age_hours=48, retained_since=horizon)
    assert not is_history(news(ago(1)), first_poll=False, now=NOW, max_age_hours=48, retained_since=horizon)
    assert not is_history(news(ago(400)), first_poll=False, now=NOW, max_age_hours=48, retained_since=None)
    # a first-poll limit set further back (replaying recorded feeds) moves the bound with it
    assert not is_history(news(ago(400)), first_poll=False, now=NOW, max_age_hours=24 * 1000,
                          retained_since=horizon)


def test_retention_days_setting() -> None:
    def days(value: str | None) -> int:
        env = {"DATABASE_URL": "sqlite:///x.db"} | ({"RETENTION_DAYS": value} if value is not None else {})
        return load_settings(env, dotenv_path=None).retention_days

    assert days(None) == 180
    assert days("0") == 0
    assert days("90") == 90
    for bad in ("30", "89", "-1", "ninety"):
        with pytest.raises(UsageError, match="RETENTION_DAYS"):
            days(bad)


async def test_the_runner_schedules_one_daily_job(engine) -> None:  # noqa: ANN001
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    RetentionJob(engine, 0).start(scheduler)
    assert scheduler.get_job(RETENTION_JOB_ID) is None
    RetentionJob(engine, DAYS).start(scheduler)
    job = scheduler.get_job(RETENTION_JOB_ID)
    assert job is not None and "hour='4'" in str(job.trigger)


@pytest.mark.postgres
async def test_a_second_replica_does_not_prune_while_one_is(engine, database_url: str) -> None:  # noqa: ANN001
    if not database_url.startswith("postgresql"):
        pytest.skip("the advisory lock is PostgreSQL's")
    async with session_scope(engine) as session:
        await add_item(session, "old", seen=ago(400), published=ago(400))
    other = create_engine(sync_url(database_url))
    try:
        with other.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": RETENTION_LOCK_ID})
            held = await prune(engine, now=NOW, days=DAYS)
            conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": RETENTION_LOCK_ID})
    finally:
        other.dispose()
    assert held.skipped and held.total == 0
    done = await prune(engine, now=NOW, days=DAYS)
    assert done.deleted["item"] == 1
