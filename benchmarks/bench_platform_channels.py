"""Messages per second from DiscordPlatform to 100 channels of FakeDiscord (loopback).

Each channel gets its messages one after another (the outbox sends a channel's rows in order);
channels go side by side. Discord itself allows about 5 messages per 5 s in one channel and
50 requests a second for the whole bot. The fake enforces neither; the adapter keeps the bot
under 45 requests a second (REQUESTS_PER_SECOND) and the outbox paces each channel
(DISCORD_PACE_SECONDS, 1 s by default), so this shows the adapter holding the global limit.

    .venv/bin/python -m benchmarks.bench_discord_channels [CHANNELS] [PER_CHANNEL]
"""

from __future__ import annotations

import asyncio
import sys
import time

from bot.messages import Field, Message
from tests.discord_harness import fast_platform
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_fixtures import TEST_TOKEN
from tests.fakes.discord_state import GuildSpec


async def main(channels: int, per_channel: int) -> None:
    spec = GuildSpec(text_channels=tuple(f"c{n}" for n in range(channels)), forum_channels=())
    async with FakeDiscord(token=TEST_TOKEN, guilds=[spec]) as fake:
        platform = fast_platform(fake, send_bound=30.0)
        await platform.start()
        try:
            ids = [c["id"] for c in fake.state.channels.values() if c["type"] == 0]
            message = Message(title="Scale AI: Funding", url="https://news.example/a",
                              fields=(Field("What", "Funding of Scale AI: $1B"), Field("Sources", "1 outlet")),
                              footer="story 1", accent="funding")

            async def one_channel(channel: str) -> None:
                for n in range(per_channel):
                    await platform.post(channel, message, key=f"alert:{n}:{channel}")

            started = time.perf_counter()
            await asyncio.gather(*(one_channel(c) for c in ids))
            elapsed = time.perf_counter() - started
            total = len(ids) * per_channel
            print(f"{total} messages to {len(ids)} channels in {elapsed:.2f} s: {total / elapsed:.0f} messages/s "
                  f"(the adapter's limit: {platform.requests_per_second}/s; Discord's: 50 requests/s per bot)")
        finally:
            await platform.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100, int(sys.argv[2]) if len(sys.argv) > 2 else 5))
