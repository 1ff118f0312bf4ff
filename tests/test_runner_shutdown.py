"""The bot's shutdown (bot.runner.Bot.shutdown) against a real SQLite database: a scheduler job run
under way has ended, its connection handed back, by the time shutdown returns, whether the run
is cancelled mid-query by the scheduler's own shutdown or outlives the grace period.

Before, a run cancelled mid-query was left pending: the engine was disposed under it and the
event loop's close cancelled it a second time, which strands aiosqlite's close (bot.job_runs)."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import pytest
from sqlalchemy import text

from bot.runner import Bot
from tests.test_runner_health import bot_settings
from watchers.settings import Settings
from watchers.storage.db import make_engine, session_scope, upgrade_sync

SLOW_QUERY = text("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000000) "
                  "SELECT count(*) FROM n")  # SQLite counts for a while


@pytest.fixture
def sqlite_url(plain_settings: Settings) -> str:
    upgrade_sync(plain_settings.database_url)
    return plain_settings.database_url


class JobUnderWay:
    """A scheduler job of the test's own: it checks out a connection, then runs `body` with it."""

    def __init__(self, engine: Any, body: Callable[[Any], Awaitable[Any]]) -> None:
        self.engine = engine
        self.body = body
        self.started = asyncio.Event()
        self.ended = False

    async def run(self) -> None:
        try:
            async with session_scope(self.engine) as session:
                await session.exec(text("SELECT 1"))
                self.started.set()
                await self.body(session)
        finally:
            self.ended = True


def other_tasks() -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}


async def shut_down_and_check(bot: Bot, job: JobUnderWay) -> None:
    """Shut the bot down; the job's run has ended and nothing holds a connection or is left pending."""
    try:
        await bot.shutdown()
        left = {task for task in other_tasks() if not task.done()}
        checked_out = bot.engine.pool.checkedout()
        try:
            assert (job.ended, checked_out, left) == (True, 0, set())
        finally:
            if left:  # ended here rather than by the loop's close, which would cancel them again
                await asyncio.wait(left)
    finally:
        await bot.engine.dispose()


async def started_bot(database_url: str, job_body: Callable[[Any], Awaitable[Any]]) -> tuple[Bot, JobUnderWay]:
    bot = Bot(bot_settings(database_url), make_engine(database_url))
    assert await bot.start()
    job = JobUnderWay(bot.engine, job_body)
    bot.scheduler.add_job(job.run)  # runs at once
    await job.started.wait()
    return bot, job


async def test_a_run_cancelled_mid_query_has_ended_when_shutdown_returns(sqlite_url: str) -> None:
    bot, job = await started_bot(sqlite_url, lambda session: session.exec(SLOW_QUERY))
    bot.scheduler.shutdown(wait=False)  # cancels the run under way, mid-query
    await shut_down_and_check(bot, job)


async def test_a_run_outliving_the_grace_period_is_cancelled_and_awaited(sqlite_url: str) -> None:
    never = asyncio.Event()
    bot, job = await started_bot(sqlite_url, lambda _session: never.wait())
    await shut_down_and_check(bot, job)
