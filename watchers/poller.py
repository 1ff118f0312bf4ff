"""The long-running poll loop of `vendorwatch run`: a ticker job and a bounded pool of workers.

The one APScheduler AsyncIOScheduler of the process (the runner's, handed to `start`) runs one
ticker job every few seconds (coalesced, never two at once). Each tick refreshes the feed list (companies added from
chat, seed feeds) and leases as many due feeds as the workers have room for; FEED_CONCURRENCY
asyncio workers poll them through the Orchestrator. The ticker is cheap and the workers stay
busy across ticks, so a slow feed never holds up the others.

A tick also leases the feeds that fall due before the next tick, and the worker that takes such a
feed waits for its due time: a feed is fetched when it is due, not up to a tick later, so that
with the schedule's exact interval an item published just after a poll is read one interval
later, not one interval and a tick (the end-to-end latency goal of issue 12).

Leases: the poller takes short feed leases (LEASE_SECONDS instead of the orchestrator's, which
covers a whole poll without renewal) and a second job renews those it holds every
RENEW_SECONDS: a live replica keeps its feeds however slow a poll is, a dead one's feeds are free
again LEASE_SECONDS after its last renewal (and taken over by the next tick of another replica).

Heartbeat: `last_tick_at` (time.monotonic) is set when a tick begins and when it ends, failed or
not, so that /healthz can tell a scheduler whose jobs stopped running (paused, or a tick hung)
from one that runs: the gap between two marks is at most a tick's interval or its duration.

`stop()` ends ticking at once (the tick under way stops at its next step and is waited for), hands
back the leases of feeds not yet started, gives polls under way a short grace period to finish and
cancels (and hands back) the rest: the process can exit within seconds of SIGTERM, and another
replica picks up the handed-back feeds. The tick is a scheduler run: whoever owns the scheduler
awaits its runs before disposing of the engine (bot.job_runs).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from watchers.feeds.state import FeedClaim, renew_feeds
from watchers.orchestrator import FeedOutcome, Orchestrator
from watchers.storage.types import utcnow

log = logging.getLogger("vendorwatch.poller")

OnOutcome = Callable[[FeedOutcome], "Awaitable[None] | None"]
TICK_JOB_ID = "feed-poll-ticker"
RENEW_JOB_ID = "feed-lease-renewer"
LEASE_SECONDS = 30.0  # a feed lease of the running poller; renewed while held
RENEW_SECONDS = 5.0


class _SkippedRunFilter(logging.Filter):
    """A tick skipped because the previous one still runs is by design (max_instances=1), not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


