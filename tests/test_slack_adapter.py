"""The Slack adapter against FakeSlack: lifecycle (auth.test), what each post carries, find_sent,
threads and broadcasts, uploads, and Slack's errors mapped to the contract's three kinds."""

from __future__ import annotations

import re
from typing import Any, AsyncIterator

import pytest

from bot.messages import Attachment, Message
from bot.platforms.contract import PermanentError, RateLimited, TransientError
from bot.platforms.slack.adapter import EVENT_TYPE, SlackPlatform, keyed_filename
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_fixtures import fake_slack  # noqa: F401
from watchers.settings import load_settings

CHANNEL = "C0ALERTS01"


def slack_settings(fake: FakeSlack, **more: str) -> Any:
    env = {"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_SIGNING_SECRET": "s3cret", "SLACK_API_URL": fake.base_url,
           "SLACK_PACE_SECONDS": "1", **more}
    return load_settings(env, dotenv_path=None)


@pytest.fixture
async def slack(fake_slack: FakeSlack) -> AsyncIterator[SlackPlatform]:  # noqa: F811
    fake_slack.add_channel(CHANNEL, "alerts")
    platform = SlackPlatform(settings=slack_settings(fake_slack), api_timeout=0.5)
    await platform.start()
    yield platform
    await platform.stop()


async def test_start_checks_the_token_and_health_says_who(slack: SlackPlatform, fake_slack: FakeSlack) -> None:  # noqa: F811
    health = await slack.health()
    assert health.ok
    assert health.identity == "bot vendorwatch in workspace Vendorwatch Test (T0FAKE0001)"
    assert slack.pace.channel_seconds == 1.0
    assert fake_slack.calls_to("auth.test")[0].token == fake_slack.bot_token


@pytest.mark.parametrize("revoke, expected", [
    (False, "Slack rejected the bot token (invalid_auth)"),
    (True, "Slack says the bot token was revoked (token_revoked)")])
async def test_bad_credentials_are_one_clear_line(fake_slack: FakeSlack, revoke: bool, expected: str) -> None:  # noqa: F811
    if revoke:
        fake_slack.revoke_token(fake_slack.bot_token)
        settings = slack_settings(fake_slack)
    else:
        settings = slack_settings(fake_slack, SLACK_BOT_TOKEN="xoxb-wrong")
    platform = SlackPlatform(settings=settings)
    with pytest.raises(PermanentError) as raised:
        await platform.start()
    assert str(raised.value) == expected
    health = await platform.health()
    assert not health.ok and health.detail == "not started"


async def test_unreachable_slack_is_one_line(fake_slack: FakeSlack) -> None:  # noqa: F811
    settings = slack_settings(fake_slack, SLACK_API_URL="http://127.0.0.1:9/api/")
    with pytest.raises(PermanentError, match=r"^cannot reach Slack at http://127.0.0.1:9/api/"):
        await SlackPlatform(settings=settings).start()


