"""`vendorwatch run`: the long-running bot.

It upgrades the schema, then runs until SIGINT or SIGTERM:
- the platforms that have credentials (`build_platforms`; the console sink when none has),
  started first: a platform that cannot start (bad credentials) ends the run with one clear
  line and exit status 1;
- HTTP on PORT: /healthz, /metrics (bot.web), and the platforms' own routes (Slack's events);
  /healthz watches the poll tick's heartbeat to tell a scheduler whose jobs stopped running;
- one APScheduler AsyncIOScheduler with these jobs: the poll tick and its feed-lease renewal
  (watchers.poller: due feeds -> items -> stories), the delivery tick (new story items ->
  outbox rows (bot.delivery.fanout) -> platforms (bot.delivery.outbox)), the weekly digest cron
  (bot.digest.job), the daily retention prune (watchers.storage.retention, when RETENTION_DAYS
  is not 0) and, with WEBSUB_CALLBACK_URL set, the WebSub subscriber (watchers.feeds.websub_job)
  with its callback routes (bot.websub_routes): a pushed body is filed and delivered at once, as
  a poll's.

On a signal it stops taking new work, lets the poll, the send and the other jobs under way finish,
cancels (once) and awaits those that do not, hands back what it had claimed (feed leases, outbox
claims) and exits 0 within 10 s. Every job run has ended before anything closes: a run cancelled
mid-query hands its connection back before the engine is disposed (bot.job_runs).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import signal
import sys
from datetime import timezone
from typing import Any, Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func
from sqlmodel import select

from bot.commands.core import CommandCore
from bot.delivery.fanout import fan_out
from bot.delivery.outbox import OutboxSender
from bot.digest.job import DigestJob
from bot.job_runs import JobRuns, end_runs
from bot.platforms.console import ConsolePlatform
from bot.platforms.contract import Platform, PlatformError
from bot.metrics import BotMetrics
from bot.version import version
from bot.web import Heartbeat, HttpServer, build_http_app
from bot.websub_routes import add_websub_routes
from watchers.orchestrator import Orchestrator
from watchers.feeds.websub_job import WebSubSubscriber
from watchers.poller import Poller
from watchers.rules.provider import RulesProvider
from watchers.settings import Settings
from watchers.storage.db import database_location, make_engine, session_scope, upgrade
from watchers.storage.retention import RetentionJob
from watchers.storage.tables import Feed
from watchers.storage.single_run import AlreadyRunning, hold_single_run
from watchers.storage.types import utcnow

log = logging.getLogger("vendorwatch.app")

POLL_GRACE_SECONDS = 4.0  # polls under way finish within this, else are cancelled and handed back
JOB_GRACE_SECONDS = 4.0  # the same for job runs (a delivery round, a tick...), side by side with the polls
CLOSE_SECONDS = 1.0  # each part closing after that; the contract allows 10 s from signal to exit
DELIVERY_TICK_SECONDS = 1.0
DELIVERY_JOB_ID = "delivery-ticker"

# The registry of chat platforms: name -> (is it configured?, "module:Class" of its adapter).
# An adapter is built as Class(settings=..., engine=..., commands=...) and implements
# bot.platforms.contract.Platform; it is imported only when its credentials are set.
PLATFORM_ADAPTERS: dict[str, tuple[Callable[[Settings], bool], str]] = {
    "slack": (lambda s: s.slack_enabled, "bot.platforms.slack.adapter:SlackPlatform"),
    "discord": (lambda s: s.discord_enabled, "bot.platforms.discord.adapter:DiscordPlatform"),
}
CONSOLE_NOTICE = ("vendorwatch: no Slack or Discord credentials are set; running with the console sink "
                  "(alerts for console channels are printed on standard output)")


def build_platforms(settings: Settings, **deps: Any) -> dict[str, Platform]:
    """Every chat platform that has credentials, and always the console sink.

    The console prints the alerts of console channels (subscribed with `vendorwatch chat`) on
    standard output; with no chat platform configured it is all there is, and the run says so.
    """
    platforms: dict[str, Platform] = {}
    for name, (configured, target) in PLATFORM_ADAPTERS.items():
        if configured(settings):
            module_name, _, class_name = target.partition(":")
            adapter = getattr(importlib.import_module(module_name), class_name)
            platforms[name] = adapter(settings=settings, **deps)
    if not platforms:
        print(CONSOLE_NOTICE, file=sys.stderr, flush=True)
    platforms["console"] = ConsolePlatform()
    return platforms


def _install_signals(stop: asyncio.Event) -> list[int]:
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
            pass
    return installed


async def run(args: argparse.Namespace, settings: Settings) -> int:
    try:  # says where the database is; on SQLite, one run per database file
        lock = hold_single_run(settings.database_url)
    except AlreadyRunning as exc:
        print(f"vendorwatch: {exc}", file=sys.stderr)
        return 1
    try:
        await upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            return await Bot(settings, engine).run_until_signal()
        finally:
            await engine.dispose()
    finally:
        lock.release()


class Bot:
    """The parts of `run`, started in order and stopped in reverse."""

    def __init__(self, settings: Settings, engine: Any, *, stale_after: float | None = None):
        """`stale_after`: seconds without a poll tick before /healthz calls the scheduler stalled
        (None: bot.web's default, a few ticks and at least SCHEDULER_STALE_FLOOR_SECONDS)."""
        self.settings = settings
        self.stale_after = stale_after
        self.engine = engine
        self.metrics = BotMetrics()
        self.platforms: dict[str, Platform] = {}
        self.job_runs = JobRuns()  # the scheduler's runs, awaited at shutdown
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc, executors={"default": self.job_runs})
        self.poller: Poller | None = None
        self._delivery_round_task: asyncio.Task[Any] | None = None
        self._delivery_wanted = False  # a poll filed stories while a round was under way
        self._closers: list[Callable[[], Awaitable[Any]]] = []

    async def run_until_signal(self) -> int:
        stop = asyncio.Event()
        installed = _install_signals(stop)
        try:
            if not await self.start():
                return 1
            log.info("vendorwatch is running", extra={"count": len(self.platforms)})
            await stop.wait()
            log.info("stopping")
        finally:
            await self.shutdown()
            loop = asyncio.get_running_loop()
            for signum in installed:
                loop.remove_signal_handler(signum)
        return 0

    async def start(self) -> bool:
        settings = self.settings
        self.metrics.started_at = utcnow()
        rules = RulesProvider.from_settings(settings)
        self.orchestrator = Orchestrator(settings, self.engine, rules=rules,
                                         on_takeover=lambda n: self.metrics.takeover("feed", n))
        self._closers.append(self.orchestrator.aclose)
        await self.orchestrator.refresh_sources()  # loads the rules engine and syncs the seed feeds
        self.registry = lambda: rules.current.registry  # rebuilt when companies are added from chat
        commands = CommandCore(self.engine, settings, self.registry)
        self.platforms = build_platforms(settings, engine=self.engine, commands=commands)
        if not await self._start_platforms():
            return False
        await self._log_start()
        self.poller = Poller(self.orchestrator, on_outcome=self._count_poll)
        poller = self.poller
        heartbeat = Heartbeat.of(lambda: poller.last_tick_at, poller.tick_seconds, self.stale_after)
        http_app = build_http_app(self.engine, self.metrics, self.platforms, self.scheduler, heartbeat)
        for platform in self.platforms.values():
            platform.add_routes(http_app)
        if settings.websub_callback_url:  # hubs push to /websub/{token}: filed at once, delivered at once
            add_websub_routes(http_app, self.engine, settings, self.orchestrator, on_outcome=self._count_poll)
        self.http = HttpServer(http_app, settings.port)
        try:
            await self.http.start()
        except OSError as exc:
            print(f"vendorwatch: cannot listen on port {settings.port}: {exc.strerror or exc}", file=sys.stderr)
            return False
        self._closers.append(self.http.close)

        self.sender = OutboxSender(self.engine, settings, self.platforms, metrics=self.metrics)
        self.scheduler.start()
        self._closers.append(self._stop_scheduler)
        self.scheduler.add_job(self._delivery_round, "interval", seconds=DELIVERY_TICK_SECONDS, id=DELIVERY_JOB_ID,
                               coalesce=True, max_instances=1, misfire_grace_time=None, next_run_time=utcnow())
        await self.poller.start(self.scheduler)
        self.digest_job = DigestJob(self.engine, settings, self.registry)
        self.digest_job.start(self.scheduler)
        self.retention_job = RetentionJob(self.engine, settings.retention_days)
        self.retention_job.start(self.scheduler)
        if settings.websub_callback_url:
            self.websub = WebSubSubscriber(settings, self.engine, owner=self.orchestrator.owner)
            self.websub.start(self.scheduler)
            self._closers.append(self.websub.stop)
        return True

    async def _log_start(self) -> None:
        """One line at start: what runs, where, and on how much."""
        async with session_scope(self.engine) as session:
            feeds = (await session.exec(select(func.count()).select_from(Feed).where(Feed.enabled))).one()
        log.info("vendorwatch %s on %s, port %s, platforms %s, %s feeds, %s companies", version(),
                 database_location(self.settings.database_url), self.settings.port, ", ".join(sorted(self.platforms)),
                 feeds, len(self.registry().companies))

    async def _start_platforms(self) -> bool:
        """Start every platform; one that cannot (bad credentials, no connection) ends the run."""
        for name, platform in self.platforms.items():
            try:
                await platform.start()
            except PlatformError as exc:
                print(f"vendorwatch: {name} could not start: {exc}", file=sys.stderr, flush=True)
                return False
            self._closers.append(platform.stop)
            health = await platform.health()
            log.info("%s connected as %s", name, health.identity, extra={"platform": name})
        return True

    async def _stop_scheduler(self) -> None:
        if self.scheduler.running:  # it may have stopped already (what /healthz reports)
            self.scheduler.shutdown(wait=False)

    def _count_poll(self, outcome: Any) -> None:
        self.metrics.poll(outcome)
        if outcome.story_ids:
            self._kick_delivery()
        if outcome.new_hub and getattr(self, "websub", None) is not None:
            self.websub.kick()  # subscribe now rather than at the job's next round

    def _kick_delivery(self) -> None:
        """A poll filed stories: deliver now rather than at the next tick (the round under way, if
        any, goes round once more instead, as it may have fanned out before the filing)."""
        if self._delivery_round_task is not None:
            self._delivery_wanted = True
            return
        job = self.scheduler.get_job(DELIVERY_JOB_ID)
        if job is not None:
            job.modify(next_run_time=utcnow())

    async def _delivery_round(self) -> None:
        """New story items into the outbox, then every due row out; a failed round is retried next tick."""
        self._delivery_round_task = asyncio.current_task()
        try:
            self._delivery_wanted = True
            while self._delivery_wanted:
                self._delivery_wanted = False
                await fan_out(self.engine, self.settings, now=utcnow(), registry=self.registry)
                await self.sender.send_due()  # counts its deliveries in self.metrics
        except Exception:  # noqa: BLE001 - one failed round must not stop delivery
            log.exception("delivery round failed")
        finally:
            self._delivery_round_task = None

    async def shutdown(self) -> None:
        """Stop in a few seconds: polls, sends and other jobs under way finish or are cancelled and
        handed back; every job run has ended before the parts close (and the engine is disposed)."""
        if self.scheduler.running:
            self.scheduler.pause()  # no new runs: those under way are all end_runs waits for
            if self.scheduler.get_job(DELIVERY_JOB_ID) is not None:
                self.scheduler.remove_job(DELIVERY_JOB_ID)
        if getattr(self, "digest_job", None) is not None:
            self.digest_job.stop()
        await asyncio.gather(self._stop_poller(), end_runs(self.job_runs.under_way(), JOB_GRACE_SECONDS))
        for close in reversed(self._closers):
            try:
                await asyncio.wait_for(close(), CLOSE_SECONDS)
            except Exception:  # noqa: BLE001 - keep closing the rest
                log.exception("error while stopping")
        self._closers.clear()

    async def _stop_poller(self) -> None:
        if self.poller is None:
            return
        try:
            await self.poller.stop(grace_seconds=POLL_GRACE_SECONDS)
        except Exception:  # noqa: BLE001 - leases expire on their own
            log.exception("error while stopping the poller")
