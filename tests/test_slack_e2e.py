"""`vendorwatch run` in Slack's HTTP mode as a subprocess, against FakeSlack and a loopback feed
server: a signed `/vendorwatch watch scale-ai`, one parent for a Scale AI funding item (hostile
markup in its title arriving escaped), a second outlet's item as a thread reply with the parent
updated, a look-alike that posts nothing, the "not relevant" and "mute" buttons (after a mute, more
coverage of the story no longer reaches the thread), SIGTERM exits 0. Also: the time from an item on the
feed to its message at the fake, with a 2 s poll interval."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_signing import signed_headers, slash_command_body
from tests.feed_fixtures import rss
from tests.e2e_support import SlackRun, item, measure_latency, until
from tests.feedserver import feed_server  # noqa: F401
from tests.shared_data import VENDORWATCH
from tests.test_run import STARTUP_LIMIT_SECONDS

SECRET = "e2e-signing-secret"
CHANNEL = "C0E2E00001"


class Bot(SlackRun):
    """The subprocess in Slack's HTTP mode, the fake and the feeds of one test."""

    def __init__(self, tmp_path: Path, fake: FakeSlack, feeds: Any, poll_seconds: int) -> None:
        super().__init__(tmp_path, fake, feeds, poll_seconds, secret=SECRET, channel=CHANNEL)


def posts(fake: FakeSlack) -> list[Any]:
    return [c for c in fake.calls_to("chat.postMessage") if c.params.get("channel") == CHANNEL]


def parents(fake: FakeSlack) -> list[Any]:
    return [c for c in posts(fake) if not c.params.get("thread_ts")]


def key(message: dict[str, Any]) -> str:
    return (message.get("metadata") or {}).get("event_payload", {}).get("key", "")


@pytest.fixture
async def fake() -> Any:
    async with FakeSlack(team="Acme Corp") as started:
        started.add_channel(CHANNEL, "vendor-news")
        started.add_user("U0E2EUSER1")
        yield started


