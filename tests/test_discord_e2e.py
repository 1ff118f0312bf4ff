"""`vendorwatch run` with Discord as a subprocess, against FakeDiscord and a loopback feed server.

`/vendorwatch watch` arrives as INTERACTION_CREATE; a Scale AI funding item makes one embed; the
gateway drops and the bot resumes; a second outlet's item lands in a thread on that alert and the
parent is edited; a look-alike posts nothing; `@everyone` and `<@&123>` in a title ping no one;
SIGTERM exits 0. Also: the time from an item on the feed to its embed at the fake (2 s polls),
and a bad token as one line and exit 1.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_fixtures import TEST_TOKEN
from tests.fakes.discord_payloads import DISCORD_EPOCH_MS
from tests.feed_fixtures import rss
from tests.e2e_support import RunProcess, item, measure_latency, until
from tests.feedserver import feed_server  # noqa: F401
from tests.shared_data import VENDORWATCH
from tests.test_run import STARTUP_LIMIT_SECONDS

pytestmark = pytest.mark.timeout(180)


def created_at(message: dict[str, Any]) -> float:
    """When the fake created a message (its snowflake), as a Unix time."""
    return ((int(message["id"]) >> 22) + DISCORD_EPOCH_MS) / 1000


class Bot(RunProcess):
    """The subprocess, the fake and the feeds of one test."""

    def __init__(self, tmp_path: Path, fake: FakeDiscord, feeds: Any, poll_seconds: int) -> None:
        super().__init__(tmp_path, feeds, poll_seconds, DISCORD_BOT_TOKEN=fake.token, DISCORD_API_URL=fake.api_url,
                         DISCORD_GUILD_ID=fake.guild_id, DISCORD_PACE_SECONDS="0")
        self.fake = fake

    async def command(self, subcommand: str, options: dict[str, Any] | None = None,
                      channel_id: str | None = None) -> Any:
        record = await self.fake.send_command("vendorwatch", subcommand, options or {}, channel_id=channel_id)
        return await self.fake.wait_callback(record.id, timeout=10)


def alerts(fake: FakeDiscord, channel: str) -> list[dict[str, Any]]:
    """The bot's embeds in the channel (command answers are webhook messages)."""
    return [m for m in fake.messages(channel) if m["embeds"] and not m.get("webhook_id")]


@pytest.fixture
async def fake() -> Any:
    async with FakeDiscord(token=TEST_TOKEN, heartbeat_interval_ms=1000) as started:
        yield started


