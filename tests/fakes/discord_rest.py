"""The fake's REST routes for the bot: identity, gateway address, commands, channels, messages, threads.

Handlers read the request body that the server's middleware parsed (`request[BODY]`) and raise
`ApiError` for Discord's error answers. Interaction callbacks and webhooks live in
discord_interactions.py.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes import discord_payloads as payloads
from tests.fakes.discord_http import BODY, ApiError, json_response, no_content
from tests.fakes.discord_state import DiscordState

# The privileged intents enabled "with limits" (an unverified app that switched them on).
APPLICATION_FLAGS = (1 << 13) | (1 << 15) | (1 << 19)

STATE = web.AppKey("discord_state", DiscordState)

routes = web.RouteTableDef()


def _state(request: web.Request) -> DiscordState:
    return request.app[STATE]


def _payload(request: web.Request) -> Any:
    return request[BODY].payload or {}


@routes.get("/users/@me")
async def get_me(request: web.Request) -> web.Response:
    return json_response({**_state(request).bot, "verified": True, "mfa_enabled": False, "locale": "en-US"})


@routes.get("/gateway")
async def get_gateway(request: web.Request) -> web.Response:
    return json_response({"url": _state(request).gateway_url})


@routes.get("/gateway/bot")
async def get_gateway_bot(request: web.Request) -> web.Response:
    limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
    return json_response({"url": _state(request).gateway_url, "shards": 1, "session_start_limit": limit})


@routes.get("/oauth2/applications/@me")
@routes.get("/applications/@me")
async def get_application(request: web.Request) -> web.Response:
    state = _state(request)
    owner = next(iter(state.owners.values()), state.bot)
    return json_response({
        "id": state.application_id, "name": state.bot["username"], "description": "", "icon": None,
        "bot_public": False, "bot_require_code_grant": False, "owner": owner, "team": None,
        "verify_key": "0" * 64, "flags": APPLICATION_FLAGS, "interactions_endpoint_url": None,
        "bot": state.bot, "summary": "", "tags": [], "redirect_uris": [],
    })


def _check_application(request: web.Request) -> None:
    if request.match_info["app_id"] != _state(request).application_id:
        raise ApiError(403, 50001)


@routes.put("/applications/{app_id}/commands")
@routes.put("/applications/{app_id}/guilds/{guild_id}/commands")
async def put_commands(request: web.Request) -> web.Response:
    _check_application(request)
    guild_id = request.match_info.get("guild_id")
    if guild_id is not None and guild_id not in _state(request).guilds:
        raise ApiError(403, 50001)
    return json_response(_state(request).put_commands(guild_id, _payload(request) or []))


@routes.get("/applications/{app_id}/commands")
@routes.get("/applications/{app_id}/guilds/{guild_id}/commands")
async def get_commands(request: web.Request) -> web.Response:
    _check_application(request)
    return json_response(_state(request).commands.get(request.match_info.get("guild_id"), []))


@routes.get("/channels/{channel_id}")
async def get_channel(request: web.Request) -> web.Response:
    return json_response(_state(request).channel(request.match_info["channel_id"]))


@routes.post("/channels/{channel_id}/typing")
async def trigger_typing(request: web.Request) -> web.Response:
    _state(request).channel(request.match_info["channel_id"])
    return no_content()


@routes.post("/channels/{channel_id}/messages")
async def create_message(request: web.Request) -> web.Response:
    message, _ = _state(request).create_message(request.match_info["channel_id"], request[BODY])
    return json_response(message)


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.query.get(name, default))
    except ValueError:
        raise ApiError(400, 50035, errors={name: {"_errors": [{"code": "NUMBER_TYPE_COERCE",
                                                               "message": "Value is not int."}]}}) from None
    if not low <= value <= high:
        raise ApiError(400, 50035, errors={name: {"_errors": [{"code": "NUMBER_TYPE_MAX",
                                                               "message": f"Must be {high} or less."}]}})
    return value


@routes.get("/channels/{channel_id}/messages")
async def get_messages(request: web.Request) -> web.Response:
    query = request.query
    limit = _int_param(request, "limit", 50, 1, 100)
    page = _state(request).history(request.match_info["channel_id"], limit, query.get("before"),
                                   query.get("after"), query.get("around"))
    return json_response(page)


@routes.get("/channels/{channel_id}/messages/{message_id}")
async def get_message(request: web.Request) -> web.Response:
    return json_response(_state(request).message(request.match_info["channel_id"], request.match_info["message_id"]))


@routes.patch("/channels/{channel_id}/messages/{message_id}")
async def edit_message(request: web.Request) -> web.Response:
    state = _state(request)
    message = state.message(request.match_info["channel_id"], request.match_info["message_id"])
    if message["author"]["id"] != state.bot["id"]:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    return json_response(state.edit_message(message, request[BODY]))


@routes.post("/channels/{channel_id}/messages/{message_id}/threads")
async def thread_from_message(request: web.Request) -> web.Response:
    payload = _payload(request)
    thread = _state(request).thread_from_message(request.match_info["channel_id"],
                                                 request.match_info["message_id"], payload)
    return json_response(thread, 201)


@routes.post("/channels/{channel_id}/threads")
async def create_thread(request: web.Request) -> web.Response:
    """A forum post (with its first message) or, in a text channel, a thread without a message."""
    state = _state(request)
    parent = state.channel(request.match_info["channel_id"])
    if parent["type"] == payloads.CHANNEL_FORUM:
        return json_response(state.forum_post(parent, request[BODY]), 201)
    if parent["type"] in payloads.THREAD_TYPES:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    return json_response(state.create_thread(parent, _payload(request)), 201)


async def get_attachment(request: web.Request) -> web.Response:
    """The loopback CDN: the bytes of an uploaded attachment (Attachment.read())."""
    data = _state(request).files.get(request.match_info["attachment_id"])
    if data is None:
        return web.Response(status=404, text="Not Found")
    return web.Response(body=data, content_type="application/octet-stream")
