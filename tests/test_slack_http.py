"""Signed requests, form-encoded as Slack sends them, to the real bolt endpoint on our aiohttp app:
slash commands and button clicks; valid, forged, stale and replayed; the Slack checks before
the command core (admins only, joining or asking to be invited)."""

from __future__ import annotations

import asyncio
import sys
import time
import types
from typing import Any, AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.messages import Reply, Request
from bot.platforms.slack.adapter import SlackPlatform
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_fixtures import fake_slack  # noqa: F401
from tests.fakes.slack_signing import block_actions_body, signed_headers, slash_command_body
from tests.test_slack_adapter import slack_settings

SECRET = "s3cret"
CHANNEL = "C0ALERTS01"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Core:
    """A stand-in command core that records what it was asked."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def handle(self, request: Request) -> Reply:
        self.requests.append(request)
        if request.text == "slow":
            await asyncio.sleep(0.4)
            return Reply(text="done <!channel>")
        if request.text.startswith("watch"):
            return Reply(text="This channel now watches Scale AI.", ephemeral=False)
        return Reply(text=f"you said {request.text}")


@pytest.fixture
async def endpoint(fake_slack: FakeSlack, request: pytest.FixtureRequest) -> AsyncIterator[Any]:  # noqa: F811
    fake_slack.add_channel(CHANNEL, "alerts")
    fake_slack.add_user("U0MEMBER01")
    fake_slack.add_user("U0ADMIN001", admin=True)
    admins_only = getattr(request, "param", "0")
    core = Core()
    platform = SlackPlatform(settings=slack_settings(fake_slack, SLACK_ADMINS_ONLY=admins_only), commands=core,
                             command_deadline=0.2)
    await platform.start()
    app = web.Application()
    platform.add_routes(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    yield types.SimpleNamespace(fake=fake_slack, core=core, platform=platform, client=client)
    await client.close()
    await platform.stop()


async def send(endpoint: Any, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    headers = headers if headers is not None else signed_headers(body, SECRET)
    response = await endpoint.client.post("/slack/events", data=body, headers={**headers, **FORM})
    text = await response.text()
    return response.status, (await response.json() if text.startswith("{") else text)


def command(endpoint: Any, text: str, channel: str = CHANNEL, user: str = "U0MEMBER01") -> tuple[bytes, str]:
    url = endpoint.fake.response_url()
    return slash_command_body("/vendorwatch", text, channel_id=channel, user_id=user, response_url=url), url


async def until(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_a_signed_command_is_answered_in_the_ack(endpoint: Any) -> None:
    body, _ = command(endpoint, "list")
    status, answer = await send(endpoint, body)
    assert status == 200
    assert answer["response_type"] == "ephemeral" and answer["text"] == "you said list"
    (seen,) = endpoint.core.requests
    assert (seen.platform, seen.channel_id, seen.user, seen.workspace, seen.text) == (
        "slack", CHANNEL, "U0MEMBER01", "T0FAKE0001", "list")


async def test_a_public_reply_goes_in_channel(endpoint: Any) -> None:
    body, _ = command(endpoint, "watch scale-ai")
    status, answer = await send(endpoint, body)
    assert status == 200 and answer["response_type"] == "in_channel"


async def test_a_slow_command_is_acked_then_answered_at_the_response_url(endpoint: Any) -> None:
    body, url = command(endpoint, "slow")
    started = time.monotonic()
    status, answer = await send(endpoint, body)
    assert status == 200 and time.monotonic() - started < 0.4
    assert answer["text"].startswith("Working on it")
    await until(lambda: endpoint.fake.responses(url))
    (later,) = endpoint.fake.responses(url)
    assert later["text"] == "done &lt;!channel&gt;" and later["response_type"] == "ephemeral"


async def test_a_forged_signature_is_refused(endpoint: Any) -> None:
    body, _ = command(endpoint, "list")
    status, _ = await send(endpoint, body, signed_headers(body, "not-the-secret"))
    assert status == 401 and endpoint.core.requests == []


async def test_a_tampered_body_is_refused(endpoint: Any) -> None:
    body, _ = command(endpoint, "list")
    headers = signed_headers(body, SECRET)
    status, _ = await send(endpoint, body.replace(b"text=list", b"text=unwatch"), headers)
    assert status == 401 and endpoint.core.requests == []


async def test_a_stale_request_is_refused(endpoint: Any) -> None:
    body, _ = command(endpoint, "list")
    status, _ = await send(endpoint, body, signed_headers(body, SECRET, int(time.time()) - 6 * 60))
    assert status == 401 and endpoint.core.requests == []


async def test_a_replayed_request_is_refused(endpoint: Any) -> None:
    body, _ = command(endpoint, "list")
    headers = signed_headers(body, SECRET)
    assert (await send(endpoint, body, headers))[0] == 200
    status, _ = await send(endpoint, body, headers)
    assert status == 401 and len(endpoint.core.requests) == 1


async def test_unsigned_is_refused(endpoint: Any) -> None:
    body, _ = command(endpoint, "list")
    status, _ = await send(endpoint, body, {})
    assert status == 401 and endpoint.core.requests == []


@pytest.mark.parametrize("endpoint", ["1"], indirect=True)
async def test_admins_only_checks_users_info(endpoint: Any) -> None:
    body, _ = command(endpoint, "watch scale-ai", user="U0MEMBER01")
    _, answer = await send(endpoint, body)
    assert answer["response_type"] == "ephemeral" and "admins and owners" in answer["text"]
    assert endpoint.core.requests == []
    body, _ = command(endpoint, "list", user="U0MEMBER01")  # reading is for everyone
    assert (await send(endpoint, body))[1]["text"] == "you said list"
    body, _ = command(endpoint, "watch scale-ai", user="U0ADMIN001")
    assert (await send(endpoint, body))[1]["response_type"] == "in_channel"
    assert [c.params["user"] for c in endpoint.fake.calls_to("users.info")] == ["U0MEMBER01", "U0ADMIN001"]


async def test_watch_in_a_public_channel_joins_it(endpoint: Any) -> None:
    endpoint.fake.add_channel("C0PUBLIC01", "news", member=False)
    body, _ = command(endpoint, "watch scale-ai", channel="C0PUBLIC01")
    _, answer = await send(endpoint, body)
    assert answer["response_type"] == "in_channel"
    assert endpoint.fake.workspace.channels["C0PUBLIC01"].member
    assert len(endpoint.fake.calls_to("conversations.join")) == 1


async def test_watch_in_a_private_channel_says_how_to_invite(endpoint: Any) -> None:
    endpoint.fake.add_channel("G0PRIVATE1", "secret", member=False, private=True)
    body, _ = command(endpoint, "watch scale-ai", channel="G0PRIVATE1")
    _, answer = await send(endpoint, body)
    assert answer["response_type"] == "ephemeral" and "/invite @vendorwatch" in answer["text"]
    assert endpoint.core.requests == []


def click(endpoint: Any, action_id: str, value: str) -> tuple[bytes, str]:
    url = endpoint.fake.response_url()
    ts = endpoint.fake.add_message(CHANNEL, "an alert", user="U0FAKEBOT1")
    return block_actions_body(action_id, value, CHANNEL, "U0MEMBER01", message_ts=ts, response_url=url), url


@pytest.fixture
def feedback_module(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    module = types.ModuleType("bot.feedback")

    async def mute_story(engine: Any, **kw: Any) -> Reply:
        calls.append(("mute", kw))
        return Reply(text="Muted: no more thread replies about this story here.")

    async def mark_not_relevant(engine: Any, **kw: Any) -> Reply:
        calls.append(("not_relevant", kw))
        return Reply(text="Thanks, marked not relevant.")

    module.mute_story, module.mark_not_relevant = mute_story, mark_not_relevant  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.feedback", module)
    import bot
    monkeypatch.setattr(bot, "feedback", module, raising=False)
    return calls


@pytest.mark.parametrize("action_id, kind", [("vendorwatch_mute:1", "mute"),
                                             ("vendorwatch_not_relevant:2", "not_relevant")])
async def test_buttons_call_the_feedback_core(endpoint: Any, feedback_module: list, action_id: str, kind: str) -> None:
    body, url = click(endpoint, action_id, "story:42")
    status, _ = await send(endpoint, body)
    assert status == 200
    await until(lambda: endpoint.fake.responses(url))
    assert feedback_module == [(kind, {"platform": "slack", "channel_id": CHANNEL, "story_id": 42,
                                       "user": "U0MEMBER01"})]
    (answer,) = endpoint.fake.responses(url)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False


async def test_a_forged_click_is_refused(endpoint: Any, feedback_module: list) -> None:
    body, _ = click(endpoint, "vendorwatch_mute:1", "story:42")
    status, _ = await send(endpoint, body, signed_headers(body, "wrong"))
    assert status == 401 and feedback_module == []


async def test_the_open_button_is_just_acked(endpoint: Any) -> None:
    body, url = click(endpoint, "vendorwatch_open:0", "")
    status, _ = await send(endpoint, body)
    assert status == 200 and endpoint.fake.responses(url) == []


async def test_a_replay_sent_to_another_replica_is_refused(fake_slack: FakeSlack, engine: Any) -> None:  # noqa: F811
    """Two replicas behind one load balancer share the record of seen signatures (table seen_request)."""
    fake_slack.add_channel(CHANNEL, "alerts")
    fake_slack.add_user("U0MEMBER01")
    cores, clients, platforms = [Core(), Core()], [], []
    try:
        for core in cores:
            platform = SlackPlatform(settings=slack_settings(fake_slack), engine=engine, commands=core,
                                     command_deadline=0.2)
            await platform.start()
            platforms.append(platform)
            app = web.Application()
            platform.add_routes(app)
            clients.append(TestClient(TestServer(app)))
            await clients[-1].start_server()
        body = slash_command_body("/vendorwatch", "list", channel_id=CHANNEL, user_id="U0MEMBER01",
                                  response_url=fake_slack.response_url())
        headers = {**signed_headers(body, SECRET), **FORM}
        statuses = [(await client.post("/slack/events", data=body, headers=headers)).status for client in clients]
        assert statuses == [200, 401]
        assert [len(core.requests) for core in cores] == [1, 0]
    finally:
        for client in clients:
            await client.close()
        for platform in platforms:
            await platform.stop()


async def test_the_replay_record_keeps_only_the_window(engine: Any) -> None:
    from sqlmodel import select
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot.platforms.replay import ReplayGuard
    from watchers.storage.requests import SeenRequest

    guard = ReplayGuard(engine, window_seconds=0.2)
    assert await guard.first_time("v0=abc", platform="slack")
    assert not await guard.first_time("v0=abc", platform="slack")
    await asyncio.sleep(0.3)
    assert await guard.first_time("v0=def", platform="slack")  # and the old one is pruned
    assert await guard.first_time("v0=abc", platform="slack")
    async with AsyncSession(engine) as session:
        kept = (await session.exec(select(SeenRequest))).all()
    assert len(kept) == 2 and all(len(row.signature_sha256) == 64 and "abc" not in row.signature_sha256 for row in kept)


async def test_without_a_database_replays_are_refused_by_this_process() -> None:
    from bot.platforms.replay import ReplayGuard

    guard = ReplayGuard(None)
    assert await guard.first_time("v0=abc", platform="slack")
    assert not await guard.first_time("v0=abc", platform="slack")
