"""The Slack fake against the real slack-sdk AsyncWebClient: every method's happy path."""

from __future__ import annotations

import json
import re

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_fixtures import fake_slack, slack_client  # noqa: F401

C = "C0ALERTS01"
TS = re.compile(r"^\d{10}\.\d{6}$")
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Acme* raised $10M"}}


async def test_auth_test_names_the_bot(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    answer = await slack_client.auth_test()
    assert {k: answer[k] for k in ("user_id", "user", "team_id", "team", "bot_id")} == {
        "user_id": "U0FAKEBOT1", "user": "vendorwatch", "team_id": "T0FAKE0001", "team": "Vendorwatch Test",
        "bot_id": "B0FAKEBOT1"}
    assert answer["url"] == "https://vendorwatch-test.slack.com/"
    assert fake_slack.calls[0].token == fake_slack.bot_token


async def test_post_message_stores_text_blocks_and_increasing_ts(fake_slack: FakeSlack,
                                                                  slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    first = await slack_client.chat_postMessage(channel=C, text="Acme raised $10M", blocks=[SECTION],
                                                unfurl_links=False, unfurl_media=False)
    second = await slack_client.chat_postMessage(channel=C, text="second")
    assert first["channel"] == C and TS.match(first["ts"]) and float(second["ts"]) > float(first["ts"])
    stored = fake_slack.messages(C)
    assert [m["text"] for m in stored] == ["Acme raised $10M", "second"]
    assert stored[0]["blocks"] == [SECTION] and stored[0]["bot_id"] == "B0FAKEBOT1"
    call = fake_slack.calls_to("chat.postMessage")[0]
    assert call.http_method == "POST" and call.params["unfurl_links"] is False and call.params["unfurl_media"] is False


async def test_form_encoded_bodies_are_read_like_json(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    metadata = {"event_type": "vw_alert", "event_payload": {"key": "k1"}}
    await slack_client.api_call("chat.postMessage", data={"channel": C, "text": "form", "blocks": json.dumps([SECTION]),
                                                          "metadata": json.dumps(metadata)})
    await slack_client.api_call("chat.postMessage", params={"channel": C, "text": "query"})
    stored = fake_slack.messages(C)
    assert stored[0]["blocks"] == [SECTION] and stored[0]["metadata"] == metadata
    assert stored[1]["text"] == "query"


async def test_metadata_only_with_include_all_metadata(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    metadata = {"event_type": "vw_alert", "event_payload": {"key": "item-1"}}
    parent = await slack_client.chat_postMessage(channel=C, text="parent", metadata=metadata)
    await slack_client.chat_postMessage(channel=C, text="reply", thread_ts=parent["ts"],
                                        metadata={"event_type": "vw_alert", "event_payload": {"key": "item-2"}})
    plain = await slack_client.conversations_history(channel=C)
    assert "metadata" not in plain["messages"][0]
    full = await slack_client.conversations_history(channel=C, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == metadata
    thread = await slack_client.conversations_replies(channel=C, ts=parent["ts"], include_all_metadata=True)
    assert [m["metadata"]["event_payload"]["key"] for m in thread["messages"]] == ["item-1", "item-2"]
    bare = await slack_client.conversations_replies(channel=C, ts=parent["ts"])
    assert all("metadata" not in m for m in bare["messages"])


async def test_threads_and_broadcast_replies(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    parent = await slack_client.chat_postMessage(channel=C, text="parent")
    quiet = await slack_client.chat_postMessage(channel=C, text="quiet", thread_ts=parent["ts"])
    loud = await slack_client.chat_postMessage(channel=C, text="loud", thread_ts=parent["ts"], reply_broadcast=True)
    assert quiet["message"]["thread_ts"] == parent["ts"]
    history = (await slack_client.conversations_history(channel=C))["messages"]
    assert [m["text"] for m in history] == ["loud", "parent"]  # newest first
    assert history[0]["subtype"] == "thread_broadcast"
    assert history[1]["reply_count"] == 2 and history[1]["latest_reply"] == loud["ts"]
    replies = (await slack_client.conversations_replies(channel=C, ts=quiet["ts"]))["messages"]
    assert [m["text"] for m in replies] == ["parent", "quiet", "loud"]
    assert [m["text"] for m in fake_slack.thread(C, parent["ts"])] == ["parent", "quiet", "loud"]


async def test_history_and_replies_paginate_with_cursor(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    for n in range(5):
        await slack_client.chat_postMessage(channel=C, text=f"m{n}")
    pages = [[m["text"] for m in page["messages"]]
             async for page in await slack_client.conversations_history(channel=C, limit=2)]
    assert pages == [["m4", "m3"], ["m2", "m1"], ["m0"]]
    parent = fake_slack.messages(C)[0]["ts"]
    for n in range(3):
        await slack_client.chat_postMessage(channel=C, text=f"r{n}", thread_ts=parent)
    first = await slack_client.conversations_replies(channel=C, ts=parent, limit=3)
    assert first["has_more"] is True and [m["text"] for m in first["messages"]] == ["m0", "r0", "r1"]
    rest = await slack_client.conversations_replies(channel=C, ts=parent, limit=3,
                                                    cursor=first["response_metadata"]["next_cursor"])
    assert rest["has_more"] is False and [m["text"] for m in rest["messages"]] == ["r2"]


async def test_history_window(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    ts = [(await slack_client.chat_postMessage(channel=C, text=f"m{n}"))["ts"] for n in range(3)]
    inside = await slack_client.conversations_history(channel=C, oldest=ts[0], latest=ts[2])
    assert [m["text"] for m in inside["messages"]] == ["m1"]
    both = await slack_client.conversations_history(channel=C, oldest=ts[0], latest=ts[2], inclusive=True)
    assert [m["text"] for m in both["messages"]] == ["m2", "m1", "m0"]


async def test_update_edits_and_keeps_blocks(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    posted = await slack_client.chat_postMessage(channel=C, text="old", blocks=[SECTION])
    updated = await slack_client.chat_update(channel=C, ts=posted["ts"], text="new")
    assert updated["ts"] == posted["ts"] and updated["text"] == "new"
    stored = fake_slack.messages(C)[0]
    assert stored["text"] == "new" and stored["blocks"] == [SECTION] and TS.match(stored["edited"]["ts"])


async def test_post_ephemeral(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    fake_slack.add_user("U0ADMIN001", admin=True)
    answer = await slack_client.chat_postEphemeral(channel=C, user="U0ADMIN001", text="only you")
    assert TS.match(answer["message_ts"])
    assert fake_slack.ephemerals(C)[0]["recipient"] == "U0ADMIN001" and fake_slack.messages(C) == []


async def test_conversations_info_and_join(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts", member=False)
    fake_slack.add_channel("G0SECRET01", "secret", private=True)
    info = (await slack_client.conversations_info(channel=C))["channel"]
    assert (info["name"], info["is_member"], info["is_archived"], info["is_private"]) == ("alerts", False, False, False)
    joined = await slack_client.conversations_join(channel=C)
    assert joined["channel"]["is_member"] is True and "warning" not in joined
    again = await slack_client.conversations_join(channel=C)
    assert again["warning"] == "already_in_channel"
    secret = (await slack_client.conversations_info(channel="G0SECRET01"))["channel"]
    assert secret["is_private"] is True and secret["is_member"] is True


async def test_users_info_admin_and_owner(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_user("U0ADMIN001", admin=True)
    fake_slack.add_user("U0OWNER001", owner=True)
    fake_slack.add_user("U0PLAIN001")
    admin, owner, plain = [(await slack_client.users_info(user=u))["user"]
                           for u in ("U0ADMIN001", "U0OWNER001", "U0PLAIN001")]
    assert (admin["is_admin"], admin["is_owner"]) == (True, False)
    assert (owner["is_admin"], owner["is_owner"]) == (True, True)
    assert (plain["is_admin"], plain["is_owner"]) == (False, False)


async def test_files_upload_v2_into_a_thread(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    parent = await slack_client.chat_postMessage(channel=C, text="digest")
    answer = await slack_client.files_upload_v2(channel=C, thread_ts=parent["ts"], file=b"a,b\n1,2\n",
                                                filename="digest.csv", title="Digest", initial_comment="attached")
    assert answer["file"]["name"] == "digest.csv" and answer["file"]["title"] == "Digest"
    upload = fake_slack.uploads[0]
    assert (upload.data, upload.length, upload.completed, upload.channels) == (b"a,b\n1,2\n", 8, True, [C])
    reply = fake_slack.thread(C, parent["ts"])[1]
    assert reply["text"] == "attached" and reply["files"][0]["id"] == upload.file_id and reply["upload"] is True
    assert [c.method for c in fake_slack.calls] == ["chat.postMessage", "files.getUploadURLExternal",
                                                    "files.completeUploadExternal"]
    assert answer["file"]["shares"]["public"][C][0]["thread_ts"] == parent["ts"]


async def test_response_url_records_bodies(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url()
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"response_type": "in_channel", "text": "posted"}) as ok:
            assert ok.status == 200
        async with session.post(url, json={"text": "just you"}) as ok:
            assert ok.status == 200
        async with session.post(url, json={"response_type": "in_channel"}) as empty:
            assert (empty.status, await empty.text()) == (400, "no_text")
        async with session.post(url, json={"text": "x", "blocks": [{"type": "nope"}]}) as bad:
            assert (bad.status, await bad.text()) == (400, "invalid_blocks")
    assert fake_slack.responses(url) == [{"response_type": "in_channel", "text": "posted"}, {"text": "just you"}]


async def test_upload_url_takes_multipart_too(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    fake_slack.add_channel(C, "alerts")
    issued = await slack_client.files_getUploadURLExternal(filename="notes.txt", length=5)
    form = aiohttp.FormData()
    form.add_field("file", b"hello", filename="notes.txt")
    async with aiohttp.ClientSession() as session:
        async with session.post(issued["upload_url"], data=form) as answer:
            assert (answer.status, await answer.text()) == (200, "OK - 5")
    await slack_client.files_completeUploadExternal(files=[{"id": issued["file_id"], "title": "Notes"}], channel_id=C)
    assert fake_slack.uploads[0].data == b"hello"
    assert fake_slack.messages(C)[0]["files"][0]["title"] == "Notes"
