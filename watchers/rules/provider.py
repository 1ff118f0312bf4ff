"""The rules engine the orchestrator classifies with, rebuilt when companies are added from chat.

Companies added from chat live in table tracked_company. A cheap fingerprint of that table (row
count and newest created_at) is read before each poll cycle; when it changes, the engine is
rebuilt (in a thread: loading a large registry takes a moment) with those companies joined.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Callable, Iterable

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from watchers.rules.classify import RulesEngine
from watchers.rules.registry import Company, company_from_user
from watchers.settings import Settings
from watchers.storage.tables import TrackedCompany

log = logging.getLogger("vendorwatch.rules")

Fingerprint = tuple[int, datetime | None]


class RulesProvider:
    """Hands out the current RulesEngine; `generation` grows by one with each rebuild."""

    def __init__(self, build: Callable[[Iterable[Company]], RulesEngine], *, track_table: bool = True):
        self._build = build
        self._track_table = track_table
        self._rules_engine: RulesEngine | None = None
        self._fingerprint: Fingerprint | None = None
        self._user_slugs: frozenset[str] = frozenset()
        self._lock = asyncio.Lock()
        self.generation = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> "RulesProvider":
        """Seeds from SEEDS_DIR (or the bundled ones), plus the companies added from chat."""
        seeds = settings.seeds_path
        return cls(lambda extra: RulesEngine.load(seeds, extra_companies=extra))

    @classmethod
    def fixed(cls, rules_engine: RulesEngine) -> "RulesProvider":
        """Always the same engine (tests, benchmarks, `classify`): the table is not read."""
        provider = cls(lambda _extra: rules_engine, track_table=False)
        provider._rules_engine, provider.generation = rules_engine, 1
        return provider

    @property
    def current(self) -> RulesEngine | None:
        """The engine as last built (None before the first `get`), without reading the table."""
        return self._rules_engine

    @property
    def user_slugs(self) -> frozenset[str]:
        """Slugs of the companies that came from chat (table tracked_company) in the current engine."""
        return self._user_slugs

    async def get(self, session: AsyncSession) -> RulesEngine:
        """The engine, rebuilt first if the tracked_company table changed since the last call."""
        if not self._track_table:
            assert self._rules_engine is not None
            return self._rules_engine
        async with self._lock:
            row = (await session.exec(select(func.count(), func.max(TrackedCompany.created_at)))).one()
            fingerprint: Fingerprint = (int(row[0]), row[1])
            if self._rules_engine is None or fingerprint != self._fingerprint:
                rows = (await session.exec(select(TrackedCompany).order_by(TrackedCompany.slug))).scalars().all()
                extra = []
                for tracked in rows:
                    try:
                        extra.append(company_from_user(tracked.slug, tracked.name, tracked.aliases or (), tracked.kind))
                    except ValueError as exc:
                        log.warning("skipping a company added from chat: %s", exc, extra={"company": tracked.slug})
                self._rules_engine = await asyncio.to_thread(self._build, extra)
                self._user_slugs = frozenset(c.slug for c in extra)
                self._fingerprint = fingerprint
                self.generation += 1
                if self.generation > 1:
                    log.info("rules engine rebuilt with companies added from chat", extra={"count": len(extra)})
            return self._rules_engine
