"""Attachments as outbox rows of their own (bot/delivery/uploads.py), on the in-memory platform.

Where a platform sends files apart from their message (`uploads_separately`, as Slack), the post
goes out bare and each attachment follows as an "upload" row keyed `<post key>:file:<n>` in the
post's thread, retried like any row; where files go with the message nothing changes. The same
against the Slack adapter and FakeSlack: tests/test_outbox_slack_uploads.py.
"""

from __future__ import annotations

from datetime import date

from bot.delivery.outbox import LEASE_SECONDS, OutboxSender
from bot.delivery.uploads import queue_uploads, upload_rows
from bot.digest.job import digest_key, enqueue_digest
from bot.messages import Attachment, Message
from bot.platforms.contract import RateLimited, TransientError
from bot.platforms.memory import MemoryPlatform
from tests.delivery_support import T0, ManualClock, add_channel, outbox_rows
from watchers.storage.db import session_scope
from watchers.storage.delivery import Outbox

WEEK = date(2025, 6, 2)
CHART = Attachment("digest-2025-06-02.png", b"\x89PNG chart", "Events this week")
TABLE = Attachment("digest-2025-06-02.csv", b"company,events\n", "The numbers")


def digest(*attachments: Attachment) -> Message:
    return Message(title="Weekly digest", attachments=attachments or (CHART,))


def sender_for(engine, settings, platform: MemoryPlatform, clock: ManualClock) -> OutboxSender:  # noqa: ANN001
    return OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep)


class Killed(BaseException):
    """The process dies: the platform has the message, the outbox row is still claimed."""


async def test_the_post_goes_bare_and_each_attachment_follows_in_its_thread(engine, settings) -> None:  # noqa: ANN001
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    post_id = await enqueue_digest(engine, channel, WEEK, digest(CHART, TABLE), now=T0)
    platform = MemoryPlatform(uploads_separately=True)
    assert await sender_for(engine, settings, platform, ManualClock()).drain() == 3
    (parent,) = platform.parents("C1")
    assert parent.message.attachments == () and parent.idempotency_key == digest_key(channel, WEEK)
    files = platform.thread(parent.id)
    assert [m.attachment for m in files] == [CHART, TABLE]
    rows = await outbox_rows(engine, channel)
    assert [(r.kind, r.idempotency_key, r.parent_outbox_id, r.status) for r in rows] == [
        ("post", parent.idempotency_key, None, "sent"),
        ("upload", f"{parent.idempotency_key}:file:0", post_id, "sent"),
        ("upload", f"{parent.idempotency_key}:file:1", post_id, "sent")]
    assert [r.platform_message_id for r in rows[1:]] == [m.id for m in files]
    assert [m.idempotency_key for m in files] == [r.idempotency_key for r in rows[1:]]


async def test_where_files_go_with_the_message_nothing_changes(engine, settings) -> None:  # noqa: ANN001
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    await enqueue_digest(engine, channel, WEEK, digest(), now=T0)
    platform = MemoryPlatform()
    assert await sender_for(engine, settings, platform, ManualClock()).drain() == 1
    (parent,) = platform.parents("C1")
    assert parent.message.attachments == (CHART,) and platform.thread(parent.id) == []
    assert [r.kind for r in await outbox_rows(engine, channel)] == ["post"]


async def test_a_failed_upload_is_retried_with_backoff_and_arrives_once(engine, settings) -> None:  # noqa: ANN001
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    await enqueue_digest(engine, channel, WEEK, digest(), now=T0)
    platform, clock = MemoryPlatform(uploads_separately=True), ManualClock()
    sender = sender_for(engine, settings, platform, clock)
    assert (await sender.cycle())[0] == 1  # the digest is out
    platform.fail_next(TransientError("HTTP 500"))
    platform.fail_next(RateLimited(30.0))
    assert (await sender.cycle())[0] == 0
    (_, upload) = await outbox_rows(engine, channel)
    assert (upload.status, upload.attempts, upload.last_error) == ("pending", 1, "TransientError: HTTP 500")
    assert await sender.drain() == 1
    (parent,) = platform.parents("C1")
    assert [m.attachment for m in platform.thread(parent.id)] == [CHART]
    assert [op for op, _ in platform.calls].count("upload") == 3 and clock.slept >= 30
    (_, upload) = await outbox_rows(engine, channel)
    assert (upload.status, upload.attempts) == ("sent", 3)


