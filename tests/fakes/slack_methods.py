"""Web API methods of FakeSlack about identity, messages, conversations and users.

Each handler takes the fake and the parsed parameters and returns the answer's fields (the
caller adds "ok": true) or raises SlackError with Slack's error code.

Models: auth.test, chat.postMessage (threads, reply_broadcast, metadata), chat.update (blocks
and attachments kept unless sent, as Slack documents), chat.postEphemeral, conversations.history
and conversations.replies (newest first / oldest first, oldest/latest/inclusive, cursor pages,
metadata only with include_all_metadata), conversations.info, conversations.join (public
channels only), users.info.

Not modelled: chat:write.public (the bot must be a member to post), `user_not_in_channel` for
ephemerals, scopes and `missing_scope`, unfurling (unfurl_links / unfurl_media are only
recorded in `fake.calls`), `as_user`, icons and usernames, scheduled messages, deletes.
Stricter than Slack: a `thread_ts` naming no message answers `thread_not_found`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from tests.fakes.slack_payloads import flag, limit, message_content, require_content
from tests.fakes.slack_state import Channel, SlackError, in_window, page, visible

if TYPE_CHECKING:
    from tests.fakes.slack_api import FakeSlack

Params = dict[str, Any]
Handler = Callable[["FakeSlack", Params], dict[str, Any]]


def auth_test(fake: FakeSlack, params: Params) -> dict[str, Any]:
    ws = fake.workspace
    return {"url": f"https://{ws.domain}.slack.com/", "team": ws.team, "user": ws.users[ws.bot_user_id]["name"],
            "team_id": ws.team_id, "user_id": ws.bot_user_id, "bot_id": ws.bot_id, "is_enterprise_install": False}


def writable(fake: FakeSlack, ref: Any) -> Channel:
    """The channel the bot may post in: it exists, is not archived, and the bot is a member."""
    channel = fake.workspace.channel(ref)
    if channel.archived:
        raise SlackError("is_archived")
    return fake.workspace.channel(channel.id, member=True)


def post_message(fake: FakeSlack, params: Params) -> dict[str, Any]:
    channel = writable(fake, params.get("channel"))
    fields = message_content(params)
    require_content(fields)
    thread_ts = params.get("thread_ts") or None
    broadcast = bool(thread_ts) and flag(params, "reply_broadcast")
    message = fake.workspace.post(channel, fields, thread_ts=thread_ts, broadcast=broadcast)
    return {"channel": channel.id, "ts": message["ts"], "message": visible(message, with_metadata=True)}


def update(fake: FakeSlack, params: Params) -> dict[str, Any]:
    channel = writable(fake, params.get("channel"))
    message = fake.workspace.message(channel, params.get("ts"))
    if message["user"] != fake.workspace.bot_user_id:
        raise SlackError("cant_update_message")
    fields = message_content(params)
    require_content({**message, **fields})
    fake.workspace.edit(message, fields)
    return {"channel": channel.id, "ts": message["ts"], "text": message["text"],
            "message": visible(message, with_metadata=True)}


def post_ephemeral(fake: FakeSlack, params: Params) -> dict[str, Any]:
    channel = writable(fake, params.get("channel"))
    if params.get("user") not in fake.workspace.users:
        raise SlackError("user_not_found")
    fields = message_content(params)
    require_content(fields)
    if params.get("thread_ts"):
        fake.workspace.thread(channel, params["thread_ts"])
    ts = fake.workspace.clock.next_ts()
    channel.ephemerals.append({"type": "message", "user": fake.workspace.bot_user_id, "ts": ts,
                               "recipient": params["user"], "thread_ts": params.get("thread_ts"), **fields})
    return {"message_ts": ts}


def _listing(messages: list[dict[str, Any]], params: Params, default_limit: int) -> dict[str, Any]:
    window = in_window(messages, params.get("oldest"), params.get("latest"), flag(params, "inclusive"))
    chunk, next_cursor = page(window, params.get("cursor"), limit(params, default_limit, 1000))
    with_metadata = flag(params, "include_all_metadata")
    answer: dict[str, Any] = {"messages": [visible(m, with_metadata=with_metadata) for m in chunk],
                              "has_more": bool(next_cursor)}
    if next_cursor:
        answer["response_metadata"] = {"next_cursor": next_cursor}
    return answer


def history(fake: FakeSlack, params: Params) -> dict[str, Any]:
    channel = fake.workspace.channel(params.get("channel"), member=True)
    return {**_listing(list(reversed(channel.history)), params, 100), "pin_count": 0}


def replies(fake: FakeSlack, params: Params) -> dict[str, Any]:
    channel = fake.workspace.channel(params.get("channel"), member=True)
    return _listing(fake.workspace.thread(channel, params.get("ts")), params, 1000)


def info(fake: FakeSlack, params: Params) -> dict[str, Any]:
    return {"channel": fake.workspace.channel(params.get("channel")).info()}


def join(fake: FakeSlack, params: Params) -> dict[str, Any]:
    channel = fake.workspace.channel(params.get("channel"))
    if channel.archived:
        raise SlackError("is_archived")
    if channel.private:
        raise SlackError("method_not_supported_for_channel_type")
    answer: dict[str, Any] = {}
    if channel.member:
        answer = {"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}}
    channel.member = True
    return {"channel": channel.info(), **answer}


def users_info(fake: FakeSlack, params: Params) -> dict[str, Any]:
    user = fake.workspace.users.get(str(params.get("user")))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": dict(user)}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.postEphemeral": post_ephemeral,
    "conversations.history": history,
    "conversations.replies": replies,
    "conversations.info": info,
    "conversations.join": join,
    "users.info": users_info,
}
