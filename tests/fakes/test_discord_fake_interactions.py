"""Interactions through FakeDiscord's gateway, answered by the real discord.py CommandTree and views."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_fixtures import discord_leftovers, fake_discord, running_client  # noqa: F401

pytestmark = pytest.mark.timeout(15)

COMPANIES = ["scale-ai", "scaleway", "snowflake"]


class AckView(discord.ui.View):
    """A persistent view: its button is routed by custom_id, even after a restart."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Acknowledge", custom_id="vw:ack", style=discord.ButtonStyle.primary)
    async def ack(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="Acknowledged", view=None)


class VendorwatchBot(discord.AutoShardedClient):
    """A bot with the command group `/vendorwatch watch company:`, `/vendorwatch digest`, `/vendorwatch status`."""

    def __init__(self, guild_id: str) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.guild = discord.Object(id=int(guild_id))
        self.tree = app_commands.CommandTree(self)
        group = app_commands.Group(name="vendorwatch", description="Company news alerts")

        @group.command(name="watch", description="Watch a company")
        async def watch(interaction: discord.Interaction, company: str) -> None:
            await interaction.response.send_message(f"Watching {company}", ephemeral=True)

        @watch.autocomplete("company")
        async def company_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=c, value=c) for c in COMPANIES if c.startswith(current)]

        @group.command(name="digest", description="Post today's digest")
        async def digest(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("3 events today")
            await interaction.followup.send("and one more thing")

        @group.command(name="status", description="Show the poller's status")
        async def status(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Checking...")
            await interaction.edit_original_response(content="All feeds healthy",
                                                     embed=discord.Embed(title="12 feeds"))

        self.tree.add_command(group)

    async def setup_hook(self) -> None:
        self.add_view(AckView())
        self.tree.copy_global_to(guild=self.guild)
        await self.tree.sync(guild=self.guild)


@pytest.fixture(autouse=True)
async def no_leftovers():
    yield
    for _ in range(100):
        if not discord_leftovers():
            break
        await asyncio.sleep(0.01)
    assert discord_leftovers() == []


async def test_sync_puts_the_guild_commands(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, VendorwatchBot(fake_discord.guild_id)):
        pass
    (command,) = fake_discord.commands[fake_discord.guild_id]
    assert command["name"] == "vendorwatch"
    assert [o["name"] for o in command["options"]] == ["watch", "digest", "status"]
    assert fake_discord.calls_to("PUT /applications/*/guilds/*/commands")[0].status == 200


async def test_a_slash_command_is_answered(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, VendorwatchBot(fake_discord.guild_id)):
        interaction = await fake_discord.send_command("vendorwatch", "watch", {"company": "scale-ai"})
        callback = await fake_discord.wait_callback(interaction.id)
    assert callback.type == 4
    assert callback.data["content"] == "Watching scale-ai"
    assert callback.data["flags"] & 64
    data = interaction.payload["data"]
    assert data["options"] == [{"name": "watch", "type": 1,
                                "options": [{"name": "company", "type": 3, "value": "scale-ai"}]}]
    assert data["id"] == fake_discord.commands[fake_discord.guild_id][0]["id"]
    assert fake_discord.messages(fake_discord.text_channel_id) == []


async def test_autocomplete_is_answered_with_choices(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, VendorwatchBot(fake_discord.guild_id)):
        interaction = await fake_discord.send_autocomplete("vendorwatch", "watch", {"company": "sca"}, "company")
        callback = await fake_discord.wait_callback(interaction.id)
    assert callback.type == 8
    assert callback.data["choices"] == [{"name": "scale-ai", "value": "scale-ai"},
                                        {"name": "scaleway", "value": "scaleway"}]


async def test_a_deferred_command_and_its_followups(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, VendorwatchBot(fake_discord.guild_id)):
        interaction = await fake_discord.send_command("vendorwatch", "digest")
        callback = await fake_discord.wait_callback(interaction.id)
        await fake_discord.wait_for(lambda: len(fake_discord.followups) == 2)
    assert callback.type == 5
    first, second = fake_discord.followups
    assert first["id"] == fake_discord.interactions[interaction.id].original_message_id
    assert [m["content"] for m in fake_discord.messages(fake_discord.text_channel_id)] == [
        "3 events today", "and one more thing"]
    assert not first["flags"] & (1 << 7)


async def test_the_original_response_is_edited(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, VendorwatchBot(fake_discord.guild_id)):
        interaction = await fake_discord.send_command("vendorwatch", "status")
        await fake_discord.wait_for(lambda: any(c.status == 200 for c in fake_discord.calls_to(
            "PATCH /webhooks/*/*/messages/@original")))
    (message,) = fake_discord.messages(fake_discord.text_channel_id)
    assert message["id"] == fake_discord.interactions[interaction.id].original_message_id
    assert message["content"] == "All feeds healthy" and message["embeds"][0]["title"] == "12 feeds"
    assert message["edited_timestamp"] is not None
    assert int(interaction.payload["member"]["permissions"]) & (1 << 3)


async def test_a_button_click_is_answered(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, VendorwatchBot(fake_discord.guild_id)) as client:
        channel = client.get_channel(int(fake_discord.text_channel_id))
        alert = await channel.send("Scale AI raised $1B", view=AckView())
        stored = fake_discord.messages(fake_discord.text_channel_id)[0]
        assert stored["components"][0]["components"][0]["custom_id"] == "vw:ack"
        interaction = await fake_discord.send_button("vw:ack", stored)
        callback = await fake_discord.wait_callback(interaction.id)
    assert callback.type == 7 and callback.data["components"] == []
    assert stored["id"] == str(alert.id) and stored["content"] == "Acknowledged"


async def test_an_unknown_or_repeated_answer_is_refused(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, VendorwatchBot(fake_discord.guild_id)):
        interaction = await fake_discord.send_command("vendorwatch", "watch", {"company": "scale-ai"})
        await fake_discord.wait_callback(interaction.id)
        route = discord.http.Route("POST", "/interactions/{interaction_id}/{token}/callback",
                                   interaction_id=interaction.id, token=interaction.token)
        async with discord.http.aiohttp.ClientSession() as session:
            again = await session.post(route.url, json={"type": 4, "data": {"content": "twice"}})
            wrong = await session.post(route.url.replace(interaction.token, "not-the-token"), json={"type": 1})
            assert (again.status, (await again.json())["code"]) == (400, 40060)
            assert (wrong.status, (await wrong.json())["code"]) == (404, 10062)
