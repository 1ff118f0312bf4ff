"""Discord failures as the contract's three kinds, and the 429s seen during one call.

discord.py retries a 429 itself (sleeping `retry_after` in its buckets) and a 500/502/504 a few
times. The adapter bounds every call (`calls.bounded`): a call still waiting at the bound is
cancelled and reported as `RateLimited` when a 429 was seen during it (the outbox holds the
channel, or every channel on a global limit), else as a `TransientError`. Nothing is lost by
the cancel: every create carries an enforced nonce, so a retry cannot post twice.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, TypeVar

import aiohttp
import discord

from bot.platforms.contract import PermanentError, PlatformError, RateLimited, TransientError

T = TypeVar("T")

# Discord's JSON error codes that mean "this channel cannot be sent to": pause with the reason.
PERMANENT_CODES = {
    10003: "Unknown Channel", 10008: "Unknown Message", 50001: "Missing Access", 50013: "Missing Permissions",
    50083: "Thread is archived", 160005: "Thread is locked", 50024: "Cannot execute action on this channel type",
}
THREAD_EXISTS = 160004  # "A thread has already been created for this message"


@dataclass
class Seen:
    """What the HTTP trace saw during one bounded call."""

    started: float = field(default_factory=time.monotonic)
    retry_after: float | None = None
    is_global: bool = False
    server_error: int | None = None


_current: contextvars.ContextVar[Seen | None] = contextvars.ContextVar("vendorwatch_discord_call", default=None)


def trace_config() -> aiohttp.TraceConfig:
    """An aiohttp trace that notes 429s and 5xx answers into the current call's `Seen`."""
    trace = aiohttp.TraceConfig()

    async def on_request_end(session: Any, context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        seen = _current.get()
        if seen is None:
            return
        status = params.response.status
        if status == 429:
            headers = params.response.headers
            try:
                seen.retry_after = float(headers.get("X-RateLimit-Reset-After") or headers.get("Retry-After") or 1)
            except ValueError:
                seen.retry_after = 1.0
            seen.is_global = headers.get("X-RateLimit-Global", "").lower() == "true" or \
                headers.get("X-RateLimit-Scope", "") == "global"
        elif status >= 500:
            seen.server_error = status

    trace.on_request_end.append(on_request_end)
    return trace


async def bounded(call: Awaitable[T], bound: float, what: str) -> T:
    """Run one REST call within `bound` seconds; every failure becomes a contract error."""
    seen = Seen()
    token = _current.set(seen)
    try:
        return await asyncio.wait_for(_in_context(call, seen), bound)
    except asyncio.TimeoutError:
        if seen.retry_after is not None:
            left = max(0.1, seen.retry_after - (time.monotonic() - seen.started))
            raise RateLimited(left, f"Discord rate limit on {what}",
                              scope="global" if seen.is_global else "channel") from None
        detail = f"Discord answered {seen.server_error}" if seen.server_error else "no answer"
        raise TransientError(f"{what}: {detail} within {bound:g} s") from None
    except PlatformError:
        raise
    except Exception as exc:  # noqa: BLE001 - mapped below, or re-raised as it is
        mapped = as_contract_error(exc, what)
        if mapped is exc:
            raise
        raise mapped from exc
    finally:
        _current.reset(token)


async def _in_context(call: Awaitable[T], seen: Seen) -> T:
    _current.set(seen)  # wait_for runs the call in a task of its own: carry the record there
    return await call


def as_contract_error(exc: Exception, what: str) -> Exception:
    """A discord.py or network failure as RateLimited, TransientError or PermanentError."""
    if isinstance(exc, discord.RateLimited):
        return RateLimited(max(0.1, exc.retry_after), f"Discord rate limit on {what}")
    if isinstance(exc, discord.HTTPException):
        code = getattr(exc, "code", 0)
        if exc.status == 429:
            return RateLimited(1.0, f"Discord rate limit on {what}")
        if exc.status >= 500:
            return TransientError(f"{what}: Discord answered {exc.status}")
        if exc.status == 401:
            return PermanentError("Discord rejected the bot token")
        if code in PERMANENT_CODES or exc.status in (403, 404):
            name = PERMANENT_CODES.get(code) or (exc.text or f"HTTP {exc.status}")
            return PermanentError(f"Discord: {name} ({code or exc.status}) on {what}")
        return TransientError(f"{what}: Discord answered {exc.status} {code}: {exc.text}"[:300])
    if isinstance(exc, (aiohttp.ClientError, OSError, asyncio.TimeoutError, discord.GatewayNotFound)):
        return TransientError(f"{what}: {exc.__class__.__name__}: {exc}"[:300])
    return exc
