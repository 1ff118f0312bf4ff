"""The weekly digest job: for every watching channel, the past week's digest into the outbox.

One digest per channel and week whatever restarts and replicas do: table digest is unique on
(channel_pk, week_start) and the outbox row's idempotency key is `digest:{channel_pk}:{week_start}`;
both are written in one transaction, so the replica that loses the race writes nothing.
APScheduler keeps no state across restarts, so `start` also runs a missed digest of the last
CATCH_UP_HOURS at once (a no-op when it was already done).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.commands.companies import RegistryProvider, as_provider
from bot.digest.build import build_digest, last_digest_time, week_start_for
from bot.messages import Message
from watchers.rules.registry import Registry
from watchers.settings import Settings
from watchers.storage.db import session_scope
from watchers.storage.delivery import Digest, Outbox, Subscription
from watchers.storage.types import utcnow

log = logging.getLogger("vendorwatch.digest")

JOB_ID = "weekly-digest"
CATCH_UP_HOURS = 24


def digest_key(channel_pk: int, week_start: date) -> str:
    return f"digest:{channel_pk}:{week_start.isoformat()}"


def outbox_payload(message: Message) -> dict[str, Any]:
    """The outbox payload of a post: the message in its JSON form."""
    return {"message": message.to_dict()}


async def digest_exists(engine: AsyncEngine, channel_pk: int, week_start: date) -> Digest | None:
    async with session_scope(engine) as session:
        return (await session.exec(select(Digest).where(Digest.channel_pk == channel_pk,
                                                        Digest.week_start == week_start))).first()


async def enqueue_digest(engine: AsyncEngine, channel_pk: int, week_start: date, message: Message, *,
                         now: datetime) -> int | None:
    """Record the week's digest and its outbox row together; None when it already exists."""
    async with session_scope(engine) as session:
        try:
            async with session.begin_nested():
                digest = Digest(channel_pk=channel_pk, week_start=week_start, created_at=now)
                session.add(digest)
                outbox = Outbox(idempotency_key=digest_key(channel_pk, week_start), channel_pk=channel_pk,
                                kind="post", payload=outbox_payload(message), next_attempt_at=now, created_at=now)
                session.add(outbox)
                await session.flush()
                digest.outbox_id = outbox.id
                session.add(digest)
        except IntegrityError:
            return None
        return outbox.id


async def watching_channels(engine: AsyncEngine) -> list[int]:
    """Channels with at least one subscription that is not paused."""
    async with session_scope(engine) as session:
        rows = (await session.exec(select(Subscription.channel_pk).where(
            Subscription.paused_reason.is_(None)).distinct())).all()  # type: ignore[union-attr]
    return sorted(rows)


async def enqueue_weekly_digests(engine: AsyncEngine, settings: Settings, registry: Any, *,
                                 now: datetime) -> list[int]:
    """The digest of the week before the latest digest time, for every watching channel.

    Returns the outbox ids enqueued by this call (channels already done are skipped). A failure
    for one channel is logged and the others still get theirs."""
    week_start = week_start_for(now, settings)
    enqueued: list[int] = []
    for channel_pk in await watching_channels(engine):
        try:
            if await digest_exists(engine, channel_pk, week_start):
                continue
            message = await build_digest(engine, channel_pk, week_start, settings, registry)
            outbox_id = await enqueue_digest(engine, channel_pk, week_start, message, now=now)
        except Exception:
            log.exception("weekly digest failed", extra={"channel": channel_pk})
            continue
        if outbox_id is not None:
            enqueued.append(outbox_id)
            log.info("weekly digest enqueued", extra={"channel": channel_pk})
    return enqueued


class DigestJob:
    """Runs `enqueue_weekly_digests` at DIGEST_WEEKDAY DIGEST_HOUR:00 in DIGEST_TIMEZONE.

    `start(scheduler)` adds the job to the process's running AsyncIOScheduler (and a catch-up run
    when a digest was missed within CATCH_UP_HOURS); `stop()` removes it again."""

    def __init__(self, engine: AsyncEngine, settings: Settings, registry: Registry | RegistryProvider, *,
                 clock: Callable[[], datetime] = utcnow):
        self.engine = engine
        self.settings = settings
        self._registry = as_provider(registry)
        self.clock = clock
        self._scheduler: AsyncIOScheduler | None = None

    async def run_once(self) -> list[int]:
        return await enqueue_weekly_digests(self.engine, self.settings, self._registry(), now=self.clock())

    def start(self, scheduler: AsyncIOScheduler) -> None:
        self._scheduler = scheduler
        trigger = CronTrigger(day_of_week=self.settings.digest_weekday, hour=self.settings.digest_hour, minute=0,
                              timezone=ZoneInfo(self.settings.digest_timezone))
        scheduler.add_job(self.run_once, trigger, id=JOB_ID, replace_existing=True, coalesce=True,
                          max_instances=1, misfire_grace_time=3600)
        now = self.clock()
        if now - last_digest_time(now, self.settings) < timedelta(hours=CATCH_UP_HOURS):
            scheduler.add_job(self.run_once, id=JOB_ID + "-catch-up", replace_existing=True)

    def stop(self) -> None:
        if self._scheduler is None:
            return
        for job_id in (JOB_ID, JOB_ID + "-catch-up"):
            if self._scheduler.get_job(job_id) is not None:
                self._scheduler.remove_job(job_id)
        self._scheduler = None

    def next_run_time(self) -> datetime | None:
        job = self._scheduler.get_job(JOB_ID) if self._scheduler is not None else None
        return getattr(job, "next_run_time", None) if job is not None else None
