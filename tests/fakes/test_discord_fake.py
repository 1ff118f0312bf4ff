"""The real discord.py client against FakeDiscord: login, gateway, messages, threads, faults."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_fixtures import (  # noqa: F401
    TEST_TOKEN, discord_leftovers, fake_discord, fast_client, pointed_at, running_client)

pytestmark = pytest.mark.timeout(15)


@pytest.fixture(autouse=True)
async def no_leftovers():
    yield
    for _ in range(100):
        if not discord_leftovers():
            break
        await asyncio.sleep(0.01)
    assert discord_leftovers() == []


def text_channel(client: discord.Client, fake: FakeDiscord) -> discord.TextChannel:
    return client.get_channel(int(fake.text_channel_id))


async def test_login_connect_and_ready_with_the_guild(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, fast_client()) as client:
        guild = client.get_guild(int(fake_discord.guild_id))
        assert guild is not None and guild.name == "Vendorwatch Test"
        assert isinstance(text_channel(client, fake_discord), discord.TextChannel)
        assert isinstance(client.get_channel(int(fake_discord.forum_channel_id)), discord.ForumChannel)
        assert client.user.bot and client.application_id == int(fake_discord.state.application_id)
    assert fake_discord.identify_payloads[0]["intents"] == discord.Intents.default().value
    assert "compress=zlib-stream" in fake_discord.gateway.connection_urls[0]
    assert [c.path for c in fake_discord.calls[:3]] == ["/users/@me", "/oauth2/applications/@me", "/gateway/bot"]


async def test_a_wrong_token_is_a_login_failure(fake_discord: FakeDiscord) -> None:
    client = fast_client()
    with pointed_at(fake_discord):
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
        await client.close()
    assert fake_discord.calls[0].status == 401


async def test_a_plain_client_reaches_the_fake_through_default_gateway(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, fast_client(discord.Client)) as client:
        assert client.get_guild(int(fake_discord.guild_id)) is not None
    assert not fake_discord.calls_to("GET /gateway/bot")


async def test_send_with_embeds_and_no_mentions(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, fast_client()) as client:
        embed = discord.Embed(title="Scale AI raises", description="Series F").add_field(name="Amount", value="$1B")
        sent = await text_channel(client, fake_discord).send(
            "New event", embeds=[embed], allowed_mentions=discord.AllowedMentions.none())
        assert sent.embeds[0].title == "Scale AI raises" and sent.content == "New event"
    call = fake_discord.calls_to("POST /channels/*/messages")[0]
    assert call.payload["allowed_mentions"] == {"parse": []}
    stored = fake_discord.messages(fake_discord.text_channel_id)
    assert [m["id"] for m in stored] == [str(sent.id)]
    assert stored[0]["embeds"][0]["fields"] == [{"name": "Amount", "value": "$1B", "inline": True}]


def embed(**fields) -> dict:
    return {"type": "rich", **fields}


@pytest.mark.parametrize(("payload", "error_path"), [
    ({"content": "x" * 2001}, "content"),
    ({"content": "x", "nonce": "n" * 26}, "nonce"),
    ({"embeds": [embed(title="t")] * 11}, "embeds"),
    ({"embeds": [embed(title="t" * 257)]}, "embeds.0.title"),
    ({"embeds": [embed(description="d" * 4097)]}, "embeds.0.description"),
    ({"embeds": [embed(fields=[{"name": "n", "value": "v"}] * 26)]}, "embeds.0.fields"),
    ({"embeds": [embed(fields=[{"name": "n" * 257, "value": "v"}])]}, "embeds.0.fields.0.name"),
    ({"embeds": [embed(fields=[{"name": "n", "value": "v" * 1025}])]}, "embeds.0.fields.0.value"),
    ({"embeds": [embed(footer={"text": "f" * 2049})]}, "embeds.0.footer.text"),
    ({"embeds": [embed(author={"name": "a" * 257})]}, "embeds.0.author.name"),
    ({"embeds": [embed(description="d" * 4000), embed(description="d" * 2001)]}, "embeds"),
])
async def test_payloads_over_discords_limits_are_refused(fake_discord: FakeDiscord, payload, error_path) -> None:
    async with running_client(fake_discord, fast_client()) as client:
        route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=fake_discord.text_channel_id)
        with pytest.raises(discord.HTTPException) as caught:
            await client.http.request(route, json=payload)
    assert caught.value.status == 400 and caught.value.code == 50035
    assert f"In {error_path}:" in caught.value.text
    assert fake_discord.messages(fake_discord.text_channel_id) == []


async def test_limits_through_the_high_level_api(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, fast_client()) as client:
        channel = text_channel(client, fake_discord)
        with pytest.raises(discord.HTTPException, match="In embeds.0.description"):
            await channel.send(embed=discord.Embed(description="d" * 4097))
        with pytest.raises(discord.HTTPException, match="Cannot send an empty message"):
            await channel.send(embeds=[])
        exactly = discord.Embed(title="t" * 256, description="d" * 4096)
        assert (await channel.send("x" * 2000, embed=exactly)).embeds[0].title == "t" * 256


async def test_an_enforced_nonce_posts_once(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, fast_client()) as client:
        channel = text_channel(client, fake_discord)
        first = await channel.send("alert 1", nonce="vw-event-42")
        again = await channel.send("alert 1 (retry)", nonce="vw-event-42")
        other = await channel.send("alert 2", nonce="vw-event-43")
    assert again.id == first.id and again.content == "alert 1" and other.id != first.id
    assert fake_discord.calls_to("POST /channels/*/messages")[0].payload["enforce_nonce"] is True
    assert [m["content"] for m in fake_discord.messages(fake_discord.text_channel_id)] == ["alert 1", "alert 2"]


async def test_create_thread_once_per_message(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, fast_client()) as client:
        message = await text_channel(client, fake_discord).send("Scale AI news")
        thread = await message.create_thread(name="Scale AI", auto_archive_duration=1440)
        assert thread.id == message.id and thread.parent_id == int(fake_discord.text_channel_id)
        with pytest.raises(discord.HTTPException) as caught:
            await message.create_thread(name="Scale AI again")
        reply = await thread.send("details")
        fetched = await text_channel(client, fake_discord).fetch_message(message.id)
    assert caught.value.status == 400 and caught.value.code == 160004
    assert fetched.flags.has_thread
    assert fake_discord.messages(fake_discord.text_channel_id)[0]["thread"]["id"] == str(thread.id)
    assert [m["id"] for m in fake_discord.messages(str(thread.id))] == [str(reply.id)]
    assert fake_discord.threads[0]["message_count"] == 1


async def test_forum_post_with_a_first_message(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, fast_client()) as client:
        forum = client.get_channel(int(fake_discord.forum_channel_id))
        created = await forum.create_thread(name="Scale AI", embed=discord.Embed(title="Raised $1B"),
                                            allowed_mentions=discord.AllowedMentions.none())
        assert created.thread.id == created.message.id and created.message.embeds[0].title == "Raised $1B"
        follow = await created.thread.send("More")
        with pytest.raises(discord.HTTPException) as caught:
            await client.http.send_message(forum.id, params=discord.http.handle_message_parameters(content="x"))
    assert caught.value.code == 50008
    assert [m["content"] for m in fake_discord.messages(str(created.thread.id))] == ["", "More"]
    assert follow.channel.id == created.thread.id


async def test_edit_and_fetch_history(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, fast_client()) as client:
        channel = text_channel(client, fake_discord)
        sent = [await channel.send(f"m{i}") for i in range(5)]
        edited = await sent[0].edit(content="m0 (edited)", embed=discord.Embed(title="now with embed"))
        newest_first = [m.content async for m in channel.history(limit=3)]
        before = [m.content async for m in channel.history(limit=10, before=sent[2])]
        after = [m.content async for m in channel.history(limit=2, after=sent[1], oldest_first=True)]
    assert edited.content == "m0 (edited)" and edited.edited_at is not None
    assert newest_first == ["m4", "m3", "m2"]
    assert before == ["m1", "m0 (edited)"]
    assert after == ["m2", "m3"]


async def test_upload_a_file(fake_discord: FakeDiscord) -> None:
    async with running_client(fake_discord, fast_client()) as client:
        file = discord.File(io.BytesIO(b"date,company\n2025-01-01,scale-ai\n"), filename="events.csv")
        sent = await text_channel(client, fake_discord).send("Export", file=file)
        assert sent.attachments[0].filename == "events.csv"
        assert await sent.attachments[0].read() == b"date,company\n2025-01-01,scale-ai\n"
    call = fake_discord.calls_to("POST /channels/*/messages")[0]
    assert call.payload["attachments"] == [{"id": 0, "filename": "events.csv"}]
    assert call.files[0].field == "files[0]"


async def test_a_429_is_retried_by_discord_py(fake_discord: FakeDiscord) -> None:
    fake_discord.fail_next("POST /channels/*/messages", 429, retry_after=0.2)
    async with running_client(fake_discord, fast_client()) as client:
        sent = await text_channel(client, fake_discord).send("after a rate limit")
    statuses = [c.status for c in fake_discord.calls_to("POST /channels/*/messages")]
    assert statuses == [429, 200]
    assert fake_discord.messages(fake_discord.text_channel_id)[0]["id"] == str(sent.id)


async def test_faults_surface_as_discord_exceptions(fake_discord: FakeDiscord) -> None:
    fake_discord.fail_next("POST /channels/*/messages", 403, code=50001)
    fake_discord.fail_next("POST /channels/*/messages", 403)
    fake_discord.fail_next("/channels/*/messages", 404)
    async with running_client(fake_discord, fast_client()) as client:
        channel = text_channel(client, fake_discord)
        with pytest.raises(discord.Forbidden) as missing_access:
            await channel.send("one")
        with pytest.raises(discord.Forbidden) as missing_permissions:
            await channel.send("two")
        with pytest.raises(discord.NotFound) as unknown:
            await channel.send("three")
        assert (await channel.send("four")).content == "four"
    assert (missing_access.value.code, missing_permissions.value.code, unknown.value.code) == (50001, 50013, 10003)


async def test_a_500_is_retried_and_a_delay_slows_a_call(fake_discord: FakeDiscord) -> None:
    fake_discord.fail_next("POST /channels/*/messages", 500)
    fake_discord.fail_next("GET /channels/*", None, delay=0.3)
    async with running_client(fake_discord, fast_client()) as client:
        await text_channel(client, fake_discord).send("after a 500")
        started = asyncio.get_running_loop().time()
        await client.fetch_channel(int(fake_discord.text_channel_id))
        assert asyncio.get_running_loop().time() - started >= 0.3
    assert [c.status for c in fake_discord.calls_to("POST /channels/*/messages")] == [500, 200]


async def test_gateway_drop_then_resume(fake_discord: FakeDiscord) -> None:
    seen: list[str] = []
    client = fast_client()

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message.content)

    async with running_client(fake_discord, client):
        session_id = next(iter(fake_discord.gateway.sessions))
        await fake_discord.drop_gateway()
        await fake_discord.wait_for(lambda: fake_discord.resumes and len(fake_discord.gateway.connections) == 1)
        await text_channel(client, fake_discord).send("still here")
        await asyncio.wait_for(_until(lambda: "still here" in seen), 2)
    assert fake_discord.resumes[0]["session_id"] == session_id
    assert fake_discord.gateway.connection_urls[1].startswith("/gateway-resume")
    assert len(fake_discord.identify_payloads) == 1


async def test_a_forgotten_session_is_identified_again(fake_discord: FakeDiscord) -> None:
    readies: list[bool] = []
    client = fast_client()

    @client.event
    async def on_ready() -> None:
        readies.append(True)

    async with running_client(fake_discord, client):
        await fake_discord.drop_gateway(resumable=False)
        await asyncio.wait_for(_until(lambda: len(readies) == 2), 3)
        assert (await text_channel(client, fake_discord).send("back")).content == "back"
    assert fake_discord.resumes and len(fake_discord.identify_payloads) == 2


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.01)


async def test_a_429_looks_like_discords(fake_discord: FakeDiscord) -> None:
    fake_discord.fail_next("GET /users/@me", 429, retry_after=1.5, global_=True, times=2)
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with discord.http.aiohttp.ClientSession(headers=headers) as session:
        answers = [await session.get(fake_discord.api_url + "/users/@me") for _ in range(3)]
        limited = answers[0]
        assert [a.status for a in answers] == [429, 429, 200]
        assert await limited.json() == {"message": "You are being rate limited.", "retry_after": 1.5, "global": True}
    assert limited.headers["Content-Type"] == "application/json" and limited.headers["Via"] == "1.1 google"
    assert limited.headers["Retry-After"] == "2" and limited.headers["X-RateLimit-Scope"] == "global"
    assert limited.headers["X-RateLimit-Remaining"] == "0" and limited.headers["X-RateLimit-Reset-After"] == "1.500"


async def test_privileged_intents_the_app_lacks_close_the_gateway() -> None:
    async with FakeDiscord(token=TEST_TOKEN, allowed_intents=0) as fake:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with running_client(fake, fast_client(intents=discord.Intents.all())):
                pass
        assert fake.identify_payloads[0]["intents"] == discord.Intents.all().value
