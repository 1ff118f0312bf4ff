"""The poll pipeline of one feed, and of every due feed: the one place that writes feeds and items.

Per feed: fetch -> parse (worker processes) -> normalize -> classify what is new or edited ->
one transaction that records the feed's state, stores the items and files each new, alertable
item with events into its story (watchers.stories.store). Errors of one feed never stop a cycle:
the feed records the error kind and message and backs off.

Feeds are claimed with a lease (watchers.feeds.state), so several orchestrators (replicas, or a
`poll --once` beside `run`) share the due feeds and never poll one feed at once.

A body a feed's WebSub hub pushes (bot.websub_routes) takes the same path from parse on
(`process_push`); a poll records the hub a feed names, and a feed whose hub pushes to us is
polled as the fallback only, every 4 intervals (`pushed` claims).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import AsyncIterator, Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from watchers.stories import store as story_store
from watchers.feeds.sources import sync_seed_feeds
from watchers.feeds.state import FeedClaim, PollRecord, claim_feeds, record_poll, release_feeds
from watchers.feeds.fetch import Fetcher
from watchers.feeds.websub import discover
from watchers.feeds.websub_state import PushTarget, pushed_feeds, record_push
from watchers.storage.item_store import ItemPlan, NewItem, plan_items, write_items
from watchers.storage.retention import retention_cutoff
from watchers.models import FeedSource, FetchResult, NewsItem, ParsedFeed
from watchers.feeds.normalize import normalize_entries
from watchers.feeds.parse import FeedParser, ParseError
from watchers.rules.provider import RulesProvider
from watchers.feeds.schedule import next_check_after_error, next_check_after_success
from watchers.settings import Settings
from watchers.storage.db import session_scope
from watchers.storage.tables import Feed, Item
from watchers.storage.types import utcnow

log = logging.getLogger("vendorwatch.poll")

# PostgreSQL: feeds filing items into the same stories at once may lock them in opposite order;
# the transaction the server picks as victim is simply run again.
DEADLOCK_SQLSTATE, DEADLOCK_ATTEMPTS = "40P01", 3
INTERNAL_ERROR = "internal"  # an unexpected exception of ours, beside watchers.models.ERROR_KINDS
_SOURCE_COLUMNS = (Feed.id, Feed.url, Feed.name, Feed.company_slug, Feed.polled_once)


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What one poll of one feed (or one WebSub push) did."""

    feed_id: int
    name: str
    url: str
    status: str  # ok, not_modified, error; "pushed" for a WebSub push
    new_items: int = 0
    updated_items: int = 0
    history_items: int = 0
    story_ids: tuple[int, ...] = ()
    http_status: int | None = None
    error_kind: str | None = None
    error_message: str | None = None
    next_check_at: datetime | None = None
    event_types: tuple[str, ...] = ()  # the types of the events of its new items, one per event
    new_hub: bool = False  # the poll found a WebSub hub the feed did not name before


Progress = Callable[[FeedOutcome], None]
FirstWrite = Callable[[AsyncSession], Awaitable[None]]  # the transaction's first statement


