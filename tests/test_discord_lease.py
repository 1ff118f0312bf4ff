"""Several replicas on PostgreSQL: one holds the Discord gateway, the others send through REST and take over."""

from __future__ import annotations

import asyncio

import pytest

from bot.messages import Message
from tests.discord_harness import fast_platform
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_fixtures import fake_discord  # noqa: F401
from watchers.storage.db import make_engine

pytestmark = [pytest.mark.timeout(60), pytest.mark.postgres]


@pytest.fixture
async def pg_engine(postgres_server_url: str):  # noqa: ANN201
    engine = make_engine(postgres_server_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_one_replica_holds_the_gateway_and_another_takes_over(fake_discord: FakeDiscord, pg_engine) -> None:  # noqa: ANN001
    first = fast_platform(fake_discord, engine=pg_engine, lease_check_seconds=0.2)
    second = fast_platform(fake_discord, engine=pg_engine, lease_check_seconds=0.2)
    await first.start()
    await second.start()
    try:
        assert len(fake_discord.identify_payloads) == 1  # only the holder is on the gateway
        health = await second.health()
        assert health.ok and "REST only" in health.identity
        assert await second.post(fake_discord.text_channel_id, Message(title="from the REST replica"), key="r")
        await first.stop()  # the holder goes
        await fake_discord.wait_for(lambda: len(fake_discord.identify_payloads) == 2, timeout=10)
        for _ in range(100):
            if (await second.health()).ok and "REST only" not in ((await second.health()).identity or ""):
                break
            await asyncio.sleep(0.05)
        assert "REST only" not in (await second.health()).identity
    finally:
        await first.stop()
        await second.stop()
