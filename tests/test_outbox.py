"""The outbox sender against the in-memory platform: order, pace, retries, pauses, crashes, replicas."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.platforms.contract import Pace
from bot.platforms.memory import MemoryPlatform
from bot.messages import Message
from bot.delivery.outbox import OutboxSender
from bot.platforms.contract import PermanentError, RateLimited, TransientError
from tests.delivery_support import T0, ManualClock, add_channel, outbox_rows
from watchers.storage.db import session_scope
from watchers.storage.delivery import Outbox, Subscription


async def queue(engine, channel_pk: int, key: str, title: str, *, kind: str = "post",  # noqa: ANN001
                parent: int | None = None, at=T0) -> int:  # noqa: ANN001
    async with session_scope(engine) as session:
        row = Outbox(idempotency_key=key, channel_pk=channel_pk, kind=kind, parent_outbox_id=parent,
                     payload={"message": Message(title=title).to_dict()}, next_attempt_at=at, created_at=at)
        session.add(row)
        await session.flush()
        return row.id


def sender_for(engine, settings, platform: MemoryPlatform, clock: ManualClock, **kwargs) -> OutboxSender:  # noqa: ANN001
    return OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep, **kwargs)


async def test_posts_replies_and_edits_in_order_and_records_ids(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    parent = await queue(engine, channel, "p", "parent")
    await queue(engine, channel, "r1", "reply one", kind="reply", parent=parent)
    await queue(engine, channel, "e1", "parent, edited", kind="edit", parent=parent)
    await queue(engine, channel, "r2", "reply two", kind="reply", parent=parent)
    platform, clock = MemoryPlatform(), ManualClock()
    assert await sender_for(engine, settings, platform, clock).drain() == 4
    assert platform.transcript("C1") == "parent, edited\n    reply one\n    reply two"
    rows = await outbox_rows(engine, channel)
    assert [r.status for r in rows] == ["sent"] * 4
    assert rows[0].platform_message_id == "m1" and rows[2].platform_message_id == "m1"


async def test_a_channel_is_paced_and_other_channels_are_not_held_back(engine, settings) -> None:
    one = await add_channel(engine, "C1", {"a": []})
    two = await add_channel(engine, "C2", {"a": []})
    for n in range(3):
        await queue(engine, one, f"one-{n}", f"one {n}")
        await queue(engine, two, f"two-{n}", f"two {n}")
    platform, clock = MemoryPlatform(pace=Pace(channel_seconds=2.0)), ManualClock()
    sender = sender_for(engine, settings, platform, clock)
    assert await sender.drain() == 6
    assert clock.slept >= 4.0  # three messages to one channel at one per 2 s
    assert [m.message.title for m in platform.parents("C1")] == ["one 0", "one 1", "one 2"]
    sent = sorted(r.sent_at for r in await outbox_rows(engine, one))
    assert all(b - a >= timedelta(seconds=2) for a, b in zip(sent, sent[1:]))


async def test_rate_limited_waits_retry_after_then_succeeds(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"a": []})
    await queue(engine, channel, "p", "hello")
    await queue(engine, channel, "q", "again")
    platform, clock = MemoryPlatform(), ManualClock()
    platform.fail_next(RateLimited(30.0))
    assert await sender_for(engine, settings, platform, clock).drain() == 2
    assert clock.slept >= 30.0
    assert [m.message.title for m in platform.parents("C1")] == ["hello", "again"]
    rows = await outbox_rows(engine, channel)
    assert rows[0].status == "sent" and rows[0].attempts == 2
    assert all(r.sent_at >= T0 + timedelta(seconds=30) for r in rows)  # the whole channel waited


async def test_server_errors_are_retried_with_backoff(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"a": []})
    await queue(engine, channel, "p", "hello")
    platform, clock = MemoryPlatform(), ManualClock()
    platform.fail_next(TransientError("HTTP 503"), times=3)
    assert await sender_for(engine, settings, platform, clock).drain() == 1
    assert clock.slept >= 2 + 4 + 8 - 3  # doubling backoff, give or take the jitter
    row = (await outbox_rows(engine, channel))[0]
    assert row.status == "sent" and row.attempts == 4 and row.last_error is None
    assert len(platform.parents("C1")) == 1


async def test_a_reply_waits_while_its_parent_is_retried(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"a": []})
    parent = await queue(engine, channel, "p", "parent")
    await queue(engine, channel, "r", "reply", kind="reply", parent=parent)
    await queue(engine, channel, "q", "other story")
    platform, clock = MemoryPlatform(), ManualClock()
    platform.fail_next(TransientError("HTTP 500"))
    assert await sender_for(engine, settings, platform, clock).drain() == 3
    # the channel waits with its parent (a 500 is the platform away): its messages keep their order
    assert platform.transcript("C1") == "parent\n    reply\nother story"


async def test_a_permanent_error_pauses_the_channel_and_loses_nothing(engine, settings) -> None:
    gone = await add_channel(engine, "C-gone", {"scale-ai": [], "meta": []})
    fine = await add_channel(engine, "C-fine", {"scale-ai": []})
    for n in range(3):
        await queue(engine, gone, f"gone-{n}", f"gone {n}")
    await queue(engine, fine, "fine", "fine")
    platform, clock = MemoryPlatform(), ManualClock()
    platform.fail_next(PermanentError("channel_not_found"), channel_id="C-gone")
    sender = sender_for(engine, settings, platform, clock)
    assert await sender.drain() == 1
    assert [r.status for r in await outbox_rows(engine, gone)] == ["held"] * 3
    async with session_scope(engine) as session:
        subs = (await session.exec(select(Subscription).where(Subscription.channel_pk == gone))).all()
        assert {s.paused_reason for s in subs} == {"channel_not_found"}
        for sub in subs:  # someone fixes the channel and watches again (the watch command clears the pause)
            sub.paused_reason, sub.paused_at = None, None
            session.add(sub)
    assert await sender.drain() == 3
    assert [m.message.title for m in platform.parents("C-gone")] == ["gone 0", "gone 1", "gone 2"]


async def test_a_crash_between_send_and_record_does_not_post_twice(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"a": []})
    row_id = await queue(engine, channel, "alert:1:1", "once")
    platform, clock = MemoryPlatform(), ManualClock()
    # a replica claimed the row, posted it, and died before recording the message id
    await platform.post("C1", Message(title="once"), key="alert:1:1")
    async with session_scope(engine) as session:
        row = await session.get(Outbox, row_id)
        row.status, row.attempts, row.claimed_by = "claimed", 1, "dead-replica"
        row.claimed_until = T0 - timedelta(seconds=1)
        session.add(row)
    assert await sender_for(engine, settings, platform, clock).drain() == 1
    assert len(platform.parents("C1")) == 1
    row = (await outbox_rows(engine, channel))[0]
    assert row.status == "sent" and row.platform_message_id == "m1"


async def test_an_error_after_the_platform_accepted_is_not_a_second_post(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"a": []})
    await queue(engine, channel, "k", "once")
    platform, clock = MemoryPlatform(), ManualClock()

    def lose_the_answer(_sent) -> None:  # noqa: ANN001
        platform.after_post = None
        raise TransientError("connection reset after the request was sent")

    platform.after_post = lose_the_answer
    assert await sender_for(engine, settings, platform, clock).drain() == 1
    assert len(platform.parents("C1")) == 1


async def test_bad_payload_is_retried_not_dropped(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"a": []})
    async with session_scope(engine) as session:
        session.add(Outbox(idempotency_key="bad", channel_pk=channel, kind="post", payload={"nope": 1},
                           next_attempt_at=T0, created_at=T0))
    platform, clock = MemoryPlatform(), ManualClock()
    sender = sender_for(engine, settings, platform, clock)
    assert await sender.send_due() == 0
    row = (await outbox_rows(engine, channel))[0]
    assert row.status == "pending" and "KeyError" in row.last_error


async def test_rows_of_platforms_not_running_wait(engine, settings) -> None:
    await add_channel(engine, "S1", {"a": []}, platform="slack")
    slack = (await add_channel(engine, "S2", {"a": []}, platform="slack"))
    await queue(engine, slack, "s", "for slack")
    platform, clock = MemoryPlatform(), ManualClock()
    assert await sender_for(engine, settings, platform, clock).drain() == 0
    assert (await outbox_rows(engine, slack))[0].status == "pending"


async def test_two_replicas_share_the_work_and_send_each_message_once(engine, settings) -> None:
    pks = [await add_channel(engine, f"C{n}", {"a": []}) for n in range(5)]
    for pk in pks:
        for n in range(6):
            await queue(engine, pk, f"{pk}-{n}", f"message {n}")
    platform = MemoryPlatform()
    clock = ManualClock()
    senders = [OutboxSender(engine, settings, {"memory": platform}, worker_id=f"replica-{n}", clock=clock,
                            sleep=asyncio.sleep) for n in range(2)]
    sent = await asyncio.gather(*(s.drain() for s in senders))
    assert sum(sent) == 30
    assert len(platform.messages) == 30
    for n in range(5):
        assert [m.message.title for m in platform.parents(f"C{n}")] == [f"message {i}" for i in range(6)]
