"""/metrics with prometheus-client: scraped over HTTP and parsed with prometheus_client.parser."""

from __future__ import annotations

from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.delivery.outbox import LEASE_SECONDS, OutboxSender
from bot.messages import Message
from bot.metrics import BotMetrics
from bot.platforms.contract import PermanentError, RateLimited, TransientError
from bot.platforms.memory import MemoryPlatform
from bot.web import HttpServer, build_http_app
from tests.delivery_support import META_SCALE, T0, ManualClock, add_channel, add_item
from watchers.orchestrator import FeedOutcome
from watchers.storage.db import session_scope
from watchers.storage.delivery import Outbox

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(exposition: str) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(exposition) for s in family.samples}


async def scrape(engine, metrics: BotMetrics, platforms=None) -> tuple[str, Samples]:  # noqa: ANN001
    server = HttpServer(build_http_app(engine, metrics, platforms or {}), 0, host="127.0.0.1")
    await server.start()
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{server.port}/metrics")
    finally:
        await server.close()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text, parse(response.text)


async def queue(engine, channel_pk: int, key: str, title: str, *, at=T0, items=(), kind="post",  # noqa: ANN001
                parent=None) -> int:  # noqa: ANN001
    async with session_scope(engine) as session:
        row = Outbox(idempotency_key=key, channel_pk=channel_pk, kind=kind, parent_outbox_id=parent,
                     payload={"message": Message(title=title).to_dict(), "items": [{"id": i} for i in items]},
                     next_attempt_at=at, created_at=at)
        session.add(row)
        await session.flush()
        return row.id


def test_each_app_has_its_own_registry() -> None:
    one, two = BotMetrics(), BotMetrics()
    one.poll(FeedOutcome(1, "f", "https://example.com/f", "error", error_kind="http_5xx"))
    assert one.registry is not two.registry
    assert one.registry.get_sample_value("vendorwatch_errors_total", {"kind": "http_5xx"}) == 1
    assert two.registry.get_sample_value("vendorwatch_errors_total", {"kind": "http_5xx"}) is None


async def test_polls_errors_items_and_events_are_counted(engine) -> None:
    metrics = BotMetrics()
    metrics.poll(FeedOutcome(1, "a", "https://a.example/feed", "ok", new_items=3, updated_items=1,
                             event_types=("funding", "funding", "layoffs")))
    metrics.poll(FeedOutcome(2, "b", "https://b.example/feed", "not_modified"))
    metrics.poll(FeedOutcome(3, "c", "https://c.example/feed", "error", error_kind="timeout"))
    metrics.takeover("feed", 2)
    _, values = await scrape(engine, metrics)
    assert values[("vendorwatch_feeds_polled_total", (("status", "ok"),))] == 1
    assert values[("vendorwatch_feeds_polled_total", (("status", "not_modified"),))] == 1
    assert values[("vendorwatch_feeds_polled_total", (("status", "error"),))] == 1
    assert values[("vendorwatch_errors_total", (("kind", "timeout"),))] == 1
    assert values[("vendorwatch_items_stored_total", ())] == 4
    assert values[("vendorwatch_events_total", (("type", "funding"),))] == 2
    assert values[("vendorwatch_events_total", (("type", "layoffs"),))] == 1
    assert values[("vendorwatch_lease_takeovers_total", (("lease", "feed"),))] == 2
    assert values[("vendorwatch_database_up", ())] == 1


