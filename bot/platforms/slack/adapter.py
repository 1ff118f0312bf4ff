"""The Slack platform: bolt's AsyncApp and slack-sdk's AsyncWebClient behind the platform contract.

Built by `vendorwatch run` as `SlackPlatform(settings=..., engine=..., commands=CommandCore)`.
It only translates: neutral Messages become Block Kit (render.py), `/vendorwatch` and button
clicks become Requests and feedback calls (commands.py), Slack's errors become the contract's
three kinds.

- Every Web API call goes to SLACK_API_URL; the SDK's retry handlers are off, so a 429 reaches
  the outbox as RateLimited with its Retry-After, 5xx and timeouts as TransientError, and the
  codes in PERMANENT as PermanentError. What a 429 holds (limits.py): on chat.postMessage, the
  channel, or, when 3 channels get one within 2 s, posting in the whole workspace; on any other
  method, that method for the workspace, not every call.
- A rejected token met while running (invalid_auth, token_revoked, account_inactive, not_authed)
  makes `health()` not ok with the reason, so /healthz answers 503 naming Slack, until Slack
  takes the token again (a call succeeds, or fails for a channel's reason).
- HTTP mode (no SLACK_APP_TOKEN): POST /slack/events on our aiohttp app on PORT, dispatched to
  bolt, which checks the signature and its age (5 minutes); a replay of a request already seen
  in that window is refused by every replica: the signatures seen are kept in the shared
  database (bot/platforms/replay.py; this process's memory only when there is no database).
- Socket Mode (SLACK_APP_TOKEN set): bolt's aiohttp AsyncSocketModeHandler; its
  apps.connections.open goes to SLACK_API_URL too.
- Exactly once: every post carries metadata {"event_type": "vendorwatch_message",
  "event_payload": {"key": KEY}}; `find_sent` reads the channel's recent history (or the
  thread) with include_all_metadata.
- Files go up apart from their message (`uploads_separately`): files.getUploadURLExternal, the
  bytes, files.completeUploadExternal, none of which takes metadata. The outbox posts the
  message without its attachments and queues each as an "upload" row into the post's thread;
  `upload(key=...)` puts the key's short hash in the file name (`chart.vw<12 hex>.png`), and
  `find_sent` also matches the files of the messages it reads, so that a re-sent upload after a
  timeout or a crash is not posted twice. Slack shares a file asynchronously: a retry sooner
  than the share appears can still post a second copy (the outbox's first retry comes after
  about two seconds).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime
from typing import Any, Awaitable, Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import Attachment, Message
from bot.platforms.contract import (CommandHandler, Health, Pace, PermanentError, PlatformError, RateLimited,
                                    TransientError)
from bot.platforms.replay import ReplayGuard
from bot.platforms.slack.commands import register_handlers
from bot.platforms.slack.limits import POST_METHOD, RateLimits
from bot.platforms.slack.render import render_message
from watchers.storage.types import utcnow

log = logging.getLogger("vendorwatch.slack")

EVENT_TYPE = "vendorwatch_message"
COMMAND_DEADLINE_SECONDS = 2.5  # Slack wants the ack within 3 s
API_TIMEOUT_SECONDS = 10
HISTORY_PAGES = 2  # find_sent reads the newest 2 x 200 messages of a channel (all of a thread's first 1000)
SOCKET_CONNECT_SECONDS = 15
UPLOAD_METHODS = ("files.getUploadURLExternal", "files.completeUploadExternal")  # files_upload_v2's Web API calls

PERMANENT = {
    "channel_not_found": "the channel was deleted, or the bot cannot see it",
    "not_in_channel": "the bot is not a member of the channel (/invite @vendorwatch)",
    "is_archived": "the channel is archived",
    "account_inactive": "the bot's account was deactivated (the app was uninstalled?)",
    "invalid_auth": "Slack rejected the bot token",
    "token_revoked": "the bot token was revoked",
    "missing_scope": "the app lacks a scope it needs (reinstall it from the manifest)",
    "not_authed": "no bot token was sent",
    "restricted_action": "a workspace setting forbids the bot to post there",
    "ekm_access_denied": "the workspace's administrators denied access",
}
AUTH_FAILURES = ("invalid_auth", "token_revoked", "account_inactive", "not_authed")  # the token, not the channel
START_FAILURES = {
    "invalid_auth": "Slack rejected the bot token (invalid_auth)",
    "token_revoked": "Slack says the bot token was revoked (token_revoked)",
    "account_inactive": "Slack says the bot's account is inactive (account_inactive): reinstall the app",
    "not_authed": "Slack got no bot token (not_authed)",
    "not_allowed_token_type": "SLACK_BOT_TOKEN is not a bot token (xoxb-...) (not_allowed_token_type)",
}


def file_tag(key: str) -> str:
    """The short hash of an outbox key that a file's name carries, where Slack keeps no metadata."""
    return "vw" + hashlib.sha256(key.encode()).hexdigest()[:12]


