"""Discord JSON objects as the API returns them, built from plain arguments.

Only the keys discord.py 2.7 reads (or that Discord always sends) are filled in; every
builder returns a fresh dict that the fake stores and hands out as is.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000

CHANNEL_TEXT = 0
CHANNEL_PUBLIC_THREAD = 11
CHANNEL_PRIVATE_THREAD = 12
CHANNEL_FORUM = 15
THREAD_TYPES = (10, CHANNEL_PUBLIC_THREAD, CHANNEL_PRIVATE_THREAD)

MESSAGE_FLAG_HAS_THREAD = 1 << 5
MESSAGE_FLAG_EPHEMERAL = 1 << 6
MESSAGE_FLAG_LOADING = 1 << 7

# Every permission bit Discord defines today (administrator included): a member with all of them.
ALL_PERMISSIONS = str((1 << 51) - 1)


class Snowflakes:
    """Realistic, strictly increasing snowflake ids (as strings) for worker 1, process 1."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._last = 0

    def next(self) -> str:
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (millis << 22) | (1 << 17) | (1 << 12) | (next(self._counter) & 0xFFF)
        self._last = max(value, self._last + 1)
        return str(self._last)


def snowflake_time(snowflake: str) -> str:
    """The ISO 8601 timestamp a snowflake encodes, as Discord writes it."""
    millis = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc).isoformat()


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def user(user_id: str, username: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": username,
        "global_name": None if bot else username.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
    }


def member(user_obj: dict[str, Any], *, permissions: str | None = None,
           roles: list[str] | None = None) -> dict[str, Any]:
    """A guild member; `permissions` is only present in interaction payloads."""
    data: dict[str, Any] = {
        "user": user_obj,
        "roles": roles or [],
        "nick": None,
        "avatar": None,
        "joined_at": now_iso(),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }
    if permissions is not None:
        data["permissions"] = permissions
    return data


def everyone_role(guild_id: str) -> dict[str, Any]:
    """The @everyone role: its id is the guild's id."""
    return {
        "id": guild_id,
        "name": "@everyone",
        "permissions": str((1 << 0) | (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 35) | (1 << 38)),
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def guild_channel(channel_id: str, guild_id: str, name: str, kind: int, position: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": channel_id,
        "type": kind,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "parent_id": None,
        "topic": None,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "permission_overwrites": [],
        "last_message_id": None,
        "default_auto_archive_duration": 1440,
        "flags": 0,
    }
    if kind == CHANNEL_FORUM:
        data.update(available_tags=[], default_reaction_emoji=None, default_sort_order=None,
                    default_forum_layout=0, default_thread_rate_limit_per_user=0)
    return data


def thread(thread_id: str, parent: dict[str, Any], owner_id: str, payload: dict[str, Any], kind: int) -> dict[str, Any]:
    archive = payload.get("auto_archive_duration") or parent.get("default_auto_archive_duration", 1440)
    return {
        "id": thread_id,
        "type": kind,
        "guild_id": parent["guild_id"],
        "parent_id": parent["id"],
        "owner_id": owner_id,
        "name": payload["name"],
        "last_message_id": None,
        "rate_limit_per_user": payload.get("rate_limit_per_user") or 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "flags": 0,
        "applied_tags": [str(tag) for tag in payload.get("applied_tags") or []],
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": archive,
            "archive_timestamp": now_iso(),
            "locked": False,
            "invitable": payload.get("invitable", True),
            "create_timestamp": now_iso(),
        },
        "member": {"id": thread_id, "user_id": owner_id, "join_timestamp": now_iso(), "flags": 0},
    }


def guild(guild_id: str, name: str, owner_id: str, channels: list[dict[str, Any]],
          members: list[dict[str, Any]]) -> dict[str, Any]:
    """A full GUILD_CREATE payload."""
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "owner_id": owner_id,
        "unavailable": False,
        "large": False,
        "member_count": len(members),
        "features": [],
        "preferred_locale": "en-US",
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "joined_at": now_iso(),
        "roles": [everyone_role(guild_id)],
        "emojis": [],
        "stickers": [],
        "channels": channels,
        "threads": [],
        "members": members,
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def attachment(attachment_id: str, filename: str, data: bytes, content_type: str, url: str,
               description: str | None = None) -> dict[str, Any]:
    return {
        "id": attachment_id,
        "filename": filename,
        "description": description,
        "content_type": content_type,
        "size": len(data),
        "url": url,
        "proxy_url": url,
        "flags": 0,
    }


def message(message_id: str, channel: dict[str, Any], author: dict[str, Any], payload: dict[str, Any],
            attachments: list[dict[str, Any]]) -> dict[str, Any]:
    """A message object for a create payload that already passed validation."""
    data: dict[str, Any] = {
        "id": message_id,
        "type": 19 if payload.get("message_reference") else 0,
        "channel_id": channel["id"],
        "author": author,
        "content": payload.get("content") or "",
        "timestamp": snowflake_time(message_id),
        "edited_timestamp": None,
        "tts": bool(payload.get("tts")),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments,
        "embeds": payload.get("embeds") or [],
        "components": payload.get("components") or [],
        "pinned": False,
        "flags": payload.get("flags") or 0,
    }
    if channel.get("guild_id"):
        data["guild_id"] = channel["guild_id"]
    if payload.get("nonce") is not None:
        data["nonce"] = payload["nonce"]
    if payload.get("message_reference"):
        data["message_reference"] = {"channel_id": channel["id"], **payload["message_reference"]}
    return data
