"""A poll that filed stories starts delivery at once, not at the next delivery tick (issue 12's latency)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import bot.runner as runner
from bot.runner import DELIVERY_JOB_ID, Bot
from watchers.orchestrator import FeedOutcome
from watchers.storage.types import utcnow

FILED = FeedOutcome(1, "Wire", "http://127.0.0.1/wire.xml", "ok", new_items=1, story_ids=(7,))
NOTHING_NEW = FeedOutcome(1, "Wire", "http://127.0.0.1/wire.xml", "not_modified")


class CountingSender:
    def __init__(self) -> None:
        self.rounds = 0

    async def send_due(self) -> int:
        self.rounds += 1
        return 0


async def _bot_with_a_slow_tick(plain_settings, monkeypatch, fan_out) -> Bot:  # noqa: ANN001
    monkeypatch.setattr(runner, "fan_out", fan_out)
    bot = Bot(plain_settings, engine=None)
    bot.sender = CountingSender()
    bot.registry = lambda: None
    bot.scheduler.start()
    bot.scheduler.add_job(bot._delivery_round, "interval", seconds=60, id=DELIVERY_JOB_ID, coalesce=True,
                          max_instances=1, misfire_grace_time=None, next_run_time=utcnow() + timedelta(seconds=60))
    return bot


async def _nothing(*_args, **_kwargs) -> int:  # noqa: ANN002, ANN003
    return 0


async def test_a_poll_that_filed_stories_starts_a_round_at_once(plain_settings, monkeypatch):
    bot = await _bot_with_a_slow_tick(plain_settings, monkeypatch, _nothing)
    try:
        bot._count_poll(NOTHING_NEW)
        await asyncio.sleep(0.3)
        assert bot.sender.rounds == 0  # nothing filed: the tick's pace
        bot._count_poll(FILED)
        for _ in range(40):
            if bot.sender.rounds:
                break
            await asyncio.sleep(0.05)
        assert bot.sender.rounds == 1
    finally:
        bot.scheduler.shutdown(wait=False)


async def test_a_round_under_way_goes_round_once_more(plain_settings, monkeypatch):
    filing_seen = asyncio.Event()

    async def fan_out_while_a_poll_files(*_args, **_kwargs) -> int:  # noqa: ANN002, ANN003
        if not filing_seen.is_set():
            filing_seen.set()
            bot._count_poll(FILED)  # a story filed after this round's fan-out read the items
        return 0

    bot = await _bot_with_a_slow_tick(plain_settings, monkeypatch, fan_out_while_a_poll_files)
    try:
        await bot._delivery_round()
        assert bot.sender.rounds == 2 and bot._delivery_round_task is None
    finally:
        bot.scheduler.shutdown(wait=False)
