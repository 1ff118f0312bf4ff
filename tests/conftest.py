"""Shared fixtures: real SQLite and real PostgreSQL databases, migrated by Alembic.

`database_url` runs a test once per backend. PostgreSQL comes from VW_TEST_POSTGRES_URL
(default: the local server's `test` database); each test session creates its own database
there and drops it at the end. Without a server the PostgreSQL half skips with the reason,
unless VW_REQUIRE_POSTGRES=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import uuid
from typing import AsyncIterator, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine

from watchers.settings import Settings, load_settings
from watchers.storage.all_tables import metadata
from watchers.storage.db import make_engine, sync_url, upgrade_sync

pytest_plugins = ["tests.feedserver"]

POSTGRES_ADMIN_URL = os.environ.get("VW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("VW_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    admin = sync_url(POSTGRES_ADMIN_URL)
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        reason = f"PostgreSQL not reachable at {admin.render_as_string()}: {exc.__class__.__name__}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (VW_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    name = f"vw_test_{uuid.uuid4().hex[:10]}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    upgrade_sync(url)
    try:
        yield url
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # noqa: ANN001
    """A migrated, empty database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'vendorwatch.db'}"
        upgrade_sync(url)
        return url
    url = request.getfixturevalue("postgres_server_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:  # noqa: ANN001
    """Settings for tests: the test database, loopback feeds allowed, no .env read."""
    return load_settings({"DATABASE_URL": database_url, "ALLOW_PRIVATE_FEED_URLS": "1",
                          "SEED_FEEDS": "0"}, dotenv_path=None)


@pytest.fixture
def plain_settings(tmp_path) -> Settings:  # noqa: ANN001
    """Settings with a SQLite database only, for tests that need no PostgreSQL twin."""
    return load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'vw.db'}", "ALLOW_PRIVATE_FEED_URLS": "1",
                          "SEED_FEEDS": "0"}, dotenv_path=None)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # noqa: ANN001
    """A database of its own, with no schema yet (migrations are run by the test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin = create_engine(sync_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL not reachable: {exc.__class__.__name__}")
        pytest.skip(f"PostgreSQL not reachable: {exc.__class__.__name__}")
    name = f"vw_mig_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield sync_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
