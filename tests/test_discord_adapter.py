"""DiscordPlatform against FakeDiscord: lifecycle, errors, nonces, threads, forum posts, gateway drops."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.messages import Message
from bot.platforms.contract import PermanentError, RateLimited, TransientError
from bot.platforms.discord.adapter import DiscordPlatform, least_intents, nonce_of
from tests.discord_harness import discord_settings, fast_platform
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_fixtures import discord_leftovers, fake_discord  # noqa: F401
from tests.fakes.discord_gateway import PRIVILEGED_INTENTS

pytestmark = pytest.mark.timeout(30)
POST = "POST /channels/*/messages"


@pytest.fixture
async def platform(fake_discord: FakeDiscord):
    built = fast_platform(fake_discord)
    await built.start()
    try:
        yield built
    finally:
        await built.stop()


def alert(title: str = "Scale AI: Funding") -> Message:
    return Message(title=title, url="https://news.example/a", accent="funding")


async def test_start_health_and_least_intents(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    health = await platform.health()
    assert health.ok and "vendorwatch" in health.identity and "1 guild" in health.identity
    intents = fake_discord.identify_payloads[0]["intents"]
    assert intents == least_intents().value and not intents & PRIVILEGED_INTENTS
    assert fake_discord.calls_to("GET /gateway/bot")
    synced = fake_discord.commands[fake_discord.guild_id]
    assert [c["name"] for c in synced] == ["vendorwatch"]
    assert {o["name"] for o in synced[0]["options"]} == {"watch", "unwatch", "list", "lookup", "digest", "why", "help"}


async def test_a_bad_token_is_one_clear_permanent_error(fake_discord: FakeDiscord) -> None:
    settings = discord_settings(fake_discord)
    settings.discord_bot_token = "not-the-token"
    platform = DiscordPlatform(settings=settings)
    with pytest.raises(PermanentError, match="Discord rejected the bot token"):
        await platform.start()
    assert not (await platform.health()).ok


async def test_stop_is_quick_and_leaves_nothing(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    started = time.monotonic()
    await platform.stop()
    assert time.monotonic() - started < 2.0
    for _ in range(100):
        if not discord_leftovers():
            break
        await asyncio.sleep(0.02)
    assert discord_leftovers() == []
    assert not (await platform.health()).ok


async def test_every_create_carries_an_enforced_nonce_and_pings_no_one(fake_discord: FakeDiscord,
                                                                       platform: DiscordPlatform) -> None:
    channel = fake_discord.text_channel_id
    first = await platform.post(channel, alert("@everyone <@&123> raises"), key="alert:1:C1")
    again = await platform.post(channel, alert("@everyone <@&123> raises"), key="alert:1:C1")
    assert first == again and len(fake_discord.messages(channel)) == 1
    call = fake_discord.calls_to(POST)[0]
    assert call.payload["nonce"] == nonce_of("alert:1:C1") and len(call.payload["nonce"]) <= 25
    assert call.payload["enforce_nonce"] is True and call.payload["allowed_mentions"] == {"parse": []}
    assert "@everyone" not in call.payload["embeds"][0]["title"]


async def test_find_sent_reads_the_channels_history(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    channel = fake_discord.text_channel_id
    sent = await platform.post(channel, alert(), key="alert:2:C1")
    fresh = fast_platform(fake_discord)  # a new process: nothing remembered
    await fresh.start()
    try:
        assert await fresh.find_sent(channel, "alert:2:C1") == sent
        assert await fresh.find_sent(channel, "alert:3:C1") is None
        assert await fresh.find_sent(channel, "more:1", thread=sent) is None  # no thread opened yet
        assert fake_discord.calls_to("GET /channels/*/messages")
    finally:
        await fresh.stop()


async def test_first_reply_opens_a_thread_later_replies_go_into_it(fake_discord: FakeDiscord,
                                                                   platform: DiscordPlatform) -> None:
    channel = fake_discord.text_channel_id
    parent = await platform.post(channel, alert(), key="a")
    one = await platform.post(channel, Message(title="More coverage: 1 more source"), thread=parent, key="r1")
    two = await platform.post(channel, Message(title="More coverage: 2 more sources"), thread=parent, key="r2")
    assert [m["id"] for m in fake_discord.messages(parent)] == [one, two]
    assert len(fake_discord.calls_to("POST /channels/*/messages/*/threads")) == 1
    assert fake_discord.threads[0]["name"] == "Scale AI: Funding"
    assert [m["id"] for m in fake_discord.messages(channel)] == [parent]
    assert await platform.find_sent(channel, "r2", thread=parent) == two
    await platform.edit(channel, parent, alert("Scale AI: Funding (2 sources)"))
    assert fake_discord.state.messages_by_id[parent]["embeds"][0]["title"] == "Scale AI: Funding \\(2 sources\\)"


async def test_a_thread_someone_already_opened_is_used(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    channel = fake_discord.text_channel_id
    parent = await platform.post(channel, alert(), key="b")
    state = fake_discord.state
    dispatch, state.dispatch = state.dispatch, lambda event, data: None  # opened elsewhere, unseen by us
    state.thread_from_message(channel, parent, {"name": "opened by someone else"})
    state.dispatch = dispatch
    state.messages_by_id[parent].pop("thread")  # the parent as we read it, a moment before the thread existed

    reply = await platform.post(channel, Message(title="from replica 1"), thread=parent, key="y")
    refused = fake_discord.calls_to("POST /channels/*/messages/*/threads")
    assert [c.status for c in refused] == [400]  # 160004: a thread has already been created
    assert [m["id"] for m in fake_discord.messages(parent)] == [reply] and len(fake_discord.threads) == 1


async def test_in_a_forum_each_story_is_a_post(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    forum = fake_discord.forum_channel_id
    post = await platform.post(forum, alert(), key="f1")
    assert [t["id"] for t in fake_discord.threads] == [post] and fake_discord.threads[0]["parent_id"] == forum
    reply = await platform.post(forum, Message(title="More coverage"), thread=post, key="f2")
    assert [m["id"] for m in fake_discord.messages(post)] == [post, reply]
    await platform.edit(forum, post, alert("Scale AI: Funding, 2 sources"))
    assert "2 sources" in fake_discord.state.messages_by_id[post]["embeds"][0]["title"]
    assert await platform.find_sent(forum, "f1") == post
    assert await platform.find_sent(forum, "f2", thread=post) == reply


async def test_upload_sends_the_file_as_an_attachment(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    from bot.messages import Attachment

    channel = fake_discord.text_channel_id
    sent = await platform.upload(channel, Attachment("chart.png", b"\x89PNG...", "Weekly chart"), key="d1")
    stored = fake_discord.state.messages_by_id[sent]
    assert stored["attachments"][0]["filename"] == "chart.png"
    assert stored["embeds"][0]["image"]["url"] == "attachment://chart.png"


async def test_a_short_429_is_retried_by_discord_py(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    fake_discord.fail_next(POST, 429, retry_after=0.1)
    assert await platform.post(fake_discord.text_channel_id, alert(), key="rl0")
    assert [c.status for c in fake_discord.calls_to(POST)] == [429, 200]


@pytest.mark.parametrize("global_", [False, True])
async def test_a_long_429_is_rate_limited_with_its_scope(fake_discord: FakeDiscord, platform: DiscordPlatform,
                                                         global_: bool) -> None:
    fake_discord.fail_next(POST, 429, retry_after=3.0, global_=global_)
    started = time.monotonic()
    with pytest.raises(RateLimited) as raised:
        await platform.post(fake_discord.text_channel_id, alert(), key="rl1")
    assert time.monotonic() - started < 1.5
    assert 1.5 < raised.value.retry_after <= 3.0
    assert raised.value.scope == ("global" if global_ else "channel")


async def test_a_429_beyond_discord_pys_maximum_is_rate_limited_at_once(fake_discord: FakeDiscord,
                                                                         platform: DiscordPlatform) -> None:
    fake_discord.fail_next(POST, 429, retry_after=120.0)
    with pytest.raises(RateLimited) as raised:
        await platform.post(fake_discord.text_channel_id, alert(), key="rl2")
    assert raised.value.retry_after > 60


@pytest.mark.parametrize("status, times", [(503, 1), (500, 5), (502, 5)])
async def test_server_errors_are_transient(fake_discord: FakeDiscord, platform: DiscordPlatform, status: int,
                                           times: int) -> None:
    fake_discord.fail_next(POST, status, times=times)
    with pytest.raises(TransientError):
        await platform.post(fake_discord.text_channel_id, alert(), key="5xx")


async def test_a_timeout_is_transient(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    fake_discord.fail_next(POST, None, delay=2.0)
    with pytest.raises(TransientError):
        await platform.post(fake_discord.text_channel_id, alert(), key="slow")


@pytest.mark.parametrize("status, code, reason", [(403, 50001, "Missing Access"), (403, 50013, "Missing Permissions"),
                                                  (404, 10003, "Unknown Channel")])
async def test_permission_and_channel_errors_are_permanent_with_the_reason(
        fake_discord: FakeDiscord, platform: DiscordPlatform, status: int, code: int, reason: str) -> None:
    fake_discord.fail_next(POST, status, code=code)
    with pytest.raises(PermanentError) as raised:
        await platform.post(fake_discord.text_channel_id, alert(), key="perm")
    assert reason in raised.value.reason


async def test_an_unknown_channel_is_permanent(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    with pytest.raises(PermanentError, match="Unknown Channel"):
        await platform.post("123456789012345678", alert(), key="nowhere")


async def test_the_gateway_drops_and_resumes(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    await fake_discord.drop_gateway(4000)
    await fake_discord.wait_for(lambda: fake_discord.resumes, timeout=10)
    for _ in range(200):
        if (await platform.health()).ok:
            break
        await asyncio.sleep(0.05)
    assert (await platform.health()).ok
    assert len(fake_discord.identify_payloads) == 1  # resumed, not identified again
    assert await platform.post(fake_discord.text_channel_id, alert(), key="after-drop")


async def test_a_lost_session_identifies_again(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    await fake_discord.drop_gateway(4000, resumable=False)
    await fake_discord.wait_for(lambda: len(fake_discord.identify_payloads) == 2, timeout=10)
    for _ in range(200):
        if (await platform.health()).ok:
            break
        await asyncio.sleep(0.05)
    assert (await platform.health()).ok


async def test_the_bot_stays_under_discords_global_request_rate(fake_discord: FakeDiscord,
                                                                platform: DiscordPlatform) -> None:
    platform.requests_per_second = 10
    await asyncio.sleep(1.0)  # the requests of the start are out of the window
    started = time.monotonic()
    await asyncio.gather(*(platform.post(fake_discord.text_channel_id, alert(), key=f"g{n}") for n in range(15)))
    assert time.monotonic() - started >= 0.9
