"""Sharing work between pollers (replicas) and the long-running poll loop, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select, update

from tests.feed_fixtures import rss
from watchers.rules.classify import RulesEngine
from watchers.feeds.sources import add_user_feed
from watchers.orchestrator import Orchestrator
from watchers.poller import Poller
from watchers.rules.provider import RulesProvider
from watchers.settings import default_seeds_dir
from watchers.storage.db import make_engine, session_scope
from watchers.storage.tables import Feed, Item

RSS = "application/rss+xml"
FEEDS = 24


@pytest.fixture(scope="module")
def rules() -> RulesProvider:
    return RulesProvider.fixed(RulesEngine.load(default_seeds_dir()))


@pytest.fixture
async def scheduler():  # noqa: ANN201
    """The process's one scheduler, as the runner starts it."""
    started = AsyncIOScheduler(timezone=timezone.utc)
    started.start()
    yield started
    started.shutdown(wait=False)


second_scheduler = scheduler  # another replica's


async def add_feeds(engine, settings, feed_server, count: int = FEEDS) -> list[int]:  # noqa: ANN001
    now = datetime.now(timezone.utc)
    ids = []
    async with session_scope(engine) as session:
        for n in range(count):
            feed_server.serve(f"/f{n}.xml", rss([(f"f{n}-a", f"Story {n} about nothing", now - timedelta(hours=1)),
                                                 (f"f{n}-b", f"Another story {n}", now - timedelta(hours=2))]),
                              content_type=RSS, etag=f'"e{n}"')
            ids.append((await add_user_feed(session, feed_server.url(f"/f{n}.xml"), f"F{n}", None, settings)).id)
    return ids