async def test_run_with_discord_end_to_end(tmp_path: Path, fake: FakeDiscord, feed_server) -> None:  # noqa: F811
    channel = fake.text_channel_id
    bot = Bot(tmp_path, fake, feed_server, poll_seconds=1)
    await bot.add_feeds(["wire", "ledger"])
    try:
        health = await bot.start()
        assert health["http_status"] == 200, health
        discord_health = health["platforms"]["discord"]
        assert discord_health["ok"] and "vendorwatch" in discord_health["identity"], discord_health
        assert fake.commands[fake.guild_id][0]["name"] == "vendorwatch"

        answer = await bot.command("watch", {"company": "scale-ai"})
        assert answer.type == 4 and not (answer.data.get("flags") or 0) & 64, answer.data

        hostile = "Scale AI raises $1 billion in Series F funding led by Accel @everyone <@&123> **wow**"
        feed_server.serve("/wire.xml", rss([item("w1", hostile, "wire"),
                                            item("w2", "An outlier year: chipmakers scale up AI spending", "wire")],
                                           title="wire"))
        (parent,) = await until(lambda: alerts(fake, channel), 30, "the parent alert")
        await asyncio.sleep(2.5)  # a look-alike would have arrived by now
        assert len(alerts(fake, channel)) == 1
        call = next(c for c in fake.calls_to("POST /channels/*/messages") if c.path.startswith(f"/channels/{channel}/"))
        assert call.payload["allowed_mentions"] == {"parse": []} and call.payload["enforce_nonce"] is True
        embed = parent["embeds"][0]
        text = " ".join([embed.get("title", ""), embed.get("description", ""),
                         *(f["value"] for f in embed.get("fields", []))])
        assert "@everyone" not in text and "<@&123>" not in text and "\\*\\*wow\\*\\*" in text
        assert parent["mention_everyone"] is False and parent["mention_roles"] == []
        buttons = {b.get("custom_id") or b.get("url"): b for b in parent["components"][0]["components"]}
        mute = next(c for c in buttons if c.startswith("vw:mute:story:"))
        assert "vw:not_relevant:" + mute.removeprefix("vw:mute:") in buttons

        await fake.drop_gateway(4000)
        await until(lambda: fake.resumes, 20, "the gateway RESUME")
        assert len(fake.identify_payloads) == 1  # resumed, not a new session

        feed_server.serve("/ledger.xml", rss([item("l1", "Scale AI raises $1 billion Series F as Accel leads round",
                                                   "ledger")], title="ledger"))
        replies = await until(lambda: fake.messages(parent["id"]), 30, "the thread reply")
        assert len(replies) == 1 and fake.threads[0]["id"] == parent["id"]
        await until(lambda: fake.state.messages_by_id[parent["id"]]["edited_timestamp"], 15, "the parent's edit")
        edited = fake.state.messages_by_id[parent["id"]]["embeds"][0]
        assert "2 outlets" in " ".join(f["value"] for f in edited.get("fields", [])), edited
        assert len(alerts(fake, channel)) == 1
        assert (await bot.health())["platforms"]["discord"]["ok"]
        clicked = await fake.send_button(mute, fake.state.messages_by_id[parent["id"]])
        answer = await fake.wait_callback(clicked.id, timeout=10)
        assert answer.data["flags"] & 64 and "mute" in answer.data["content"].lower(), answer.data

        code, err = await bot.stop()
        if os.environ.get("VW_SHOW_STDERR"):
            print(err)
        assert code == 0, err
        assert "Traceback" not in err
    finally:
        await bot.kill()


async def test_run_with_a_bad_discord_token_exits_1_in_one_line(tmp_path: Path, fake: FakeDiscord,
                                                                feed_server) -> None:  # noqa: F811
    bot = Bot(tmp_path, fake, feed_server, poll_seconds=60)
    bot.env["DISCORD_BOT_TOKEN"] = "not-the-token"
    proc = await asyncio.create_subprocess_exec(str(VENDORWATCH), "run", cwd=tmp_path, env=bot.env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(STARTUP_LIMIT_SECONDS):
        _, err = await proc.communicate()
    assert proc.returncode == 1
    assert "vendorwatch: discord could not start: Discord rejected the bot token" in err.decode()
    assert "Traceback" not in err.decode()


@pytest.mark.skipif(os.environ.get("VW_MEASURE_DISCORD") != "1",
                    reason="a measurement (about a minute): VW_MEASURE_DISCORD=1")
async def test_latency_from_feed_to_discord(tmp_path: Path, fake: FakeDiscord, feed_server) -> None:  # noqa: F811
    """Item on the feed server -> embed created at the fake, with POLL_INTERVAL_SECONDS=2."""
    channel = fake.text_channel_id
    bot = Bot(tmp_path, fake, feed_server, poll_seconds=2)
    await bot.add_feeds(["wire"])
    try:
        await bot.start()
        for slug in ("scale-ai", "openai", "anthropic", "cohere", "mistral-ai"):
            await bot.command("watch", {"company": slug})
        latencies = await measure_latency(feed_server, lambda: [created_at(m) for m in alerts(fake, channel)], "Discord")
        assert len(latencies) >= 5
        code, err = await bot.stop()
        assert code == 0, err
    finally:
        await bot.kill()
