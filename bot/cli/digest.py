"""`vendorwatch digest --channel PLATFORM:CHANNEL_ID [--dry-run]`.

Builds the digest of the last completed week (the one the weekly job posts) for one channel.
`--dry-run` prints it. Otherwise it is recorded as that week's digest and enqueued; a console
channel is posted at once through the outbox sender, Slack and Discord ones by the running bot.
"""

from __future__ import annotations

import argparse
import sys

from bot.cli.channels import parse_channel_arg
from watchers.errors import UsageError
from watchers.settings import Settings


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import select

    from bot.cli.common import load_current_registry
    from bot.digest.build import build_digest, week_start_for
    from bot.digest.job import digest_exists, enqueue_digest
    from watchers.storage.db import make_engine, session_scope, upgrade
    from watchers.storage.delivery import Channel
    from watchers.storage.types import utcnow

    platform, channel_id = parse_channel_arg(args.channel)
    await upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        async with session_scope(engine) as session:
            channel = (await session.exec(select(Channel).where(Channel.platform == platform,
                                                                Channel.channel_id == channel_id))).first()
        if channel is None:
            raise UsageError(f"no channel {args.channel} in the database; a channel appears once it runs "
                             "/vendorwatch watch")
        registry = await load_current_registry(settings, engine)
        now = utcnow()
        week_start = week_start_for(now, settings)
        if not args.dry_run and await digest_exists(engine, channel.id, week_start):
            print(f"The digest of the week of {week_start} for {args.channel} was already enqueued; nothing to do.")
            return 0
        message = await build_digest(engine, channel.id, week_start, settings, registry)
        if args.dry_run:
            print(message.to_text())
            return 0
        outbox_id = await enqueue_digest(engine, channel.id, week_start, message, now=now)
        if outbox_id is None:
            print(f"The digest of the week of {week_start} for {args.channel} was already enqueued; nothing to do.")
            return 0
        if platform == "console":
            status = await _post_now(engine, settings, outbox_id)
            if status == 0:
                print(f"Posted the digest of the week of {week_start} to {args.channel}.")
            return status
        print(f"Enqueued the digest of the week of {week_start} for {args.channel} (outbox {outbox_id}); "
              "the running bot (vendorwatch run) posts it.")
        return 0
    finally:
        await engine.dispose()


async def _post_now(engine, settings: Settings, outbox_id: int) -> int:  # noqa: ANN001
    """Send the enqueued digest through the outbox sender and the console platform."""
    from bot.delivery.outbox import OutboxSender
    from bot.platforms.console import ConsolePlatform
    from watchers.storage.db import session_scope
    from watchers.storage.delivery import Outbox

    sender = OutboxSender(engine, settings, {"console": ConsolePlatform()})
    await sender.send_due()
    async with session_scope(engine) as session:
        row = await session.get(Outbox, outbox_id)
    if row is None or row.status != "sent":
        status = row.status if row else "missing"
        print(f"vendorwatch: the digest was enqueued but not posted (status {status})", file=sys.stderr)
        return 1
    return 0
