"""Short leases, renewed while held: a live holder keeps its feeds and outbox rows however slow its
work, a dead one's lapse within LEASE_SECONDS (tests/test_replicas.py shows it with processes)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.delivery import outbox as outbox_module
from bot.delivery.outbox import OutboxSender
from bot.messages import Message
from bot.platforms.memory import MemoryPlatform
from tests.delivery_support import T0, add_channel
from watchers.feeds.state import claim_feeds, renew_feeds
from watchers.storage.db import session_scope
from watchers.storage.delivery import Outbox
from watchers.storage.tables import Feed
from watchers.storage.types import utcnow


async def test_renew_feeds_extends_only_the_owners_unexpired_leases(engine) -> None:  # noqa: ANN001
    async with session_scope(engine) as session:
        for number in range(3):
            session.add(Feed(url=f"https://news.example/{number}.xml", name=f"n{number}", next_check_at=T0))
    async with session_scope(engine) as session:
        mine = await claim_feeds(session, owner="me", now=T0, lease_seconds=30, limit=2)
        theirs = await claim_feeds(session, owner="them", now=T0, lease_seconds=30, limit=1)
    assert len(mine) == 2 and len(theirs) == 1
    async with session_scope(engine) as session:
        assert await renew_feeds(session, "me", now=T0 + timedelta(seconds=20), lease_seconds=30) == 2
    async with session_scope(engine) as session:
        until = {f.lease_owner: f.lease_until for f in (await session.exec(select(Feed))).all()}
        assert until["me"].replace(tzinfo=None) == (T0 + timedelta(seconds=50)).replace(tzinfo=None)
        assert until["them"].replace(tzinfo=None) == (T0 + timedelta(seconds=30)).replace(tzinfo=None)
        # a lease that already lapsed is not revived (another poller may hold the feed by now)
        assert await renew_feeds(session, "them", now=T0 + timedelta(seconds=31), lease_seconds=30) == 0


class SlowPlatform(MemoryPlatform):
    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.posting = asyncio.Event()

    async def post(self, channel, message, *, thread=None, key=None):  # noqa: ANN001, ANN201
        self.posting.set()
        await self.release.wait()
        return await super().post(channel, message, thread=thread, key=key)


async def test_an_outbox_claim_is_renewed_while_its_send_is_under_way(engine, settings, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(outbox_module, "RENEW_SECONDS", 0.05)
    channel = await add_channel(engine, "C1", {"a": []})
    now = utcnow()
    async with session_scope(engine) as session:
        session.add(Outbox(idempotency_key="p", channel_pk=channel, kind="post",
                           payload={"message": Message(title="hello").to_dict()}, next_attempt_at=now, created_at=now))
    platform = SlowPlatform()
    sender = OutboxSender(engine, settings, {"memory": platform})
    sending = asyncio.create_task(sender.send_due())
    try:
        await asyncio.wait_for(platform.posting.wait(), 30)

        async def claimed_until():  # noqa: ANN202
            async with session_scope(engine) as session:
                return (await session.exec(select(Outbox.claimed_until))).one()

        first = await claimed_until()
        deadline = asyncio.get_running_loop().time() + 30
        while await claimed_until() == first:
            assert asyncio.get_running_loop().time() < deadline, "the claim was never renewed"
            await asyncio.sleep(0.05)
        assert await claimed_until() > first
    finally:
        platform.release.set()
        assert await asyncio.wait_for(sending, 30) == 1
    async with session_scope(engine) as session:
        row = (await session.exec(select(Outbox))).one()
    assert row.status == "sent" and row.claimed_by is None