def keyed_filename(filename: str, key: str) -> str:
    """`chart.png` with key K -> `chart.<file_tag(K)>.png`: findable, and still a .png."""
    stem, dot, extension = filename.rpartition(".")
    if not dot or not stem:
        return f"{filename}.{file_tag(key)}"
    return f"{stem}.{file_tag(key)}.{extension}"


def _permanent_reason(code: str, needed: str | None = None) -> str:
    reason = f"{code}: {PERMANENT[code]}"
    return f"{reason} ({needed})" if needed else reason


def failed_method(exc: BaseException, method: str) -> str:
    """The Web API method a failed call really called: files_upload_v2 is three calls under one name."""
    api_url = str(getattr(getattr(exc, "response", None), "api_url", "") or "")
    name = api_url.rstrip("/").rsplit("/", 1)[-1]
    return name if name.startswith(("files.", "chat.", "conversations.", "users.", "auth.")) else method


def slack_error(exc: BaseException, method: str, *, workspace: str | None) -> PlatformError:
    """One of the contract's three errors for a failed Web API call (a 429's scope: the channel,
    widened by `SlackPlatform.call` from what limits.RateLimits knows)."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", 200)
        data = response.data if isinstance(getattr(response, "data", None), dict) else {}
        code = str(data.get("error") or "")
        if status == 429 or code in ("ratelimited", "rate_limited"):
            headers = {k.lower(): v for k, v in (response.headers or {}).items()}
            raw = headers.get("retry-after")
            raw = raw[0] if isinstance(raw, list) else raw
            try:
                retry_after = max(1.0, float(raw))
            except (TypeError, ValueError):
                retry_after = 1.0
            return RateLimited(retry_after, f"Slack {method} rate limited", scope="channel", workspace=workspace)
        if status >= 500:
            return TransientError(f"Slack {method} answered HTTP {status} ({code or 'no error code'})")
        if code in PERMANENT:
            return PermanentError(_permanent_reason(code, data.get("needed")))
        return TransientError(f"Slack {method} failed: {code or 'unknown error'}")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return TransientError(f"Slack {method} timed out")
    if isinstance(exc, (aiohttp.ClientError, SlackClientError, OSError)):
        return TransientError(f"Slack {method} failed: {exc.__class__.__name__}: {exc}")
    return TransientError(f"Slack {method} failed: {exc!r}")


class SlackPlatform:
    name = "slack"
    uploads_separately = True  # files.getUploadURLExternal / completeUploadExternal, after the message

    def __init__(self, *, settings: Any, engine: Any = None, commands: Any = None,
                 command_deadline: float = COMMAND_DEADLINE_SECONDS, api_timeout: float = API_TIMEOUT_SECONDS,
                 clock: Callable[[], datetime] = utcnow):
        self.settings = settings
        self.clock = clock  # the time rate-limit holds are measured in (the outbox's clock in tests)
        self.limits = RateLimits()
        self._auth_problem: str | None = None  # the token rejected by a call while running
        self.engine = engine
        self.pace = Pace(channel_seconds=float(settings.slack_pace_seconds))
        handle = getattr(commands, "handle", commands)
        self.handle: CommandHandler | None = handle
        self.command_deadline = command_deadline
        self.admins_only = bool(getattr(settings, "slack_admins_only", False))
        self.socket_mode = bool(settings.slack_app_token)
        self.client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url,
                                     timeout=int(max(1, api_timeout)), retry_handlers=[])
        self.api_timeout = api_timeout
        self.app = AsyncApp(client=self.client, signing_secret=settings.slack_signing_secret,
                            logger=logging.getLogger("vendorwatch.slack.bolt"))
        self._verifier = SignatureVerifier(settings.slack_signing_secret or "")
        self.replays = ReplayGuard(engine)
        self._socket: Any = None
        self._identity: dict[str, Any] | None = None
        self._problem: str | None = "not started"
        register_handlers(self)

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def team_id(self) -> str | None:
        return (self._identity or {}).get("team_id")

    @property
    def bot_user_id(self) -> str | None:
        return (self._identity or {}).get("user_id")

    async def start(self) -> None:
        if self.client.session is None or self.client.session.closed:
            self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.api_timeout))
        try:
            identity = await self.client.auth_test()
        except SlackApiError as exc:
            code = str((exc.response.data or {}).get("error") if isinstance(exc.response.data, dict) else "")
            await self._close_session()
            raise PermanentError(START_FAILURES.get(code, f"Slack refused auth.test ({code or exc})")) from None
        except Exception as exc:  # noqa: BLE001 - no connection: one line, not a traceback
            await self._close_session()
            raise PermanentError(f"cannot reach Slack at {self.settings.slack_api_url} "
                                 f"({exc.__class__.__name__}: {exc})") from None
        self._identity = dict(identity.data) if isinstance(identity.data, dict) else {}
        if self.socket_mode:
            await self._start_socket_mode()
        self._problem = None
        log.info("Slack: %s (%s mode)", self.identity, "Socket" if self.socket_mode else "HTTP",
                 extra={"platform": "slack"})

    async def _start_socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        self._socket = AsyncSocketModeHandler(self.app, self.settings.slack_app_token, web_client=self.client,
                                              ping_interval=10)
        try:
            # The SDK's connect() retries a refused token forever: check the token once first.
            await self.client.apps_connections_open(app_token=self.settings.slack_app_token)
            await asyncio.wait_for(self._socket.connect_async(), SOCKET_CONNECT_SECONDS)
        except SlackApiError as exc:
            code = (exc.response.data or {}).get("error") if isinstance(exc.response.data, dict) else None
            await self._close_socket()
            await self._close_session()
            raise PermanentError(f"Slack rejected the app-level token SLACK_APP_TOKEN ({code or exc})") from None
        except Exception as exc:  # noqa: BLE001
            await self._close_socket()
            await self._close_session()
            raise PermanentError(f"cannot open Slack's Socket Mode connection ({exc.__class__.__name__}: {exc})") \
                from None

    @property
    def identity(self) -> str:
        me = self._identity or {}
        return f"bot {me.get('user', '?')} in workspace {me.get('team', '?')} ({me.get('team_id', '?')})"

    async def stop(self) -> None:
        self._problem = "stopped"
        await self._close_socket()
        await self._close_session()

    async def _close_socket(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            try:
                await socket.close_async()
            except Exception:  # noqa: BLE001 - stopping anyway
                log.debug("error closing the Socket Mode connection", exc_info=True)

    async def _close_session(self) -> None:
        session = self.client.session
        if session is not None and not session.closed:
            await session.close()
        self.client.session = None

    async def health(self) -> Health:
        if self._identity is None or self._problem is not None:
            return Health(connected=False, authenticated=self._identity is not None,
                          identity=self.identity if self._identity else None, detail=self._problem or "not started")
        if self._auth_problem is not None:
            return Health(connected=True, authenticated=False, identity=self.identity, detail=self._auth_problem)
        connected = True
        if self.socket_mode:
            connected = self._socket is not None and await self._socket.client.is_connected()
        return Health(connected=connected, authenticated=True, identity=self.identity,
                      detail=None if connected else "Socket Mode connection is down (reconnecting)")

    def add_routes(self, app: web.Application) -> None:
        if not self.socket_mode:
            app.router.add_post("/slack/events", self.events)

    async def events(self, request: web.Request) -> web.StreamResponse:
        """POST /slack/events: Slack's signed requests (commands, interactions) into bolt."""
        body = await request.read()
        if await self._is_replay(body, request.headers):
            log.warning("refused a replayed Slack request", extra={"platform": "slack"})
            return web.Response(status=401, text="replayed request")
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _is_replay(self, body: bytes, headers: Any) -> bool:
        """A validly signed request whose signature was already seen within Slack's window (any replica)."""
        signature = headers.get("X-Slack-Signature", "")
        if not signature or not self._verifier.is_valid_request(body, dict(headers)):
            return False  # bolt refuses it (forged or stale)
        return not await self.replays.first_time(signature, platform="slack")

    # --- sending -----------------------------------------------------------------------------

    def render(self, message: Message) -> dict[str, Any]:
        return render_message(message)

    async def call(self, method: str, coro: Awaitable[Any], *, channel: str | None = None,
                   methods: tuple[str, ...] = ()) -> Any:
        """Await one Web API call (`methods`: every method it makes, when more than one), unless a
        429 holds one of them; every failure becomes one of the contract's three kinds."""
        now = self.clock()
        for name in methods or (method,):
            wait = self.limits.held(name, now)
            if wait is not None:
                getattr(coro, "close", lambda: None)()  # never sent: no "never awaited" warning
                scope = "workspace" if name == POST_METHOD else "channel"
                raise RateLimited(wait, f"Slack {name} held for {wait:.1f} s after a 429", scope=scope,
                                  workspace=self.team_id)
        try:
            response = await coro
        except PlatformError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes one of the three kinds
            actual = failed_method(exc, method)
            error = slack_error(exc, actual, workspace=self.team_id)
            if isinstance(error, RateLimited):
                scope = self.limits.limited(actual, channel, error.retry_after, self.clock())
                error.scope = scope  # type: ignore[assignment]
                if error.scope == "workspace":
                    log.warning("Slack's workspace-wide chat.postMessage limit: posting held for %.1f s",
                                error.retry_after, extra={"platform": "slack", "channel": channel})
            elif isinstance(error, PermanentError):  # Slack judged the token: rejected it, or took it
                auth_failed = error.reason.split(":")[0] in AUTH_FAILURES
                self._auth_problem = error.reason if auth_failed else None
            raise error from exc
        self._auth_problem = None
        return response

    async def post(self, channel: str, message: Message, *, thread: str | None = None,
                   key: str | None = None) -> str:
        if message.attachments:
            raise ValueError("Slack sends files apart from their message: upload each attachment "
                             "(the outbox queues them as rows of their own)")
        payload = self.render(message)
        kwargs: dict[str, Any] = {"channel": channel, **payload, "unfurl_links": False, "unfurl_media": False}
        if key:
            kwargs["metadata"] = {"event_type": EVENT_TYPE, "event_payload": {"key": key}}
        if thread:
            kwargs["thread_ts"] = thread
            if message.flag:  # a new event type on the story: also shown in the channel
                kwargs["reply_broadcast"] = True
        response = await self.call(POST_METHOD, self.client.chat_postMessage(**kwargs), channel=channel)
        return str(response["ts"])

    async def edit(self, channel: str, message_id: str, message: Message, *, thread: str | None = None) -> None:
        payload = self.render(message)
        await self.call("chat.update", self.client.chat_update(channel=channel, ts=message_id, **payload),
                        channel=channel)

    async def upload(self, channel: str, attachment: Attachment, *, thread: str | None = None,
                     key: str | None = None) -> str:
        filename = keyed_filename(attachment.filename, key) if key else attachment.filename
        kwargs: dict[str, Any] = {"channel": channel, "file": attachment.data, "filename": filename,
                                  "title": attachment.title or attachment.filename}
        if thread:
            kwargs["thread_ts"] = thread
        response = await self.call("files.completeUploadExternal", self.client.files_upload_v2(**kwargs),
                                   channel=channel, methods=UPLOAD_METHODS)
        files = response.get("files") or [response.get("file") or {}]
        shares = (files[0] or {}).get("shares") or {}
        for kind in ("public", "private"):
            for share in (shares.get(kind) or {}).get(channel, []):
                if share.get("ts"):
                    return str(share["ts"])
        return str((files[0] or {}).get("id") or "")  # Slack shares asynchronously: the file id then

    async def find_sent(self, channel: str, key: str, *, thread: str | None = None) -> str | None:
        """A message with the key in its metadata, or a file share whose file name carries its tag."""
        tag = f".{file_tag(key)}"
        cursor = None
        for _ in range(HISTORY_PAGES if thread is None else 5):
            if thread is None:
                coro = self.client.conversations_history(channel=channel, limit=200, include_all_metadata=True,
                                                         cursor=cursor)
                method = "conversations.history"
            else:
                coro = self.client.conversations_replies(channel=channel, ts=thread, limit=200,
                                                         include_all_metadata=True, cursor=cursor)
                method = "conversations.replies"
            response = await self.call(method, coro, channel=channel)
            for found in response.get("messages") or []:
                if self.bot_user_id is not None and found.get("user") not in (self.bot_user_id, None):
                    continue
                metadata = found.get("metadata") or {}
                keyed = (metadata.get("event_type") == EVENT_TYPE
                         and (metadata.get("event_payload") or {}).get("key") == key)
                if keyed or any(tag in str(f.get("name") or "") for f in found.get("files") or []):
                    return str(found["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None
