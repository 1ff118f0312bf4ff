"""The Slack adapter against FakeSlack: lifecycle (auth.test), what each post carries, find_sent,
threads and broadcasts, uploads, and Slack's errors mapped to the contract's three kinds."""

from __future__ import annotations

import re
from typing import Any, AsyncIterator

import pytest

from bot.messages import Attachment, Message
from bot.platforms.contract import PermanentError, RateLimited, TransientError
from bot.platforms.slack.adapter import EVENT_TYPE, SlackPlatform, keyed_filename
from tests.delivery_support import ManualClock
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


@pytest.mark.parametrize("method, scope", [("chat.postMessage", "channel"), ("chat.update", "channel")])
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


# --- what a 429 holds (bot/platforms/slack/limits.py) ----------------------------------------

OTHERS = ("C0OTHER001", "C0OTHER002", "C0OTHER003", "C0OTHER004")


@pytest.fixture
def clocked(slack: SlackPlatform, fake_slack: FakeSlack) -> tuple[SlackPlatform, ManualClock]:  # noqa: F811
    """The adapter with four more channels, its rate-limit holds measured on a manual clock."""
    for n, channel in enumerate(OTHERS):
        fake_slack.add_channel(channel, f"other-{n}")
    clock = ManualClock()
    slack.clock = clock
    return slack, clock


async def test_a_429_on_another_method_holds_that_method_not_posting(clocked, fake_slack: FakeSlack) -> None:  # noqa: F811, ANN001
    slack, clock = clocked
    parents = {c: await slack.post(c, Message(title="parent")) for c in (CHANNEL, OTHERS[0])}
    fake_slack.fail_next("chat.update", status=429, retry_after=7)
    with pytest.raises(RateLimited) as first:
        await slack.edit(CHANNEL, parents[CHANNEL], Message(title="edited"))
    assert (first.value.retry_after, first.value.scope) == (7.0, "channel")  # the outbox holds this channel
    clock.advance(2)
    with pytest.raises(RateLimited) as held:  # the method is held for the workspace: not sent to Slack
        await slack.edit(OTHERS[0], parents[OTHERS[0]], Message(title="edited"))
    assert (held.value.retry_after, held.value.scope, held.value.workspace) == (5.0, "channel", "T0FAKE0001")
    assert len(fake_slack.calls_to("chat.update")) == 1
    await slack.post(OTHERS[0], Message(title="posting goes on"))  # other methods are not held
    clock.advance(5)
    await slack.edit(OTHERS[0], parents[OTHERS[0]], Message(title="edited"))
    assert fake_slack.messages(OTHERS[0])[0]["blocks"][0]["text"]["text"] == "edited"


async def test_a_429_on_an_upload_step_holds_uploads_not_posting(clocked, fake_slack: FakeSlack) -> None:  # noqa: F811, ANN001
    slack, clock = clocked
    fake_slack.fail_next("files.getUploadURLExternal", status=429, retry_after=4)
    with pytest.raises(RateLimited, match="files.getUploadURLExternal") as first:
        await slack.upload(CHANNEL, Attachment("a.csv", b"x\n"))
    assert first.value.scope == "channel"
    with pytest.raises(RateLimited) as held:
        await slack.upload(OTHERS[0], Attachment("b.csv", b"y\n"))
    assert held.value.retry_after == 4.0 and len(fake_slack.calls_to("files.getUploadURLExternal")) == 1
    await slack.post(OTHERS[0], Message(title="posting goes on"))
    clock.advance(4)
    assert await slack.upload(OTHERS[0], Attachment("b.csv", b"y\n"))


async def test_a_post_429_in_one_channel_holds_only_that_channel(clocked, fake_slack: FakeSlack) -> None:  # noqa: F811, ANN001
    slack, clock = clocked
    for _ in range(3):  # the same channel again and again: its own limit, never the workspace's
        fake_slack.fail_next("chat.postMessage", status=429, retry_after=5, channel=CHANNEL)
        with pytest.raises(RateLimited) as raised:
            await slack.post(CHANNEL, Message(title="too fast"))
        assert raised.value.scope == "channel"
        clock.advance(0.5)
    await slack.post(OTHERS[0], Message(title="another channel posts at once"))
    assert len(fake_slack.messages(OTHERS[0])) == 1


async def test_three_channels_limited_within_two_seconds_hold_posting_in_the_workspace(
        clocked, fake_slack: FakeSlack) -> None:  # noqa: F811, ANN001
    slack, clock = clocked
    parent = await slack.post(OTHERS[3], Message(title="parent"))
    scopes = []
    for channel in (CHANNEL, *OTHERS[:2]):
        fake_slack.fail_next("chat.postMessage", status=429, retry_after=9, channel=channel)
        with pytest.raises(RateLimited) as raised:
            await slack.post(channel, Message(title="x"))
        scopes.append(raised.value.scope)
        clock.advance(0.9)  # the third 429 comes 1.8 s after the first
    assert scopes == ["channel", "channel", "workspace"]
    posts = len(fake_slack.calls_to("chat.postMessage"))
    with pytest.raises(RateLimited) as held:  # a fourth channel: held here, nothing sent to Slack
        await slack.post(OTHERS[2], Message(title="y"))
    assert (held.value.scope, held.value.workspace) == ("workspace", "T0FAKE0001")
    assert held.value.retry_after == pytest.approx(9 - 0.9)
    assert len(fake_slack.calls_to("chat.postMessage")) == posts
    await slack.edit(OTHERS[3], parent, Message(title="edits go on"))
    clock.advance(9)
    await slack.post(OTHERS[2], Message(title="y"))
    assert len(fake_slack.messages(OTHERS[2])) == 1


async def test_three_channels_limited_further_apart_stay_per_channel(clocked, fake_slack: FakeSlack) -> None:  # noqa: F811, ANN001
    slack, clock = clocked
    for channel in (CHANNEL, *OTHERS[:3]):
        fake_slack.fail_next("chat.postMessage", status=429, retry_after=9, channel=channel)
        with pytest.raises(RateLimited) as raised:
            await slack.post(channel, Message(title="x"))
        assert raised.value.scope == "channel"
        clock.advance(1.1)  # any three of them span more than 2 s
    await slack.post(OTHERS[3], Message(title="posting goes on"))


async def test_a_token_rejected_while_running_makes_health_say_why(slack: SlackPlatform,
                                                                  fake_slack: FakeSlack) -> None:  # noqa: F811
    fake_slack.fail_next("chat.postMessage", error="token_revoked")
    with pytest.raises(PermanentError):
        await slack.post(CHANNEL, Message(title="x"))
    health = await slack.health()
    assert not health.ok and health.detail == "token_revoked: the bot token was revoked"
    fake_slack.fail_next("chat.postMessage", status=500)  # no answer about the token: still not ok
    with pytest.raises(TransientError):
        await slack.post(CHANNEL, Message(title="x"))
    assert not (await slack.health()).ok
    await slack.post(CHANNEL, Message(title="the token works again"))
    assert (await slack.health()).ok
    fake_slack.fail_next("chat.postMessage", error="token_revoked")
    with pytest.raises(PermanentError):
        await slack.post(CHANNEL, Message(title="x"))
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")  # Slack took the token to say this
    with pytest.raises(PermanentError):
        await slack.post(CHANNEL, Message(title="x"))
    assert (await slack.health()).ok


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
