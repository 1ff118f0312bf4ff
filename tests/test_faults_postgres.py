"""PostgreSQL restarted mid-cycle: every backend connection of the bot is terminated (as a server
restart does) from another connection; the engine's pool_pre_ping reconnects and work carries on."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from bot.commands import CommandCore
from bot.delivery.outbox import OutboxSender
from bot.platforms.memory import MemoryPlatform
from tests.command_support import request, test_registry
from tests.conftest import _truncate_postgres
from tests.delivery_support import ManualClock, add_channel, outbox_rows
from tests.test_faults_delivery import queue_story
from watchers.settings import load_settings
from watchers.storage.db import make_engine, sync_url

pytestmark = pytest.mark.postgres


def terminate_other_backends(url: str) -> int:
    admin = create_engine(sync_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
    finally:
        admin.dispose()


async def test_the_bot_reconnects_after_its_connections_are_terminated(postgres_server_url: str) -> None:
    _truncate_postgres(postgres_server_url)
    settings = load_settings({"DATABASE_URL": postgres_server_url, "SEED_FEEDS": "0"}, dotenv_path=None)
    engine = make_engine(postgres_server_url)
    try:
        channel = await add_channel(engine, "C1", {"scale-ai": []})
        await queue_story(engine, channel, "s0", ManualClock()())
        await queue_story(engine, channel, "s1", ManualClock()())
        platform, clock = MemoryPlatform(), ManualClock()
        sender = OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep)
        sent, _ = await sender.cycle()  # part of the work, with the pool's connections open
        assert sent >= 1
        assert terminate_other_backends(postgres_server_url) >= 1  # "the server restarted"
        await sender.drain()  # the rest, on fresh connections
        rows = await outbox_rows(engine)
        assert {r.status for r in rows} == {"sent"}
        keys = [m.idempotency_key for m in platform.messages.values()]
        assert len(keys) == len(set(keys))
        assert terminate_other_backends(postgres_server_url) >= 1
        core = CommandCore(engine, settings, test_registry())
        reply = await core.handle(request("list", "C1"))
        assert not reply.is_error and "Scale AI" in reply.to_text()
    finally:
        await engine.dispose()
