"""Refusing replayed signed requests: a signature is answered once within its validity window.

Slack signs each request with a timestamp that stays valid for five minutes, so a copy sent again
within that window passes the signature check. With a database the record of seen signatures is
shared by every replica (table seen_request), so a replay that a load balancer sends to another
replica is refused too; without one (tests, or the database unreachable) it is this process's.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from watchers.storage.requests import SeenRequest
from watchers.storage.types import utcnow

log = logging.getLogger("vendorwatch.replay")

REPLAY_WINDOW_SECONDS = 60 * 5 + 30  # Slack's five minutes, and clock skew


class ReplayGuard:
    def __init__(self, engine: Any = None, *, window_seconds: float = REPLAY_WINDOW_SECONDS) -> None:
        self.engine = engine
        self.window_seconds = window_seconds
        self._seen_here: dict[str, float] = {}  # sha256 -> time.monotonic(), when there is no database

    async def first_time(self, signature: str, *, platform: str) -> bool:
        """True the first time this signature is seen within the window; False for a replay."""
        digest = hashlib.sha256(signature.encode()).hexdigest()
        if self.engine is not None:
            try:
                return await self._first_time_in_database(digest, utcnow())
            except IntegrityError:
                return False
            except Exception:  # noqa: BLE001 - the signature was checked; fall back to this process's record
                log.warning("replay check fell back to this process (database unavailable)", exc_info=True,
                            extra={"platform": platform})
        return self._first_time_here(digest, time.monotonic())

    async def _first_time_in_database(self, digest: str, now: datetime) -> bool:
        async with AsyncSession(self.engine) as session:
            stale = SeenRequest.seen_at < now - timedelta(seconds=self.window_seconds)  # type: ignore[operator]
            await session.exec(delete(SeenRequest).where(stale))  # type: ignore[call-overload]
            session.add(SeenRequest(signature_sha256=digest, seen_at=now))
            await session.commit()
        return True

    def _first_time_here(self, digest: str, now: float) -> bool:
        self._seen_here = {seen: at for seen, at in self._seen_here.items() if now - at <= self.window_seconds}
        if digest in self._seen_here:
            return False
        self._seen_here[digest] = now
        return True
