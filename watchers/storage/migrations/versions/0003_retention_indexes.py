"""retention and one-million-item indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 13:30:00.000000

- outbox.story_id and item_fanout.story_id: deleting a story (retention) sets them to NULL, which
  without an index scans both tables once per story;
- outbox.parent_outbox_id and alert.parent_outbox_id: thread batches look rows up by their parent,
  and retention keeps a row that a kept row names as its parent;
- PostgreSQL only: trigram GIN indexes on the text of item.companies and item.events, which serve
  the `LIKE '%"slug"%'` filters of lookup and the digest (benchmarks/bench_million.py). They need
  the pg_trgm extension (trusted: a database owner may create it); when it cannot be created the
  indexes are skipped with a warning and the queries still work, scanning the time window instead.
"""
import logging
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

log = logging.getLogger("vendorwatch.migrations")

TRIGRAM_INDEXES = {"ix_item_companies_trgm": "companies", "ix_item_events_trgm": "events"}


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_story_id', ['story_id'], unique=False)
        batch_op.create_index('ix_outbox_parent_outbox_id', ['parent_outbox_id'], unique=False)
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index('ix_alert_parent_outbox_id', ['parent_outbox_id'], unique=False)
    with op.batch_alter_table('item_fanout', schema=None) as batch_op:
        batch_op.create_index('ix_item_fanout_story_id', ['story_id'], unique=False)

    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    has_trgm = bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first() is not None
    if not has_trgm:
        savepoint = bind.begin_nested()
        try:
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            savepoint.commit()
            has_trgm = True
        except sa.exc.DBAPIError as exc:
            savepoint.rollback()
            log.warning("pg_trgm could not be created (%s): lookup and the digest scan their time window "
                        "instead of using trigram indexes", exc.orig.__class__.__name__)
    if has_trgm:
        for name, column in TRIGRAM_INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON item USING gin ((CAST({column} AS VARCHAR)) gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table('item_fanout', schema=None) as batch_op:
        batch_op.drop_index('ix_item_fanout_story_id')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_parent_outbox_id')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_parent_outbox_id')
        batch_op.drop_index('ix_outbox_story_id')