async def test_run_in_slack_http_mode_end_to_end(tmp_path: Path, fake: FakeSlack, feed_server) -> None:  # noqa: F811
    bot = Bot(tmp_path, fake, feed_server, poll_seconds=1)
    await bot.add_feeds(["wire", "ledger"])
    try:
        health = await bot.start()
        assert health["http_status"] == 200, health
        assert health["platforms"]["slack"]["identity"] == "bot vendorwatch in workspace Acme Corp (T0FAKE0001)"

        status, answer = await bot.command("watch scale-ai")
        assert status == 200 and not answer["text"].startswith(":warning:"), answer
        forged = slash_command_body("/vendorwatch", "unwatch scale-ai", channel_id=CHANNEL,
                                    response_url=fake.response_url())
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{bot.port}/slack/events", data=forged,
                                    headers=signed_headers(forged, "wrong")) as response:
                assert response.status == 401

        # Tag-like markup (<!channel>, <@U...>, <url|label>, also written as entities) is removed at
        # ingestion, where feed text becomes plain text; what is left of & < > must reach Slack escaped.
        hostile = ("Scale AI raises $1 billion in Series F funding led by Accel <!channel> "
                   "&lt;!here&gt; <@U0HUMAN001> <https://evil.example|trusted> for R&D, value > $25B & < $30B *wow*")
        feed_server.serve("/wire.xml", rss([item("w1", hostile, "wire"),
                                            item("w2", "An outlier year: chipmakers scale up AI spending", "wire")],
                                           title="wire"))
        (parent_call,) = await until(lambda: parents(fake), 30, "the parent alert")
        await asyncio.sleep(2.5)  # a look-alike would have arrived by now
        assert len(parents(fake)) == 1
        parent = fake.messages(CHANNEL)[0]
        assert parent["metadata"]["event_type"] == "vendorwatch_message"
        assert parent_call.params["unfurl_links"] in (False, "false", "0", 0)
        dumped = json.dumps({"text": parent["text"], "blocks": parent["blocks"]})
        assert "R&amp;D, value &gt; $25B &amp; &lt; $30B" in dumped
        for markup in ("<!channel>", "<!here>", "<@U0HUMAN001>", "<https://evil"):
            assert markup not in dumped

        feed_server.serve("/ledger.xml", rss([item("l1", "Scale AI raises $1 billion Series F as Accel leads round",
                                                   "ledger")], title="ledger"))
        context = [key(m) for m in fake.thread(CHANNEL, parent["ts"])[1:]]
        assert all(k.startswith("context:") for k in context), context  # the core's context reply, if any
        replies = await until(lambda: [m for m in fake.thread(CHANNEL, parent["ts"])[1:]
                                       if not key(m).startswith("context:")], 30, "the thread reply")
        assert len(replies) == 1 and replies[0]["thread_ts"] == parent["ts"], [key(m) for m in replies]
        await until(lambda: fake.calls_to("chat.update"), 15, "the parent's update")
        assert fake.calls_to("chat.update")[0].params["ts"] == parent["ts"]
        assert len(parents(fake)) == 1

        if importlib.util.find_spec("bot.feedback") is None:  # the feedback core lands on its own
            code, err = await bot.stop()
            assert code == 0, err
            pytest.skip("bot.feedback is not in this tree: the buttons' part was not run")
        answer = await bot.click(parent, "not_relevant")
        assert answer["response_type"] == "ephemeral" and not answer["text"].startswith(":warning:"), answer
        answer = await bot.click(parent, "mute")
        assert answer["response_type"] == "ephemeral" and not answer["text"].startswith(":warning:"), answer
        feed_server.serve("/ledger.xml", rss([
            item("l1", "Scale AI raises $1 billion Series F as Accel leads round", "ledger"),
            item("l2", "Scale AI raises $1 billion from Accel in Series F round, sources say", "ledger")],
            title="ledger"))
        await asyncio.sleep(4)  # polled and delivered by now, were it not muted
        assert [m for m in fake.thread(CHANNEL, parent["ts"])[1:] if not key(m).startswith("context:")] == replies

        code, err = await bot.stop()
        assert code == 0, err
    finally:
        await bot.kill()


@pytest.mark.skipif(os.environ.get("VW_MEASURE_SLACK_LATENCY") != "1",
                    reason="a measurement (about a minute): VW_MEASURE_SLACK_LATENCY=1")
async def test_latency_from_feed_to_slack(tmp_path: Path, fake: FakeSlack, feed_server) -> None:  # noqa: F811
    """Item on the feed server -> chat.postMessage at the fake, with POLL_INTERVAL_SECONDS=2."""
    bot = Bot(tmp_path, fake, feed_server, poll_seconds=2)
    await bot.add_feeds(["wire"])
    try:
        await bot.start()
        for slug in ("scale-ai", "openai", "anthropic", "cohere", "mistral-ai", "mistral"):
            await bot.command(f"watch {slug}")
        latencies = await measure_latency(feed_server, lambda: [m.at for m in parents(fake)], "Slack")
        assert len(latencies) >= 5
        code, err = await bot.stop()
        assert code == 0, err
    finally:
        await bot.kill()


async def test_run_with_a_bad_slack_token_exits_1_in_one_line(tmp_path: Path, fake: FakeSlack, feed_server) -> None:  # noqa: F811
    bot = Bot(tmp_path, fake, feed_server, poll_seconds=60)
    bot.env["SLACK_BOT_TOKEN"] = "xoxb-not-valid"
    proc = await asyncio.create_subprocess_exec(str(VENDORWATCH), "run", cwd=tmp_path, env=bot.env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(STARTUP_LIMIT_SECONDS):
        _, err = await proc.communicate()
    assert proc.returncode == 1
    assert "vendorwatch: slack could not start: Slack rejected the bot token (invalid_auth)" in err.decode()
    assert "Traceback" not in err.decode()
