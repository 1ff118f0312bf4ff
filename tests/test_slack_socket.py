"""Socket Mode: the adapter starts against FakeSlack's apps.connections.open and websocket, and
answers one slash command through the envelope's ack."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from bot.messages import Reply, Request
from bot.platforms.contract import PermanentError
from bot.platforms.slack.adapter import SlackPlatform
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_fixtures import fake_slack  # noqa: F401
from tests.test_slack_adapter import slack_settings


async def handle(request: Request) -> Reply:
    if request.text == "slow":
        await asyncio.sleep(0.4)
        return Reply(text="later answer")
    return Reply(text=f"socket heard {request.text} in {request.channel_id}")


async def test_socket_mode_starts_and_answers_a_slash_command(fake_slack: FakeSlack) -> None:  # noqa: F811
    fake_slack.add_channel("C0ALERTS01", "alerts")
    platform = SlackPlatform(settings=slack_settings(fake_slack, SLACK_APP_TOKEN=fake_slack.app_token),
                             commands=handle, command_deadline=0.2)
    app = web.Application()
    platform.add_routes(app)
    assert not [r for r in app.router.routes() if r.resource and r.resource.canonical == "/slack/events"]
    await platform.start()
    try:
        await fake_slack.socket_wait_connected()
        assert fake_slack.calls_to("apps.connections.open")[0].token == fake_slack.app_token
        assert (await platform.health()).ok
        envelope = await fake_slack.socket_send_slash_command(text="list", channel_id="C0ALERTS01")
        ack = await fake_slack.socket_wait_ack(envelope)
        assert ack["payload"]["text"] == "socket heard list in C0ALERTS01"
        assert ack["payload"]["response_type"] == "ephemeral"

        url = fake_slack.response_url()
        envelope = await fake_slack.socket_send_slash_command(text="slow", response_url=url)
        ack = await fake_slack.socket_wait_ack(envelope)
        assert ack["payload"]["text"].startswith("Working on it")
        async with asyncio.timeout(5):
            while not fake_slack.responses(url):
                await asyncio.sleep(0.01)
        assert fake_slack.responses(url)[0]["text"] == "later answer"
    finally:
        await platform.stop()
    assert not (await platform.health()).ok


async def test_a_bad_app_token_is_one_line(fake_slack: FakeSlack) -> None:  # noqa: F811
    platform = SlackPlatform(settings=slack_settings(fake_slack, SLACK_APP_TOKEN="xapp-wrong"), commands=handle)
    with pytest.raises(PermanentError, match=r"^Slack rejected the app-level token SLACK_APP_TOKEN \(invalid_auth\)"):
        await platform.start()


async def test_health_notices_a_dropped_socket(fake_slack: FakeSlack) -> None:  # noqa: F811
    platform = SlackPlatform(settings=slack_settings(fake_slack, SLACK_APP_TOKEN=fake_slack.app_token), commands=handle)
    await platform.start()
    try:
        await fake_slack.socket_wait_connected()
        await fake_slack.socket.send_disconnect()
        async with asyncio.timeout(5):  # the client reconnects by itself
            while len(fake_slack.calls_to("apps.connections.open")) < 2:
                await asyncio.sleep(0.01)
        await fake_slack.socket_wait_connected()
        async with asyncio.timeout(5):
            while not (await platform.health()).ok:
                await asyncio.sleep(0.05)
    finally:
        await platform.stop()


