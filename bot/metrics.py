"""Prometheus metrics of `vendorwatch run`, with prometheus-client (no hand-written exposition).

One `BotMetrics` per app, on its own CollectorRegistry (never the global one), so that tests and
several bots in one process do not share counters. Two kinds of series:

- counters and a histogram of this process: polls by outcome, errors by kind, items stored,
  events by type, deliveries by platform and outcome, lease takeovers (feeds and outbox rows
  whose holder's lease lapsed), and the latency from an item first seen (item.first_seen_at)
  to its message posted (observed by the outbox sender when a parent or reply goes out);
- gauges read from the shared database at scrape time (`refresh_from_database`): feeds by
  state, failing feeds by error kind, items, outbox rows by status, the outbox depth (rows not
  yet sent: pending, claimed, held) and the age of the oldest pending row, so that a scrape of
  any replica shows the whole deployment's backlog.

Label values are kinds, types, platforms and outcomes only: never a URL, a token or feed text.
"""

from __future__ import annotations

from collections import Counter as Tally
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from watchers.storage.delivery import Outbox
from watchers.storage.tables import Feed, Item
from watchers.storage.types import utcnow

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds from an item first seen to its message posted: poll interval plus delivery, up to hours
# when a platform was down.
LATENCY_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600, 86400)
UNSENT = ("pending", "claimed", "held")


class BotMetrics:
    """The registry of one app and its series; `render()` is the body of /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.started_at: datetime | None = None
        self.last_poll_at: datetime | None = None
        self.polls = Counter("vendorwatch_feeds_polled", "Feed polls finished by this process, by outcome.",
                             ["status"], registry=r)
        self.errors = Counter("vendorwatch_errors", "Errors seen by this process, by kind.", ["kind"], registry=r)
        self.items = Counter("vendorwatch_items_stored", "New or changed items stored by this process.", registry=r)
        self.events = Counter("vendorwatch_events", "Events found in new items by this process, by type.",
                              ["type"], registry=r)
        self.deliveries = Counter("vendorwatch_deliveries", "Outbox sends by this process, by platform and outcome "
                                  "(sent, already_sent, edited, rate_limited, transient, permanent).",
                                  ["platform", "outcome"], registry=r)
        self.messages = Counter("vendorwatch_messages_sent", "Messages delivered to a platform by this process.",
                                registry=r)
        self.takeovers = Counter("vendorwatch_lease_takeovers", "Leases this process took over after their holder's "
                                 "lease lapsed (a dead or stuck replica), by what was leased.", ["lease"], registry=r)
        self.latency = Histogram("vendorwatch_item_to_post_seconds", "Seconds from an item first seen to its "
                                 "message posted, by platform.", ["platform"], buckets=LATENCY_BUCKETS, registry=r)
        self.database_up = Gauge("vendorwatch_database_up", "1 when the database answered this scrape.", registry=r)
        self.feeds = Gauge("vendorwatch_feeds", "Feeds in the database, by the outcome of their last poll.",
                           ["state"], registry=r)
        self.feeds_failing = Gauge("vendorwatch_feeds_failing", "Enabled feeds whose last poll failed, by error kind.",
                                   ["kind"], registry=r)
        self.items_stored = Gauge("vendorwatch_items", "Items stored in the database.", registry=r)
        self.outbox = Gauge("vendorwatch_outbox", "Outbox rows by status.", ["status"], registry=r)
        self.outbox_depth = Gauge("vendorwatch_outbox_depth", "Outbox rows not sent yet (pending, claimed, held).",
                                  registry=r)
        self.outbox_oldest = Gauge("vendorwatch_outbox_oldest_pending_seconds", "Age of the oldest pending outbox row "
                                   "(0 when none is pending).", registry=r)

    # ---- what the parts of the bot report ----

    def poll(self, outcome) -> None:  # noqa: ANN001 - a watchers.orchestrator.FeedOutcome
        self.last_poll_at = utcnow()
        self.polls.labels(status=outcome.status).inc()
        self.items.inc(outcome.new_items + outcome.updated_items)
        if outcome.error_kind:
            self.errors.labels(kind=outcome.error_kind).inc()
        for event_type in getattr(outcome, "event_types", ()):
            self.events.labels(type=event_type).inc()

    def delivery(self, platform: str, outcome: str, latencies: list[float] = ()) -> None:  # type: ignore[assignment]
        self.deliveries.labels(platform=platform, outcome=outcome).inc()
        if outcome in ("sent", "already_sent", "edited"):
            self.messages.inc()
        for seconds in latencies:
            self.latency.labels(platform=platform).observe(max(0.0, seconds))

    def takeover(self, lease: str, count: int = 1) -> None:
        if count:
            self.takeovers.labels(lease=lease).inc(count)

    # ---- scrape ----

    async def refresh_from_database(self, engine: AsyncEngine) -> None:
        """Set the gauges of the shared state; raises when the database does not answer."""
        now = utcnow()
        async with engine.connect() as conn:
            feeds = (await conn.execute(select(Feed.enabled, Feed.last_status, Feed.error_kind, func.count())
                                        .group_by(Feed.enabled, Feed.last_status, Feed.error_kind))).all()
            items = (await conn.execute(select(func.count()).select_from(Item))).scalar_one()
            outbox = (await conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status))).all()
            oldest = (await conn.execute(select(func.min(Outbox.created_at))
                                         .where(Outbox.status == "pending"))).scalar_one()
        by_state: Tally[str] = Tally()
        by_error: Tally[str] = Tally()
        for enabled, status, kind, count in feeds:
            by_state["disabled" if not enabled else (status or "never_polled")] += count
            if enabled and status == "error":
                by_error[kind or "unknown"] += count
        _set_all(self.feeds, by_state)
        _set_all(self.feeds_failing, by_error)
        self.items_stored.set(items)
        by_status = Tally({status: count for status, count in outbox})
        _set_all(self.outbox, by_status)
        self.outbox_depth.set(sum(by_status[s] for s in UNSENT))
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        self.outbox_oldest.set(max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _set_all(gauge: Gauge, values: Tally[str]) -> None:
    """Replace every child of a labelled gauge (states that disappeared go away)."""
    gauge.clear()
    for label, count in sorted(values.items()):
        gauge.labels(label).set(count)
