"""Engines, sessions and schema migration.

One URL (`DATABASE_URL`) names the database for both the async runtime (aiosqlite or
psycopg 3 async) and Alembic (sync). `upgrade` is serialized across processes: on PostgreSQL by
an advisory lock, on SQLite by the database file's own write lock.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from sqlalchemy import event, make_url
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from watchers.errors import UsageError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_ID = 0x76656E64  # "vend": the advisory lock that serializes migrations


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except Exception:
        raise UsageError(f"DATABASE_URL {url!r} is not a valid SQLAlchemy URL") from None


def sync_url(url: str) -> URL:
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise UsageError(f"DATABASE_URL {url!r}: only sqlite and postgresql are supported")


def async_url(url: str) -> URL:
    parsed = sync_url(url)
    return parsed.set(drivername="sqlite+aiosqlite") if parsed.get_backend_name() == "sqlite" else parsed


def _ensure_sqlite_dir(url: URL) -> None:
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def install_sqlite_pragmas(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    target = async_url(url)
    _ensure_sqlite_dir(target)
    if target.get_backend_name() == "sqlite":
        engine = create_async_engine(target, connect_args={"timeout": 10})
    else:
        engine = create_async_engine(target, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    install_sqlite_pragmas(engine.sync_engine)
    return engine


@asynccontextmanager
async def session_scope(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@dataclass(frozen=True)
class UpgradeResult:
    """What `upgrade` did: the schema revisions before and after."""

    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def action(self) -> str:
        """created (empty database), migrated (an older revision), or current (nothing to do)."""
        if not self.before:
            return "created"
        return "current" if set(self.before) == set(self.after) else "migrated"


def upgrade_sync(url: str, revision: str = "head") -> UpgradeResult:
    from alembic import command
    from alembic.config import Config

    target = sync_url(url)
    _ensure_sqlite_dir(target)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = target.render_as_string(hide_password=False)
    command.upgrade(config, revision)
    return UpgradeResult(config.attributes.get("heads_before", ()), config.attributes.get("heads_after", ()))


async def upgrade(url: str) -> UpgradeResult:
    """Create or migrate the schema (`vendorwatch db upgrade`); safe to call from every command."""
    return await asyncio.to_thread(upgrade_sync, url)


def database_location(url: str) -> str:
    """Where the database is, for a person: the absolute file of SQLite, else the URL without credentials."""
    target = _parse(url)
    if target.get_backend_name() == "sqlite":
        if not target.database or target.database == ":memory:":
            return "memory (SQLite)"
        return f"{Path(target.database).expanduser().resolve()} (SQLite)"
    return target._replace(username=None, password=None).render_as_string(hide_password=True)
