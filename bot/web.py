"""The bot's HTTP side: /healthz and /metrics on PORT (Slack's /slack/events joins the same app).

/healthz answers 200 with JSON only when the database answers, the scheduler runs and every
platform is connected and authenticated; otherwise 503 with the problems named:
- "database unreachable": `SELECT 1` (and the last poll's time) failed or took over DB_CHECK_SECONDS;
- "scheduler stopped": the APScheduler is shut down; "scheduler: no poll tick for N s ...": it is
  up but its jobs stopped running (paused, or a tick hung), told by a `Heartbeat`: the poll tick
  marks each start and end (watchers.poller), and a mark older than `stale_after` (a few ticks,
  at least SCHEDULER_STALE_FLOOR_SECONDS) is a stall. A failing tick (the database is down) still
  marks: that is the database's problem, named as such;
- "<platform>: <why>": a platform's `health()` is not ok (Slack's token rejected, a gateway down).

/metrics is the Prometheus exposition of the app's own registry (bot.metrics.BotMetrics):
counters of this process and gauges read from the shared database at scrape time, so that a
scrape of any replica shows the whole deployment's backlog.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import CONTENT_TYPE, BotMetrics
from bot.platforms.contract import Health, Platform
from watchers.storage.tables import Feed

log = logging.getLogger("vendorwatch.health")

DB_CHECK_SECONDS = 3.0
SCHEDULER_STALE_TICKS = 3  # a heartbeat this many intervals old is a stalled scheduler...
SCHEDULER_STALE_FLOOR_SECONDS = 30.0  # ...and never sooner: a tick waiting on SQLite's lock (10 s) is slow, not stopped


@dataclass(frozen=True)
class Heartbeat:
    """A scheduler job that marks its runs: `last()` is the time.monotonic() of its last mark (None:
    not started yet), `every` its interval in seconds; no mark for `stale_after` seconds is a stall."""

    last: Callable[[], float | None]
    every: float
    stale_after: float
    what: str = "poll tick"

    @classmethod
    def of(cls, last: Callable[[], float | None], every: float, stale_after: float | None = None) -> Heartbeat:
        default = max(SCHEDULER_STALE_TICKS * every, SCHEDULER_STALE_FLOOR_SECONDS)
        return cls(last, every, default if stale_after is None else stale_after)

    def problem(self) -> str | None:
        last = self.last()
        if last is None:
            return None
        age = time.monotonic() - last
        if age <= self.stale_after:
            return None
        return f"scheduler: no {self.what} for {age:.0f} s (it runs every {self.every:g} s)"


async def _health_of(platform: Platform) -> Health:
    try:
        async with asyncio.timeout(DB_CHECK_SECONDS):
            return await platform.health()
    except Exception as exc:  # noqa: BLE001 - a health check that fails is "not healthy"
        return Health(connected=False, authenticated=False, detail=f"health check failed: {exc.__class__.__name__}")


async def last_poll_in_database(engine: AsyncEngine) -> datetime | None:
    async with engine.connect() as conn:
        value = (await conn.execute(select(func.max(Feed.last_checked_at)))).scalar_one()
    return value


def scheduler_problem(scheduler: Any, heartbeat: Heartbeat | None) -> str | None:
    if scheduler is not None and not scheduler.running:
        return "scheduler stopped"
    return heartbeat.problem() if heartbeat is not None else None


def build_http_app(engine: AsyncEngine, metrics: BotMetrics, platforms: Mapping[str, Platform],
                   scheduler: Any = None, heartbeat: Heartbeat | None = None) -> web.Application:
    """The aiohttp application of PORT; adapters add their own routes before it starts."""

    async def healthz(_request: web.Request) -> web.Response:
        db_ok, last_poll = True, metrics.last_poll_at
        try:
            async with asyncio.timeout(DB_CHECK_SECONDS):
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                stored = await last_poll_in_database(engine)
            if stored is not None and (last_poll is None or stored > last_poll):
                last_poll = stored
        except Exception as exc:  # noqa: BLE001 - any database failure is "not healthy"
            log.warning("health check: database unreachable: %s", exc.__class__.__name__)
            db_ok = False
        stalled = scheduler_problem(scheduler, heartbeat)
        platform_health = {name: await _health_of(platform) for name, platform in sorted(platforms.items())}
        problems = ([] if db_ok else ["database unreachable"]) + ([stalled] if stalled else []) + [
            f"{name}: {health.detail or 'not connected'}" for name, health in platform_health.items() if not health.ok]
        scheduler_state = "ok" if stalled is None else ("stopped" if stalled == "scheduler stopped" else "stalled")
        body = {"status": "ok" if not problems else "degraded", "problems": problems,
                "db": "ok" if db_ok else "error", "scheduler": scheduler_state,
                "last_poll_at": last_poll.isoformat() if last_poll else None,
                "platforms": {name: health.to_json() for name, health in platform_health.items()},
                "started_at": metrics.started_at.isoformat() if metrics.started_at else None}
        return web.json_response(body, status=200 if not problems else 503)

    async def metrics_endpoint(_request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(DB_CHECK_SECONDS):
                await metrics.refresh_from_database(engine)
            metrics.database_up.set(1)
        except Exception as exc:  # noqa: BLE001 - the scrape still answers, with database_up 0
            log.warning("metrics: database unreachable: %s", exc.__class__.__name__)
            metrics.database_up.set(0)
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    return app


class HttpServer:
    """Runs an aiohttp application on 0.0.0.0:`port` until `close`."""

    def __init__(self, app: web.Application, port: int, host: str = "0.0.0.0"):
        self.app, self.port, self.host = app, port, host
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
