"""`/vendorwatch` on Discord: INTERACTION_CREATE from FakeDiscord through the real command core."""

from __future__ import annotations

import asyncio
import sys
import types

import pytest

import bot

from bot.commands.core import CommandCore
from bot.messages import Action, Message, Reply
from bot.platforms.discord import commands as slash
from bot.platforms.discord.adapter import DiscordPlatform
from tests.command_support import test_registry
from tests.discord_harness import fast_platform
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_fixtures import fake_discord  # noqa: F401
from watchers.models import EVENT_TYPES
from watchers.storage.db import make_engine, upgrade

pytestmark = pytest.mark.timeout(30)
EPHEMERAL = 64


@pytest.fixture
async def core(plain_settings):  # noqa: ANN001, ANN201
    await upgrade(plain_settings.database_url)
    engine = make_engine(plain_settings.database_url)
    try:
        yield CommandCore(engine, plain_settings, test_registry())
    finally:
        await engine.dispose()


@pytest.fixture
async def platform(fake_discord: FakeDiscord, core: CommandCore):
    built = fast_platform(fake_discord, core, command_deadline=2.0, engine=core.engine)
    await built.start()
    try:
        yield built
    finally:
        await built.stop()


async def answers(fake: FakeDiscord, record, count: int = 1) -> list:  # noqa: ANN001
    """The callback, then `count - 1` follow-ups, of one interaction."""
    callback = await fake.wait_callback(record.id, timeout=5)
    await fake.wait_for(lambda: len(fake.followups) >= count - 1, timeout=5)
    return [callback, *fake.followups[-(count - 1):]] if count > 1 else [callback]


