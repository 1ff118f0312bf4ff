"""What the core asks of a chat platform, and the errors a platform may answer with.

An adapter (console, memory, Slack, Discord) implements `Platform`; it only translates a
neutral `Message` to its own format and its own errors to these three kinds.
"""

from __future__ import annotations

from typing import Protocol

from bot.messages import Message


class PlatformError(Exception):
    """Base of the errors an adapter raises."""


class RateLimited(PlatformError):
    """Slow down: retry after `retry_after` seconds (from the platform's Retry-After)."""

    def __init__(self, retry_after: float, detail: str = "rate limited"):
        super().__init__(detail)
        self.retry_after = retry_after


class TransientError(PlatformError):
    """A server error or a dropped connection: retry with backoff."""


class PermanentError(PlatformError):
    """The channel is gone, the bot was removed, or it lacks a permission: pause, don't retry."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Platform(Protocol):
    name: str  # slack | discord | console | memory

    async def post(self, channel_id: str, message: Message, *, thread_id: str | None = None,
                   idempotency_key: str | None = None) -> str:
        """Send a message (in `thread_id`'s thread when given); return its platform id."""

    async def edit(self, channel_id: str, message_id: str, message: Message) -> None:
        """Replace the content of a message the bot sent."""

    async def find_sent(self, channel_id: str, idempotency_key: str) -> str | None:
        """The id of a message already sent with this key, where the platform lets us look; else None."""