async def test_killed_between_upload_and_record_the_file_is_not_sent_twice(engine, settings) -> None:  # noqa: ANN001
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    await enqueue_digest(engine, channel, WEEK, digest(), now=T0)
    platform, clock = MemoryPlatform(uploads_separately=True), ManualClock()
    first = sender_for(engine, settings, platform, clock)
    assert (await first.cycle())[0] == 1

    def kill(sent) -> None:  # noqa: ANN001
        if sent.attachment is not None:
            raise Killed()

    platform.after_post = kill
    try:
        await first.cycle()
    except Killed:
        pass
    platform.after_post = None
    assert [r.status for r in await outbox_rows(engine, channel)] == ["sent", "claimed"]
    clock.advance(LEASE_SECONDS + 1)
    assert await sender_for(engine, settings, platform, clock).drain() == 1
    (parent,) = platform.parents("C1")
    assert len(platform.thread(parent.id)) == 1
    (_, upload) = await outbox_rows(engine, channel)
    assert (upload.status, upload.platform_message_id) == ("sent", platform.thread(parent.id)[0].id)


async def test_killed_between_post_and_record_the_chart_still_follows_once(engine, settings) -> None:  # noqa: ANN001
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    await enqueue_digest(engine, channel, WEEK, digest(), now=T0)
    platform, clock = MemoryPlatform(uploads_separately=True), ManualClock()

    def kill(_sent) -> None:  # noqa: ANN001
        raise Killed()

    platform.after_post = kill
    try:
        await sender_for(engine, settings, platform, clock).cycle()
    except Killed:
        pass
    platform.after_post = None
    clock.advance(LEASE_SECONDS + 1)
    assert await sender_for(engine, settings, platform, clock).drain() == 2  # found sent, then the chart
    (parent,) = platform.parents("C1")
    assert [m.attachment for m in platform.thread(parent.id)] == [CHART]


async def test_a_reply_s_attachment_goes_into_the_same_thread(engine, settings) -> None:  # noqa: ANN001
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    async with session_scope(engine) as session:
        parent = Outbox(idempotency_key="alert:1", channel_pk=channel, kind="post",
                        payload={"message": Message(title="alert").to_dict()}, next_attempt_at=T0, created_at=T0)
        session.add(parent)
        await session.flush()
        session.add(Outbox(idempotency_key="more:1", channel_pk=channel, kind="reply", parent_outbox_id=parent.id,
                           payload={"message": digest().to_dict()}, next_attempt_at=T0, created_at=T0))
    platform = MemoryPlatform(uploads_separately=True)
    assert await sender_for(engine, settings, platform, ManualClock()).drain() == 3
    (alert,) = platform.parents("C1")
    assert [m.idempotency_key for m in platform.thread(alert.id)] == ["more:1", "more:1:file:0"]


async def test_upload_rows_are_queued_once_however_often_the_post_is_recorded(engine) -> None:  # noqa: ANN001
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    post_id = await enqueue_digest(engine, channel, WEEK, digest(CHART, TABLE), now=T0)
    payload = {"message": digest(CHART, TABLE).to_dict()}
    for _ in range(2):  # two replicas that both record the post (one found it already sent)
        async with session_scope(engine) as session:
            await queue_uploads(session, upload_rows(post_row_id=post_id, post_key="digest:x", channel_pk=channel,
                                                     post_payload=payload, thread="m1", now=T0))
    rows = await outbox_rows(engine, channel)
    assert [r.idempotency_key for r in rows[1:]] == ["digest:x:file:0", "digest:x:file:1"]
    assert Attachment.from_dict(rows[2].payload["attachment"]) == TABLE and rows[2].payload["thread"] == "m1"
