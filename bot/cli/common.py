"""What several subcommands share: the database, the current registry, a `--channel` argument."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from watchers.errors import UsageError
from watchers.rules.registry import Registry, company_from_user, load_registry
from watchers.settings import Settings
from watchers.storage.db import make_engine, session_scope, upgrade
from watchers.storage.tables import TrackedCompany

log = logging.getLogger("vendorwatch.cli")

@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The schema upgraded first (as every command that needs the database does), then an engine."""
    await upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def current_registry(session: AsyncSession, settings: Settings) -> Registry:
    """The seeds' companies plus those added from chat (table tracked_company), as `run` has them."""
    extra = []
    for row in (await session.exec(select(TrackedCompany))).all():
        try:
            extra.append(company_from_user(row.slug, row.name, tuple(row.aliases or ()), kind=row.kind))
        except ValueError as exc:  # the seeds changed under it; the bot skips it the same way
            log.warning("skipping a company added from chat: %s", exc, extra={"company": row.slug})
    return load_registry(settings.seeds_path / "companies.toml", extra=extra)


async def load_current_registry(settings: Settings, engine: AsyncEngine) -> Registry:
    async with session_scope(engine) as session:
        return await current_registry(session, settings)
