"""What the fake Discord knows: guilds, channels, threads, messages, commands, interactions.

Messages are stored as the JSON objects Discord returns. Every change that Discord would also
announce on the gateway (MESSAGE_CREATE, MESSAGE_UPDATE, THREAD_CREATE) is passed to `dispatch`,
which the gateway sets. Nothing here knows about HTTP except the `ApiError`s it raises.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from tests.fakes import discord_payloads as payloads
from tests.fakes.discord_http import ApiError, RequestBody
from tests.fakes.discord_limits import is_empty, message_errors

NONCE_WINDOW_SECONDS = 300.0


@dataclass
class GuildSpec:
    """A guild to create: its text and forum channels by name, and one human member (the owner)."""

    name: str = "Vendorwatch Test"
    text_channels: tuple[str, ...] = ("alerts",)
    forum_channels: tuple[str, ...] = ("vendor-news",)
    owner_name: str = "alice"


@dataclass
class InteractionRecord:
    """An interaction the fake dispatched, and what the client did with it."""

    id: str
    token: str
    payload: dict[str, Any]
    responded: bool = False
    original_message_id: str | None = None


@dataclass
class Callback:
    """One POST /interactions/{id}/{token}/callback: the response type and its `data`."""

    interaction_id: str
    type: int
    data: dict[str, Any]
    files: list[Any] = field(default_factory=list)


class DiscordState:
    def __init__(self, token: str, bot_name: str = "vendorwatch") -> None:
        self.ids = payloads.Snowflakes()
        self.token = token
        self.application_id = self.ids.next()
        self.bot = payloads.user(self.application_id, bot_name, bot=True)
        self.guilds: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.threads: dict[str, dict[str, Any]] = {}
        self.messages_by_channel: dict[str, list[dict[str, Any]]] = {}
        self.messages_by_id: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.interactions: dict[str, InteractionRecord] = {}
        self.callbacks: list[Callback] = []
        self.followups: list[dict[str, Any]] = []
        self.nonces: dict[tuple[str, str, str], tuple[str, float]] = {}
        self.base_url = ""
        self.gateway_url = ""
        self.dispatch: Callable[[str, dict[str, Any]], None] = lambda event, data: None

    # Guilds and channels

    def add_guild(self, spec: GuildSpec) -> dict[str, Any]:
        guild_id = self.ids.next()
        owner = payloads.user(self.ids.next(), spec.owner_name)
        self.owners[guild_id] = owner
        names = [(n, payloads.CHANNEL_TEXT) for n in spec.text_channels]
        names += [(n, payloads.CHANNEL_FORUM) for n in spec.forum_channels]
        channels = [payloads.guild_channel(self.ids.next(), guild_id, name, kind, position)
                    for position, (name, kind) in enumerate(names)]
        for channel in channels:
            self.channels[channel["id"]] = channel
        members = [payloads.member(self.bot), payloads.member(owner)]
        self.guilds[guild_id] = payloads.guild(guild_id, spec.name, owner["id"], channels, members)
        return self.guilds[guild_id]

    def channel(self, channel_id: str) -> dict[str, Any]:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise ApiError(404, 10003) from None

    def channel_by_name(self, name: str) -> dict[str, Any]:
        return next(c for c in self.channels.values() if c["name"] == name)

    # Messages

    def message(self, channel_id: str, message_id: str) -> dict[str, Any]:
        self.channel(channel_id)
        found = self.messages_by_id.get(message_id)
        if found is None or found["channel_id"] != channel_id:
            raise ApiError(404, 10008)
        return found

    def create_message(self, channel_id: str, body: RequestBody, author: dict[str, Any] | None = None,
                       announce: bool = True) -> tuple[dict[str, Any], bool]:
        """Post a message; returns (message, created). A repeated enforced nonce returns the first."""
        channel = self.channel(channel_id)
        if channel["type"] == payloads.CHANNEL_FORUM:
            raise ApiError(400, 50008)
        payload = body.payload or {}
        check_message(payload, body)
        author = author or self.bot
        key = (channel_id, author["id"], str(payload.get("nonce")))
        if payload.get("enforce_nonce") and payload.get("nonce") is not None:
            earlier = self.nonces.get(key)
            if earlier and time.monotonic() - earlier[1] < NONCE_WINDOW_SECONDS:
                return self.messages_by_id[earlier[0]], False
        message_id = self.ids.next()
        message = payloads.message(message_id, channel, author, payload, self.attachments(channel_id, body, []))
        self.store_message(message)
        if payload.get("nonce") is not None:
            self.nonces[key] = (message_id, time.monotonic())
        if announce:
            self.dispatch("MESSAGE_CREATE", self.event_message(message))
        return message, True

    def store_message(self, message: dict[str, Any]) -> None:
        channel = self.channels[message["channel_id"]]
        self.messages_by_channel.setdefault(channel["id"], []).append(message)
        self.messages_by_id[message["id"]] = message
        channel["last_message_id"] = message["id"]
        if channel["type"] in payloads.THREAD_TYPES:
            channel["message_count"] += 1
            channel["total_message_sent"] += 1

    def edit_message(self, message: dict[str, Any], body: RequestBody) -> dict[str, Any]:
        payload = body.payload or {}
        check_message(payload, body, editing=True)
        cleared = {"content": "", "embeds": [], "components": [], "flags": 0}
        for key, empty in cleared.items():
            if key in payload:
                message[key] = empty if payload[key] is None else payload[key]
        if "attachments" in payload or body.files:
            message["attachments"] = self.attachments(message["channel_id"], body, message["attachments"])
        message["flags"] = (message.get("flags") or 0) & ~payloads.MESSAGE_FLAG_LOADING
        message["edited_timestamp"] = payloads.now_iso()
        self.dispatch("MESSAGE_UPDATE", self.event_message(message))
        return message

    def history(self, channel_id: str, limit: int, before: str | None, after: str | None,
                around: str | None) -> list[dict[str, Any]]:
        """Up to `limit` messages, newest first, as GET /channels/{id}/messages answers."""
        self.channel(channel_id)
        oldest_first = sorted(self.messages_by_channel.get(channel_id, []), key=lambda m: int(m["id"]))
        if around:
            older = [m for m in oldest_first if int(m["id"]) < int(around)][-(limit // 2):] if limit > 1 else []
            rest = [m for m in oldest_first if int(m["id"]) >= int(around)][: limit - len(older)]
            page = older + rest
        elif after:
            page = [m for m in oldest_first if int(m["id"]) > int(after)][:limit]
        else:
            if before:
                oldest_first = [m for m in oldest_first if int(m["id"]) < int(before)]
            page = oldest_first[-limit:]
        return list(reversed(page))

    def attachments(self, channel_id: str, body: RequestBody, kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The message's attachments: uploads referenced by index, and kept ones by their id."""
        declared = (body.payload or {}).get("attachments")
        if declared is None:
            declared = [{"id": i} for i in range(len(body.files))]
        existing = {a["id"]: a for a in kept}
        result = []
        for entry in declared:
            upload = body.file_by_index(int(entry["id"])) if str(entry["id"]) not in existing else None
            if upload is None:
                if str(entry["id"]) in existing:
                    result.append(existing[str(entry["id"])])
                continue
            attachment_id = self.ids.next()
            filename = entry.get("filename") or upload.filename
            url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{filename}"
            self.files[attachment_id] = upload.data
            result.append(payloads.attachment(attachment_id, filename, upload.data, upload.content_type, url,
                                              entry.get("description")))
        return result

    def event_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """A message as the gateway sends it: with the author's guild member."""
        event = dict(message)
        if "guild_id" in message:
            event["member"] = {k: v for k, v in payloads.member(message["author"]).items() if k != "user"}
        return event

    # Threads

    def create_thread(self, parent: dict[str, Any], payload: dict[str, Any], thread_id: str | None = None,
                      kind: int | None = None) -> dict[str, Any]:
        thread_id = thread_id or self.ids.next()
        kind = kind or payload.get("type") or payloads.CHANNEL_PUBLIC_THREAD
        thread = payloads.thread(thread_id, parent, self.bot["id"], payload, kind)
        self.channels[thread_id] = thread
        self.threads[thread_id] = thread
        self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return thread

    def thread_from_message(self, channel_id: str, message_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Message.create_thread: the thread takes the message's id; a second one is refused."""
        message = self.message(channel_id, message_id)
        if message.get("thread") or message_id in self.threads:
            raise ApiError(400, 160004)
        thread = self.create_thread(self.channels[channel_id], payload, message_id, payloads.CHANNEL_PUBLIC_THREAD)
        message["thread"] = thread
        message["flags"] = (message.get("flags") or 0) | payloads.MESSAGE_FLAG_HAS_THREAD
        return thread

    def forum_post(self, forum: dict[str, Any], body: RequestBody) -> dict[str, Any]:
        """A forum post: a thread and its first message, which share one id."""
        payload = body.payload or {}
        first = payload.get("message") or {}
        check_message(first, body)
        thread = self.create_thread(forum, payload, kind=payloads.CHANNEL_PUBLIC_THREAD)
        message = payloads.message(thread["id"], thread, self.bot, first,
                                   self.attachments(thread["id"], RequestBody(first, body.files), []))
        self.store_message(message)
        forum["last_message_id"] = thread["id"]
        self.dispatch("MESSAGE_CREATE", self.event_message(message))
        return {**thread, "message": message}

    # Application commands

    def put_commands(self, guild_id: str | None, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Bulk overwrite: a command keeps its id when a command of that name and type existed."""
        old = {(c["name"], c.get("type", 1)): c["id"] for c in self.commands.get(guild_id, [])}
        stored = []
        for command in commands:
            kind = command.get("type", 1)
            entry = {"id": old.get((command["name"], kind)) or self.ids.next(),
                     "application_id": self.application_id, "version": self.ids.next(), "type": kind,
                     "description": "", "options": [], "default_member_permissions": None, "nsfw": False,
                     **command}
            if guild_id:
                entry["guild_id"] = guild_id
            stored.append(entry)
        self.commands[guild_id] = stored
        return stored


def check_message(payload: dict[str, Any], body: RequestBody, *, editing: bool = False) -> None:
    """Raise the 400 Discord answers for an invalid (or, when creating, empty) message payload."""
    errors = message_errors(payload)
    if errors:
        raise ApiError(400, 50035, errors=errors)
    if not editing and is_empty(payload, bool(body.files)):
        raise ApiError(400, 50006)