class Poller:
    def __init__(self, orchestrator: Orchestrator, *, tick_seconds: float | None = None,
                 workers: int | None = None, on_outcome: OnOutcome | None = None):
        settings = orchestrator.settings
        self.orchestrator = orchestrator
        self.tick_seconds = tick_seconds or float(min(5, settings.poll_interval_seconds))
        self.workers = workers or settings.feed_concurrency
        self.on_outcome = on_outcome
        self.outcomes = 0
        self._queue: asyncio.Queue[FeedClaim | None] = asyncio.Queue()
        self._busy = 0
        self._worker_tasks: list[asyncio.Task[None]] = []
        self._scheduler: AsyncIOScheduler | None = None
        self._stopping = False
        self._stopped = asyncio.Event()  # wakes the workers waiting for a feed's due time
        self._tick_lock = asyncio.Lock()
        self.last_tick_at: float | None = None  # time.monotonic() of the last tick's start or end

    @property
    def running(self) -> bool:
        return self._scheduler is not None and not self._stopping

    async def start(self, scheduler: AsyncIOScheduler) -> None:
        """Start the workers and add the ticker to `scheduler` (the first tick runs at once)."""
        if self._scheduler is not None:
            raise RuntimeError("poller already started")
        self._worker_tasks = [asyncio.create_task(self._worker(), name=f"feed-worker-{n}")
                              for n in range(self.workers)]
        self._scheduler = scheduler
        self.last_tick_at = time.monotonic()  # the first tick is due at once; until it runs, count from here
        self.orchestrator.lease_seconds = min(self.orchestrator.lease_seconds, LEASE_SECONDS)
        logging.getLogger("apscheduler.scheduler").addFilter(_SkippedRunFilter())
        scheduler.add_job(self.renew_leases, "interval", seconds=RENEW_SECONDS, id=RENEW_JOB_ID,
                          coalesce=True, max_instances=1, misfire_grace_time=None)
        scheduler.add_job(self.tick, "interval", seconds=self.tick_seconds, id=TICK_JOB_ID,
                          coalesce=True, max_instances=1, misfire_grace_time=None,
                          next_run_time=datetime.now(timezone.utc))
        log.info("poller started", extra={"count": self.workers})

    async def tick(self) -> int:
        """Lease due feeds for the free workers; returns how many were queued."""
        if self._stopping:
            return 0
        self.last_tick_at = time.monotonic()
        async with self._tick_lock:
            queued = 0
            try:
                await self.orchestrator.refresh_sources()
                while not self._stopping:
                    room = 2 * self.workers - self._queue.qsize() - self._busy
                    if room <= 0:
                        break
                    look_ahead = utcnow() + timedelta(seconds=self.tick_seconds)
                    batch = await self.orchestrator.claim(room, due_at=look_ahead)
                    if self._stopping:
                        if batch:
                            await self.orchestrator.release([claim.source.id for claim in batch])
                        break
                    for claim in batch:
                        self._queue.put_nowait(claim)
                    queued += len(batch)
                    if len(batch) < room:
                        break
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a database hiccup must not end the ticker
                log.exception("poll tick failed")
            finally:
                self.last_tick_at = time.monotonic()
            return queued

    async def renew_leases(self) -> int:
        """Extend the leases of the feeds this poller still holds (queued or being polled)."""
        orchestrator = self.orchestrator
        try:
            async with orchestrator._writing() as session:
                return await renew_feeds(session, orchestrator.owner, now=utcnow(),
                                         lease_seconds=orchestrator.lease_seconds)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - retried at the next renewal, well before the leases lapse
            log.warning("could not renew feed leases", exc_info=True)
            return 0

    async def _worker(self) -> None:
        while True:
            claim = await self._queue.get()
            if claim is None:
                return
            self._busy += 1
            try:
                if not await self._until_due(claim):
                    continue  # stopping: stop() hands its lease back with the others
                outcome = await self.orchestrator.process(claim)
                self.outcomes += 1
                if self.on_outcome is not None:
                    result = self.on_outcome(outcome)
                    if inspect.isawaitable(result):
                        await result
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the outcome hook's failure must not kill a worker
                log.exception("outcome handler failed", extra={"feed_id": claim.source.id,
                                                               "feed_url": claim.source.url})
            finally:
                self._busy -= 1

    async def _until_due(self, claim: FeedClaim) -> bool:
        """Wait until the claimed feed is due (a tick claims up to one tick ahead); False if stopped first."""
        wait = (claim.due_at - utcnow()).total_seconds() if claim.due_at is not None else 0.0
        if wait > 0:
            try:
                await asyncio.wait_for(self._stopped.wait(), timeout=wait)
            except TimeoutError:
                pass
        return not self._stopping

    async def _tick_ended(self, timeout: float) -> None:
        """Wait for the tick under way, if any: it stops at its next step, and what it claimed is
        then handed back below. The tick itself is a scheduler run, never cancelled here."""
        try:
            async with asyncio.timeout(timeout), self._tick_lock:
                pass
        except TimeoutError:
            log.warning("a poll tick is still under way; it hands back what it claims")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop ticking, hand back queued feeds, let polls under way finish within the grace period."""
        if self._stopping or self._scheduler is None:
            return
        self._stopping = True
        self._stopped.set()
        await self.orchestrator.stop()
        for job_id in (TICK_JOB_ID, RENEW_JOB_ID):
            if self._scheduler.get_job(job_id) is not None:
                self._scheduler.remove_job(job_id)
        deadline = asyncio.get_running_loop().time() + grace_seconds  # the tick and the polls share the grace
        await self._tick_ended(grace_seconds)
        while not self._queue.empty():
            self._queue.get_nowait()
        for _ in self._worker_tasks:
            self._queue.put_nowait(None)
        _done, pending = await asyncio.wait(self._worker_tasks,
                                            timeout=max(0.0, deadline - asyncio.get_running_loop().time()))
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._worker_tasks, return_exceptions=True)
        try:
            released = await asyncio.wait_for(self.orchestrator.release_all(), timeout=max(1.0, grace_seconds))
        except Exception:  # noqa: BLE001 - leases expire by themselves
            log.warning("could not hand back feed leases; they expire by themselves", exc_info=True)
            released = 0
        log.info("poller stopped", extra={"count": released})
