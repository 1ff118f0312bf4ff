"""The Slack fake's error codes, token checks and scripted faults, seen through the real AsyncWebClient."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_fixtures import fake_slack, slack_client  # noqa: F401

C = "C0ALERTS01"


def _text(n: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": "x" * n}


def _button(n: int) -> dict[str, Any]:
    return {"type": "button", "action_id": f"a{n}", "text": {"type": "plain_text", "text": "go"}}


BAD_BLOCKS = {
    "not a list": {"type": "section", "text": _text(1)},
    "not objects": ["section"],
    "unknown type": [{"type": "headline"}],
    "51 blocks": [{"type": "divider"}] * 51,
    "header 151": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
    "section 3001": [{"type": "section", "text": _text(3001)}],
    "11 fields": [{"type": "section", "fields": [_text(1)] * 11}],
    "26 actions": [{"type": "actions", "elements": [_button(n) for n in range(26)]}],
    "11 context": [{"type": "context", "elements": [_text(1)] * 11}],
}


async def _error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


@pytest.mark.parametrize("blocks", BAD_BLOCKS.values(), ids=BAD_BLOCKS.keys())
async def test_invalid_blocks(fake_slack: FakeSlack, slack_client: AsyncWebClient, blocks: Any) -> None:
    fake_slack.add_channel(C, "alerts")
    error = await _error(slack_client.chat_postMessage(channel=C, text="t", blocks=blocks))
    assert error.response.status_code == 200 and error.response["error"] == "invalid_blocks"
    assert error.response["errors"] and fake_slack.messages(C) == []


async def test_limits_at_the_edge_are_accepted(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 150}},
              {"type": "section", "text": _text(3000), "fields": [_text(1)] * 10},
              {"type": "context", "elements": [_text(1)] * 10},
              {"type": "actions", "elements": [_button(n) for n in range(25)]}]
    blocks += [{"type": "divider"}] * (50 - len(blocks))
    await slack_client.chat_postMessage(channel=C, text="x" * 40_000, blocks=blocks)
    assert len(fake_slack.messages(C)[0]["blocks"]) == 50


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
async def test_message_content_errors(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    assert (await _error(slack_client.chat_postMessage(channel=C))).response["error"] == "no_text"
    assert (await _error(slack_client.chat_postMessage(channel=C, text="", blocks=[]))).response["error"] == "no_text"
    too_long = await _error(slack_client.chat_postMessage(channel=C, text="x" * 40_001))
    assert too_long.response["error"] == "msg_too_long"
    bad_metadata = await _error(slack_client.chat_postMessage(channel=C, text="t", metadata={"event_payload": {}}))
    assert bad_metadata.response["error"] == "invalid_metadata_format"


async def test_channel_errors(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel("C0OUTSIDE1", "outside", member=False)
    fake_slack.add_channel("C0ARCHIVE1", "old", archived=True)
    fake_slack.add_channel("G0HIDDEN01", "hidden", private=True, member=False)
    fake_slack.add_channel("G0PRIVATE1", "private", private=True)
    cases = [
        (slack_client.chat_postMessage(channel="C0NOWHERE1", text="t"), "channel_not_found"),
        (slack_client.chat_postMessage(channel="C0OUTSIDE1", text="t"), "not_in_channel"),
        (slack_client.chat_postMessage(channel="C0ARCHIVE1", text="t"), "is_archived"),
        (slack_client.conversations_history(channel="C0OUTSIDE1"), "not_in_channel"),
        (slack_client.conversations_info(channel="G0HIDDEN01"), "channel_not_found"),
        (slack_client.conversations_join(channel="C0ARCHIVE1"), "is_archived"),
        (slack_client.conversations_join(channel="G0PRIVATE1"), "method_not_supported_for_channel_type"),
        (slack_client.users_info(user="U0NOBODY01"), "user_not_found"),
        (slack_client.chat_postEphemeral(channel="G0PRIVATE1", user="U0NOBODY01", text="t"), "user_not_found"),
    ]
    for call, code in cases:
        assert (await _error(call)).response["error"] == code


async def test_ts_errors(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    fake_slack.add_user("U0PERSON01")
    theirs = fake_slack.add_message(C, "a person's words", user="U0PERSON01")
    bad = "1718000000.000100"
    cases = [
        (slack_client.conversations_replies(channel=C, ts=bad), "thread_not_found"),
        (slack_client.chat_postMessage(channel=C, text="t", thread_ts=bad), "thread_not_found"),
        (slack_client.chat_update(channel=C, ts=bad, text="t"), "message_not_found"),
        (slack_client.chat_update(channel=C, ts=theirs, text="t"), "cant_update_message"),
        (slack_client.conversations_history(channel=C, cursor="bm90IGEgY3Vyc29y"), "invalid_cursor"),
    ]
    for call, code in cases:
        assert (await _error(call)).response["error"] == code


async def test_upload_errors(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    missing = await _error(slack_client.files_completeUploadExternal(files=[{"id": "F0NOTHERE1"}], channel_id=C))
    assert missing.response["error"] == "file_not_found"
    issued = await slack_client.files_getUploadURLExternal(filename="a.txt", length=3)
    not_sent = await _error(slack_client.files_completeUploadExternal(files=[{"id": issued["file_id"]}], channel_id=C))
    assert not_sent.response["error"] == "file_not_found"
    wrong_place = await _error(slack_client.files_upload_v2(channel="C0NOWHERE1", content="abc", filename="a.txt"))
    assert wrong_place.response["error"] == "channel_not_found"


async def test_unknown_method(slack_client: AsyncWebClient) -> None:
    error = await _error(slack_client.api_call("chat.postMesage", json={"channel": C, "text": "t"}))
    assert error.response["error"] == "unknown_method"


@pytest.mark.parametrize(("token", "code"), [("xoxb-wrong", "invalid_auth"), ("", "not_authed"),
                                             ("xapp-1-fake-app-token", "not_allowed_token_type")])
async def test_bad_tokens(fake_slack: FakeSlack, token: str, code: str) -> None:
    client = AsyncWebClient(token=token or None, base_url=fake_slack.base_url, retry_handlers=[])
    assert (await _error(client.auth_test())).response["error"] == code


async def test_revoked_token(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    await slack_client.auth_test()
    fake_slack.revoke_token(fake_slack.bot_token)
    assert (await _error(slack_client.auth_test())).response["error"] == "token_revoked"


async def test_bot_token_cannot_open_socket_mode(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    error = await _error(slack_client.apps_connections_open(app_token=fake_slack.bot_token))
    assert error.response["error"] == "not_allowed_token_type"


async def test_rate_limit_surfaces_with_retry_after(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=3)
    error = await _error(slack_client.chat_postMessage(channel=C, text="t"))
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "3"
    assert error.response["error"] == "ratelimited"
    await slack_client.chat_postMessage(channel=C, text="t")
    assert len(fake_slack.messages(C)) == 1


async def test_rate_limit_handler_retries(fake_slack: FakeSlack) -> None:
    fake_slack.add_channel(C, "alerts")
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.base_url,
                            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    await client.chat_postMessage(channel=C, text="t")
    assert len(fake_slack.calls_to("chat.postMessage")) == 2 and len(fake_slack.messages(C)) == 1


async def test_server_error_and_scripted_error_codes(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    fake_slack.add_channel("C0OTHER001", "other")
    fake_slack.fail_next("chat.postMessage", status=500)
    server = await _error(slack_client.chat_postMessage(channel=C, text="t"))
    assert server.response.status_code == 500 and server.response["error"] == "internal_error"
    fake_slack.fail_next("chat.postMessage", error="channel_not_found", channel=C, times=2)
    await slack_client.chat_postMessage(channel="C0OTHER001", text="other channel is fine")
    for _ in range(2):
        scripted = await _error(slack_client.chat_postMessage(channel=C, text="t"))
        assert scripted.response.status_code == 200 and scripted.response["error"] == "channel_not_found"
    await slack_client.chat_postMessage(channel=C, text="third time works")
    assert [m["text"] for m in fake_slack.messages(C)] == ["third time works"]


async def test_delay_trips_the_client_timeout_yet_the_post_lands(fake_slack: FakeSlack) -> None:
    fake_slack.add_channel(C, "alerts")
    # margins wide enough for a loaded machine: a 0.1 s timeout could expire before the request is sent
    fake_slack.fail_next("chat.postMessage", delay=2.0)
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.base_url, timeout=1, retry_handlers=[])
    with pytest.raises(asyncio.TimeoutError):
        await client.chat_postMessage(channel=C, text="late")
    await client.chat_postMessage(channel=C, text="on time")
    await asyncio.sleep(1.5)
    assert [m["text"] for m in fake_slack.messages(C)] == ["on time", "late"]


async def test_every_call_faults_until_cleared(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.fail_next("auth.test", status=503, times=None)
    for _ in range(3):
        assert (await _error(slack_client.auth_test())).response.status_code == 503
    fake_slack.clear_faults()
    assert (await slack_client.auth_test())["ok"] is True
