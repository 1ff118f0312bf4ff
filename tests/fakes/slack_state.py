"""The workspace behind FakeSlack: channels, users, messages and threads, with no HTTP in it.

Models: channels (member / archived / private flags), users (admin / owner), messages stored as
the dicts Slack returns, threads (replies carry `thread_ts`, the parent keeps `reply_count`,
`reply_users`, `latest_reply`), broadcast replies that also sit in the channel history, edits,
and `ts` values from a clock that never goes backwards and never repeats.

Not modelled: deleted messages, reactions, pins, user membership of channels, message
permalinks, shared channels, Enterprise Grid.
"""

from __future__ import annotations

import base64
import copy
import time
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]


class SlackError(Exception):
    """A Web API error: answered as {"ok": false, "error": code, **extra} with HTTP 200."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


class Clock:
    """Message timestamps in Slack's "seconds.micros" form, strictly increasing."""

    def __init__(self) -> None:
        self._last_us = 0

    def next_ts(self) -> str:
        self._last_us = max(self._last_us + 1, int(time.time() * 1_000_000))
        seconds, micros = divmod(self._last_us, 1_000_000)
        return f"{seconds}.{micros:06d}"


@dataclass
class Channel:
    id: str
    name: str
    member: bool
    archived: bool
    private: bool
    created: int = field(default_factory=lambda: int(time.time()))
    history: list[Message] = field(default_factory=list)  # top level and broadcasts, oldest first
    replies: dict[str, list[Message]] = field(default_factory=dict)  # parent ts -> replies
    by_ts: dict[str, Message] = field(default_factory=dict)
    ephemerals: list[Message] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "name_normalized": self.name, "created": self.created,
                "is_channel": not self.private, "is_group": self.private, "is_im": False, "is_mpim": False,
                "is_private": self.private, "is_archived": self.archived, "is_general": False,
                "is_shared": False, "is_ext_shared": False, "is_org_shared": False,
                "is_member": self.member}


class Workspace:
    """One team with its bot user, its channels and users."""

    def __init__(self, *, team_id: str, team: str, domain: str, bot_user_id: str, bot_id: str,
                 app_id: str) -> None:
        self.team_id, self.team, self.domain = team_id, team, domain
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        self.clock = Clock()
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.add_user(bot_user_id, name="vendorwatch", bot=True)

    # --- setup -----------------------------------------------------------------------------

    def add_channel(self, channel_id: str, name: str, *, member: bool = True, archived: bool = False,
                    private: bool = False) -> Channel:
        channel = Channel(channel_id, name, member, archived, private)
        self.channels[channel_id] = channel
        return channel

    def add_user(self, user_id: str, *, admin: bool = False, owner: bool = False, name: str | None = None,
                 bot: bool = False) -> dict[str, Any]:
        name = name or user_id.lower()
        # In Slack every owner is also an admin.
        self.users[user_id] = {
            "id": user_id, "team_id": self.team_id, "name": name, "real_name": name, "deleted": False,
            "is_admin": admin or owner, "is_owner": owner, "is_primary_owner": False,
            "is_restricted": False, "is_ultra_restricted": False, "is_bot": bot, "is_app_user": False,
            "tz": "Europe/London", "profile": {"real_name": name, "display_name": name},
        }
        return self.users[user_id]

    # --- lookups ---------------------------------------------------------------------------

    def channel(self, ref: Any, *, member: bool = False) -> Channel:
        """The channel by ID (or by name, as chat.postMessage allows); private channels the bot
        is not in are invisible to it, as in Slack."""
        ref = str(ref or "")
        found = self.channels.get(ref) or next(
            (c for c in self.channels.values() if ref.lstrip("#") == c.name and not c.private), None)
        if found is None or (found.private and not found.member):
            raise SlackError("channel_not_found")
        if member and not found.member:
            raise SlackError("not_in_channel")
        return found

    def message(self, channel: Channel, ts: Any, *, missing: str = "message_not_found") -> Message:
        found = channel.by_ts.get(str(ts or ""))
        if found is None:
            raise SlackError(missing)
        return found

    def thread(self, channel: Channel, ts: Any) -> list[Message]:
        """Parent first, then its replies; `ts` may name the parent or any reply."""
        message = self.message(channel, ts, missing="thread_not_found")
        parent = channel.by_ts[message.get("thread_ts", message["ts"])]
        return [parent, *channel.replies.get(parent["ts"], [])]

    # --- changes ---------------------------------------------------------------------------

    def post(self, channel: Channel, fields: dict[str, Any], *, user: str | None = None,
             thread_ts: str | None = None, broadcast: bool = False) -> Message:
        """Append a message (a reply when thread_ts is given) and return it."""
        user = user or self.bot_user_id
        message: Message = {"type": "message", "user": user, "text": "", "ts": self.clock.next_ts(),
                            "team": self.team_id}
        if user == self.bot_user_id:
            message.update(bot_id=self.bot_id, app_id=self.app_id)
        message.update(fields)
        channel.by_ts[message["ts"]] = message
        if thread_ts is None:
            channel.history.append(message)
            return message
        parent = self.message(channel, thread_ts, missing="thread_not_found")
        parent = channel.by_ts[parent.get("thread_ts", parent["ts"])]
        message.update(thread_ts=parent["ts"], parent_user_id=parent["user"])
        replies = channel.replies.setdefault(parent["ts"], [])
        replies.append(message)
        repliers = list(dict.fromkeys(r["user"] for r in replies))
        parent.update(thread_ts=parent["ts"], reply_count=len(replies), reply_users_count=len(repliers),
                      reply_users=repliers, latest_reply=message["ts"])
        if broadcast:
            message["subtype"] = "thread_broadcast"
            channel.history.append(message)
        return message

    def edit(self, message: Message, fields: dict[str, Any]) -> Message:
        message.update(fields)
        message["edited"] = {"user": self.bot_user_id, "ts": self.clock.next_ts()}
        return message


def visible(message: Message, *, with_metadata: bool) -> Message:
    """A copy of a stored message as the API returns it."""
    out = copy.deepcopy(message)
    if not with_metadata:
        out.pop("metadata", None)
    return out


def in_window(messages: list[Message], oldest: Any, latest: Any, inclusive: bool) -> list[Message]:
    """The messages between `oldest` and `latest` (exclusive unless `inclusive`)."""
    low, high = float(oldest or 0), float(latest) if latest else float("inf")
    if inclusive:
        return [m for m in messages if low <= float(m["ts"]) <= high]
    return [m for m in messages if low < float(m["ts"]) < high]


def page(items: list[Message], cursor: Any, limit: int) -> tuple[list[Message], str]:
    """One page of `items` and the cursor of the next ("" on the last page)."""
    start = 0
    if cursor:
        try:
            wanted = base64.b64decode(str(cursor), validate=True).decode()
        except ValueError:
            raise SlackError("invalid_cursor") from None
        start = next((i for i, m in enumerate(items) if f"next_ts:{m['ts']}" == wanted), -1)
        if start < 0:
            raise SlackError("invalid_cursor")
    chunk = items[start:start + limit]
    following = items[start + limit:start + limit + 1]
    next_cursor = base64.b64encode(f"next_ts:{following[0]['ts']}".encode()).decode() if following else ""
    return chunk, next_cursor
