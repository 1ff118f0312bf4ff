"""Messages per second to 100 channels through a real platform adapter and the outbox sender.

    python -m benchmarks.bench_platform_channels --platform slack|discord [--channels 100] [--per-channel 10]

The adapter talks to its loopback fake (SlackPlatform to tests/fakes/slack_api.py FakeSlack,
DiscordPlatform to tests/fakes/discord_api.py FakeDiscord). `--per-channel` messages per channel
are queued in table outbox (a fresh SQLite file) and one OutboxSender drains them at the
platform's declared pace (SLACK_PACE_SECONDS / DISCORD_PACE_SECONDS, 1 s by default, or
`--pace`): a channel's messages go one after another, channels side by side.

What bounds the figure: the pace allows channels / pace messages a second (100/s for 100
channels at 1 s). Slack's real limit is about one message a second per channel, which the pace
keeps; the fake enforces no limit, so the rest is the fake, the sender and the CPU. Discord allows
about 5 messages per 5 s in one channel and 50 requests a second for the whole bot; the fake
enforces neither, and the adapter keeps the bot under 45 requests a second (REQUESTS_PER_SECOND),
so the Discord figure shows the adapter holding that global limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, AsyncIterator

from sqlalchemy import insert

from bot.delivery.outbox import OutboxSender
from bot.messages import Field, Message
from watchers.settings import load_settings
from watchers.storage.db import make_engine, session_scope, upgrade
from watchers.storage.delivery import Channel, Outbox
from watchers.storage.types import utcnow

MESSAGE = Message(title="Scale AI: Funding", url="https://news.example/a",
                  fields=(Field("What", "Funding of Scale AI: $1B"), Field("Sources", "1 outlet")),
                  footer="story 1", accent="funding")


@contextlib.asynccontextmanager
async def slack(channels: int, pace: float | None) -> AsyncIterator[tuple[Any, list[str], str]]:
    """SlackPlatform started against FakeSlack with `channels` channels the bot is a member of."""
    from bot.platforms.slack.adapter import SlackPlatform
    from tests.fakes.slack_api import FakeSlack

    async with FakeSlack() as fake:
        ids = [f"C0BENCH{n:04d}" for n in range(channels)]
        for n, channel in enumerate(ids):
            fake.add_channel(channel, f"bench-{n}")
        env = {"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_SIGNING_SECRET": "bench-secret",
               "SLACK_API_URL": fake.base_url}
        if pace is not None:
            env["SLACK_PACE_SECONDS"] = str(pace)
        platform = SlackPlatform(settings=load_settings(env, dotenv_path=None))
        await platform.start()
        try:
            yield platform, ids, "the fake enforces no limit; Slack's is about 1 message/s per channel"
        finally:
            await platform.stop()


@contextlib.asynccontextmanager
async def discord(channels: int, pace: float | None) -> AsyncIterator[tuple[Any, list[str], str]]:
    """DiscordPlatform logged in to FakeDiscord, one guild with `channels` text channels."""
    from tests.discord_harness import fast_platform
    from tests.fakes.discord_api import FakeDiscord
    from tests.fakes.discord_fixtures import TEST_TOKEN
    from tests.fakes.discord_state import GuildSpec

    declared = load_settings({}, dotenv_path=None).discord_pace_seconds if pace is None else pace
    spec = GuildSpec(text_channels=tuple(f"c{n}" for n in range(channels)), forum_channels=())
    async with FakeDiscord(token=TEST_TOKEN, guilds=[spec]) as fake:
        platform = fast_platform(fake, send_bound=30.0)
        platform.pace = type(platform.pace)(declared)
        await platform.start()
        try:
            ids = [c["id"] for c in fake.state.channels.values() if c["type"] == 0]
            yield platform, ids, (f"the adapter's limit: {platform.requests_per_second} requests/s; "
                                  f"Discord's: 50 requests/s per bot")
        finally:
            await platform.stop()


PLATFORMS = {"slack": slack, "discord": discord}


async def queue(engine, platform: str, ids: list[str], per_channel: int) -> int:  # noqa: ANN001
    """per_channel posts for each channel, interleaved across channels as fan-out queues them."""
    now = utcnow()
    async with session_scope(engine) as session:
        await session.exec(insert(Channel), params=[
            {"platform": platform, "channel_id": channel, "workspace": "bench", "created_at": now}
            for channel in ids])
    payload = {"message": MESSAGE.to_dict()}
    rows = [{"idempotency_key": f"bench:{n}:{pk}", "channel_pk": pk, "kind": "post", "parent_outbox_id": None,
             "payload": payload, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
            for n in range(per_channel) for pk in range(1, len(ids) + 1)]
    async with session_scope(engine) as session:
        for start in range(0, len(rows), 2000):
            await session.exec(insert(Outbox), params=rows[start:start + 2000])
    return len(rows)


async def measure(platform_name: str, channels: int, per_channel: int, pace: float | None) -> tuple[int, int, float]:
    """Drain the queued messages through the platform; returns (sent, queued, seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = load_settings({"DATABASE_URL": url}, dotenv_path=None)
        await upgrade(url)
        engine = make_engine(url)
        try:
            async with PLATFORMS[platform_name](channels, pace) as (platform, ids, limits):
                queued = await queue(engine, platform_name, ids, per_channel)
                sender = OutboxSender(engine, settings, {platform_name: platform})
                started = time.perf_counter()
                sent = await sender.drain()
                elapsed = time.perf_counter() - started
                pace_seconds = platform.pace.channel_seconds
        finally:
            await engine.dispose()
    bound = f"{len(ids) / pace_seconds:,.0f}/s" if pace_seconds else "no bound"
    print(f"{platform_name}: {sent} of {queued} messages to {len(ids)} channels in {elapsed:.2f} s = "
          f"{sent / elapsed:,.1f} messages/s (pace {pace_seconds:g} s per channel allows {bound}; {limits})")
    return sent, queued, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_platform_channels",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=[*PLATFORMS, "all"], default="all")
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--per-channel", type=int, default=10, help="messages queued for each channel")
    parser.add_argument("--pace", type=float, default=None,
                        help="seconds between two messages to one channel (default: the platform's declared pace)")
    args = parser.parse_args(argv)
    if args.channels < 1 or args.per_channel < 1 or (args.pace is not None and args.pace < 0):
        parser.error("--channels and --per-channel must be >= 1, --pace >= 0")
    ok = True
    for name in PLATFORMS if args.platform == "all" else (args.platform,):
        sent, queued, _ = asyncio.run(measure(name, args.channels, args.per_channel, args.pace))
        ok = ok and sent == queued
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
