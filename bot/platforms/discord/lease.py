"""Who holds the Discord gateway when several replicas run: a PostgreSQL advisory lock.

Discord delivers every event (slash commands, button clicks) to every connection of the same
shard, so two replicas on the gateway would both answer one interaction. One replica holds a
session-level advisory lock on a connection of its own and connects to the gateway; the others
send through REST only and try again every `check_seconds`. When the holder dies its database
session ends and the lock with it, so another replica takes over within `check_seconds` (plus
the time PostgreSQL needs to notice a dead client). On SQLite (one `run` per database file)
there is nothing to share: every process holds the gateway.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text

log = logging.getLogger("vendorwatch.discord")

GATEWAY_LOCK_ID = 0x76776463  # "vwdc"


class GatewayLease:
    def __init__(self, engine: Any):
        self.engine = engine
        self._conn: Any = None

    @staticmethod
    def needed(engine: Any) -> bool:
        return engine is not None and getattr(getattr(engine, "dialect", None), "name", "") == "postgresql"

    @property
    def held(self) -> bool:
        return self._conn is not None

    async def try_take(self) -> bool:
        """Take the lock if it is free; keep the connection that holds it."""
        if self._conn is not None:
            return True
        conn = await self.engine.connect()
        try:
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": GATEWAY_LOCK_ID})).scalar()
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    async def still_held(self) -> bool:
        """False when the connection holding the lock is gone (the lock went with it)."""
        if self._conn is None:
            return False
        try:
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
            return True
        except Exception:  # noqa: BLE001 - a broken connection: the lock is lost
            log.warning("lost the database connection that held the Discord gateway lock")
            await self._drop()
            return False

    async def release(self) -> None:
        if self._conn is None:
            return
        try:
            await self._conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": GATEWAY_LOCK_ID})
            await self._conn.commit()
        except Exception:  # noqa: BLE001 - closing the session releases it anyway
            pass
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        try:
            await conn.close()
        except Exception:  # noqa: BLE001
            pass
