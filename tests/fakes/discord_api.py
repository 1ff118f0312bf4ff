"""A loopback fake of Discord (REST API v10 and gateway) that the real discord.py 2.7 client talks to.

One aiohttp server on 127.0.0.1 (a free port) serves the REST API under `/api/v10`, the gateway
websocket at `/gateway` (and `/gateway-resume`, the `resume_gateway_url` READY names), and the
uploaded files at `/attachments/...` (the loopback CDN behind `Attachment.url`).

Pointing discord.py at it (found in discord.py 2.7.1's sources):
- REST: every request URL is `discord.http.Route.BASE + path` (a class attribute, also used by
  webhooks and interaction responses): set it to `fake.api_url`.
- Gateway: a plain `discord.Client` connects to the hard-coded class attribute
  `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` (a `yarl.URL`) without asking REST.
  `discord.AutoShardedClient` asks GET /gateway/bot (with `shard_count=None`) and connects to the
  `url` it returns; it resumes at READY's `resume_gateway_url`. But after INVALID_SESSION, or when
  a shard re-identifies, both clients fall back to DEFAULT_GATEWAY, so set that too (to
  `yarl.URL(fake.gateway_url)`), or a test could reach the real Discord. `discord_fixtures.py`
  does both and restores them.

Modelled: see discord_rest.py, discord_interactions.py, discord_gateway.py, discord_limits.py and
discord_faults.py. Not modelled at all: permissions (everything is allowed unless a fault says
otherwise), real rate limiting (only injected 429s), DMs, reactions, pins, deletes of channel
messages, members and roles beyond the guild's owner and the bot, audit-log reasons, voice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable, Pattern

import yarl
from aiohttp import web

from tests.fakes import discord_interactions as interactions
from tests.fakes import discord_payloads as payloads
from tests.fakes.discord_faults import Faults, compile_pattern
from tests.fakes.discord_gateway import Gateway
from tests.fakes.discord_http import BODY, ApiError, RequestBody, UploadedFile, error_response, read_body, unauthorized
from tests.fakes.discord_rest import STATE, get_attachment, routes as rest_routes
from tests.fakes.discord_state import Callback, DiscordState, GuildSpec, InteractionRecord

API_PREFIX = "/api/v10"
NO_BOT_TOKEN = ("/interactions/", "/webhooks/")


@dataclass
class Call:
    """One REST request the fake received (path relative to the API base) and its status."""

    method: str
    path: str
    query: dict[str, str]
    payload: Any
    files: list[UploadedFile] = field(default_factory=list)
    status: int | None = None


class FakeDiscord:
    """The fake server; use `async with FakeDiscord(token=...) as fake:` or start()/stop()."""

    def __init__(self, token: str = "fake-bot-token", guilds: list[GuildSpec] | None = None, *,
                 heartbeat_interval_ms: int = 41_250, allowed_intents: int | None = None,
                 bot_name: str = "vendorwatch") -> None:
        self.token = token
        self.state = DiscordState(token, bot_name)
        for spec in guilds if guilds is not None else [GuildSpec()]:
            self.state.add_guild(spec)
        self.gateway = Gateway(self.state, heartbeat_interval_ms, allowed_intents, self._notify)
        self.state.dispatch = self.gateway.dispatch
        self.faults = Faults()
        self.calls: list[Call] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()

    # Lifecycle

    async def start(self) -> None:
        api = web.Application(middlewares=[self._middleware])
        api[STATE] = self.state
        api.add_routes(rest_routes)
        api.add_routes(interactions.routes)
        app = web.Application()
        app.add_subapp(API_PREFIX, api)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        app[STATE] = self.state
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", get_attachment)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        self.state.base_url = self.base_url
        self.state.gateway_url = self.gateway_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self.gateway.close()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The value for `discord.http.Route.BASE`."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """What GET /gateway/bot answers; `yarl.URL(...)` of it for DiscordWebSocket.DEFAULT_GATEWAY."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def gateway_yarl(self) -> yarl.URL:
        return yarl.URL(self.gateway_url)

    # The HTTP pipeline: record, authenticate, inject faults, answer Discord's way

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        path = request.path[len(API_PREFIX):]
        call = Call(request.method, path, dict(request.query), None)
        self.calls.append(call)
        try:
            body = await read_body(request) if request.can_read_body else RequestBody()
            request[BODY] = body
            call.payload, call.files = body.payload, body.files
            if not path.startswith(NO_BOT_TOKEN) and request.headers.get("Authorization") != f"Bot {self.token}":
                response: web.StreamResponse = unauthorized()
            else:
                response = await self.faults.apply(request.method, path) or await handler(request)
        except ApiError as error:
            response = error.response()
        except web.HTTPException as error:
            response = error_response(error.status, 0, f"{error.status}: {error.reason}")
        call.status = response.status
        self._notify()
        return response

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # Fault injection

    def fail_next(self, pattern: str | Pattern[str], status: int | None = 429, *, retry_after: float = 1.5,
                  global_: bool = False, times: int = 1, delay: float = 0.0, code: int | None = None,
                  message: str | None = None) -> None:
        """Fail the next `times` requests matching `pattern` ("POST /channels/*/messages", ...).

        429 comes with Discord's body and headers (Retry-After, X-RateLimit-*, Via); 500 is JSON,
        502/504 an HTML page; 403 defaults to code 50013 (pass code=50001 for Missing Access), 404
        to 10003 Unknown Channel. `delay` seconds pass before the answer; `status=None` only delays.
        """
        self.faults.add(pattern, status=status, times=times, delay=delay, retry_after=retry_after,
                        global_=global_, code=code, message=message)

    async def drop_gateway(self, code: int = 4000, *, resumable: bool = True) -> None:
        """Close the gateway sockets (4000 is resumable); resumable=False also forgets the sessions."""
        await self.gateway.drop(code, resumable)

    def request_reconnect(self) -> None:
        self.gateway.request_reconnect()

    # Interactions

    async def send_interaction(self, record: InteractionRecord) -> InteractionRecord:
        """Dispatch INTERACTION_CREATE for a registered interaction (see the builders below)."""
        self.gateway.dispatch("INTERACTION_CREATE", record.payload)
        return record

    async def send_command(self, name: str, subcommand: str | None = None, options: dict[str, Any] | None = None,
                           *, channel_id: str | None = None, user: dict[str, Any] | None = None,
                           permissions: str = payloads.ALL_PERMISSIONS) -> InteractionRecord:
        """A slash command (type 2), e.g. send_command("vendorwatch", "watch", {"company": "scale-ai"})."""
        channel = self.state.channel(channel_id or self.text_channel_id)
        data = interactions.command_data(self.state, channel["guild_id"], name,
                                         interactions.command_options(subcommand, options or {}))
        return await self.send_interaction(interactions.interaction(self.state, 2, data, channel["id"], user,
                                                                    permissions))

    async def send_autocomplete(self, name: str, subcommand: str | None, options: dict[str, Any], focused: str,
                                *, channel_id: str | None = None, user: dict[str, Any] | None = None,
                                permissions: str = payloads.ALL_PERMISSIONS) -> InteractionRecord:
        """An autocomplete request (type 4): `options` as typed so far, `focused` the one being typed."""
        channel = self.state.channel(channel_id or self.text_channel_id)
        data = interactions.command_data(self.state, channel["guild_id"], name,
                                         interactions.command_options(subcommand, options, focused))
        return await self.send_interaction(interactions.interaction(self.state, 4, data, channel["id"], user,
                                                                    permissions))

    async def send_button(self, custom_id: str, message: dict[str, Any], *, user: dict[str, Any] | None = None,
                          permissions: str = payloads.ALL_PERMISSIONS) -> InteractionRecord:
        """A button click (type 3) on `message` (a message object the fake stored)."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self.send_interaction(interactions.interaction(self.state, 3, data, message["channel_id"],
                                                                    user, permissions, message))

    async def wait_callback(self, interaction_id: str, timeout: float = 2.0) -> Callback:
        """The client's answer (POST .../callback) to an interaction, once it arrived."""
        def found() -> Callback | None:
            return next((c for c in self.state.callbacks if c.interaction_id == interaction_id), None)

        await self.wait_for(lambda: found() is not None, timeout)
        return found()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 2.0) -> None:
        """Wait until `predicate()` is true; it is checked after every request and gateway frame."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await self._changed.wait()

    # Inspection

    @property
    def guilds(self) -> list[dict[str, Any]]:
        return list(self.state.guilds.values())

    @property
    def guild_id(self) -> str:
        return self.guilds[0]["id"]

    def channel(self, name: str) -> dict[str, Any]:
        return self.state.channel_by_name(name)

    @property
    def text_channel_id(self) -> str:
        return next(c["id"] for c in self.state.channels.values() if c["type"] == payloads.CHANNEL_TEXT)

    @property
    def forum_channel_id(self) -> str:
        return next(c["id"] for c in self.state.channels.values() if c["type"] == payloads.CHANNEL_FORUM)

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's (or thread's) messages, oldest first."""
        return list(self.state.messages_by_channel.get(str(channel_id), []))

    def calls_to(self, pattern: str) -> list[Call]:
        """The recorded calls matching a fault-style pattern ("POST /channels/*/messages")."""
        regex = compile_pattern(pattern)
        return [c for c in self.calls if regex.fullmatch(f"{c.method} {c.path}")]

    @property
    def threads(self) -> list[dict[str, Any]]:
        return list(self.state.threads.values())

    @property
    def commands(self) -> dict[str | None, list[dict[str, Any]]]:
        """Synced commands by scope: None for global, else the guild id."""
        return self.state.commands

    @property
    def callbacks(self) -> list[Callback]:
        return self.state.callbacks

    @property
    def followups(self) -> list[dict[str, Any]]:
        return self.state.followups

    @property
    def interactions(self) -> dict[str, InteractionRecord]:
        return self.state.interactions

    @property
    def identify_payloads(self) -> list[dict[str, Any]]:
        return self.gateway.identify_payloads

    @property
    def resumes(self) -> list[dict[str, Any]]:
        return self.gateway.resumes
