"""The bot of `vendorwatch run` (bot.runner.Bot) started in this process against real databases:
the one line it logs at start, and /healthz over real HTTP answering 503 with the problem named
when the database is unreachable (PostgreSQL behind a loopback TCP proxy that is switched off),
when the scheduler is shut down or its jobs stopped running, and when Slack (the loopback fake)
rejects the bot's token while it runs; 200 again once the cause is gone."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot.messages import Message
from bot.runner import Bot
from bot.version import version
from tests.conftest import _truncate_postgres
from tests.delivery_support import add_channel
from tests.e2e_support import rss_of
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_fixtures import fake_slack  # noqa: F401
from tests.test_run import free_port
from watchers.feeds.sources import add_user_feed
from watchers.settings import Settings, load_settings
from watchers.storage.db import database_location, make_engine, session_scope, upgrade_sync
from watchers.storage.delivery import Outbox
from watchers.storage.types import utcnow


@pytest.fixture
def sqlite_url(plain_settings: Settings) -> str:
    """A migrated SQLite file (the scheduler and Slack cases need no PostgreSQL twin)."""
    upgrade_sync(plain_settings.database_url)
    return plain_settings.database_url


def bot_settings(database_url: str, **more: str) -> Settings:
    return load_settings({"DATABASE_URL": database_url, "SEED_FEEDS": "0", "ALLOW_PRIVATE_FEED_URLS": "1",
                          "POLL_INTERVAL_SECONDS": "1", "PORT": str(free_port()), **more}, dotenv_path=None)


@asynccontextmanager
async def running(settings: Settings, **options: Any) -> AsyncIterator[Bot]:
    engine = make_engine(settings.database_url)
    bot = Bot(settings, engine, **options)
    try:
        assert await bot.start()
        yield bot
    finally:
        await bot.shutdown()
        await engine.dispose()


async def healthz(bot: Bot) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"http://127.0.0.1:{bot.settings.port}/healthz")
    return response.status_code, response.json()


async def health_until(bot: Bot, wanted: Callable[[int, dict[str, Any]], bool], seconds: float,
                       what: str) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while True:
        status, body = await healthz(bot)
        if wanted(status, body):
            return status, body
        if time.monotonic() > deadline:
            pytest.fail(f"/healthz never showed {what}: {status} {body}")
        await asyncio.sleep(0.2)


def ok(status: int, body: dict[str, Any]) -> bool:
    return status == 200 and body["problems"] == []


# --- the start line ---------------------------------------------------------------------------

async def test_the_start_line_says_what_runs_where(sqlite_url: str, feed_server, caplog) -> None:  # noqa: ANN001
    settings = bot_settings(sqlite_url)
    engine = make_engine(settings.database_url)
    try:
        async with session_scope(engine) as session:
            for name in ("wire", "blog"):
                feed_server.serve(f"/{name}.xml", rss_of([], name))
                await add_user_feed(session, feed_server.url(f"/{name}.xml"), name, None, settings)
    finally:
        await engine.dispose()
    caplog.set_level(logging.INFO, logger="vendorwatch.app")
    async with running(settings) as bot:
        companies = len(bot.registry().companies)
        status, _ = await healthz(bot)
    assert status == 200
    lines = [r.getMessage() for r in caplog.records
             if r.name == "vendorwatch.app" and r.getMessage().startswith("vendorwatch ")]
    assert lines[0] == (f"vendorwatch {version()} on {database_location(settings.database_url)}, port {settings.port}, "
                        f"platforms console, 2 feeds, {companies} companies")
    assert companies > 0 and " (SQLite), port " in lines[0]  # the database's kind, for a person


# --- the scheduler ----------------------------------------------------------------------------

async def test_a_scheduler_shut_down_is_named(sqlite_url: str) -> None:
    async with running(bot_settings(sqlite_url)) as bot:
        status, body = await healthz(bot)
        assert ok(status, body) and body["scheduler"] == "ok", body
        bot.scheduler.shutdown(wait=False)
        status, body = await healthz(bot)
        assert (status, body["problems"], body["scheduler"]) == (503, ["scheduler stopped"], "stopped")
        assert body["status"] == "degraded" and body["db"] == "ok"


async def test_a_scheduler_whose_jobs_stopped_running_is_named(sqlite_url: str) -> None:
    """Paused, APScheduler still says `running`: the poll tick's heartbeat tells."""
    async with running(bot_settings(sqlite_url), stale_after=3.0) as bot:
        await health_until(bot, ok, 10, "a healthy start")
        assert bot.poller is not None and bot.poller.tick_seconds == 1.0
        bot.scheduler.pause()
        assert bot.scheduler.running
        status, body = await health_until(bot, lambda s, b: s == 503, 10, "a 503 after the jobs stopped")
        (problem,) = body["problems"]
        assert re.fullmatch(r"scheduler: no poll tick for \d+ s \(it runs every 1 s\)", problem), problem
        assert body["scheduler"] == "stalled" and body["db"] == "ok"
        bot.scheduler.resume()
        await health_until(bot, ok, 10, "200 once the jobs run again")


# --- the database -----------------------------------------------------------------------------

class TcpProxy:
    """127.0.0.1:port -> target, byte for byte; `stop` refuses new connections and cuts the open ones."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_writer}
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._open -= {writer, up_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()


@pytest.mark.postgres
async def test_an_unreachable_database_is_named(postgres_server_url: str) -> None:
    _truncate_postgres(postgres_server_url)
    url = make_url(postgres_server_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    settings = bot_settings(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    try:
        async with running(settings) as bot:
            await health_until(bot, ok, 10, "a healthy start")
            await proxy.stop()  # the database host is gone: connections cut, new ones refused
            status, body = await healthz(bot)
            assert (status, body["problems"], body["db"]) == (503, ["database unreachable"], "error")
            assert body["scheduler"] == "ok"  # its ticks fail, but they run: not the scheduler's fault
            await proxy.start()  # same port
            await health_until(bot, ok, 10, "200 once the database is back")
    finally:
        if proxy._server is not None:
            await proxy.stop()


# --- a platform -------------------------------------------------------------------------------

async def test_slack_rejecting_the_token_while_running_is_named(sqlite_url: str,
                                                               fake_slack: FakeSlack) -> None:  # noqa: F811
    fake_slack.add_channel("C0ALERTS01", "alerts")
    settings = bot_settings(sqlite_url, SLACK_BOT_TOKEN=fake_slack.bot_token,
                            SLACK_SIGNING_SECRET="s3cret", SLACK_API_URL=fake_slack.base_url)
    async with running(settings) as bot:
        status, body = await healthz(bot)
        assert ok(status, body) and body["platforms"]["slack"]["ok"], body
        fake_slack.revoke_token(fake_slack.bot_token)
        channel = await add_channel(bot.engine, "C0ALERTS01", {"scale-ai": []}, platform="slack")
        async with session_scope(bot.engine) as session:  # the next delivery tick posts it, and learns
            session.add(Outbox(idempotency_key="after-revoke", channel_pk=channel, kind="post",
                               payload={"message": Message(title="hello").to_dict(), "items": []},
                               next_attempt_at=utcnow(), created_at=utcnow()))
        status, body = await health_until(bot, lambda s, b: s == 503, 10, "a 503 naming Slack")
        assert body["problems"] == ["slack: token_revoked: the bot token was revoked"]
        assert body["platforms"]["slack"]["authenticated"] is False and body["db"] == "ok"
        assert fake_slack.messages("C0ALERTS01") == []
