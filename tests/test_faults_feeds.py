"""A feed that fails for days: backs off, is reported once in `/vendorwatch list`, never spammed,
recovers by itself. Days are simulated by moving the feed's timestamps back (the poll itself is real,
against a loopback server that answers 503, then the feed)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from bot.commands import CommandCore
from tests.command_support import request, test_registry
from tests.feed_fixtures import rss
from tests.feedserver import Reply
from watchers.feeds.sources import add_user_feed
from watchers.orchestrator import Orchestrator
from watchers.rules.classify import RulesEngine
from watchers.rules.provider import RulesProvider
from watchers.settings import default_seeds_dir
from watchers.storage.db import session_scope
from watchers.storage.delivery import Outbox
from watchers.storage.tables import Feed


@pytest.fixture(scope="module")
def rules() -> RulesProvider:
    return RulesProvider.fixed(RulesEngine.load(default_seeds_dir()))


async def feed_row(engine, feed_id: int) -> Feed:  # noqa: ANN001
    async with session_scope(engine) as session:
        return (await session.exec(select(Feed).where(Feed.id == feed_id))).scalars().one()


async def test_a_feed_failing_for_days_backs_off_is_listed_once_and_recovers(engine, settings, feed_server,
                                                                           rules) -> None:
    now = datetime.now(timezone.utc)
    feed_server.script("/wire.xml", [Reply(status=503, body=b"down")])
    async with session_scope(engine) as session:
        feed = await add_user_feed(session, feed_server.url("/wire.xml"), "Wire", None, settings)
    core = CommandCore(engine, settings, test_registry(), clock=lambda: datetime.now(timezone.utc))
    assert not (await core.handle(request("watch scale-ai", "C1"))).is_error
    orchestrator = Orchestrator(settings, engine, rules=rules)
    try:
        waits = []
        for _ in range(6):
            outcome = await orchestrator.poll_feed(feed.id)
            assert outcome is not None and outcome.status == "error" and outcome.error_kind
            waits.append((outcome.next_check_at - datetime.now(timezone.utc)).total_seconds())
        row = await feed_row(engine, feed.id)
        assert row.error_count == 6 and row.enabled  # never given up on
        assert waits[-1] > 4 * waits[0]  # backs off
        assert waits[-1] <= settings.feed_max_backoff_seconds * 1.25

        # a fresh failure is not news: list says nothing yet (debounced)
        listed = (await core.handle(request("list", "C1"))).to_text()
        assert "failing" not in listed

        async with session_scope(engine) as session:  # ... three days later
            await session.exec(update(Feed).where(Feed.id == feed.id)
                               .values(created_at=now - timedelta(days=3)))
        listed = (await core.handle(request("list", "C1"))).to_text()
        again = (await core.handle(request("list", "C1"))).to_text()
        assert listed.count("Wire (never worked") == 1 and listed == again
        assert listed.count("failing") == 1
        async with session_scope(engine) as session:  # never spammed: nothing was queued for a channel
            assert (await session.exec(select(func.count()).select_from(Outbox))).scalar_one() == 0

        feed_server.serve("/wire.xml", rss([("w1", "Quiet day in the markets", now)]))
        outcome = await orchestrator.poll_feed(feed.id)
        assert outcome is not None and outcome.status == "ok"
        row = await feed_row(engine, feed.id)
        assert row.error_count == 0 and row.last_status == "ok"
        assert "failing" not in (await core.handle(request("list", "C1"))).to_text()
    finally:
        await orchestrator.aclose()
