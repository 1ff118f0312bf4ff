"""`vendorwatch run`: the long-running bot.

It upgrades the schema, then runs side by side until SIGINT or SIGTERM:
- the poller (watchers.poller): due feeds -> items -> stories;
- delivery: new story items -> outbox rows (bot.delivery.fanout) -> platforms (bot.delivery.outbox.OutboxSender);
- the weekly digest job (bot.digest.job);
- the platforms that have credentials (`build_platforms`; the console sink when none has);
- HTTP on PORT: /healthz, /metrics (bot.web), and the platforms' own routes.

On a signal it stops taking new work, lets the poll and the send under way finish, hands back
what it had claimed (feed leases, outbox claims) and exits 0 within 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import signal
import sys
from typing import Any, Awaitable, Callable

from bot.web import HttpServer, Metrics, build_http_app
from bot.platforms.contract import Platform
from watchers.settings import Settings
from watchers.storage.db import make_engine, upgrade
from watchers.storage.types import utcnow

log = logging.getLogger("vendorwatch.app")

POLL_GRACE_SECONDS = 4.0  # polls under way finish within this, else are cancelled and handed back
DELIVERY_GRACE_SECONDS = 4.0  # the same for a delivery round (both stop side by side)
CLOSE_SECONDS = 1.0  # each part closing after that; the contract allows 10 s from signal to exit
DELIVERY_TICK_SECONDS = 1.0

# The registry of chat platforms: name -> (is it configured?, "module:Class" of its adapter).
# An adapter is built as Class(settings=..., engine=..., commands=...) and implements
# bot.platforms.contract.Platform; it may also have add_routes(aiohttp_app) and async start() / stop().
PLATFORM_ADAPTERS: dict[str, tuple[Callable[[Settings], bool], str]] = {
    "slack": (lambda s: s.slack_enabled, "bot.slack_platform:SlackPlatform"),
    "discord": (lambda s: s.discord_enabled, "bot.discord_platform:DiscordPlatform"),
}
CONSOLE_NOTICE = ("vendorwatch: no Slack or Discord credentials are set; running with the console sink "
                  "(alerts for console channels are printed on standard output)")


def build_platforms(settings: Settings, **deps: Any) -> dict[str, Platform]:
    """Every platform that has credentials; the console sink when none has."""
    platforms: dict[str, Platform] = {}
    for name, (configured, target) in PLATFORM_ADAPTERS.items():
        if not configured(settings):
            continue
        module_name, _, class_name = target.partition(":")
        try:
            adapter = getattr(importlib.import_module(module_name), class_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            log.error("%s credentials are set but this build has no %s adapter", name, name,
                      extra={"platform": name})
            continue
        platforms[name] = adapter(settings=settings, **deps)
    if not platforms:
        from bot.platforms.console import ConsolePlatform

        wanted = [name for name, (is_on, _) in PLATFORM_ADAPTERS.items() if is_on(settings)]
        notice = CONSOLE_NOTICE if not wanted else (
            f"vendorwatch: {', '.join(wanted)} could not start; running with the console sink")
        print(notice, file=sys.stderr, flush=True)
        platforms["console"] = ConsolePlatform()
    log.info("platforms on: %s", ", ".join(sorted(platforms)), extra={"count": len(platforms)})
    return platforms


class Ticker:
    """Runs `step` every `interval` seconds until `stop`; a step under way is finished, not cut."""

    def __init__(self, name: str, step: Callable[[], Awaitable[Any]], interval: float):
        self.name, self.step, self.interval = name, step, interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one failed round must not stop the bot
                log.exception("%s round failed", self.name)
            try:
                await asyncio.wait_for(self._stopping.wait(), self.interval)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        """Ask the loop to stop and wait for the round under way."""
        self._stopping.set()
        if self._task is not None:
            await asyncio.shield(self._task)

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()


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
    await upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        return await Bot(settings, engine).run_until_signal()
    finally:
        await engine.dispose()


class Bot:
    """The parts of `run`, started in order and stopped in reverse."""

    def __init__(self, settings: Settings, engine: Any):
        self.settings = settings
        self.engine = engine
        self.metrics = Metrics()
        self.platforms: dict[str, Platform] = {}
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
        from bot.commands.core import CommandCore
        from bot.digest.job import DigestJob
        from bot.delivery.outbox import OutboxSender
        from watchers.orchestrator import Orchestrator
        from watchers.poller import Poller
        from watchers.rules.provider import RulesProvider

        settings = self.settings
        self.metrics.started_at = utcnow()
        rules = RulesProvider.from_settings(settings)
        self.orchestrator = Orchestrator(settings, self.engine, rules=rules)
        self._closers.append(self.orchestrator.aclose)
        await self.orchestrator.refresh_sources()  # loads the rules engine and syncs the seed feeds
        registry = lambda: rules.current.registry  # noqa: E731 - rebuilt when companies are added from chat
        self.registry = registry
        commands = CommandCore(self.engine, settings, registry)
        self.platforms = build_platforms(settings, engine=self.engine, commands=commands)
        http_app = build_http_app(self.engine, self.metrics, self.platforms)
        for platform in self.platforms.values():
            if hasattr(platform, "add_routes"):  # Slack in HTTP mode: /slack/events on PORT
                platform.add_routes(http_app)
        self.http = HttpServer(http_app, settings.port)
        try:
            await self.http.start()
        except OSError as exc:
            print(f"vendorwatch: cannot listen on port {settings.port}: {exc.strerror or exc}", file=sys.stderr)
            return False
        self._closers.append(self.http.close)
        for platform in self.platforms.values():
            if hasattr(platform, "start"):
                await platform.start()
            if hasattr(platform, "stop"):
                self._closers.append(platform.stop)

        self.sender = OutboxSender(self.engine, settings, self.platforms)
        self.delivery = Ticker("delivery", self._delivery_round, DELIVERY_TICK_SECONDS)
        self.delivery.start()
        self.poller = Poller(self.orchestrator, on_outcome=self._count_poll)
        await self.poller.start()
        self.digest_job = DigestJob(self.engine, settings, registry)
        self.digest_job.start()
        self._closers.append(self._stop_digest)
        return True

    async def _stop_digest(self) -> None:
        self.digest_job.stop()

    def _count_poll(self, outcome: Any) -> None:
        self.metrics.last_poll_at = utcnow()
        self.metrics.inc("vendorwatch_feeds_polled_total", status=outcome.status)
        self.metrics.inc("vendorwatch_items_stored_total", outcome.new_items + outcome.updated_items)
        if outcome.error_kind:
            self.metrics.inc("vendorwatch_errors_total", kind=outcome.error_kind)

    async def _delivery_round(self) -> None:
        from bot.delivery.fanout import fan_out

        await fan_out(self.engine, self.settings, now=utcnow(), registry=self.registry)
        self.metrics.inc("vendorwatch_messages_sent_total", await self.sender.send_due())

    async def shutdown(self) -> None:
        """Stop in a few seconds: polls and sends under way finish or are cancelled and handed back."""
        await asyncio.gather(self._stop_poller(), self._stop_delivery())
        for close in reversed(self._closers):
            try:
                await asyncio.wait_for(close(), CLOSE_SECONDS)
            except Exception:  # noqa: BLE001 - keep closing the rest
                log.exception("error while stopping")
        self._closers.clear()

    async def _stop_poller(self) -> None:
        if getattr(self, "poller", None) is None:
            return
        try:
            await self.poller.stop(grace_seconds=POLL_GRACE_SECONDS)
        except Exception:  # noqa: BLE001 - leases expire on their own
            log.exception("error while stopping the poller")

    async def _stop_delivery(self) -> None:
        if getattr(self, "delivery", None) is None:
            return
        try:
            async with asyncio.timeout(DELIVERY_GRACE_SECONDS):
                await self.delivery.stop()
        except TimeoutError:
            log.warning("a delivery round still under way was cancelled; its claims expire and are retried")
            self.delivery.cancel()
