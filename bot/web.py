"""The bot's HTTP side: /healthz and /metrics on PORT (Slack's /slack/events joins the same app).

/healthz answers 200 with JSON only when the database answers, the scheduler runs and every
platform is connected and authenticated; otherwise 503 with the problems named. /metrics is Prometheus text: counters of this process (feeds polled, items stored,
messages sent, errors by kind) and gauges read from the shared database (feeds by state, items,
outbox rows by status), so that a scrape of any replica shows the whole deployment's backlog.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import datetime
from typing import Any, Iterable, Mapping

from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.platforms.contract import Health, Platform
from watchers.storage.delivery import Outbox
from watchers.storage.tables import Feed, Item

log = logging.getLogger("vendorwatch.health")

DB_CHECK_SECONDS = 3.0

COUNTERS = {
    "vendorwatch_feeds_polled_total": "Feed polls finished by this process, by outcome.",
    "vendorwatch_items_stored_total": "New or changed items stored by this process.",
    "vendorwatch_messages_sent_total": "Messages delivered to a platform by this process.",
    "vendorwatch_errors_total": "Errors seen by this process, by kind.",
}


class Metrics:
    """In-process counters, labelled; rendered in the Prometheus text format."""

    def __init__(self) -> None:
        self._values: dict[str, Counter[tuple[tuple[str, str], ...]]] = {name: Counter() for name in COUNTERS}
        self.last_poll_at: datetime | None = None
        self.started_at: datetime | None = None

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        if amount:
            self._values[name][tuple(sorted(labels.items()))] += amount

    def value(self, name: str, **labels: str) -> float:
        return self._values[name][tuple(sorted(labels.items()))]

    def render(self) -> list[str]:
        lines: list[str] = []
        for name, help_text in COUNTERS.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
            values = self._values[name] or Counter({(): 0})
            for labels, value in sorted(values.items()):
                lines.append(f"{name}{_labels(labels)} {_number(value)}")
        return lines


def _labels(labels: Iterable[tuple[str, str]]) -> str:
    pairs = [f'{key}="{_escape(str(value))}"' for key, value in labels]
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


async def database_gauges(engine: AsyncEngine) -> list[str]:
    """Gauges of the shared state: feeds by state and error kind, items, outbox rows by status."""
    async with engine.connect() as conn:
        feeds = (await conn.execute(select(Feed.enabled, Feed.last_status, Feed.error_kind, func.count())
                                    .group_by(Feed.enabled, Feed.last_status, Feed.error_kind))).all()
        items = (await conn.execute(select(func.count()).select_from(Item))).scalar_one()
        outbox = (await conn.execute(select(Outbox.status, func.count()).group_by(Outbox.status))).all()
    by_state: Counter[str] = Counter()
    by_error: Counter[str] = Counter()
    for enabled, status, kind, count in feeds:
        by_state["disabled" if not enabled else (status or "never_polled")] += count
        if enabled and status == "error":
            by_error[kind or "unknown"] += count
    lines = ["# HELP vendorwatch_feeds Feeds in the database, by the outcome of their last poll.",
             "# TYPE vendorwatch_feeds gauge"]
    lines += [f'vendorwatch_feeds{{state="{_escape(s)}"}} {n}' for s, n in sorted(by_state.items())]
    lines += ["# HELP vendorwatch_feeds_failing Enabled feeds whose last poll failed, by error kind.",
              "# TYPE vendorwatch_feeds_failing gauge"]
    lines += [f'vendorwatch_feeds_failing{{kind="{_escape(k)}"}} {n}' for k, n in sorted(by_error.items())]
    lines += ["# HELP vendorwatch_items Items stored in the database.", "# TYPE vendorwatch_items gauge",
              f"vendorwatch_items {items}",
              "# HELP vendorwatch_outbox Outbox rows by status.", "# TYPE vendorwatch_outbox gauge"]
    lines += [f'vendorwatch_outbox{{status="{_escape(s)}"}} {n}' for s, n in sorted(outbox)]
    return lines


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


def build_http_app(engine: AsyncEngine, metrics: Metrics, platforms: Mapping[str, Platform],
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
        lines = metrics.render()
        try:
            async with asyncio.timeout(DB_CHECK_SECONDS):
                lines += await database_gauges(engine)
            up = 1
        except Exception as exc:  # noqa: BLE001
            log.warning("metrics: database unreachable: %s", exc.__class__.__name__)
            up = 0
        lines += ["# HELP vendorwatch_database_up 1 when the database answered this scrape.",
                  "# TYPE vendorwatch_database_up gauge", f"vendorwatch_database_up {up}"]
        return web.Response(body=("\n".join(lines) + "\n").encode(),
                            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

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
