"""The weekly digest's chart on Slack: the outbox and the real adapter against FakeSlack.

The digest post goes out; the chart's upload then fails (a 500, a 429 with Retry-After, a
timeout before Slack got it) or its answer is lost after Slack shared the file (a timeout, a
process killed before recording). In every case the chart arrives in the digest's thread,
exactly once.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any, AsyncIterator

import pytest

from bot.delivery.outbox import LEASE_SECONDS, OutboxSender
from bot.digest.job import digest_key, enqueue_digest
from bot.messages import Attachment, Message
from bot.platforms.slack.adapter import SlackPlatform, keyed_filename
from tests.delivery_support import T0, ManualClock, add_channel, outbox_rows
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_fixtures import fake_slack  # noqa: F401
from watchers.settings import load_settings

CHANNEL = "C0DIGEST01"
WEEK = date(2025, 6, 2)
CHART = Attachment("digest-2025-06-02.png", b"\x89PNG\r\n\x1a\n chart", "Events this week")
API_TIMEOUT = 0.3
LATE = 1.0  # a scripted answer this late: the client has given up, Slack still does the work


class Killed(BaseException):
    """SIGKILL, as far as the sender can tell."""


@pytest.fixture
async def slack(fake_slack: FakeSlack) -> AsyncIterator[SlackPlatform]:  # noqa: F811
    fake_slack.add_channel(CHANNEL, "digest")
    settings = load_settings({"SLACK_BOT_TOKEN": fake_slack.bot_token, "SLACK_SIGNING_SECRET": "s3cret",
                              "SLACK_API_URL": fake_slack.base_url, "SLACK_PACE_SECONDS": "0"}, dotenv_path=None)
    platform = SlackPlatform(settings=settings, api_timeout=API_TIMEOUT)
    await platform.start()
    yield platform
    await platform.stop()


async def digest_queued(engine) -> int:  # noqa: ANN001
    channel = await add_channel(engine, CHANNEL, {"scale-ai": []}, platform="slack")
    await enqueue_digest(engine, channel, WEEK, Message(title="Weekly digest", attachments=(CHART,)), now=T0)
    return channel


def sender_for(engine, settings, slack: SlackPlatform, clock: ManualClock) -> OutboxSender:  # noqa: ANN001
    slack.clock = clock  # the adapter's rate-limit holds end when the outbox's Retry-After does
    return OutboxSender(engine, settings, {"slack": slack}, clock=clock, sleep=clock.sleep)


def charts_in_thread(fake: FakeSlack) -> tuple[str, list[dict[str, Any]]]:
    """The digest's ts and the file messages in its thread."""
    (parent,) = fake.messages(CHANNEL)
    return parent["ts"], [m for m in fake.thread(CHANNEL, parent["ts"])[1:] if m.get("files")]


async def assert_one_chart_in_the_digest_thread(engine, fake: FakeSlack, channel: int) -> None:  # noqa: ANN001
    parent_ts, shares = charts_in_thread(fake)
    assert len(shares) == 1 and len([u for u in fake.uploads if u.completed]) == 1
    (file,) = shares[0]["files"]
    key = f"{digest_key(channel, WEEK)}:file:0"
    assert file["name"] == keyed_filename(CHART.filename, key) and file["title"] == CHART.title
    (upload,) = [u for u in fake.uploads if u.completed]
    assert (upload.data, upload.thread_ts) == (CHART.data, parent_ts)
    post, chart = await outbox_rows(engine, channel)
    assert (post.status, post.platform_message_id) == ("sent", parent_ts)
    assert (chart.kind, chart.idempotency_key, chart.parent_outbox_id) == ("upload", key, post.id)
    assert (chart.status, chart.platform_message_id) == ("sent", shares[0]["ts"])


