"""The WebSub callback on PORT: `GET /websub/{token}` (verification of intent), `POST` (content).

A new input from the internet, so it trusts nothing it is sent:
- the token is the unguessable last part of the callback URL of one subscription; an unknown one
  is 404 and touches nothing;
- a verification is answered (hub.challenge echoed) only for a subscription of that token with
  that hub.topic waiting for that hub.mode (watchers.feeds.websub_state.verify_intent);
- a content POST is read up to FEED_MAX_BYTES (413 past it, also after decompression) within
  FEED_TIMEOUT_SECONDS; unless X-Hub-Signature is the HMAC of the body under the subscription's
  secret it is ignored (202, as the spec asks, and nothing stored); else it goes through the same
  parse -> normalize -> classify -> file path as a poll (Orchestrator.process_push), and the
  outcome to `on_outcome` (the runner counts it and starts delivery at once).

Stateless: any replica answers any callback, the state is the subscription row.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Awaitable, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from watchers.feeds.parse import ParseError
from watchers.feeds.websub import CALLBACK_PATH, signature_matches
from watchers.feeds.websub_state import push_target, verify_intent
from watchers.orchestrator import FeedOutcome, Orchestrator
from watchers.settings import Settings
from watchers.storage.db import session_scope
from watchers.storage.types import utcnow

log = logging.getLogger("vendorwatch.websub")

OnOutcome = Callable[[FeedOutcome], "Awaitable[None] | None"]
MAX_TOKEN = 64
MAX_CHALLENGE = 1000


class BodyTooLarge(Exception):
    pass


async def read_bounded(request: web.Request, limit: int) -> bytes:
    """The request body (decompressed by aiohttp), refused once it passes `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(f"Content-Length {request.content_length} is over {limit} bytes")
    chunks, received = [], 0
    async for chunk in request.content.iter_chunked(65536):
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def add_websub_routes(app: web.Application, engine: AsyncEngine, settings: Settings, orchestrator: Orchestrator,
                      on_outcome: OnOutcome | None = None) -> None:
    async def verify(request: web.Request) -> web.Response:
        token, query = request.match_info["token"], request.query
        mode, topic, challenge = query.get("hub.mode", ""), query.get("hub.topic", ""), query.get("hub.challenge")
        if len(token) > MAX_TOKEN or (mode != "denied" and not challenge) or len(challenge or "") > MAX_CHALLENGE:
            raise web.HTTPNotFound()
        async with session_scope(engine) as session:
            confirmed = await verify_intent(session, token, mode=mode, topic=topic,
                                            lease_seconds=query.get("hub.lease_seconds"),
                                            reason=query.get("hub.reason"), asked_lease=settings.websub_lease_seconds,
                                            now=utcnow())
        log.info("websub verification %s", "confirmed" if confirmed else "refused", extra={"status": mode[:20]})
        if not confirmed:
            raise web.HTTPNotFound()
        return web.Response(text=challenge or "", content_type="text/plain")

    async def receive(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if len(token) > MAX_TOKEN:
            raise web.HTTPNotFound()
        async with session_scope(engine) as session:
            target = await push_target(session, token)
        if target is None:
            raise web.HTTPNotFound()
        try:
            async with asyncio.timeout(settings.feed_timeout_seconds):
                body = await read_bounded(request, settings.feed_max_bytes)
        except BodyTooLarge as exc:
            log.warning("websub push refused: %s", exc, extra={"feed_id": target.feed_id})
            raise web.HTTPRequestEntityTooLarge(max_size=settings.feed_max_bytes,
                                                actual_size=request.content_length or settings.feed_max_bytes + 1)
        except TimeoutError:
            raise web.HTTPRequestTimeout() from None
        if not signature_matches(target.secret, body, request.headers.get("X-Hub-Signature")):
            log.warning("websub push ignored: bad or missing signature", extra={"feed_id": target.feed_id})
            return web.Response(status=202)
        try:
            outcome = await orchestrator.process_push(target, body, content_type=request.headers.get("Content-Type"))
        except ParseError as exc:
            log.warning("websub push is no feed: %s", exc, extra={"feed_id": target.feed_id,
                                                                   "error_kind": exc.kind})
            return web.Response(status=202)
        if outcome is not None and on_outcome is not None:
            result = on_outcome(outcome)
            if inspect.isawaitable(result):
                await result
        return web.Response(status=202)

    app.router.add_get(CALLBACK_PATH + "{token}", verify)
    app.router.add_post(CALLBACK_PATH + "{token}", receive)
