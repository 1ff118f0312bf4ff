"""Faults on the delivery side: the platform down for ten minutes, the process killed mid-send.

Both on SQLite and PostgreSQL, with the in-memory platform and a manual clock (no real waiting).
What must hold: nothing lost, every channel's messages in order, nothing posted twice (the
outbox asks `find_sent` before re-sending a row whose first try may have gone out; where the
platform cannot answer, bot/delivery/outbox.py documents one possible duplicate per row in flight).
"""

from __future__ import annotations

from datetime import timedelta

from bot.delivery.outbox import LEASE_SECONDS, OutboxSender
from bot.messages import Message
from bot.platforms.contract import TransientError
from bot.platforms.memory import MemoryPlatform
from tests.delivery_support import T0, ManualClock, add_channel, outbox_rows
from watchers.storage.db import session_scope
from watchers.storage.delivery import Outbox

CHANNELS = ("C1", "C2", "C3")


class FlakyPlatform(MemoryPlatform):
    """The memory platform, unreachable until `down_until` on the manual clock.

    While down, calls fail in turn as a 5xx, a timeout and a refused connection, the three ways
    Slack or Discord go away (the adapters raise TransientError for the first two; a refused
    connection may surface as the OS error itself).
    """

    ERRORS = (lambda: TransientError("HTTP 503 Service Unavailable"), lambda: TimeoutError("read timed out"),
              lambda: ConnectionRefusedError(111, "Connection refused"))

    def __init__(self, clock: ManualClock, down_until, **kwargs) -> None:  # noqa: ANN001
        super().__init__(**kwargs)
        self.clock, self.down_until, self.failures = clock, down_until, 0

    def _maybe_fail(self, channel_id: str) -> None:
        if self.clock() < self.down_until:
            self.failures += 1
            raise self.ERRORS[self.failures % len(self.ERRORS)]()
        super()._maybe_fail(channel_id)

    async def find_sent(self, channel: str, key: str, *, thread: str | None = None) -> str | None:
        self._maybe_fail(channel)
        return await super().find_sent(channel, key, thread=thread)


async def queue_story(engine, channel_pk: int, name: str, at) -> None:  # noqa: ANN001
    """A parent, two replies in its thread and an edit of the parent, as fan-out queues them."""
    async with session_scope(engine) as session:
        parent = Outbox(idempotency_key=f"{name}:p", channel_pk=channel_pk, kind="post",
                        payload={"message": Message(title=f"{name} parent").to_dict()}, next_attempt_at=at,
                        created_at=at)
        session.add(parent)
        await session.flush()
        for n, kind in enumerate(("reply", "reply", "edit")):
            title = f"{name} parent, edited" if kind == "edit" else f"{name} reply {n}"
            session.add(Outbox(idempotency_key=f"{name}:{kind}{n}", channel_pk=channel_pk, kind=kind,
                               parent_outbox_id=parent.id, payload={"message": Message(title=title).to_dict()},
                               next_attempt_at=at, created_at=at))


async def queue_alerts(engine, stories: int = 3) -> dict[str, int]:  # noqa: ANN001
    channels = {cid: await add_channel(engine, cid, {"scale-ai": []}) for cid in CHANNELS}
    for n in range(stories):
        for cid, pk in channels.items():
            await queue_story(engine, pk, f"{cid}-s{n}", T0 + timedelta(seconds=n))
    return channels


def expected_transcript(channel_id: str, stories: int = 3) -> str:
    return "\n".join(f"{channel_id}-s{n} parent, edited\n    {channel_id}-s{n} reply 0\n    {channel_id}-s{n} reply 1"
                     for n in range(stories))


def assert_each_once(platform: MemoryPlatform) -> None:
    keys = [m.idempotency_key for m in platform.messages.values()]
    assert len(keys) == len(set(keys)), "a message was posted twice"


async def test_platform_down_for_ten_minutes_queues_then_delivers_all_in_order_once(engine, settings) -> None:
    await queue_alerts(engine)
    clock = ManualClock(T0)
    platform = FlakyPlatform(clock, T0 + timedelta(minutes=10))
    sender = OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep)

    # during the outage: every try fails, nothing is sent, nothing is dropped or held
    while clock() < T0 + timedelta(minutes=9):
        assert await sender.send_due() == 0
        clock.advance(15)
    rows = await outbox_rows(engine)
    assert platform.failures >= 3 * len(CHANNELS)
    assert not platform.messages
    assert {r.status for r in rows} == {"pending"} and all(r.last_error for r in rows if r.attempts)

    # after it: the backoff (at most an hour) brings every row out, channel by channel in order
    assert await sender.drain() == len(rows)
    assert clock() < T0 + timedelta(hours=2)
    assert {r.status for r in await outbox_rows(engine)} == {"sent"}
    for channel_id in CHANNELS:
        assert platform.transcript(channel_id) == expected_transcript(channel_id)
    assert_each_once(platform)


class Killed(BaseException):
    """SIGKILL, as far as the sender can tell: nothing after this line of its runs."""


async def test_killed_between_send_and_record_then_restarted_posts_each_alert_once(engine, settings) -> None:
    await queue_alerts(engine)
    clock = ManualClock(T0)
    platform = MemoryPlatform()
    posted = 0

    def kill_after_the_fourth_post(_sent) -> None:  # noqa: ANN001
        nonlocal posted
        posted += 1
        if posted == 4:
            raise Killed()  # the platform has the message; the outbox row is still "claimed"

    platform.after_post = kill_after_the_fourth_post
    first = OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep)
    try:
        await first.drain()
    except Killed:
        pass
    else:
        raise AssertionError("the sender was not killed")
    platform.after_post = None
    in_flight = [r for r in await outbox_rows(engine) if r.status == "claimed"]
    assert in_flight, "the kill left no row in flight"

    # the restarted process (another worker id) waits out the dead one's leases, then carries on
    clock.advance(LEASE_SECONDS + 1)
    restarted = OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep)
    await restarted.drain()
    assert {r.status for r in await outbox_rows(engine)} == {"sent"}
    for channel_id in CHANNELS:
        assert platform.transcript(channel_id) == expected_transcript(channel_id)
    assert_each_once(platform)


async def test_killed_mid_send_where_the_platform_cannot_be_asked_duplicates_at_most_the_rows_in_flight(
        engine, settings) -> None:
    """The documented window: without find_sent, a row sent but not recorded goes out once more."""
    await queue_alerts(engine, stories=1)
    clock = ManualClock(T0)
    platform = MemoryPlatform(lookup=False)

    def kill(_sent) -> None:  # noqa: ANN001
        raise Killed()

    platform.after_post = kill
    try:
        await OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep).drain()
    except Killed:
        pass
    platform.after_post = None
    in_flight = len([r for r in await outbox_rows(engine) if r.status == "claimed"])
    sent_before = len(platform.messages)
    clock.advance(LEASE_SECONDS + 1)
    await OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep).drain()
    rows = await outbox_rows(engine)
    assert {r.status for r in rows} == {"sent"}
    posts = [m for m in platform.messages.values()]
    keys = [m.idempotency_key for m in posts]
    duplicated = len(keys) - len(set(keys))
    assert set(keys) == {r.idempotency_key for r in rows if r.kind != "edit"}  # nothing lost
    assert duplicated <= min(in_flight, sent_before)  # at most one extra per row that was in flight
