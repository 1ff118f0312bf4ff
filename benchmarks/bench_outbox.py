"""Drain a large outbox through the in-memory platform: messages per second.

    python -m benchmarks.bench_outbox [--messages 10000] [--channels 100] [--pace 0.01] [--database-url URL]

The messages are queued across the channels (parents, with every fifth a thread reply to the
channel's previous parent), then one OutboxSender drains them with a per-channel pace of
`--pace` seconds on the memory platform. Reported: the measured rate, what bounds it (the pace
allows channels / pace messages a second), and what the real paces imply for the same load
(SLACK_PACE_SECONDS and DISCORD_PACE_SECONDS: one message per channel and second).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from bot.platforms.contract import Pace
from bot.platforms.memory import MemoryPlatform
from bot.messages import Message
from bot.delivery.outbox import OutboxSender
from watchers.settings import load_settings
from watchers.storage.db import make_engine, session_scope, upgrade
from watchers.storage.delivery import Channel, Outbox
from watchers.storage.types import utcnow


async def queue(engine, messages: int, channels: int) -> None:  # noqa: ANN001
    now = utcnow()
    async with session_scope(engine) as session:
        await session.exec(insert(Channel), params=[
            {"platform": "memory", "channel_id": f"C{n:04d}", "workspace": "T1", "created_at": now}
            for n in range(channels)])
    payload = {"message": Message(title="Scale AI: Funding", url="https://example.com/a").to_dict()}
    rows = []
    for n in range(messages):
        channel = n % channels + 1
        is_reply = n >= channels and (n // channels) % 5 == 4
        rows.append({"idempotency_key": f"bench:{n}", "channel_pk": channel, "kind": "reply" if is_reply else "post",
                     "parent_outbox_id": (n - channels + 1) if is_reply else None, "payload": payload,
                     "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now})
    async with session_scope(engine) as session:
        for start in range(0, len(rows), 2000):
            await session.exec(insert(Outbox), params=rows[start:start + 2000])


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_outbox", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--pace", type=float, default=0.01, help="seconds between two messages to one channel")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.channels < 1 or args.pace < 0:
        parser.error("--messages and --channels must be >= 1, --pace >= 0")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = load_settings({"DATABASE_URL": url}, dotenv_path=None)
        await upgrade(url)
        engine = make_engine(url)
        try:
            await queue(engine, args.messages, args.channels)
            platform = MemoryPlatform(pace=Pace(channel_seconds=args.pace))
            sender = OutboxSender(engine, settings, {"memory": platform})
            started = time.perf_counter()
            sent = await sender.drain()
            elapsed = time.perf_counter() - started
        finally:
            await engine.dispose()
    rate = sent / elapsed if elapsed else float("inf")
    pace_bound = args.channels / args.pace if args.pace else float("inf")
    backend = url.split(":", 1)[0]
    print(f"outbox drain ({backend}): {sent} of {args.messages} messages to {args.channels} channels "
          f"in {elapsed:.2f} s = {rate:,.0f} messages/s (pace {args.pace:g} s per channel allows {pace_bound:,.0f}/s)")
    for name, pace in (("Slack", settings.slack_pace_seconds), ("Discord", settings.discord_pace_seconds)):
        real = min(rate, args.channels / pace) if pace else rate
        print(f"at the {name} pace of {pace:g} s per channel: at most {args.channels / pace:,.0f} messages/s over "
              f"{args.channels} channels; this load would take about {args.messages / real:,.0f} s")
    return 0 if sent == args.messages else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