async def wait_until(condition, seconds: float = 5.0) -> None:  # noqa: ANN001
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("method, fault", [
    ("files.completeUploadExternal", {"status": 500}),
    ("files.getUploadURLExternal", {"status": 503}),
    ("files.getUploadURLExternal", {"status": 429, "retry_after": 30}),
    ("files.completeUploadExternal", {"status": 429, "retry_after": 30}),
    ("files.getUploadURLExternal", {"delay": LATE}),  # a timeout before Slack knew of any file
], ids=["complete-500", "url-503", "url-429", "complete-429", "url-timeout"])
async def test_a_failed_chart_upload_after_the_digest_arrives_later_once(
        engine, settings, slack: SlackPlatform, fake_slack: FakeSlack, method: str,  # noqa: ANN001, F811
        fault: dict[str, Any]) -> None:
    channel = await digest_queued(engine)
    clock = ManualClock()
    sender = sender_for(engine, settings, slack, clock)
    assert (await sender.cycle())[0] == 1  # the digest is out, its chart queued
    fake_slack.fail_next(method, **fault)
    assert (await sender.cycle())[0] == 0
    _, chart = await outbox_rows(engine, channel)
    assert chart.status == "pending" and chart.attempts == 1
    assert charts_in_thread(fake_slack)[1] == []
    assert await sender.drain() == 1
    await assert_one_chart_in_the_digest_thread(engine, fake_slack, channel)
    if fault.get("status") == 429:
        assert clock.slept >= 30  # Retry-After waited out


async def test_a_lost_answer_after_slack_shared_the_chart_is_not_shared_twice(
        engine, settings, slack: SlackPlatform, fake_slack: FakeSlack) -> None:  # noqa: ANN001, F811
    channel = await digest_queued(engine)
    clock = ManualClock()
    sender = sender_for(engine, settings, slack, clock)
    assert (await sender.cycle())[0] == 1
    fake_slack.fail_next("files.completeUploadExternal", delay=LATE)  # shared, but the answer comes too late
    assert (await sender.cycle())[0] == 0
    await wait_until(lambda: any(u.completed for u in fake_slack.uploads))
    assert await sender.drain() == 1  # find_sent sees the file in the thread: nothing uploaded again
    await assert_one_chart_in_the_digest_thread(engine, fake_slack, channel)
    assert len(fake_slack.calls_to("files.getUploadURLExternal")) == 1


async def test_killed_after_the_upload_and_before_its_record_the_chart_is_not_shared_twice(
        engine, settings, slack: SlackPlatform, fake_slack: FakeSlack, monkeypatch) -> None:  # noqa: ANN001, F811
    channel = await digest_queued(engine)
    clock = ManualClock()
    first = sender_for(engine, settings, slack, clock)
    assert (await first.cycle())[0] == 1
    upload = slack.upload

    async def upload_then_die(*args: Any, **kwargs: Any) -> str:
        await upload(*args, **kwargs)
        raise Killed()

    monkeypatch.setattr(slack, "upload", upload_then_die)
    with pytest.raises(Killed):
        await first.cycle()
    monkeypatch.setattr(slack, "upload", upload)
    assert [r.status for r in await outbox_rows(engine, channel)] == ["sent", "claimed"]
    clock.advance(LEASE_SECONDS + 1)  # the restarted process takes the dead one's claim over
    assert await sender_for(engine, settings, slack, clock).drain() == 1
    await assert_one_chart_in_the_digest_thread(engine, fake_slack, channel)
    assert len(fake_slack.calls_to("files.getUploadURLExternal")) == 1


async def test_a_chart_slack_shares_later_is_recorded_by_its_file_id_and_arrives_once(
        engine, settings, slack: SlackPlatform, fake_slack: FakeSlack) -> None:  # noqa: ANN001, F811
    channel = await digest_queued(engine)
    fake_slack.share_delay = 0.2  # the answer names the file but no share yet
    assert await sender_for(engine, settings, slack, ManualClock()).drain() == 2
    _, chart = await outbox_rows(engine, channel)
    (upload,) = fake_slack.uploads
    assert (chart.status, chart.platform_message_id) == ("sent", upload.file_id)
    await wait_until(lambda: charts_in_thread(fake_slack)[1])
    await asyncio.sleep(0.3)
    assert len(charts_in_thread(fake_slack)[1]) == 1