async def test_a_post_carries_the_key_in_metadata_and_no_unfurls(slack: SlackPlatform, fake_slack: FakeSlack) -> None:  # noqa: F811
    ts = await slack.post(CHANNEL, Message(title="Scale AI raises"), key="alert:7")
    (call,) = fake_slack.calls_to("chat.postMessage")
    assert call.params["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"key": "alert:7"}}
    assert str(call.params["unfurl_links"]).lower() in ("false", "0")
    assert str(call.params["unfurl_media"]).lower() in ("false", "0")
    assert "link_names" not in call.params and "parse" not in call.params
    assert fake_slack.messages(CHANNEL)[0]["ts"] == ts


async def test_find_sent_sees_parents_and_thread_replies(slack: SlackPlatform, fake_slack: FakeSlack) -> None:  # noqa: F811
    parent = await slack.post(CHANNEL, Message(title="parent"), key="alert:1")
    fake_slack.add_message(CHANNEL, "someone talks", user="U0HUMAN001")
    reply = await slack.post(CHANNEL, Message(title="reply"), thread=parent, key="more:1")
    assert await slack.find_sent(CHANNEL, "alert:1") == parent
    assert await slack.find_sent(CHANNEL, "more:1", thread=parent) == reply
    assert await slack.find_sent(CHANNEL, "more:1") is None  # replies are not in the channel's history
    assert await slack.find_sent(CHANNEL, "alert:2") is None
    assert all(str(c.params["include_all_metadata"]).lower() in ("1", "true")
               for c in fake_slack.calls if c.method.startswith("conversations."))


async def test_a_new_event_type_is_a_broadcast_reply_and_edits_update(slack: SlackPlatform,
                                                                     fake_slack: FakeSlack) -> None:  # noqa: F811
    parent = await slack.post(CHANNEL, Message(title="funding"))
    await slack.post(CHANNEL, Message(title="one more outlet"), thread=parent)
    await slack.post(CHANNEL, Message(title="now layoffs", flag="new event type"), thread=parent)
    await slack.edit(CHANNEL, parent, Message(title="funding (3 sources)"))
    replies = fake_slack.thread(CHANNEL, parent)[1:]
    assert [r.get("subtype") for r in replies] == [None, "thread_broadcast"]
    assert [m["ts"] for m in fake_slack.messages(CHANNEL)] == [parent, replies[1]["ts"]]
    assert fake_slack.messages(CHANNEL)[0]["blocks"][0]["text"]["text"] == "funding (3 sources)"


async def test_files_go_apart_from_the_message(slack: SlackPlatform, fake_slack: FakeSlack) -> None:  # noqa: F811
    assert slack.uploads_separately  # the outbox uploads each attachment as its own row
    with pytest.raises(ValueError, match="apart"):
        await slack.post(CHANNEL, Message(title="Weekly digest", attachments=(Attachment("chart.png", b"\x89PNG"),)))
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_a_keyed_upload_goes_into_the_thread_and_is_found_again(slack: SlackPlatform,
                                                                     fake_slack: FakeSlack) -> None:  # noqa: F811
    ts = await slack.post(CHANNEL, Message(title="Weekly digest"), key="digest:1")
    sent = await slack.upload(CHANNEL, Attachment("chart.png", b"\x89PNG", "Chart"), thread=ts, key="digest:1:file:0")
    (upload,) = fake_slack.uploads
    assert upload.filename == keyed_filename("chart.png", "digest:1:file:0")
    assert re.fullmatch(r"chart\.vw[0-9a-f]{12}\.png", upload.filename) and upload.title == "Chart"
    assert (upload.data, upload.channels, upload.thread_ts) == (b"\x89PNG", [CHANNEL], ts)
    assert [c.method for c in fake_slack.calls][-2:] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    assert fake_slack.thread(CHANNEL, ts)[-1]["ts"] == sent
    assert await slack.find_sent(CHANNEL, "digest:1:file:0", thread=ts) == sent
    assert await slack.find_sent(CHANNEL, "digest:1:file:1", thread=ts) is None
    assert await slack.find_sent(CHANNEL, "digest:1") == ts  # the post's key does not match its file


async def test_a_file_someone_else_shared_with_that_name_is_not_ours(slack: SlackPlatform,
                                                                    fake_slack: FakeSlack) -> None:  # noqa: F811
    ts = await slack.post(CHANNEL, Message(title="Weekly digest"), key="digest:2")
    name = keyed_filename("chart.png", "digest:2:file:0")
    fake_slack.workspace.post(fake_slack.workspace.channels[CHANNEL], {"files": [{"id": "F1", "name": name}]},
                              user="U0HUMAN001", thread_ts=ts)
    assert await slack.find_sent(CHANNEL, "digest:2:file:0", thread=ts) is None


async def test_upload_returns_the_ts_of_the_file_message(slack: SlackPlatform, fake_slack: FakeSlack) -> None:  # noqa: F811
    ts = await slack.upload(CHANNEL, Attachment("a.csv", b"x,y\n", "Data"))
    assert fake_slack.messages(CHANNEL)[-1]["ts"] == ts


@pytest.mark.parametrize("method, scope", [("chat.postMessage", "channel"), ("chat.update", "workspace")])
async def test_429_is_rate_limited_with_retry_after(slack: SlackPlatform, fake_slack: FakeSlack, method: str,  # noqa: F811
                                                    scope: str) -> None:
    parent = await slack.post(CHANNEL, Message(title="x"))
    fake_slack.fail_next(method, status=429, retry_after=7)
    with pytest.raises(RateLimited) as raised:
        if method == "chat.postMessage":
            await slack.post(CHANNEL, Message(title="y"))
        else:
            await slack.edit(CHANNEL, parent, Message(title="y"))
    assert (raised.value.retry_after, raised.value.scope, raised.value.workspace) == (7.0, scope, "T0FAKE0001")
    assert len(fake_slack.calls_to(method)) == (2 if method == "chat.postMessage" else 1)  # no retry by the SDK


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_transient(slack: SlackPlatform, fake_slack: FakeSlack, status: int) -> None:  # noqa: F811
    fake_slack.fail_next("chat.postMessage", status=status)
    with pytest.raises(TransientError):
        await slack.post(CHANNEL, Message(title="y"))


async def test_a_timeout_is_transient(slack: SlackPlatform, fake_slack: FakeSlack) -> None:  # noqa: F811
    fake_slack.fail_next("chat.postMessage", delay=2)
    with pytest.raises(TransientError, match="timed out|TimeoutError"):
        await slack.post(CHANNEL, Message(title="slow"))


@pytest.mark.parametrize("code", ["channel_not_found", "not_in_channel", "is_archived", "account_inactive",
                                  "invalid_auth", "token_revoked", "missing_scope"])
async def test_permanent_codes_pause_with_the_reason(slack: SlackPlatform, fake_slack: FakeSlack, code: str) -> None:  # noqa: F811
    fake_slack.fail_next("chat.postMessage", error=code)
    with pytest.raises(PermanentError) as raised:
        await slack.post(CHANNEL, Message(title="y"))
    assert raised.value.reason.startswith(f"{code}: ")


async def test_real_channel_states_map_too(slack: SlackPlatform, fake_slack: FakeSlack) -> None:  # noqa: F811
    fake_slack.add_channel("C0OUTSIDE1", "outside", member=False)
    fake_slack.add_channel("C0ARCHIVE1", "old", archived=True)
    for channel, code in (("C0OUTSIDE1", "not_in_channel"), ("C0ARCHIVE1", "is_archived"), ("C0GONE0001", "channel_not_found")):
        with pytest.raises(PermanentError, match=f"^{code}"):
            await slack.post(channel, Message(title="y"))


async def test_stop_lets_go(slack: SlackPlatform) -> None:
    await slack.stop()
    assert not (await slack.health()).ok