async def test_watch_is_answered_in_the_channel(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    record = await fake_discord.send_command("vendorwatch", "watch", {"company": "Scale AI", "types": "funding"})
    (callback,) = await answers(fake_discord, record)
    assert callback.type == 4 and not (callback.data.get("flags") or 0) & EPHEMERAL
    assert "Scale AI" in callback.data["content"] and callback.data["allowed_mentions"] == {"parse": []}
    listed = await fake_discord.send_command("vendorwatch", "list")
    (callback,) = await answers(fake_discord, listed)
    assert callback.data["flags"] & EPHEMERAL and "Scale AI" in callback.data["content"]


async def test_an_unknown_company_is_an_ephemeral_did_you_mean(fake_discord: FakeDiscord,
                                                               platform: DiscordPlatform) -> None:
    record = await fake_discord.send_command("vendorwatch", "watch", {"company": "Scael AI"})
    (callback,) = await answers(fake_discord, record)
    assert callback.type == 4 and callback.data["flags"] & EPHEMERAL
    assert "Scale AI" in callback.data["content"].replace("\\", "")


async def test_watch_needs_manage_channels_checked_on_our_side(fake_discord: FakeDiscord,
                                                               platform: DiscordPlatform) -> None:
    record = await fake_discord.send_command("vendorwatch", "watch", {"company": "scale-ai"}, permissions="0")
    (callback,) = await answers(fake_discord, record)
    assert callback.data["flags"] & EPHEMERAL and "Manage Channels" in callback.data["content"]
    listed = await fake_discord.send_command("vendorwatch", "list")
    (callback,) = await answers(fake_discord, listed)
    assert "watches no company" in callback.data["content"]


async def test_help_is_ephemeral(fake_discord: FakeDiscord, platform: DiscordPlatform) -> None:
    record = await fake_discord.send_command("vendorwatch", "help")
    (callback,) = await answers(fake_discord, record)
    assert callback.type == 4 and callback.data["flags"] & EPHEMERAL and "watch" in callback.data["content"]


async def test_a_slow_lookup_is_deferred_then_followed_up(fake_discord: FakeDiscord, core: CommandCore) -> None:
    async def slow(request):  # noqa: ANN001, ANN202
        await asyncio.sleep(0.4)
        return await core.handle(request)

    platform = fast_platform(fake_discord, slow, command_deadline=0.1)
    await platform.start()
    try:
        record = await fake_discord.send_command("vendorwatch", "lookup", {"company": "scale-ai"})
        callback, followup = await answers(fake_discord, record, 2)
        assert callback.type == 5  # "thinking..."
        assert followup["embeds"] or followup["content"]
        assert fake_discord.interactions[record.id].responded
    finally:
        await platform.stop()


async def test_the_synced_group_has_choices_and_autocomplete(fake_discord: FakeDiscord,
                                                             platform: DiscordPlatform) -> None:
    (group,) = fake_discord.commands[fake_discord.guild_id]
    options = {o["name"]: o for o in group["options"]}
    watch = {o["name"]: o for o in options["watch"]["options"]}
    assert watch["company"]["autocomplete"] is True and watch["company"]["required"] is True
    assert watch["types"]["autocomplete"] is True and not watch["types"].get("required")
    assert {o["name"] for o in options["why"]["options"]} == {"query"}


async def test_autocomplete_offers_registry_and_chat_added_companies(fake_discord: FakeDiscord,
                                                                     platform: DiscordPlatform) -> None:
    record = await fake_discord.send_autocomplete("vendorwatch", "watch", {"company": "sca"}, "company")
    callback = await fake_discord.wait_callback(record.id)
    assert callback.type == 8 and "scale-ai" in [c["value"] for c in callback.data["choices"]]

    added = await fake_discord.send_command("vendorwatch", "watch", {"company": "new Zyxwv Robotics aka Zyxwv"})
    await answers(fake_discord, added)
    record = await fake_discord.send_autocomplete("vendorwatch", "lookup", {"company": "zyx"}, "company")
    callback = await fake_discord.wait_callback(record.id)
    assert [c["value"] for c in callback.data["choices"]][:1] == ["zyxwv-robotics"]


async def test_watch_takes_several_types_completed_one_by_one(fake_discord: FakeDiscord,
                                                              platform: DiscordPlatform) -> None:
    record = await fake_discord.send_autocomplete("vendorwatch", "watch", {"company": "scale-ai", "types": "funding lea"},
                                                  "types")
    callback = await fake_discord.wait_callback(record.id)
    assert [c["value"] for c in callback.data["choices"]] == ["funding leadership_change"]
    assert callback.data["choices"][0]["name"] == "funding leadership change"

    record = await fake_discord.send_command("vendorwatch", "watch",
                                             {"company": "scale-ai", "types": "funding, leadership_change"})
    await answers(fake_discord, record)
    listed = await fake_discord.send_command("vendorwatch", "list")
    (callback,) = await answers(fake_discord, listed)
    assert "funding" in callback.data["content"] and "leadership" in callback.data["content"]

    record = await fake_discord.send_command("vendorwatch", "watch", {"company": "scale-ai", "types": "fundng"})
    (callback,) = await answers(fake_discord, record)
    assert callback.data["flags"] & EPHEMERAL and "Unknown event type" in callback.data["content"]


@pytest.mark.parametrize("typed, offered", [
    ("", list(EVENT_TYPES)),
    ("l", ["leadership_change", "layoffs", "legal"]),
    ("funding ", [f"funding {t}" for t in EVENT_TYPES if t != "funding"]),
    ("churn,le", ["customer_loss leadership_change", "customer_loss legal"]),
    ("funding legal", ["funding legal"]),
    ("zzz", []),
])
def test_type_choices_complete_the_last_word(typed: str, offered: list[str]) -> None:
    assert [choice.value for choice in slash.type_choices(typed)] == offered


@pytest.fixture
def feedback(monkeypatch):  # noqa: ANN001, ANN201
    """A stand-in for bot.feedback with its interface: these tests check the routing, not the store."""
    calls = []
    module = types.ModuleType("bot.feedback")

    async def mute_story(engine, *, platform, channel_id, story_id, user):  # noqa: ANN001, ANN202
        calls.append(("mute", platform, channel_id, story_id, user))
        return Reply(text="Muted this story in this channel.")

    async def mark_not_relevant(engine, *, platform, channel_id, story_id, user):  # noqa: ANN001, ANN202
        calls.append(("not_relevant", platform, channel_id, story_id, user))
        return Reply(text="Thanks, noted as not relevant.")

    module.mute_story, module.mark_not_relevant = mute_story, mark_not_relevant
    monkeypatch.setitem(sys.modules, "bot.feedback", module)
    monkeypatch.setattr(bot, "feedback", module, raising=False)
    return calls


async def test_buttons_route_to_the_feedback_core_after_a_restart(fake_discord: FakeDiscord, core: CommandCore,
                                                                  feedback: list) -> None:
    actions = (Action("open", "Read", url="https://news.example/a"), Action("mute", "Mute story", value="story:42"),
               Action("not_relevant", "Not relevant", value="story:42"))
    first = fast_platform(fake_discord, core)
    await first.start()
    try:
        sent = await first.post(fake_discord.text_channel_id, Message(title="Scale AI: Funding", actions=actions),
                                key="k")
    finally:
        await first.stop()
    stored = fake_discord.state.messages_by_id[sent]
    buttons = stored["components"][0]["components"]
    assert [b.get("custom_id") for b in buttons] == [None, "vw:mute:story:42", "vw:not_relevant:story:42"]

    second = fast_platform(fake_discord, core)  # a new process: the buttons still work
    await second.start()
    try:
        record = await fake_discord.send_button("vw:mute:story:42", stored)
        callback = await fake_discord.wait_callback(record.id)
        assert callback.data["flags"] & EPHEMERAL and "Muted" in callback.data["content"]
        record = await fake_discord.send_button("vw:not_relevant:story:42", stored)
        await fake_discord.wait_callback(record.id)
    finally:
        await second.stop()
    owner = fake_discord.state.owners[fake_discord.guild_id]["id"]
    assert feedback == [("mute", "discord", fake_discord.text_channel_id, 42, owner),
                        ("not_relevant", "discord", fake_discord.text_channel_id, 42, owner)]


async def test_a_button_in_a_thread_acts_on_the_parent_channel(fake_discord: FakeDiscord, platform: DiscordPlatform,
                                                               feedback: list) -> None:
    channel = fake_discord.text_channel_id
    parent = await platform.post(channel, Message(title="alert"), key="p")
    reply = await platform.post(channel, Message(title="new type", actions=(
        Action("mute", "Mute", value="story:7"),)), thread=parent, key="r")
    record = await fake_discord.send_button("vw:mute:story:7", fake_discord.state.messages_by_id[reply])
    await fake_discord.wait_callback(record.id)
    assert feedback[0][2] == channel and feedback[0][3] == 7


def test_the_deadline_leaves_room_for_discords_three_seconds() -> None:
    assert slash.COMMAND_DEADLINE_SECONDS <= 2.5