async def test_deliveries_latency_and_the_backlog_from_the_database(engine, settings) -> None:
    """Outcomes by platform, first-seen-to-posted latency, and gauges of the shared outbox."""
    item_id, _ = await add_item(engine, "Meta takes 49% stake in Scale AI", META_SCALE[:1], at=T0,
                                outlet="Reuters")
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    other = await add_channel(engine, "C2", {"scale-ai": []})
    await queue(engine, channel, "p1", "one", items=[item_id], at=T0)
    await queue(engine, channel, "p2", "two", at=T0)
    await queue(engine, other, "q1", "later", at=T0 + timedelta(hours=5))  # not due: stays pending
    platform, clock = MemoryPlatform(), ManualClock(T0 + timedelta(seconds=90))
    metrics = BotMetrics()
    sender = OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep, metrics=metrics)
    platform.fail_next(TransientError("503"))
    platform.fail_next(RateLimited(5.0))
    assert await sender.send_due() == 0  # the 503: backed off
    clock.advance(60)
    assert await sender.send_due() == 0  # the 429
    clock.advance(10)
    assert await sender.send_due() == 2

    text, values = await scrape(engine, metrics)
    assert values[("vendorwatch_deliveries_total", (("outcome", "transient"), ("platform", "memory")))] == 1
    assert values[("vendorwatch_deliveries_total", (("outcome", "rate_limited"), ("platform", "memory")))] == 1
    assert values[("vendorwatch_deliveries_total", (("outcome", "sent"), ("platform", "memory")))] == 2
    assert values[("vendorwatch_messages_sent_total", ())] == 2
    # one item, first seen at T0, posted 160 s later (90 + 60 + 10 on the manual clock)
    assert values[("vendorwatch_item_to_post_seconds_count", (("platform", "memory"),))] == 1
    assert values[("vendorwatch_item_to_post_seconds_sum", (("platform", "memory"),))] == 160
    assert values[("vendorwatch_item_to_post_seconds_bucket", (("le", "120.0"), ("platform", "memory")))] == 0
    assert values[("vendorwatch_item_to_post_seconds_bucket", (("le", "300.0"), ("platform", "memory")))] == 1
    assert values[("vendorwatch_outbox", (("status", "sent"),))] == 2
    assert values[("vendorwatch_outbox", (("status", "pending"),))] == 1
    assert values[("vendorwatch_outbox_depth", ())] == 1
    assert values[("vendorwatch_items", ())] == 1
    oldest = values[("vendorwatch_outbox_oldest_pending_seconds", ())]
    assert oldest > 0  # measured on the wall clock from the row's created_at
    assert "# TYPE vendorwatch_item_to_post_seconds histogram" in text


async def test_a_lapsed_outbox_claim_is_counted_as_a_takeover(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"a": []})
    await queue(engine, channel, "p", "hello")
    platform, clock = MemoryPlatform(), ManualClock()
    crashed = OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep)
    claims, _ = await crashed._claim(clock())  # claimed, then the process died
    assert claims
    clock.advance(LEASE_SECONDS + 1)
    metrics = BotMetrics()
    heir = OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep, metrics=metrics)
    assert await heir.send_due() == 1
    assert metrics.registry.get_sample_value("vendorwatch_lease_takeovers_total", {"lease": "outbox"}) == 1


async def test_an_ordinary_claim_is_not_counted_as_a_takeover(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"a": []})
    await queue(engine, channel, "p", "one")
    await queue(engine, channel, "q", "two")
    platform, clock = MemoryPlatform(), ManualClock()
    metrics = BotMetrics()
    sender = OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep, metrics=metrics)
    assert await sender.send_due() == 2
    assert metrics.registry.get_sample_value("vendorwatch_lease_takeovers_total", {"lease": "outbox"}) is None


async def test_a_permanent_error_is_counted_and_the_held_rows_are_in_the_depth(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"a": []})
    await queue(engine, channel, "p", "one")
    await queue(engine, channel, "q", "two")
    platform, clock = MemoryPlatform(), ManualClock()
    platform.fail_next(PermanentError("channel_not_found"))
    metrics = BotMetrics()
    sender = OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep, metrics=metrics)
    await sender.send_due()
    _, values = await scrape(engine, metrics)
    assert values[("vendorwatch_deliveries_total", (("outcome", "permanent"), ("platform", "memory")))] == 1
    assert values[("vendorwatch_outbox", (("status", "held"),))] == 2
    assert values[("vendorwatch_outbox_depth", ())] == 2
    assert values[("vendorwatch_outbox_oldest_pending_seconds", ())] == 0


async def test_metrics_answer_with_database_up_0_when_the_database_is_gone(tmp_path) -> None:
    from watchers.storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    try:
        _, values = await scrape(engine, BotMetrics())
    finally:
        await engine.dispose()
    assert values[("vendorwatch_database_up", ())] == 0


async def test_a_feed_whose_lease_lapsed_is_claimed_as_a_takeover(engine) -> None:
    from watchers.feeds.state import claim_feeds
    from watchers.storage.tables import Feed

    async with session_scope(engine) as session:
        session.add(Feed(url="https://a.example/feed", next_check_at=T0, lease_owner="dead:1",
                         lease_until=T0 - timedelta(minutes=1)))
        session.add(Feed(url="https://b.example/feed", next_check_at=T0))
    async with session_scope(engine) as session:
        claims = await claim_feeds(session, owner="me", now=T0, lease_seconds=60, limit=10)
    assert {c.source.url: c.taken_over for c in claims} == {"https://a.example/feed": True,
                                                             "https://b.example/feed": False}