def default_owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Orchestrator:
    """Polls feeds. Give it a fetcher, parser and rules provider, or let it build (and close) its own."""

    def __init__(self, settings: Settings, engine: AsyncEngine, *, fetcher: Fetcher | None = None,
                 parser: FeedParser | None = None, rules: RulesProvider | None = None, owner: str | None = None,
                 on_takeover: Callable[[int], None] | None = None):
        self.settings = settings
        self.on_takeover = on_takeover  # called with the number of lapsed leases a claim took over
        self.engine = engine
        self.owner = owner or default_owner()
        self._own_fetcher = fetcher is None
        self._own_parser = parser is None
        self.fetcher = fetcher or Fetcher(settings)
        self.parser = parser or FeedParser(settings.parse_workers, settings.parse_timeout_seconds)
        self.rules = rules or RulesProvider.from_settings(settings)
        self.lease_seconds = 2 * (settings.feed_timeout_seconds + settings.parse_timeout_seconds) + 60
        self._synced_generation = -1
        self._stopping = asyncio.Event()
        # SQLite has one writer at a time and its busy wait is not fair: queue our writers here
        # instead, so that none starves. PostgreSQL: bounded by the connection pool.
        slots = max(1, min(settings.feed_concurrency, 8))
        self._write_slots = asyncio.Semaphore(1 if engine.dialect.name == "sqlite" else slots)
        self._read_slots = asyncio.Semaphore(slots)
        # PostgreSQL: one filing transaction of ours at a time, as feeds filing into the same stories
        # at once deadlock on the story locks (SQLite: already one writer).
        self._filing_slot = asyncio.Semaphore(1)

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        async with self._write_slots, session_scope(self.engine) as session:
            yield session

    @asynccontextmanager
    async def _filing(self, files: bool) -> AsyncIterator[None]:
        if not files:
            yield
            return
        async with self._filing_slot:
            yield

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncSession]:
        async with self._read_slots, session_scope(self.engine) as session:
            yield session

    # ---- cycles ----

    async def refresh_sources(self) -> None:
        """Rebuild the rules engine if companies were added from chat; sync the seed feeds when it changed."""
        async with self._writing() as session:
            rules_engine = await self.rules.get(session)
            if self.rules.generation != self._synced_generation:
                created = await sync_seed_feeds(session, rules_engine.registry, enabled=self.settings.seed_feeds,
                                                user_added=self.rules.user_slugs)
                self._synced_generation = self.rules.generation
                if created:
                    log.info("seed feeds created", extra={"count": created})

    async def poll_due(self, limit: int | None = None, *, everything: bool = False,
                       progress: Progress | None = None) -> list[FeedOutcome]:
        """Poll every feed due now (with `everything`, every enabled feed once), at most `limit`.

        Claims feeds in batches and polls FEED_CONCURRENCY of them at once; returns when none is
        left, or soon after `stop()`. Feeds claimed but not started by then are handed back.
        """
        await self.refresh_sources()
        cycle_start = utcnow()
        concurrency = self.settings.feed_concurrency
        outcomes: list[FeedOutcome] = []
        running: set[asyncio.Task[FeedOutcome | None]] = set()
        claimed = 0
        exhausted = False
        slots = asyncio.Semaphore(concurrency)
        try:
            while True:
                room = 2 * concurrency - len(running)
                if limit is not None:
                    room = min(room, limit - claimed)
                if not exhausted and room > 0 and not self._stopping.is_set():
                    batch = await self.claim(room, due_at=cycle_start, everything=everything)
                    claimed += len(batch)
                    exhausted = len(batch) < room or (limit is not None and claimed >= limit)
                    running.update(asyncio.create_task(self._run_claim(slots, claim)) for claim in batch)
                if not running:
                    break
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    outcome = task.result()
                    if outcome is not None:
                        outcomes.append(outcome)
                        if progress is not None:
                            progress(outcome)
        finally:
            if running:
                for task in running:
                    task.cancel()
                await asyncio.gather(*running, return_exceptions=True)
            if running or self._stopping.is_set():
                await self.release_all()
        return outcomes

    async def poll_feed(self, feed_id: int) -> FeedOutcome | None:
        """Poll one feed now, due or not; None if another poller holds it at the moment."""
        await self.refresh_sources()
        async with self._writing() as session:
            claims = await claim_feeds(session, owner=self.owner, now=utcnow(), lease_seconds=self.lease_seconds,
                                       limit=1, feed_ids=[feed_id])
        claims = await self._mark_pushed(claims)
        return await self.process(claims[0]) if claims else None

    async def process_push(self, target: PushTarget, body: bytes, *, content_type: str | None) -> FeedOutcome | None:
        """A body the feed's WebSub hub pushed: parsed, normalized, classified and filed as a poll's
        items are (item keys make a pushed item and the same item polled later one item). The feed's
        poll state (validators, schedule, errors) stays as its last poll left it. None when the
        feed is gone; ParseError when the body is no feed."""
        async with self._reading() as session:
            row = (await session.exec(select(*_SOURCE_COLUMNS).where(Feed.id == target.feed_id))).first()
        if row is None:
            return None
        source = FeedSource(id=row.id, url=row.url, name=row.name, company_slug=row.company_slug,
                            polled_once=row.polled_once)
        parsed = await self.parser.parse(body, content_type=content_type, url=source.url)
        now = utcnow()
        claim = FeedClaim(source, pushed=True)
        items = normalize_entries(parsed, feed_id=source.id, feed_url=source.url, now=now)
        plan = await self._plan(claim, items, now) if items else ItemPlan()
        inserted, story_ids = await self._write_retrying(
            claim, lambda session: record_push(session, target.id, now), plan, now)
        new = [new for _row, new in inserted if not new.history]
        log.info("websub push filed", extra={"feed_id": source.id, "feed_url": source.url, "count": len(new)})
        return FeedOutcome(source.id, source.name, source.url, "pushed", new_items=len(new),
                           updated_items=len(plan.edited), history_items=len(inserted) - len(new),
                           story_ids=tuple(dict.fromkeys(story_ids)),
                           event_types=tuple(event.type for new_item in new for event in new_item.classification.events))

    async def _mark_pushed(self, claims: list[FeedClaim]) -> list[FeedClaim]:
        """The claims of feeds whose hub pushes to us, marked: they are polled as the fallback only."""
        if not self.settings.websub_callback_url or not claims:
            return claims
        async with self._reading() as session:
            pushed = await pushed_feeds(session, [claim.source.id for claim in claims], utcnow())
        return [replace(claim, pushed=True) if claim.source.id in pushed else claim for claim in claims]

    async def stop(self) -> None:
        """Stop claiming and starting feeds; polls under way finish (or are cancelled by the caller)."""
        self._stopping.set()

    async def release_all(self) -> int:
        """Hand back every lease this orchestrator still holds (work claimed but not done)."""
        async with self._writing() as session:
            return await release_feeds(session, self.owner)

    async def release(self, feed_ids: list[int]) -> int:
        """Hand back the leases of these feeds, unpolled."""
        async with self._writing() as session:
            return await release_feeds(session, self.owner, feed_ids)

    async def aclose(self) -> None:
        if self._own_fetcher:
            await self.fetcher.aclose()
        if self._own_parser:
            await self.parser.aclose()

    async def claim(self, limit: int, *, due_at: datetime | None = None, everything: bool = False) -> list[FeedClaim]:
        """Lease up to `limit` feeds due at `due_at` (default now); with `everything`, feeds not checked since."""
        now = utcnow()
        due_at = due_at or now
        async with self._writing() as session:
            claims = await claim_feeds(session, owner=self.owner, now=now, lease_seconds=self.lease_seconds,
                                       limit=limit, due_at=due_at, everything_since=due_at if everything else None)
        claims = await self._mark_pushed(claims)
        taken_over = sum(1 for claim in claims if claim.taken_over)
        if taken_over:
            log.info("took over lapsed feed leases", extra={"count": taken_over})
            if self.on_takeover is not None:
                self.on_takeover(taken_over)
        return claims

    async def _run_claim(self, slots: asyncio.Semaphore, claim: FeedClaim) -> FeedOutcome | None:
        async with slots:
            if self._stopping.is_set():
                return None  # handed back by release_all
            return await self.process(claim)

    # ---- one feed ----

    async def process(self, claim: FeedClaim) -> FeedOutcome:
        """Poll one claimed feed end to end; never raises except on cancellation."""
        source = claim.source
        try:
            return await self._process(claim)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one feed's bug must not stop the cycle
            log.exception("unexpected error polling a feed", extra={"feed_id": source.id, "feed_url": source.url})
            message = f"{exc.__class__.__name__}: {exc}"
            return await self._record_error(claim, INTERNAL_ERROR, message, None, None)

    async def _process(self, claim: FeedClaim) -> FeedOutcome:
        source = claim.source
        fetch_started = utcnow()
        fetched = await self.fetcher.fetch(source)
        if fetched.status == "error":
            return await self._record_error(claim, fetched.error_kind or "connect", fetched.error_message,
                                            fetched.http_status, fetched.retry_after_seconds)
        parsed: ParsedFeed | None = None
        if fetched.status == "ok":
            try:
                parsed = await self.parser.parse(fetched.body or b"", content_type=fetched.content_type,
                                                 url=fetched.final_url or source.url)
            except ParseError as exc:
                return await self._record_error(claim, exc.kind, str(exc) or exc.kind, fetched.http_status, None)
        now = utcnow()
        items = (normalize_entries(parsed, feed_id=source.id, feed_url=fetched.final_url or source.url, now=now)
                 if parsed is not None else [])
        plan = await self._plan(claim, items, now) if items else ItemPlan()
        return await self._store(claim, fetched, parsed, plan, now, fetch_started)

    async def _plan(self, claim: FeedClaim, items: list[NewsItem], now: datetime) -> ItemPlan:
        async with self._reading() as session:
            rules = self.rules.current or await self.rules.get(session)
            classify = lambda item: rules.classify(item.title, item.summary, link=item.link,  # noqa: E731
                                                   source=item.outlet)
            return await plan_items(session, items, feed_id=claim.source.id, first_poll=not claim.source.polled_once,
                                    now=now, max_age_hours=self.settings.first_poll_max_age_hours, classify=classify,
                                    retained_since=retention_cutoff(now, self.settings.retention_days))

    async def _store(self, claim: FeedClaim, fetched: FetchResult, parsed: ParsedFeed | None, plan: ItemPlan,
                     now: datetime, fetch_started: datetime) -> FeedOutcome:
        source = claim.source
        ttl = parsed.ttl_minutes if parsed is not None else claim.ttl_minutes
        next_check = next_check_after_success(fetch_started, self.settings.poll_interval_seconds, ttl_minutes=ttl,
                                              max_age_seconds=fetched.max_age_seconds,
                                              retry_after_seconds=fetched.retry_after_seconds, pushed=claim.pushed)
        links = discover(fetched, parsed) if fetched.status == "ok" else None
        record = PollRecord(status=fetched.status, checked_at=now, next_check_at=next_check,
                            http_status=fetched.http_status, etag=fetched.etag, last_modified=fetched.last_modified,
                            ttl_minutes=ttl, websub_hub=links.hub if links else None,
                            websub_topic=links.topic if links else None)
        inserted, story_ids = await self._write_retrying(
            claim, lambda session: record_poll(session, claim, record), plan, now)
        new_count = sum(1 for _row, new in inserted if not new.history)
        history_count = len(inserted) - new_count
        log.debug("feed polled", extra={"feed_id": source.id, "feed_url": source.url, "status": fetched.status,
                                        "count": new_count})
        return FeedOutcome(source.id, source.name, source.url, fetched.status, new_items=new_count,
                           updated_items=len(plan.edited), history_items=history_count,
                           story_ids=tuple(dict.fromkeys(story_ids)), http_status=fetched.http_status,
                           next_check_at=next_check, new_hub=links is not None and links.hub != claim.websub_hub,
                           event_types=tuple(event.type for _row, new in inserted if not new.history
                                             for event in new.classification.events))

    async def _write_retrying(self, claim: FeedClaim, first_write: FirstWrite, plan: ItemPlan,
                              now: datetime) -> tuple[list[tuple[Item, NewItem]], list[int]]:
        for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
            try:
                return await self._write(claim, first_write, plan, now)
            except OperationalError as exc:
                if attempt == DEADLOCK_ATTEMPTS or getattr(exc.orig, "sqlstate", None) != DEADLOCK_SQLSTATE:
                    raise
                log.info("deadlock filing stories, retrying", extra={"feed_id": claim.source.id,
                                                                     "feed_url": claim.source.url, "count": attempt})
        raise AssertionError("unreachable")

    async def _write(self, claim: FeedClaim, first_write: FirstWrite, plan: ItemPlan,
                     now: datetime) -> tuple[list[tuple[Item, NewItem]], list[int]]:
        """One transaction: the feed's state (a poll's record, or a push's time), its items, their stories."""
        story_ids: list[int] = []
        files = self.engine.dialect.name != "sqlite" and any(
            not new.history and new.classification.events for new in plan.new)
        async with self._filing(files), self._writing() as session:
            await first_write(session)  # a write first: SQLite takes its write lock at once
            inserted = await write_items(session, plan, feed_id=claim.source.id, now=now)
            for row, new in inserted:
                if new.history or not new.classification.events:
                    continue
                story_ids.extend(await story_store.file_item(session, row, new.classification, now=now,
                                                             window_hours=self.settings.story_window_hours))
        return inserted, story_ids

    async def _record_error(self, claim: FeedClaim, kind: str, message: str | None, http_status: int | None,
                            retry_after: float | None) -> FeedOutcome:
        source = claim.source
        now = utcnow()
        errors = source.error_count + 1
        next_check = next_check_after_error(now, errors, self.settings.poll_interval_seconds,
                                            self.settings.feed_max_backoff_seconds, retry_after_seconds=retry_after)
        record = PollRecord(status="error", checked_at=now, next_check_at=next_check, http_status=http_status,
                            error_count=errors, error_kind=kind, error_message=message)
        async with self._writing() as session:
            await record_poll(session, claim, record)
        log.info("feed failed", extra={"feed_id": source.id, "feed_url": source.url, "error_kind": kind,
                                       "count": errors})
        return FeedOutcome(source.id, source.name, source.url, "error", http_status=http_status, error_kind=kind,
                           error_message=message, next_check_at=next_check)
