"""The Discord platform: discord.py's AutoShardedClient behind the platform contract.

Lifecycle. `start()` points discord.py at `DISCORD_API_URL` when it is set (REST base, and the
default gateway set to what `GET /gateway/bot` answers, which discord.py falls back to after an
INVALID_SESSION), logs in (a refused token: `PermanentError("Discord rejected the bot token")`),
syncs the `/vendorwatch` command (to DISCORD_GUILD_ID when set, else globally), connects and waits
for READY. Intents: GUILDS and GUILD_MESSAGES, no privileged ones. Reconnects and RESUMEs are
discord.py's. `health()` shows the gateway state, latency, as whom and in how many guilds.
With several replicas on PostgreSQL only the holder of an advisory lock (lease.py) connects to
the gateway (and so answers commands and buttons); every replica sends through REST.

Sending. One message is one embed (render.py), `allowed_mentions` none. Every create carries a
nonce derived from the outbox key, with `enforce_nonce` (discord.py 2.7 adds it): a second create
with that nonce within minutes returns the first message. `find_sent` looks for the nonce among
the channel's (or thread's) 50 latest messages and the bot's own creates seen on the gateway.
Threads: a reply's `thread` is the parent message's id; a thread started on a message has the
message's id, so replies go to that channel id, and the first reply opens the thread
(`POST .../messages/{id}/threads`, "already has a thread" answered by the parent's `thread`). In
a forum channel each story is a post (a thread with the embed as first message, whose id is the
post's and the message's); replies go into it. Forum posts carry no nonce (Discord has no field
for it there): `find_sent` answers for them from this process's memory only.

Errors: errors.py (every REST call bounded; 429 beyond the bound -> RateLimited; 5xx, timeouts ->
TransientError; Missing Access/Permissions, Unknown Channel -> PermanentError with the reason).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import io
import logging
import re
from typing import Any, Callable

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.utils import MISSING

from bot.messages import Attachment, Message, Reply
from bot.platforms.contract import Health, Pace, PermanentError, PlatformError, RateLimited, TransientError
from bot.platforms.discord import commands as slash
from bot.platforms.discord.errors import THREAD_EXISTS, as_contract_error, bounded, trace_config
from bot.platforms.discord.lease import GatewayLease
from bot.platforms.discord.render import ZWSP, attachment_name, render

log = logging.getLogger("vendorwatch.discord")

SEND_BOUND_SECONDS = 5.0  # a send still waiting (429s, 5xx retries) after this is handed back to the outbox
READY_TIMEOUT_SECONDS = 30.0
GUILD_READY_SECONDS = 0.5  # READY fires this long after the last GUILD_CREATE
STOP_SECONDS = 1.5
HISTORY_LOOKBACK = 50
THREAD_ARCHIVE_MINUTES = 10080  # a week
THREAD_NAME_MAX = 100
NONCE_PREFIX = "vw"
LEASE_CHECK_SECONDS = 15.0  # a replica takes the gateway over this soon after its holder died
REQUESTS_PER_SECOND = 45  # Discord allows a bot 50 requests a second in all; stay under it


_POINTED: list[Any] = []  # the original REST base and gateway, then one entry per platform pointing them


def nonce_of(key: str) -> str:
    """A Discord nonce (at most 25 characters) derived from an outbox key."""
    return NONCE_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:23]


def least_intents() -> discord.Intents:
    """GUILDS (channels and threads in the cache) and GUILD_MESSAGES (our own creates): none privileged."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    return intents


class VendorwatchClient(discord.AutoShardedClient):
    """The gateway client: remembers the nonces of its own messages, routes commands and buttons."""

    fast_identify = False  # tests: no 5 s wait before a re-IDENTIFY

    def __init__(self, platform: "DiscordPlatform", **options: Any):
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # no voice here: no warning about it
        super().__init__(intents=least_intents(), allowed_mentions=discord.AllowedMentions.none(),
                         http_trace=trace_config(), max_ratelimit_timeout=30.0, **options)
        self.platform = platform
        self.tree = slash.build_tree(self, platform)

    async def setup_hook(self) -> None:
        slash.install_buttons(self, self.platform)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not self.fast_identify:
            await super().before_identify_hook(shard_id, initial=initial)

    async def on_message(self, message: discord.Message) -> None:
        if self.user is not None and message.author.id == self.user.id and message.nonce:
            self.platform.remember(str(message.channel.id), str(message.nonce), str(message.id))


