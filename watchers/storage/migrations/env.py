"""Alembic environment: one metadata, migrations serialized by an advisory lock on PostgreSQL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

from watchers.storage.all_tables import metadata
from watchers.storage.db import MIGRATION_LOCK_ID, install_sqlite_pragmas

config = context.config


def run_migrations_online() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    install_sqlite_pragmas(engine)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
                connection.commit()
            try:
                context.configure(connection=connection, target_metadata=metadata,
                                  render_as_batch=connection.dialect.name == "sqlite")
                migration = context.get_context()
                # read under the lock, so that `db upgrade` can say what it did (and not what a
                # replica starting at the same moment did)
                config.attributes["heads_before"] = tuple(migration.get_current_heads())
                with context.begin_transaction():
                    context.run_migrations()
                config.attributes["heads_after"] = tuple(migration.get_current_heads())
            finally:
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
                    connection.commit()
    finally:
        engine.dispose()


run_migrations_online()
