"""The bot's HTTP side: /healthz and /metrics on PORT (Slack's /slack/events joins the same app).

/healthz answers 200 with JSON only when the database answers, the scheduler runs and every
platform is connected and authenticated; otherwise 503 with the problems named. /metrics is the
Prometheus exposition of the app's own registry (bot.metrics.BotMetrics): counters of this
process and gauges read from the shared database at scrape time, so that a scrape of any
replica shows the whole deployment's backlog.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Mapping

from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import CONTENT_TYPE, BotMetrics
from bot.platforms.contract import Health, Platform
from watchers.storage.tables import Feed

log = logging.getLogger("vendorwatch.health")

DB_CHECK_SECONDS = 3.0

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


def build_http_app(engine: AsyncEngine, metrics: BotMetrics, platforms: Mapping[str, Platform],
                   scheduler: Any = None) -> web.Application:
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
        scheduler_ok = scheduler is None or scheduler.running
        platform_health = {name: await _health_of(platform) for name, platform in sorted(platforms.items())}
        problems = ([] if db_ok else ["database unreachable"]) + ([] if scheduler_ok else ["scheduler stopped"]) + [
            f"{name}: {health.detail or 'not connected'}" for name, health in platform_health.items() if not health.ok]
        body = {"status": "ok" if not problems else "degraded", "problems": problems,
                "db": "ok" if db_ok else "error", "scheduler": "ok" if scheduler_ok else "stopped",
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
