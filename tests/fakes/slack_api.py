"""A loopback fake of the Slack Web API, for the real slack-sdk clients to talk to in tests.

    async with FakeSlack() as fake:
        fake.add_channel("C0ALERTS01", "alerts")
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url, retry_handlers=[])
        await client.chat_postMessage(channel="C0ALERTS01", text="hello")
        assert fake.messages("C0ALERTS01")[0]["text"] == "hello"

An aiohttp server on 127.0.0.1 (a free port). It models the token check (`not_authed`,
`invalid_auth`, `token_revoked`, `not_allowed_token_type` for a bot token where an app token
belongs and back), form, query and JSON parameters alike, the methods in slack_methods.py and
slack_files.py, Socket Mode (slack_socket.py), response_url endpoints, scripted faults
(slack_faults.py) and a record of every call. Errors are HTTP 200 with {"ok": false, "error"},
as in Slack.

It runs on the test's own event loop, so it serves async tests only.

Not modelled: OAuth and scopes, user tokens, the Events API (HTTP), rate limits unless scripted,
any method not listed (`unknown_method`); a response_url only records what it gets (no 5-uses /
30-minutes life, an in_channel answer does not appear in the channel, replace_original and
delete_original change nothing).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.slack_faults import Fault, Faults
from tests.fakes.slack_files import METHODS as FILE_METHODS
from tests.fakes.slack_files import Upload, receive_upload
from tests.fakes.slack_methods import METHODS as CORE_METHODS
from tests.fakes.slack_payloads import check_blocks, decode_json_fields
from tests.fakes.slack_signing import slash_command_fields
from tests.fakes.slack_socket import SocketMode
from tests.fakes.slack_state import Channel, Message, SlackError, Workspace, visible

APP_TOKEN_METHODS = {"apps.connections.open"}


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]  # query, form and JSON merged; JSON-in-form fields decoded; no token
    token: str | None
    http_method: str
    at: float  # time.time()


class FakeSlack:
    def __init__(self, *, bot_token: str = "xoxb-fake-bot-token", app_token: str = "xapp-1-fake-app-token",
                 team_id: str = "T0FAKE0001", team: str = "Vendorwatch Test", domain: str = "vendorwatch-test",
                 bot_user_id: str = "U0FAKEBOT1", bot_id: str = "B0FAKEBOT1", app_id: str = "A0FAKEAPP1") -> None:
        self.bot_token, self.app_token = bot_token, app_token
        self.revoked: set[str] = set()
        self.workspace = Workspace(team_id=team_id, team=team, domain=domain, bot_user_id=bot_user_id,
                                   bot_id=bot_id, app_id=app_id)
        self.methods = {**CORE_METHODS, **FILE_METHODS}
        self.socket = SocketMode(self)
        self.methods["apps.connections.open"] = self.socket.open_connection
        self.calls: list[Call] = []
        self.uploads: list[Upload] = []
        self.share_delay = 0.0  # > 0: files.completeUploadExternal shares that many seconds later
        self.faults = Faults()
        self._responses: dict[str, list[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What AsyncWebClient(base_url=...) takes; ends with /api/."""
        return f"{self.root_url}/api/"

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/v1/{token}", self._upload)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_get("/socket", self.socket.handle)
        # A request still in a scripted delay must not hold up stop().
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self.socket.close()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- setup -----------------------------------------------------------------------------

    def add_channel(self, channel_id: str, name: str, *, member: bool = True, archived: bool = False,
                    private: bool = False) -> Channel:
        return self.workspace.add_channel(channel_id, name, member=member, archived=archived, private=private)

    def add_user(self, user_id: str, *, admin: bool = False, owner: bool = False,
                 name: str | None = None) -> dict[str, Any]:
        return self.workspace.add_user(user_id, admin=admin, owner=owner, name=name)

    def add_message(self, channel: str, text: str, *, user: str, thread_ts: str | None = None) -> str:
        """A message someone else wrote (the bot cannot edit it); returns its ts."""
        found = self.workspace.channels[channel]
        return self.workspace.post(found, {"text": text}, user=user, thread_ts=thread_ts)["ts"]

    def revoke_token(self, token: str) -> None:
        self.revoked.add(token)

    def response_url(self) -> str:
        """A fresh response_url on this fake; what is POSTed to it is kept for `responses()`."""
        url = f"{self.root_url}/response/{secrets.token_hex(8)}"
        self._responses[url] = []
        return url

    # --- faults ----------------------------------------------------------------------------

    def fail_next(self, method: str, *, status: int | None = None, error: str | None = None,
                  retry_after: int | None = None, delay: float = 0.0, channel: str | None = None,
                  times: int | None = 1) -> None:
        """Script the next `times` calls of `method` (only those for `channel`, if given).

        fail_next(m) or fail_next(m, status=429, retry_after=3): HTTP 429, Retry-After, "ratelimited".
        fail_next(m, status=500): HTTP 500, "internal_error". fail_next(m, error="channel_not_found"):
        HTTP 200 with that error. fail_next(m, delay=2): the normal answer, 2 s late (with a fault:
        the fault, late). times=None: every matching call until clear_faults().
        """
        self.faults.add(Fault.build(method, status=status, error=error, retry_after=retry_after, delay=delay,
                                    channel=channel, times=times))

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- inspection ------------------------------------------------------------------------

    def messages(self, channel: str) -> list[Message]:
        """The channel's history, oldest first: top-level messages and broadcast replies."""
        return [visible(m, with_metadata=True) for m in self.workspace.channels[channel].history]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """A thread, parent first, oldest first."""
        found = self.workspace.channels[channel]
        return [visible(m, with_metadata=True) for m in self.workspace.thread(found, ts)]

    def ephemerals(self, channel: str) -> list[Message]:
        return [dict(m) for m in self.workspace.channels[channel].ephemerals]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def responses(self, response_url: str) -> list[dict[str, Any]]:
        """The JSON bodies POSTed to a response_url, in order."""
        return list(self._responses[response_url])

    # --- Socket Mode -----------------------------------------------------------------------

    async def socket_send_slash_command(self, command: str = "/vendorwatch", text: str = "",
                                        **fields: Any) -> str:
        """Push a slash_commands envelope (fields as slack_signing.slash_command_fields; a
        response_url on this fake unless given); returns the envelope_id."""
        fields.setdefault("response_url", self.response_url())
        fields.setdefault("team_id", self.workspace.team_id)
        fields.setdefault("api_app_id", self.workspace.app_id)
        payload = slash_command_fields(command, text, **fields)
        return await self.socket.send_envelope("slash_commands", payload)

    async def socket_wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        return await self.socket.wait_ack(envelope_id, timeout)

    async def socket_wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        await self.socket.wait_connected(count, timeout)

    # --- HTTP ------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params, token = await self._params(request)
        except SlackError as exc:
            return web.json_response({"ok": False, "error": exc.code, **exc.extra})
        self.calls.append(Call(method, params, token, request.method, time.time()))
        fault = self.faults.take(method, params)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.fails:
            return web.json_response(fault.body(), status=fault.status, headers=fault.headers())
        try:
            handler = self.methods.get(method)
            if handler is None:
                raise SlackError("unknown_method", req_method=method)
            self._authorize(method, token)
            answer = {"ok": True, **handler(self, params)}
        except SlackError as exc:
            answer = {"ok": False, "error": exc.code, **exc.extra}
        return web.json_response(answer)

    @staticmethod
    async def _params(request: web.Request) -> tuple[dict[str, Any], str | None]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise SlackError("invalid_json") from None
                if not isinstance(body, dict):
                    raise SlackError("invalid_json")
                params.update(body)
            else:
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        token = params.pop("token", None)
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header.removeprefix("Bearer ").strip()
        return decode_json_fields(params), token

    def _authorize(self, method: str, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        if token in self.revoked:
            raise SlackError("token_revoked")
        if token not in (self.bot_token, self.app_token):
            raise SlackError("invalid_auth")
        if (token == self.app_token) != (method in APP_TOKEN_METHODS):
            raise SlackError("not_allowed_token_type")

    async def _upload(self, request: web.Request) -> web.Response:
        return await receive_upload(self, request)

    async def _response_url(self, request: web.Request) -> web.Response:
        url = f"{self.root_url}/response/{request.match_info['key']}"
        if url not in self._responses:
            return web.Response(status=404, text="no_service", content_type="text/plain")
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload", content_type="text/plain")
        if not isinstance(body, dict):
            return web.Response(status=400, text="invalid_payload", content_type="text/plain")
        if body.get("response_type", "ephemeral") not in ("ephemeral", "in_channel"):
            return web.Response(status=400, text="invalid_response_type", content_type="text/plain")
        if not (body.get("text") or body.get("blocks") or body.get("attachments") or body.get("delete_original")):
            return web.Response(status=400, text="no_text", content_type="text/plain")
        if body.get("blocks") is not None:
            try:
                check_blocks(body["blocks"])
            except SlackError as exc:
                return web.Response(status=400, text=exc.code, content_type="text/plain")
        self._responses[url].append(body)
        return web.json_response({"ok": True})