async def wait_for(condition, timeout: float = 20.0) -> None:  # noqa: ANN001
    """Wait until `condition()` (async) is true; fail after `timeout` (a hang guard, not a speed check)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def count(engine, *where) -> int:  # noqa: ANN001
    async with session_scope(engine) as session:
        return (await session.exec(select(func.count()).select_from(Feed).where(*where))).one()[0]


async def test_two_orchestrators_share_due_feeds_without_double_polling(database_url, engine, settings, feed_server,
                                                                        rules):
    ids = await add_feeds(engine, settings, feed_server)
    settings = settings.replace(feed_concurrency=3)
    second_engine = make_engine(database_url)  # another replica: its own connection pool
    first = Orchestrator(settings, engine, rules=rules, owner="replica-1")
    second = Orchestrator(settings, second_engine, fetcher=first.fetcher, parser=first.parser, rules=rules,
                          owner="replica-2")
    try:
        one, two = await asyncio.gather(first.poll_due(), second.poll_due())
    finally:
        await first.aclose()
        await second_engine.dispose()
    polled_by_one = [o.feed_id for o in one]
    polled_by_two = [o.feed_id for o in two]
    assert sorted(polled_by_one + polled_by_two) == sorted(ids)  # each feed exactly once
    assert polled_by_one and polled_by_two  # both did some of the work
    assert all(o.status == "ok" and o.new_items == 2 for o in one + two)
    for n in range(FEEDS):
        assert feed_server.hits(f"/f{n}.xml") == 1
    async with session_scope(engine) as session:
        assert (await session.exec(select(func.count()).select_from(Item))).one()[0] == 2 * FEEDS
    assert await count(engine, Feed.lease_owner.is_not(None)) == 0


async def test_poll_due_respects_limit_and_all(engine, settings, feed_server, rules):
    ids = await add_feeds(engine, settings, feed_server, 5)
    orchestrator = Orchestrator(settings, engine, rules=rules)
    try:
        assert len(await orchestrator.poll_due(limit=2)) == 2
        assert sorted(o.feed_id for o in await orchestrator.poll_due()) == sorted(ids)[2:]
        assert await orchestrator.poll_due() == []
        everything = await orchestrator.poll_due(everything=True)
        assert sorted(o.feed_id for o in everything) == sorted(ids)
        assert {o.status for o in everything} == {"not_modified"}
    finally:
        await orchestrator.aclose()


async def test_disabled_feeds_are_not_polled(engine, settings, feed_server, rules):
    ids = await add_feeds(engine, settings, feed_server, 3)
    async with session_scope(engine) as session:
        await session.exec(update(Feed).where(Feed.id == ids[0]).values(enabled=False))
    orchestrator = Orchestrator(settings, engine, rules=rules)
    try:
        assert sorted(o.feed_id for o in await orchestrator.poll_due(everything=True)) == ids[1:]
    finally:
        await orchestrator.aclose()


async def test_poller_polls_due_feeds_and_stops_cleanly(engine, settings, feed_server, rules, scheduler):
    ids = await add_feeds(engine, settings, feed_server, 6)
    seen = []
    orchestrator = Orchestrator(settings.replace(feed_concurrency=2), engine, rules=rules)
    poller = Poller(orchestrator, tick_seconds=0.2, on_outcome=seen.append)
    await poller.start(scheduler)
    try:
        await wait_for(lambda: _all_checked(engine, len(ids)))
    finally:
        await poller.stop(grace_seconds=2)
        await orchestrator.aclose()
    assert sorted(o.feed_id for o in seen) == ids and not poller.running
    assert await count(engine, Feed.lease_owner.is_not(None)) == 0


async def _all_checked(engine, total: int) -> bool:  # noqa: ANN001
    return await count(engine, Feed.last_checked_at.is_not(None)) == total


async def test_two_pollers_share_the_work(database_url, engine, settings, feed_server, rules, scheduler,
                                          second_scheduler):
    ids = await add_feeds(engine, settings, feed_server, 12)
    second_engine = make_engine(database_url)
    first = Orchestrator(settings.replace(feed_concurrency=2), engine, rules=rules)
    second = Orchestrator(settings.replace(feed_concurrency=2), second_engine, fetcher=first.fetcher,
                          parser=first.parser, rules=rules)
    seen_one, seen_two = [], []
    pollers = [Poller(first, tick_seconds=0.1, on_outcome=seen_one.append),
               Poller(second, tick_seconds=0.1, on_outcome=seen_two.append)]
    for poller, own_scheduler in zip(pollers, (scheduler, second_scheduler)):  # two replicas, a scheduler each
        await poller.start(own_scheduler)
    try:
        await wait_for(lambda: _all_checked(engine, len(ids)))
    finally:
        for poller in pollers:
            await poller.stop(grace_seconds=2)
        await first.aclose()
        await second_engine.dispose()
    assert sorted(o.feed_id for o in seen_one + seen_two) == ids
    assert all(feed_server.hits(f"/f{n}.xml") == 1 for n in range(12))


async def test_stop_hands_back_work_in_flight(engine, settings, feed_server, rules, scheduler):
    feed_server.hang("/slow.xml")
    async with session_scope(engine) as session:
        feed_id = (await add_user_feed(session, feed_server.url("/slow.xml"), "Slow", None, settings)).id
    orchestrator = Orchestrator(settings, engine, rules=rules)
    poller = Poller(orchestrator, tick_seconds=0.1)
    await poller.start(scheduler)
    try:
        await wait_for(lambda: _leased(engine))
    finally:
        await poller.stop(grace_seconds=0.3)  # the slow fetch is cancelled, its lease handed back
        await orchestrator.aclose()
    async with session_scope(engine) as session:
        feed = (await session.exec(select(Feed).where(Feed.id == feed_id))).scalars().one()
    assert (feed.lease_owner, feed.lease_until, feed.last_checked_at, feed.error_count) == (None, None, None, 0)


async def _leased(engine) -> bool:  # noqa: ANN001
    return await count(engine, Feed.lease_owner.is_not(None)) == 1


async def _fetch_times(feed_server, path: str, times: list[float], count: int) -> None:  # noqa: ANN001
    """Record the loop time of each fetch of `path` (sampled every 10 ms) until there are `count`."""
    loop = asyncio.get_running_loop()
    while len(times) < count:
        while len(times) < feed_server.hits(path):
            times.append(loop.time())
        await asyncio.sleep(0.01)


async def test_a_feed_is_fetched_when_due_not_at_the_next_tick(engine, settings, feed_server, rules, scheduler):
    """With a 3 s interval and a 2 s tick, the second fetch comes 3 s after the first (the tick before the
    due time leases the feed and its worker waits for it), not at the first tick after it (4 s)."""
    ids = await add_feeds(engine, settings, feed_server, 1)
    orchestrator = Orchestrator(settings.replace(poll_interval_seconds=3), engine, rules=rules)
    poller = Poller(orchestrator, tick_seconds=2)
    times: list[float] = []
    await poller.start(scheduler)
    try:
        await asyncio.wait_for(_fetch_times(feed_server, "/f0.xml", times, 3), timeout=20)
    finally:
        await poller.stop(grace_seconds=2)
        await orchestrator.aclose()
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert ids and all(3.0 - 0.02 <= gap < 3.4 for gap in gaps), gaps  # never sooner, and not a tick later


async def test_stop_wakes_a_worker_waiting_for_a_due_time(engine, settings, feed_server, rules, scheduler):
    await add_feeds(engine, settings, feed_server, 1)
    async with session_scope(engine) as session:
        await session.exec(update(Feed).values(next_check_at=datetime.now(timezone.utc) + timedelta(seconds=3)))
    orchestrator = Orchestrator(settings, engine, rules=rules)
    poller = Poller(orchestrator, tick_seconds=5)
    await poller.start(scheduler)
    try:
        await wait_for(lambda: _leased(engine))  # leased ahead of its due time
        started = asyncio.get_running_loop().time()
    finally:
        await poller.stop(grace_seconds=5)
        await orchestrator.aclose()
    assert asyncio.get_running_loop().time() - started < 1.0
    assert feed_server.hits("/f0.xml") == 0 and await count(engine, Feed.lease_owner.is_not(None)) == 0
