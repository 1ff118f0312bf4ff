"""pytest fixture and helpers to run the real discord.py client against FakeDiscord.

`pointed_at(fake)` sets `discord.http.Route.BASE` and `DiscordWebSocket.DEFAULT_GATEWAY` to the
fake and restores them; `running_client(fake, client)` starts the client, waits for on_ready and
closes it at the end. Use them with `pytest_plugins = ["tests.fakes.discord_fixtures"]` or by import.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import AsyncIterator, TypeVar

import discord
import pytest
from discord.gateway import DiscordWebSocket, KeepAliveHandler

from tests.fakes.discord_api import FakeDiscord

TEST_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.bot-token"
ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def pointed_at(fake: FakeDiscord):
    """discord.py's REST base and default gateway point at the fake inside the block."""
    saved = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_url
    DiscordWebSocket.DEFAULT_GATEWAY = fake.gateway_yarl
    try:
        yield
    finally:
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@contextlib.asynccontextmanager
async def running_client(fake: FakeDiscord, client: ClientT, *, ready_timeout: float = 5.0) -> AsyncIterator[ClientT]:
    """The client logged in and ready (READY and every GUILD_CREATE handled); closed on exit."""
    with pointed_at(fake):
        task = asyncio.create_task(client.start(fake.token))
        try:
            async with asyncio.timeout(ready_timeout):
                while not client.is_ready():
                    if task.done():
                        task.result()
                        raise RuntimeError("the client stopped before it was ready")
                    await asyncio.sleep(0.01)
            yield client
        finally:
            await client.close()
            with contextlib.suppress(asyncio.CancelledError, discord.DiscordException):
                await asyncio.wait_for(task, timeout=5.0)


async def _identify_at_once(shard_id: int | None, *, initial: bool = False) -> None:
    """discord.py sleeps 5 s before every IDENTIFY but the first; the fake has no such limit."""


def fast_client(cls: type[ClientT] = discord.AutoShardedClient, **options) -> ClientT:
    """A client with test-sized waits: on_ready 0.05 s after the last GUILD_CREATE, no re-IDENTIFY delay."""
    options.setdefault("intents", discord.Intents.default())
    options.setdefault("guild_ready_timeout", 0.05)
    client = cls(**options)
    client.before_identify_hook = _identify_at_once
    return client


def discord_leftovers() -> list[str]:
    """discord.py tasks still pending and keep-alive threads still running (after a client closed)."""
    tasks = [t.get_coro() for t in asyncio.all_tasks() if not t.done()]
    names = [c.__qualname__ for c in tasks if "/discord/" in getattr(getattr(c, "cr_code", None), "co_filename", "")]
    names += [t.name for t in threading.enumerate() if isinstance(t, KeepAliveHandler) and t.is_alive()]
    return names


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started fake with one guild (a text channel "alerts", a forum "vendor-news") and 1 s heartbeats."""
    async with FakeDiscord(token=TEST_TOKEN, heartbeat_interval_ms=1000) as fake:
        yield fake
