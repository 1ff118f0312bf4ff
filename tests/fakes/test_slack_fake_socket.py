"""Socket Mode of the Slack fake with slack-sdk's aiohttp SocketModeClient, and the signing helpers."""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_fixtures import fake_slack  # noqa: F401
from tests.fakes.slack_signing import block_actions_body, signed_headers, slash_command_body

# Slack's published example (docs: "Verifying requests from Slack").
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = 1531420618
DOC_BODY = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554"
            b"%2F96rGlfmibIGlgcZRskXaIFfN"
            b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


class Recorder:
    """A Socket Mode app that keeps every message and acks requests with a reply payload."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.requests: list[SocketModeRequest] = []

    async def on_message(self, client: SocketModeClient, message: dict[str, Any], raw: str | None) -> None:
        self.messages.append(message)

    async def on_request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        self.requests.append(request)
        await client.send_socket_mode_response(SocketModeResponse(request.envelope_id, {"text": "got it"}))


@pytest.fixture
async def socket_app(fake_slack: FakeSlack) -> AsyncIterator[tuple[SocketModeClient, Recorder]]:
    recorder = Recorder()
    web_client = AsyncWebClient(base_url=fake_slack.base_url, retry_handlers=[])
    client = SocketModeClient(app_token=fake_slack.app_token, web_client=web_client, ping_interval=0.5)
    client.message_listeners.append(recorder.on_message)
    client.socket_mode_request_listeners.append(recorder.on_request)
    await client.connect()
    await fake_slack.socket_wait_connected()
    yield client, recorder
    await client.close()
    if web_client.session is not None:
        await web_client.session.close()


async def _until(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_hello_slash_command_and_ack(fake_slack: FakeSlack,
                                           socket_app: tuple[SocketModeClient, Recorder]) -> None:
    _, recorder = socket_app
    await _until(lambda: any(m.get("type") == "hello" for m in recorder.messages))
    assert fake_slack.calls_to("apps.connections.open")[0].token == fake_slack.app_token
    envelope_id = await fake_slack.socket_send_slash_command("/vendorwatch", "status", channel_id="C0ALERTS01",
                                                             user_id="U0ADMIN001")
    ack = await fake_slack.socket_wait_ack(envelope_id, timeout=5)
    assert ack == {"envelope_id": envelope_id, "payload": {"text": "got it"}}
    request = recorder.requests[0]
    assert (request.type, request.accepts_response_payload) == ("slash_commands", True)
    assert {k: request.payload[k] for k in ("command", "text", "channel_id", "user_id", "team_id")} == {
        "command": "/vendorwatch", "text": "status", "channel_id": "C0ALERTS01", "user_id": "U0ADMIN001",
        "team_id": "T0FAKE0001"}
    assert request.payload["response_url"].startswith(fake_slack.root_url)


async def test_disconnect_makes_the_client_reconnect(fake_slack: FakeSlack,
                                                     socket_app: tuple[SocketModeClient, Recorder]) -> None:
    await fake_slack.socket.send_disconnect()
    await _until(lambda: len(fake_slack.calls_to("apps.connections.open")) == 2)
    await _until(lambda: sum(m["type"] == "hello" for m in fake_slack.socket.sent) == 2)
    await fake_slack.socket_wait_connected()
    envelope_id = await fake_slack.socket_send_slash_command(text="after reconnect")
    assert (await fake_slack.socket_wait_ack(envelope_id))["envelope_id"] == envelope_id


async def test_missing_ack_times_out(fake_slack: FakeSlack, socket_app: tuple[SocketModeClient, Recorder]) -> None:
    client, _ = socket_app
    client.socket_mode_request_listeners.clear()
    envelope_id = await fake_slack.socket_send_slash_command(text="nobody answers")
    with pytest.raises(TimeoutError):
        await fake_slack.socket_wait_ack(envelope_id, timeout=0.3)


async def test_socket_needs_a_ticket_from_connections_open(fake_slack: FakeSlack) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(f"ws://127.0.0.1:{fake_slack.port}/socket?ticket=made-up")
    assert refused.value.status == 401


def test_signature_matches_slacks_published_example() -> None:
    assert signed_headers(DOC_BODY, DOC_SECRET, DOC_TIMESTAMP) == {
        "X-Slack-Request-Timestamp": "1531420618", "X-Slack-Signature": DOC_SIGNATURE}


def test_signed_bodies_pass_slack_sdks_verifier() -> None:
    body = slash_command_body("/vendorwatch", "add Acme", channel_id="C0ALERTS01", user_id="U0ADMIN001",
                              team_id="T0FAKE0001", response_url="http://127.0.0.1:9/response/x", trigger_id="1.2.3")
    headers = signed_headers(body, "shh")
    assert SignatureVerifier("shh").is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    fields = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    assert {k: fields[k] for k in ("command", "text", "channel_id", "user_id", "team_id", "trigger_id")} == {
        "command": "/vendorwatch", "text": "add Acme", "channel_id": "C0ALERTS01", "user_id": "U0ADMIN001",
        "team_id": "T0FAKE0001", "trigger_id": "1.2.3"}


def test_block_actions_body_is_a_payload_field() -> None:
    body = block_actions_body("mute", "acme", "C0ALERTS01", "U0ADMIN001", message_ts="1718000000.000100",
                              response_url="http://127.0.0.1:9/response/x")
    (raw,) = parse_qs(body.decode())["payload"]
    payload = json.loads(raw)
    assert payload["type"] == "block_actions" and payload["user"]["id"] == "U0ADMIN001"
    assert payload["container"] == {"type": "message", "message_ts": "1718000000.000100", "channel_id": "C0ALERTS01",
                                    "is_ephemeral": False}
    assert (payload["actions"][0]["action_id"], payload["actions"][0]["value"]) == ("mute", "acme")
    assert payload["response_url"] == "http://127.0.0.1:9/response/x"
