"""The WebSub subscriber job of `vendorwatch run` (on only when WEBSUB_CALLBACK_URL is set).

Every JOB_SECONDS (and at once when a poll finds a new hub: `kick`) it brings the subscription rows
in line with the feeds (watchers.feeds.websub_state.sync_subscriptions), then sends the requests
that are due: subscribe for new rows, renewals and retries; unsubscribe for rows whose feed went
away or names another hub now. Rows are claimed with a lease, so with several replicas each
request is sent by one of them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine

from watchers.feeds.websub import HubClient, callback_url
from watchers.feeds.websub_state import (UNSUBSCRIBE_ATTEMPTS, SubscriptionWork, claim_due, drop, record_request,
                                          sync_subscriptions)
from watchers.settings import Settings
from watchers.storage.db import session_scope
from watchers.storage.types import utcnow

log = logging.getLogger("vendorwatch.websub")

JOB_ID = "websub-subscriber"
JOB_SECONDS = 30.0
CLAIM_LEASE_SECONDS = 60.0  # a request takes at most HUB_TIMEOUT_SECONDS (10 s)
BATCH = 20


class WebSubSubscriber:
    def __init__(self, settings: Settings, engine: AsyncEngine, *, owner: str, hubs: HubClient | None = None):
        if not settings.websub_callback_url:
            raise ValueError("WebSubSubscriber needs WEBSUB_CALLBACK_URL")
        self.settings, self.engine, self.owner = settings, engine, owner
        self.hubs = hubs or HubClient(settings)
        self._scheduler: AsyncIOScheduler | None = None

    def start(self, scheduler: AsyncIOScheduler) -> None:
        self._scheduler = scheduler
        scheduler.add_job(self.run_once, "interval", seconds=JOB_SECONDS, id=JOB_ID, coalesce=True,
                          max_instances=1, misfire_grace_time=None, next_run_time=datetime.now(timezone.utc))

    def kick(self) -> None:
        """Run soon (a poll found a hub): the first subscription need not wait for the next round."""
        job = self._scheduler.get_job(JOB_ID) if self._scheduler is not None else None
        if job is not None:
            job.modify(next_run_time=datetime.now(timezone.utc))

    async def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running and self._scheduler.get_job(JOB_ID):
            self._scheduler.remove_job(JOB_ID)
        await self.hubs.aclose()

    async def run_once(self) -> int:
        """One round; returns how many requests were sent. Never raises (retried next round)."""
        try:
            async with session_scope(self.engine) as session:
                await sync_subscriptions(session, now=utcnow())
            sent = 0
            while True:
                async with session_scope(self.engine) as session:
                    batch = await claim_due(session, owner=self.owner, now=utcnow(),
                                            lease_seconds=CLAIM_LEASE_SECONDS, limit=BATCH)
                if not batch:
                    return sent
                for failed in await asyncio.gather(*(self._request(work) for work in batch), return_exceptions=True):
                    if isinstance(failed, Exception):  # its lease lapses; the row is taken up again then
                        log.error("websub request failed", exc_info=failed)
                sent += len(batch)
                if len(batch) < BATCH:
                    return sent
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a database hiccup: the next round tries again
            log.exception("websub round failed")
            return 0

    async def _request(self, work: SubscriptionWork) -> None:
        if work.mode == "unsubscribe" and work.attempts >= UNSUBSCRIBE_ATTEMPTS:
            async with session_scope(self.engine) as session:
                await drop(session, work.id)
            return
        answer = await self.hubs.request(work.hub, mode=work.mode, topic=work.topic,
                                         callback=callback_url(self.settings.websub_callback_url or "", work.token),
                                         secret=work.secret, lease_seconds=self.settings.websub_lease_seconds)
        log.info("websub %s requested", work.mode, extra={"feed_url": work.topic, "status": "accepted" if
                                                          answer.accepted else answer.detail})
        async with session_scope(self.engine) as session:
            await record_request(session, work, answer, owner=self.owner, now=utcnow())
