"""Slack's 429s through the outbox: the real adapter against FakeSlack, rows in a real database.

A 429 on chat.postMessage in one channel holds that channel; in three channels at once it is
Slack's workspace-wide limit: every channel of the workspace waits Retry-After (in the database,
so every replica does). A 429 on chat.update holds edits, not the other channels' posts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import AsyncIterator

import pytest
from sqlalchemy import update

from bot.delivery.outbox import OutboxSender
from bot.messages import Message
from bot.platforms.slack.adapter import SlackPlatform
from tests.delivery_support import T0, ManualClock, add_channel, outbox_rows
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_fixtures import fake_slack  # noqa: F401
from watchers.settings import load_settings
from watchers.storage.db import session_scope
from watchers.storage.delivery import Channel, Outbox

TEAM = "T0FAKE0001"  # FakeSlack's workspace
LIMITED = ("C0LIMITA01", "C0LIMITB01", "C0LIMITC01")
QUIET = "C0QUIET001"  # same workspace, no 429 of its own
RETRY_AFTER = 30


@pytest.fixture
async def slack(fake_slack: FakeSlack) -> AsyncIterator[SlackPlatform]:  # noqa: F811
    for channel in (*LIMITED, QUIET):
        fake_slack.add_channel(channel, channel.lower())
    settings = load_settings({"SLACK_BOT_TOKEN": fake_slack.bot_token, "SLACK_SIGNING_SECRET": "s3cret",
                              "SLACK_API_URL": fake_slack.base_url, "SLACK_PACE_SECONDS": "0"}, dotenv_path=None)
    platform = SlackPlatform(settings=settings, api_timeout=2.0)
    await platform.start()
    yield platform
    await platform.stop()


async def slack_channel(engine, channel_id: str, workspace: str) -> int:  # noqa: ANN001
    pk = await add_channel(engine, channel_id, {"scale-ai": []}, platform="slack")
    async with session_scope(engine) as session:
        await session.exec(update(Channel).where(Channel.id == pk).values(workspace=workspace))
    return pk


async def queue(engine, channel_pk: int, key: str, *, kind: str = "post", parent: int | None = None) -> int:  # noqa: ANN001
    async with session_scope(engine) as session:
        row = Outbox(idempotency_key=key, channel_pk=channel_pk, kind=kind, parent_outbox_id=parent,
                     payload={"message": Message(title=key).to_dict(), "items": []}, next_attempt_at=T0, created_at=T0)
        session.add(row)
        await session.flush()
        return row.id


def sender_for(engine, settings, slack: SlackPlatform, clock: ManualClock) -> OutboxSender:  # noqa: ANN001
    slack.clock = clock
    return OutboxSender(engine, settings, {"slack": slack}, clock=clock, sleep=clock.sleep)


async def test_429s_in_three_channels_at_once_hold_the_whole_workspace(engine, settings, slack: SlackPlatform,
                                                                       fake_slack: FakeSlack) -> None:  # noqa: ANN001, F811
    pks = {c: await slack_channel(engine, c, TEAM) for c in (*LIMITED, QUIET)}
    for channel in pks:
        for n in range(2):
            await queue(engine, pks[channel], f"{channel}:{n}")
    for channel in LIMITED:
        fake_slack.fail_next("chat.postMessage", status=429, retry_after=RETRY_AFTER, channel=channel)
    clock = ManualClock()
    sender = sender_for(engine, settings, slack, clock)

    await sender.cycle()  # one row per channel, all at once: three 429s
    held_until = T0 + timedelta(seconds=RETRY_AFTER)
    for channel, pk in pks.items():  # QUIET's rows wait with the limited channels'
        pending = [r for r in await outbox_rows(engine, pk) if r.status == "pending"]
        assert pending and all(r.next_attempt_at >= held_until for r in pending), channel
    calls = len(fake_slack.calls_to("chat.postMessage"))
    assert calls <= 4  # the three 429s, and QUIET's first post if it went before the third 429
    assert await sender.drain() == 8 - (calls - 3)
    assert clock.slept >= RETRY_AFTER
    for channel in pks:
        assert [m["text"] for m in fake_slack.messages(channel)] == [f"{channel}:0", f"{channel}:1"]


async def test_a_429_in_one_channel_holds_only_that_channel(engine, settings, slack: SlackPlatform,
                                                            fake_slack: FakeSlack) -> None:  # noqa: ANN001, F811
    pks = {c: await slack_channel(engine, c, TEAM) for c in (LIMITED[0], QUIET)}
    for channel in pks:
        await queue(engine, pks[channel], f"{channel}:0")
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=RETRY_AFTER, channel=LIMITED[0])
    clock = ManualClock()
    sender = sender_for(engine, settings, slack, clock)
    assert await sender.send_due() == 1
    assert [m["text"] for m in fake_slack.messages(QUIET)] == [f"{QUIET}:0"]
    await queue(engine, pks[QUIET], f"{QUIET}:1")
    assert await sender.send_due() == 1  # QUIET goes on while LIMITED[0] waits
    (row,) = await outbox_rows(engine, pks[LIMITED[0]])
    assert row.status == "pending" and row.next_attempt_at >= T0 + timedelta(seconds=RETRY_AFTER)


async def test_a_429_on_chat_update_holds_edits_not_the_other_channels_posts(engine, settings, slack: SlackPlatform,
                                                                               fake_slack: FakeSlack) -> None:  # noqa: ANN001, F811
    editing, posting = LIMITED[0], QUIET
    pks = {c: await slack_channel(engine, c, TEAM) for c in (editing, posting)}
    clock = ManualClock()
    sender = sender_for(engine, settings, slack, clock)
    parent = await queue(engine, pks[editing], "parent")
    assert await sender.drain() == 1
    await queue(engine, pks[editing], "edit", kind="edit", parent=parent)
    fake_slack.fail_next("chat.update", status=429, retry_after=RETRY_AFTER)
    await sender.cycle()
    await queue(engine, pks[posting], "meanwhile")
    clock.advance(1)
    assert await sender.send_due() == 1  # the other channel's post goes, the edit waits
    assert [m["text"] for m in fake_slack.messages(posting)] == ["meanwhile"]
    assert len(fake_slack.calls_to("chat.update")) == 1
    assert await sender.drain() == 1
    assert fake_slack.messages(editing)[0]["text"] == "edit" and clock.slept >= RETRY_AFTER - 1