class DiscordPlatform:
    name = "discord"
    uploads_separately = False  # a file goes in the same create as its embed (attachment://)

    def __init__(self, *, settings: Any, engine: Any = None, commands: Any = None,
                 send_bound: float = SEND_BOUND_SECONDS, ready_timeout: float = READY_TIMEOUT_SECONDS,
                 guild_ready_timeout: float = GUILD_READY_SECONDS, fast_identify: bool = False,
                 command_deadline: float = slash.COMMAND_DEADLINE_SECONDS,
                 lease_check_seconds: float = LEASE_CHECK_SECONDS):
        self.settings = settings
        self.engine = engine
        self.commands = commands
        self.pace = Pace(float(getattr(settings, "discord_pace_seconds", 1.0) or 0.0))
        self.token = settings.discord_bot_token
        self.api_url = (getattr(settings, "discord_api_url", None) or "").rstrip("/") or None
        self.guild_id = getattr(settings, "discord_guild_id", None)
        self.send_bound = send_bound
        self.ready_timeout = ready_timeout
        self.guild_ready_timeout = guild_ready_timeout
        self.fast_identify = fast_identify
        self.command_deadline = command_deadline
        self.on_answer: Callable[[str, Reply | None], None] | None = None  # tests watch what users saw
        self.client: VendorwatchClient | None = None
        self._task: asyncio.Task[None] | None = None  # the gateway connection, on the replica that holds it
        self._watcher: asyncio.Task[None] | None = None
        self._lease = GatewayLease(engine) if GatewayLease.needed(engine) else None
        self.lease_check_seconds = lease_check_seconds
        self._pointed = False
        self._sent: dict[tuple[str, str], str] = {}  # (channel or thread id, nonce) -> message id
        self._forum: dict[str, bool] = {}
        self._threads: set[str] = set()
        self._starts: collections.deque[float] = collections.deque()
        self.requests_per_second = REQUESTS_PER_SECOND

    # Lifecycle

    def _point(self, gateway: str | None = None) -> None:
        """discord.py's REST base and default gateway (class attributes) set to DISCORD_API_URL's."""
        if self.api_url is None:
            return
        if not self._pointed:
            self._pointed = True
            if not _POINTED:
                _POINTED.append((discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY))
            _POINTED.append(None)
        discord.http.Route.BASE = self.api_url
        if gateway:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)

    def _unpoint(self) -> None:
        """Restored when the last platform that pointed them lets go (tests start several)."""
        if self._pointed:
            self._pointed = False
            _POINTED.pop()
            if len(_POINTED) == 1:
                discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = _POINTED.pop()

    async def start(self) -> None:
        if not self.token:
            raise PermanentError("DISCORD_BOT_TOKEN is not set")
        self._point()
        try:
            client = await self._login()
            _, gateway, _ = await client.http.get_bot_gateway()
            self._point(gateway)
            if self._lease is None or await self._lease.try_take():
                await self._connect(client)
            else:
                log.info("another replica holds the Discord gateway: this one sends through REST and takes over "
                         "when it goes")
        except discord.LoginFailure:
            await self.stop()
            raise PermanentError("Discord rejected the bot token") from None
        except discord.PrivilegedIntentsRequired:
            await self.stop()
            raise PermanentError("Discord refused the gateway intents") from None
        except PlatformError:
            await self.stop()
            raise
        except Exception as exc:  # noqa: BLE001 - one clear line for the runner
            await self.stop()
            raise TransientError(f"cannot connect to Discord: {exc.__class__.__name__}: {exc}"[:300]) from exc
        if self._lease is not None:
            self._watcher = asyncio.create_task(self._watch_lease(), name="discord-gateway-lease")
        log.info("discord connected as %s in %d guild(s)%s", self.client.user, len(self.client.guilds),
                 "" if self._task else " (REST only)")

    async def _login(self) -> VendorwatchClient:
        client = VendorwatchClient(self, guild_ready_timeout=self.guild_ready_timeout)
        client.fast_identify = self.fast_identify
        self.client = client
        await client.login(self.token)
        return client

    async def _connect(self, client: VendorwatchClient) -> None:
        """Sync the commands, open the gateway and wait for READY."""
        await slash.sync(client, self.guild_id)
        self._task = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
        await self._wait_ready(client)

    async def _watch_lease(self) -> None:
        """Take the gateway over when its holder goes; let it go when the lock is lost to another replica."""
        assert self._lease is not None
        while True:
            await asyncio.sleep(self.lease_check_seconds)
            try:
                if self._task is None:
                    if await self._lease.try_take():
                        log.info("this replica takes over the Discord gateway")
                        await self._connect(self.client)
                elif not await self._lease.still_held() and not await self._lease.try_take():
                    log.error("another replica took the Discord gateway; this one goes back to REST only")
                    old, self._task = self.client, None
                    await asyncio.wait_for(old.close(), STOP_SECONDS)
                    await self._login()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - tried again at the next check
                log.exception("the Discord gateway lease check failed")
                if self._task is not None and self._task.done():
                    self._task = None  # the takeover did not connect: let another replica try
                    await self._lease.release()

    async def _wait_ready(self, client: VendorwatchClient) -> None:
        ready = asyncio.ensure_future(client.wait_until_ready())
        assert self._task is not None
        done, _ = await asyncio.wait({ready, self._task}, timeout=self.ready_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if ready in done:
            return
        ready.cancel()
        if self._task in done and self._task.exception() is not None:
            error = self._task.exception()
            if isinstance(error, discord.ConnectionClosed) and error.code == 4004:
                raise discord.LoginFailure()
            raise error  # type: ignore[misc]
        raise TransientError(f"the Discord gateway was not ready within {self.ready_timeout:g} s")

    async def stop(self) -> None:
        client, task, watcher = self.client, self._task, self._watcher
        self._task = self._watcher = None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await watcher
        try:
            if client is not None and not client.is_closed():
                with contextlib.suppress(Exception, asyncio.TimeoutError):
                    await asyncio.wait_for(client.close(), STOP_SECONDS)
            elif client is not None:
                with contextlib.suppress(Exception):
                    await client.http.close()
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(task, 0.5)
        finally:
            if self._lease is not None:
                await self._lease.release()
            self._unpoint()

    async def health(self) -> Health:
        client = self.client
        if client is not None and self._task is None and self._watcher is not None and not client.is_closed():
            return Health(client.user is not None, client.user is not None,
                          identity=f"{client.user}, REST only (another replica holds the gateway)")
        if client is None or self._task is None:
            return Health(False, False, detail="discord: not started")
        if client.is_closed() or self._task.done():
            return Health(False, client.user is not None, detail="discord: the gateway connection is closed")
        shards = client.shards
        connected = client.is_ready() and bool(shards) and all(not s.is_closed() for s in shards.values())
        latency = client.latency
        shown = f"{latency * 1000:.0f} ms" if latency == latency and latency != float("inf") else "unknown"
        identity = f"{client.user} in {len(client.guilds)} guild(s), gateway latency {shown}"
        return Health(connected, client.user is not None, identity=identity,
                      detail=None if connected else "discord: the gateway is reconnecting")

    def add_routes(self, app: Any) -> None:
        """Discord talks to us over the gateway: no HTTP routes."""

    # Rendering and sending

    def render(self, message: Message) -> dict[str, Any]:
        return render(message)

    def remember(self, channel_id: str, nonce: str, message_id: str) -> None:
        self._sent[(channel_id, nonce)] = message_id
        if len(self._sent) > 10_000:
            self._sent.pop(next(iter(self._sent)))

    def _http(self) -> Any:
        if self.client is None or self.client.is_closed():
            raise TransientError("Discord is not connected")
        return self.client.http

    def answered(self, kind: str, reply: Reply | None) -> None:
        """A command was answered: now, ack or later (commands.py calls this)."""
        if self.on_answer is not None:
            self.on_answer(kind, reply)

    async def _under_global_limit(self) -> None:
        """Wait until one more request stays within `requests_per_second` (a sliding second)."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._starts and now - self._starts[0] >= 1.0:
                self._starts.popleft()
            if len(self._starts) < self.requests_per_second:
                self._starts.append(now)
                return
            await asyncio.sleep(1.0 - (now - self._starts[0]))

    async def _call(self, coro: Any, what: str) -> Any:
        try:
            await self._under_global_limit()
        except BaseException:
            coro.close()
            raise
        try:
            return await bounded(coro, self.send_bound, what)
        except RateLimited as exc:
            if exc.scope == "global" and self.client is not None:
                # discord.py holds every request while it sleeps out a global 429; it was cancelled
                # at the bound, so let requests go again once the limit is over.
                http = self.client.http
                asyncio.get_running_loop().call_later(exc.retry_after, http._global_over.set)
            raise

    def _params(self, message: Message, *, nonce: str | None = None, files: bool = True,
                channel_payload: dict[str, Any] | None = None) -> Any:
        payload = render(message)
        return discord.http.handle_message_parameters(
            embeds=[discord.Embed.from_dict(e) for e in payload["embeds"]],
            allowed_mentions=discord.AllowedMentions.none(), nonce=nonce,
            files=[discord.File(io.BytesIO(a.data), filename=attachment_name(a.filename))
                   for a in message.attachments] if files and message.attachments else MISSING,
            view=slash.view_of(payload.get("components") or []) or MISSING,
            channel_payload=channel_payload if channel_payload is not None else MISSING)

    async def _is_forum(self, channel: str) -> bool:
        if channel not in self._forum:
            cached = self.client.get_channel(int(channel)) if self.client else None
            if cached is not None:
                self._forum[channel] = isinstance(cached, discord.ForumChannel)
            else:
                data = await self._call(self._http().get_channel(int(channel)), "reading the channel")
                self._forum[channel] = int(data.get("type", 0)) == discord.ChannelType.forum.value
        return self._forum[channel]

    async def post(self, channel: str, message: Message, *, thread: str | None = None,
                   key: str | None = None) -> str:
        nonce = nonce_of(key) if key else None
        if thread is None and await self._is_forum(channel):
            return await self._forum_post(channel, message, nonce)
        target = channel if thread is None else await self._thread_of(channel, thread)
        with self._params(message, nonce=nonce) as params:
            data = await self._call(self._http().send_message(int(target), params=params), "sending a message")
        if nonce:
            self.remember(target, nonce, str(data["id"]))
        return str(data["id"])

    async def _forum_post(self, forum: str, message: Message, nonce: str | None) -> str:
        name = _thread_name(message.title)
        with self._params(message, channel_payload={"name": name, "auto_archive_duration": THREAD_ARCHIVE_MINUTES}) \
                as params:
            data = await self._call(self._http().start_thread_in_forum(int(forum), params=params),
                                    "opening a forum post")
        post_id = str(data["id"])
        self._threads.add(post_id)
        if nonce:
            self.remember(forum, nonce, post_id)
        return post_id

    async def _thread_of(self, channel: str, parent: str) -> str:
        """The channel id of the parent's thread, opened now by the first reply."""
        if parent in self._threads or (self.client and self.client.get_channel(int(parent)) is not None):
            return parent
        if await self._is_forum(channel):
            return parent  # a forum post's id is its thread's
        http = self._http()
        starter = await self._call(http.get_message(int(channel), int(parent)), "reading the alert")
        existing = (starter.get("thread") or {}).get("id")
        if existing is None:
            title = ((starter.get("embeds") or [{}])[0].get("title")) or "More coverage"

            async def open_thread() -> Any:
                try:
                    return await http.start_thread_with_message(int(channel), int(parent), name=_thread_name(title),
                                                                auto_archive_duration=THREAD_ARCHIVE_MINUTES)
                except discord.HTTPException as exc:
                    if exc.code != THREAD_EXISTS:
                        raise
                    again = await http.get_message(int(channel), int(parent))
                    return again.get("thread") or {"id": parent}

            existing = (await self._call(open_thread(), "opening a thread"))["id"]
        self._threads.add(str(existing))
        return str(existing)

    async def edit(self, channel: str, message_id: str, message: Message, *, thread: str | None = None) -> None:
        if await self._is_forum(channel):
            target = message_id  # a post's first message lives in the post's thread, with the post's id
        elif thread is not None and thread != message_id:
            target = await self._thread_of(channel, thread)
        else:
            target = channel
        with self._params(message, files=False) as params:
            await self._call(self._http().edit_message(int(target), int(message_id), params=params),
                             "editing a message")

    async def upload(self, channel: str, attachment: Attachment, *, thread: str | None = None,
                     key: str | None = None) -> str:
        message = Message(title=attachment.title or attachment.filename, attachments=(attachment,))
        return await self.post(channel, message, thread=thread, key=key)

    async def find_sent(self, channel: str, key: str, *, thread: str | None = None) -> str | None:
        nonce = nonce_of(key)
        if thread is None and await self._is_forum(channel):
            return self._sent.get((channel, nonce))
        target = thread if thread is not None else channel
        if (target, nonce) in self._sent:
            return self._sent[(target, nonce)]
        try:
            history = await self._call(self._http().logs_from(int(target), HISTORY_LOOKBACK), "reading history")
        except PermanentError:
            if thread is not None:
                return None  # the thread was never opened: nothing went into it
            raise
        me = str(self.client.user.id) if self.client and self.client.user else None
        for data in history:
            if str(data.get("nonce")) == nonce and (me is None or str(data["author"]["id"]) == me):
                return str(data["id"])
        return None


def _thread_name(title: str) -> str:
    """A thread name (plain text, 100 characters) from an embed title or a message title."""
    plain = re.sub(r"\\(.)", r"\1", title).replace(ZWSP, "")
    plain = re.sub(r"[\x00-\x1f\x7f]", "", plain).strip() or "More coverage"
    plain = plain.replace("@", "@" + ZWSP)
    return plain if len(plain) <= THREAD_NAME_MAX else plain[: THREAD_NAME_MAX - 1] + "\u2026"


__all__ = ["DiscordPlatform", "as_contract_error", "nonce_of"]
