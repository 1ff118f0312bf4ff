"""The platform contract: what every chat platform (console, memory, Slack, Discord) implements.

The core never imports a chat SDK. It builds neutral `Message`s (bot.messages) and hands them
to a `Platform`, which only translates. What a platform must do, in five parts:

1. Lifecycle. `start()` connects and authenticates (bad credentials: raise `PermanentError`
   with one clear sentence, which `vendorwatch run` prints before it exits 1); `stop()` lets go
   within a second or two; `health()` says whether it is connected and authenticated, and as
   whom; `add_routes(app)` adds its HTTP routes (Slack's /slack/events) to the aiohttp
   application on PORT before it starts. Platforms with nothing to do there do nothing.

2. Rendering. `render(message)` returns the native payload (Block Kit, embeds, text) without
   sending it, so that it can be tested alone. Limits are met by truncation with an ellipsis,
   never by an API error; every string of the message is feed text and is escaped for the
   platform's markup and mentions there and only there (the neutral Message stays plain text).

3. Sending. `post(channel, message, thread=None, key=...)` returns the platform's message id
   (in `thread`'s thread when given); `edit(channel, message_id, message, thread=None)` replaces
   a message the bot sent; `upload(channel, attachment, thread=None, key=...)` sends one file;
   `find_sent(channel, key, thread=None)` returns the id of a message (or file) already sent with
   that key (thread replies too), or None where the platform cannot tell; the outbox asks it
   before re-sending a row whose first try may have gone out, so `post` and `upload` must carry
   the key where `find_sent` can see it.
   Attachments: where files go with the message (`uploads_separately = False`: Discord's embed
   images, console, memory) `post` sends the message's attachments with it. Where the platform
   sends files through calls of their own (`uploads_separately = True`: Slack's file upload
   flow), one post cannot make message and files atomic, so `post` takes messages without
   attachments and the outbox sends each attachment as its own row with `upload` into the post's
   thread, retried like any row (bot/delivery/uploads.py).

4. Pace. `pace` declares the least time between two messages to one channel; the outbox waits
   it out. Anything beyond that (per-workspace, per-guild or global buckets) the platform
   reports as `RateLimited` with the `scope` the limit applies to, and the outbox holds the
   channel, every channel of that workspace, or every channel of the platform.

5. Commands. A platform turns its slash command into a `Request` and hands it to the command
   core it was built with through `answer_in_time`: the answer goes out at once when the core is
   quick; when it is slow (a lookup, a digest with its chart) the platform acknowledges before
   its deadline and sends the answer later. Errors and help are ephemeral; a reply says whether
   it is public (`Reply.ephemeral`).

Errors: every failure of a platform call is one of `RateLimited` (wait `retry_after`),
`TransientError` (a 5xx, a timeout, a dropped connection: retried with backoff) or
`PermanentError` (the channel is gone, the bot was removed, a permission or scope is missing,
the token was revoked: the channel's subscriptions are paused with the reason).
tests/test_platform_contract.py holds the suite every platform passes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Literal, Protocol

from bot.messages import Attachment, Message, Reply, Request

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("vendorwatch.platforms")

RateLimitScope = Literal["channel", "workspace", "global"]


class PlatformError(Exception):
    """Base of the errors an adapter raises."""


class RateLimited(PlatformError):
    """Slow down: retry after `retry_after` seconds; `scope` says what the limit covers."""

    def __init__(self, retry_after: float, detail: str = "rate limited", *, scope: RateLimitScope = "channel",
                 workspace: str | None = None):
        super().__init__(detail)
        self.retry_after = retry_after
        self.scope = scope
        self.workspace = workspace


class TransientError(PlatformError):
    """A server error, a timeout or a dropped connection: retry with backoff."""


class PermanentError(PlatformError):
    """The channel is gone, the bot was removed, or it lacks a permission: pause, don't retry."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Pace:
    """How often a platform may be sent to, as the outbox waits it out."""

    channel_seconds: float = 0.0  # least time between two messages to one channel


@dataclass(frozen=True)
class Health:
    """What /healthz shows of one platform."""

    connected: bool
    authenticated: bool
    identity: str | None = None  # as whom, in which workspace or guild
    detail: str | None = None  # why not, when not

    @property
    def ok(self) -> bool:
        return self.connected and self.authenticated

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "connected": self.connected, "authenticated": self.authenticated,
                "identity": self.identity, "detail": self.detail}


class Platform(Protocol):
    name: str  # the `platform` of its channels: slack | discord | console | memory
    pace: Pace
    uploads_separately: bool  # files go up in calls of their own, after the message (part 3)

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def health(self) -> Health: ...

    def add_routes(self, app: web.Application) -> None: ...

    def render(self, message: Message) -> Any:
        """The native payload of `message`, within the platform's limits, feed text escaped."""

    async def post(self, channel: str, message: Message, *, thread: str | None = None,
                   key: str | None = None) -> str:
        """Send a message (in `thread`'s thread when given); return its platform id.

        With `uploads_separately` the message carries no attachments: the outbox uploads them."""

    async def edit(self, channel: str, message_id: str, message: Message, *, thread: str | None = None) -> None:
        """Replace the content of a message the bot sent."""

    async def upload(self, channel: str, attachment: Attachment, *, thread: str | None = None,
                     key: str | None = None) -> str:
        """Send one file (in `thread`'s thread when given); return the id of the message carrying it.

        With `key`, a later `find_sent(channel, key, thread=thread)` finds this file."""

    async def find_sent(self, channel: str, key: str, *, thread: str | None = None) -> str | None:
        """The id of a message already sent with this key, where the platform lets us look; else None."""


CommandHandler = Callable[[Request], Awaitable[Reply]]

SORRY = Reply(text="Sorry, something went wrong on my side; the bot's log has the details.", is_error=True)


async def answer_in_time(handle: CommandHandler, request: Request, *, deadline: float,
                         answer_now: Callable[[Reply], Awaitable[None]],
                         acknowledge: Callable[[Reply | None], Awaitable[None]],
                         answer_later: Callable[[Reply], Awaitable[None]]) -> Reply:
    """Run the command core on `request` and answer within the platform's `deadline` (seconds).

    Quick answers go out through `answer_now`. When the core is still working at the deadline,
    `acknowledge` is called (with None: the platform shows that it is working on it) and the
    answer follows through `answer_later`. The core answers a user's mistake itself and logs
    anything unexpected; should it still raise, the user gets a short apology.
    """
    task = asyncio.ensure_future(handle(request))
    done, _ = await asyncio.wait({task}, timeout=deadline)
    if done:
        reply = _result_or_sorry(task)
        await answer_now(reply)
        return reply
    await acknowledge(None)
    await asyncio.wait({task})
    reply = _result_or_sorry(task)
    await answer_later(reply)
    return reply


def _result_or_sorry(task: asyncio.Future[Reply]) -> Reply:
    error = task.exception()
    if error is not None:
        log.error("command failed", exc_info=error)
        return SORRY
    return task.result()
