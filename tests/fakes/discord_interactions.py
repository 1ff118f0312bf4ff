"""Interactions: the INTERACTION_CREATE payloads the fake dispatches, and the client's answers.

Builders make application-command (type 2), autocomplete (type 4) and button (type 3)
interactions as Discord sends them to a bot in a guild. Routes take the answers: POST
/interactions/{id}/{token}/callback (types 1, 4, 5, 6, 7, 8, 9; recorded in `state.callbacks`),
the original response and follow-ups under /webhooks/{app_id}/{token}. These need no bot token,
as on Discord. Not modelled: the 3-second and 15-minute deadlines, modals' submissions,
context-menu commands, DMs, `resolved` data (users, roles, attachments given as options).
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from tests.fakes import discord_payloads as payloads
from tests.fakes.discord_http import BODY, ApiError, RequestBody, json_response, no_content
from tests.fakes.discord_rest import STATE
from tests.fakes.discord_state import Callback, DiscordState, InteractionRecord, check_message

OPTION_TYPES = {str: 3, int: 4, bool: 5, float: 10}
CALLBACK_TYPES = (1, 4, 5, 6, 7, 8, 9)

routes = web.RouteTableDef()


def command_options(subcommand: str | None, options: dict[str, Any], focused: str | None = None) -> list[dict]:
    """Options of a slash command, nested under a subcommand (type 1) when one is given."""
    values = []
    for name, value in options.items():
        option = {"name": name, "type": OPTION_TYPES[type(value)], "value": value}
        if name == focused:
            option["focused"] = True
        values.append(option)
    return [{"name": subcommand, "type": 1, "options": values}] if subcommand else values


def interaction(state: DiscordState, kind: int, data: dict[str, Any], channel_id: str,
                user: dict[str, Any] | None, permissions: str,
                message: dict[str, Any] | None = None) -> InteractionRecord:
    """An interaction from a member of the channel's guild, registered so the client can answer it."""
    channel = state.channel(channel_id)
    guild_id = channel["guild_id"]
    interaction_id = state.ids.next()
    token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": state.application_id,
        "type": kind,
        "data": data,
        "guild_id": guild_id,
        "guild": {"id": guild_id, "locale": "en-US", "features": []},
        "channel_id": channel_id,
        "channel": channel,
        "member": payloads.member(user or state.owners[guild_id], permissions=permissions),
        "token": token,
        "version": 1,
        "app_permissions": payloads.ALL_PERMISSIONS,
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild_id},
        "context": 0,
        "attachment_size_limit": 10_485_760,
    }
    if message is not None:
        payload["message"] = message
    record = InteractionRecord(interaction_id, token, payload)
    state.interactions[interaction_id] = record
    return record


def command_data(state: DiscordState, guild_id: str, name: str, options: list[dict]) -> dict[str, Any]:
    """`data` of a slash command: the synced command's id, and guild_id when it is a guild command."""
    synced = state.commands.get(guild_id, []) + state.commands.get(None, [])
    command = next((c for c in synced if c["name"] == name and c.get("type", 1) == 1), None)
    data: dict[str, Any] = {"id": command["id"] if command else state.ids.next(), "name": name, "type": 1,
                            "options": options}
    if command and command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    return data


def _record(request: web.Request) -> InteractionRecord:
    state: DiscordState = request.app[STATE]
    info = request.match_info
    if "interaction_id" in info:
        record = state.interactions.get(info["interaction_id"])
    else:
        if info["app_id"] != state.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        record = next((r for r in state.interactions.values() if r.token == info["token"]), None)
    if record is None or record.token != info["token"]:
        raise ApiError(404, 10062)
    return record


def _response_message(state: DiscordState, record: InteractionRecord, body: RequestBody,
                      *, placeholder: bool = False) -> dict[str, Any]:
    """A message posted for an interaction (a response, its "thinking..." placeholder, a follow-up).

    Ephemeral messages stay out of the channel's history and off the gateway.
    """
    if not placeholder:
        check_message(body.payload, body)
    channel = state.channel(record.payload["channel_id"])
    attachments = state.attachments(channel["id"], body, [])
    message = payloads.message(state.ids.next(), channel, state.bot, body.payload, attachments)
    message.update(webhook_id=state.application_id, application_id=state.application_id)
    if placeholder:
        message["flags"] |= payloads.MESSAGE_FLAG_LOADING
    if message["flags"] & payloads.MESSAGE_FLAG_EPHEMERAL:
        state.messages_by_id[message["id"]] = message
    else:
        state.store_message(message)
        state.dispatch("MESSAGE_CREATE", state.event_message(message))
    return message


