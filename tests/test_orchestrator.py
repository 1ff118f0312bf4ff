"""The poll pipeline on SQLite and PostgreSQL against the loopback feed server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests.feed_fixtures import rss
from watchers.rules.classify import RulesEngine
from watchers.feeds.sources import add_user_feed, google_news_url
from watchers.orchestrator import Orchestrator
from watchers.rules.registry import company_from_user
from watchers.rules.provider import RulesProvider
from watchers.settings import default_seeds_dir
from watchers.storage.db import session_scope
from watchers.storage.stories import Story
from watchers.storage.tables import Feed, Item, TrackedCompany

RSS = "application/rss+xml"
FUNDING = "Scale AI raises $1 billion from Meta"


@pytest.fixture(scope="module")
def rules_engine() -> RulesEngine:
    return RulesEngine.load(default_seeds_dir())


@pytest.fixture
async def orchestrator(settings, engine, rules_engine):
    orchestrator = Orchestrator(settings.replace(poll_interval_seconds=300), engine,
                                rules=RulesProvider.fixed(rules_engine))
    yield orchestrator
    await orchestrator.aclose()


async def add_feed(engine, settings, url: str, name: str = "Feed") -> int:  # noqa: ANN001
    async with session_scope(engine) as session:
        return (await add_user_feed(session, url, name, None, settings)).id


async def feed_row(engine, feed_id: int) -> Feed:  # noqa: ANN001
    async with session_scope(engine) as session:
        return (await session.exec(select(Feed).where(Feed.id == feed_id))).scalars().one()


async def items(engine) -> list[Item]:  # noqa: ANN001
    async with session_scope(engine) as session:
        return list((await session.exec(select(Item).order_by(Item.id))).scalars().all())


def ago(**delta: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**delta)


async def test_new_items_are_stored_and_a_304_keeps_state(orchestrator, engine, settings, feed_server):
    feed_server.serve("/a.xml", rss([("a1", FUNDING, ago(hours=1), "It raised money."),
                                     ("a2", "Quiet day at the office", ago(hours=2))]),
                      content_type=RSS, etag='"v1"', last_modified="Mon, 05 Jan 2026 10:00:00 GMT")
    feed_id = await add_feed(engine, settings, feed_server.url("/a.xml"))
    before = datetime.now(timezone.utc)

    first = await orchestrator.poll_feed(feed_id)
    assert (first.status, first.new_items, first.history_items, first.http_status) == ("ok", 2, 0, 200)
    stored = await items(engine)
    assert [i.title for i in stored] == [FUNDING, "Quiet day at the office"]
    assert stored[0].companies[:1] == ["scale-ai"] and stored[0].events[0].type == "funding"
    assert stored[1].events == [] and not any(i.history for i in stored)
    feed = await feed_row(engine, feed_id)
    assert (feed.etag, feed.last_modified, feed.last_status, feed.polled_once) == (
        '"v1"', "Mon, 05 Jan 2026 10:00:00 GMT", "ok", True)
    assert feed.error_count == 0 and feed.lease_owner is None and feed.last_success_at >= before
    assert feed.next_check_at >= before + timedelta(seconds=300)

    second = await orchestrator.poll_feed(feed_id)
    assert (second.status, second.new_items, second.http_status) == ("not_modified", 0, 304)
    again = await feed_row(engine, feed_id)
    assert (again.etag, again.last_modified, again.last_status, again.error_count) == (
        '"v1"', "Mon, 05 Jan 2026 10:00:00 GMT", "not_modified", 0)
    assert again.last_checked_at > feed.last_checked_at
    assert len(await items(engine)) == 2


async def test_edited_item_updates_the_row_and_is_not_new(orchestrator, engine, settings, feed_server):
    published = ago(hours=1)
    feed_server.serve("/e.xml", rss([("e1", FUNDING, published, "First version.")]), content_type=RSS)
    feed_id = await add_feed(engine, settings, feed_server.url("/e.xml"))
    assert (await orchestrator.poll_feed(feed_id)).new_items == 1
    [original] = await items(engine)
    assert original.story_id is not None

    edited_title = "Scale AI raises $1.2 billion from Meta, more than planned"
    feed_server.serve("/e.xml", rss([("e1", edited_title, published + timedelta(minutes=5), "Second version.")]),
                      content_type=RSS)
    outcome = await orchestrator.poll_feed(feed_id)
    assert (outcome.status, outcome.new_items, outcome.updated_items, outcome.story_ids) == ("ok", 0, 1, ())
    [row] = await items(engine)
    assert (row.id, row.key, row.title, row.summary) == (original.id, original.key, edited_title, "Second version.")
    assert row.content_hash != original.content_hash and row.updated_at is not None
    assert row.story_id == original.story_id and row.first_seen_at == original.first_seen_at
    async with session_scope(engine) as session:
        assert (await session.exec(select(func.count()).select_from(Story))).one()[0] == 1

    unchanged = await orchestrator.poll_feed(feed_id)
    assert (unchanged.new_items, unchanged.updated_items) == (0, 0)


async def test_an_item_seen_via_two_feeds_is_one_item(orchestrator, engine, settings, feed_server):
    body = rss([("shared", FUNDING, ago(hours=1), "", "https://news.example.com/articles/shared")])
    feed_server.serve("/one.xml", body, content_type=RSS)
    feed_server.serve("/two.xml", body, content_type=RSS)
    first = await orchestrator.poll_feed(await add_feed(engine, settings, feed_server.url("/one.xml"), "One"))
    second = await orchestrator.poll_feed(await add_feed(engine, settings, feed_server.url("/two.xml"), "Two"))
    assert (first.new_items, second.new_items, second.story_ids) == (1, 0, ())
    assert len(await items(engine)) == 1


async def test_first_poll_keeps_old_and_undated_items_as_history(orchestrator, engine, settings, feed_server):
    feed_server.serve("/h.xml", rss([("fresh", FUNDING, ago(hours=2)),
                                     ("old", "Mercor raises $100 million in funding", ago(hours=72)),
                                     ("undated", "Surge AI raises $50 million in funding", None)]),
                      content_type=RSS)
    feed_id = await add_feed(engine, settings, feed_server.url("/h.xml"))
    outcome = await orchestrator.poll_feed(feed_id)
    assert (outcome.new_items, outcome.history_items) == (1, 2)
    by_title = {i.title: i for i in await items(engine)}
    assert not by_title[FUNDING].history and by_title[FUNDING].story_id is not None
    old = by_title["Mercor raises $100 million in funding"]
    assert old.history and old.story_id is None and old.events  # classified, never filed or alerted
    assert by_title["Surge AI raises $50 million in funding"].history

    # later polls: an old-dated item that appears now is news to us
    feed_server.serve("/h.xml", rss([("late", "Mercor cuts 10% of staff in layoffs", ago(hours=80))]),
                      content_type=RSS)
    later = await orchestrator.poll_feed(feed_id)
    assert (later.new_items, later.history_items) == (1, 0)


async def test_errors_back_off_and_success_resets(orchestrator, engine, settings, feed_server):
    feed_server.serve("/flaky.xml", b"down", content_type="text/plain", status=503)
    feed_id = await add_feed(engine, settings, feed_server.url("/flaky.xml"))
    waits = []
    for expected_count in (1, 2, 3):
        before = datetime.now(timezone.utc)
        outcome = await orchestrator.poll_feed(feed_id)
        assert (outcome.status, outcome.error_kind, outcome.http_status) == ("error", "http_5xx", 503)
        feed = await feed_row(engine, feed_id)
        assert (feed.error_count, feed.error_kind, feed.last_status) == (expected_count, "http_5xx", "error")
        assert feed.error_message and feed.lease_owner is None and feed.last_success_at is None
        waits.append((feed.next_check_at - before).total_seconds())
    assert 300 <= waits[0] and waits[0] < waits[1] < waits[2]

    feed_server.serve("/flaky.xml", rss([("ok1", "Back again", ago(hours=1))]), content_type=RSS)
    outcome = await orchestrator.poll_feed(feed_id)
    assert (outcome.status, outcome.error_kind) == ("ok", None)
    feed = await feed_row(engine, feed_id)
    assert (feed.error_count, feed.error_kind, feed.error_message) == (0, None, None)


async def test_retry_after_is_honoured_on_429(orchestrator, engine, settings, feed_server):
    feed_server.serve("/busy.xml", b"slow down", content_type="text/plain", status=429,
                      headers={"Retry-After": "7200"})
    feed_id = await add_feed(engine, settings, feed_server.url("/busy.xml"))
    before = datetime.now(timezone.utc)
    outcome = await orchestrator.poll_feed(feed_id)
    assert (outcome.status, outcome.error_kind) == ("error", "http_429")
    assert (await feed_row(engine, feed_id)).next_check_at >= before + timedelta(seconds=7200)


async def test_feed_ttl_stretches_the_next_check(orchestrator, engine, settings, feed_server):
    feed_server.serve("/ttl.xml", rss([("t1", "Quiet", ago(hours=1))], ttl_minutes=120), content_type=RSS)
    feed_id = await add_feed(engine, settings, feed_server.url("/ttl.xml"))
    before = datetime.now(timezone.utc)
    await orchestrator.poll_feed(feed_id)
    feed = await feed_row(engine, feed_id)
    assert feed.ttl_minutes == 120 and feed.next_check_at >= before + timedelta(minutes=120)


@pytest.mark.parametrize(("body", "content_type"), [(b"<html><body>Not a feed</body></html>", "text/html"),
                                                    (b"", RSS), (b"\x00\x01\x02garbage", "application/octet-stream")])
async def test_a_body_that_is_no_feed_is_an_error(orchestrator, engine, settings, feed_server, body, content_type):
    feed_server.serve("/bad.xml", body, content_type=content_type)
    feed_id = await add_feed(engine, settings, feed_server.url("/bad.xml"))
    outcome = await orchestrator.poll_feed(feed_id)
    assert (outcome.status, outcome.error_kind) == ("error", "not_a_feed")
    assert (await feed_row(engine, feed_id)).error_count == 1 and await items(engine) == []


async def test_unknown_feed_or_one_leased_elsewhere_is_not_polled(orchestrator, engine, settings, feed_server):
    assert await orchestrator.poll_feed(999_999) is None
    feed_server.serve("/leased.xml", rss([]), content_type=RSS)
    feed_id = await add_feed(engine, settings, feed_server.url("/leased.xml"))
    other = Orchestrator(settings, engine, fetcher=orchestrator.fetcher, parser=orchestrator.parser,
                         rules=orchestrator.rules)
    assert [c.source.id for c in await other.claim(10)] == [feed_id]
    assert await orchestrator.poll_feed(feed_id) is None
    assert await other.release_all() == 1
    assert (await orchestrator.poll_feed(feed_id)).status == "ok"


async def test_a_company_added_from_chat_gets_its_feed_and_is_classified(engine, settings, feed_server):
    settings = settings.replace(seed_feeds=True)
    orchestrator = Orchestrator(settings, engine, rules=RulesProvider.from_settings(settings))
    try:
        await orchestrator.refresh_sources()
        async with session_scope(engine) as session:
            seeds = (await session.exec(select(func.count()).select_from(Feed).where(Feed.origin == "seed"))).one()[0]
            session.add(TrackedCompany(slug="zebra-labs", name="Zebra Labs", aliases=["Zebra Labs", "ZebraAI"]))
        assert seeds > 0
        await orchestrator.refresh_sources()
        url = google_news_url(company_from_user("zebra-labs", "Zebra Labs", ["Zebra Labs", "ZebraAI"]))
        async with session_scope(engine) as session:
            feed = (await session.exec(select(Feed).where(Feed.url == url))).scalars().one()
        assert (feed.company_slug, feed.origin, feed.enabled) == ("zebra-labs", "company", True)
        assert feed.next_check_at <= datetime.now(timezone.utc)
        assert "zebra-labs" in orchestrator.rules.current.classify("ZebraAI raises $20 million").companies

        # with SEED_FEEDS=0 seed feeds stop being polled; the company's feed stays
        quiet = Orchestrator(settings.replace(seed_feeds=False), engine, fetcher=orchestrator.fetcher,
                             parser=orchestrator.parser, rules=orchestrator.rules)
        await quiet.refresh_sources()
        async with session_scope(engine) as session:
            enabled = (await session.exec(select(Feed.origin).where(Feed.enabled.is_(True)))).scalars().all()
        assert enabled == ["company"]
    finally:
        await orchestrator.aclose()