def _type_error(message: str) -> ApiError:
    return ApiError(400, 50035, errors={"type": {"_errors": [{"code": "BASE_TYPE_CHOICES", "message": message}]}})


def _callback_message(state: DiscordState, record: InteractionRecord, kind: int,
                      body: RequestBody) -> dict[str, Any] | None:
    """The message a callback creates (4, 5) or updates (7); sets the interaction's original message."""
    if kind in (6, 7) and "message" not in record.payload:
        raise _type_error("Only a component interaction can update its message.")
    message = None
    if kind == 4:
        message = _response_message(state, record, body)
    elif kind == 5:
        message = _response_message(state, record, RequestBody({"flags": body.payload.get("flags")}),
                                    placeholder=True)
    elif kind == 7:
        message = state.edit_message(state.message(record.payload["channel_id"], record.payload["message"]["id"]),
                                     body)
    if kind in (6, 7):
        record.original_message_id = record.payload["message"]["id"]
    elif message is not None:
        record.original_message_id = message["id"]
    return message


@routes.post("/interactions/{interaction_id}/{token}/callback")
async def callback(request: web.Request) -> web.Response:
    state: DiscordState = request.app[STATE]
    record = _record(request)
    if record.responded:
        raise ApiError(400, 40060)
    body: RequestBody = request[BODY]
    kind = int((body.payload or {}).get("type", 0))
    if kind not in CALLBACK_TYPES:
        raise _type_error("Value must be one of {1, 4, 5, 6, 7, 8, 9}.")
    data = body.payload.get("data") or {}
    message = _callback_message(state, record, kind, RequestBody(data, body.files))
    record.responded = True
    state.callbacks.append(Callback(record.id, kind, data, body.files))
    if "with_response" not in request.query:
        return no_content()
    flags = (message or {}).get("flags") or 0
    answer: dict[str, Any] = {"interaction": {
        "id": record.id, "type": record.payload["type"],
        "response_message_id": record.original_message_id if message else None,
        "response_message_loading": kind == 5,
        "response_message_ephemeral": bool(flags & payloads.MESSAGE_FLAG_EPHEMERAL)}}
    answer["resource"] = {"type": kind, "message": message} if message else {"type": kind}
    return json_response(answer)


def _webhook_message(request: web.Request, record: InteractionRecord) -> dict[str, Any]:
    state: DiscordState = request.app[STATE]
    message_id = request.match_info["message_id"]
    if message_id == "@original":
        message_id = record.original_message_id
    message = state.messages_by_id.get(message_id or "")
    if message is None:
        raise ApiError(404, 10008)
    return message


@routes.post("/webhooks/{app_id}/{token}")
async def followup(request: web.Request) -> web.Response:
    state: DiscordState = request.app[STATE]
    record = _record(request)
    if not record.responded:
        raise ApiError(404, 10015, "Unknown Webhook")
    body: RequestBody = request[BODY]
    placeholder = state.messages_by_id.get(record.original_message_id or "")
    if placeholder is not None and placeholder["flags"] & payloads.MESSAGE_FLAG_LOADING:
        # The first follow-up after a "thinking..." defer replaces the placeholder, ephemeral or not.
        payload = {k: v for k, v in (body.payload or {}).items() if k != "flags"}
        message = state.edit_message(placeholder, RequestBody(payload, body.files))
    else:
        message = _response_message(state, record, RequestBody(body.payload or {}, body.files))
    state.followups.append(message)
    return json_response(message) if request.query.get("wait") in ("1", "true", "True") else no_content()


@routes.get("/webhooks/{app_id}/{token}/messages/{message_id}")
async def get_webhook_message(request: web.Request) -> web.Response:
    return json_response(_webhook_message(request, _record(request)))


@routes.patch("/webhooks/{app_id}/{token}/messages/{message_id}")
async def edit_webhook_message(request: web.Request) -> web.Response:
    state: DiscordState = request.app[STATE]
    message = state.edit_message(_webhook_message(request, _record(request)), request[BODY])
    return json_response(message)


@routes.delete("/webhooks/{app_id}/{token}/messages/{message_id}")
async def delete_webhook_message(request: web.Request) -> web.Response:
    state: DiscordState = request.app[STATE]
    message = _webhook_message(request, _record(request))
    state.messages_by_id.pop(message["id"], None)
    history = state.messages_by_channel.get(message["channel_id"], [])
    if message in history:
        history.remove(message)
    return no_content()
