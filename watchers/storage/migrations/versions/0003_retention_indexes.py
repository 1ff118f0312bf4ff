"""retention and one-million-item indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 13:30:00.000000

- outbox.story_id and item_fanout.story_id: deleting a story (retention) sets them to NULL, which
  without an index scans both tables once per story;
- outbox.parent_outbox_id and alert.parent_outbox_id: thread batches look rows up by their parent,
  and retention keeps a row that a kept row names as its parent;
- PostgreSQL only: GIN (jsonb_path_ops) indexes on item.companies and item.events cast to JSONB,
  which serve the containment filters of lookup and the digest (bot.company_activity:
  `companies @> '["slug"]'`, `events @> '[{"subject": "slug"}]'`); one million items:
  benchmarks/bench_million.py.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

JSONB_INDEXES = {"ix_item_companies_jsonb": "companies", "ix_item_events_jsonb": "events"}


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_story_id', ['story_id'], unique=False)
        batch_op.create_index('ix_outbox_parent_outbox_id', ['parent_outbox_id'], unique=False)
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index('ix_alert_parent_outbox_id', ['parent_outbox_id'], unique=False)
    with op.batch_alter_table('item_fanout', schema=None) as batch_op:
        batch_op.create_index('ix_item_fanout_story_id', ['story_id'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        for name, column in JSONB_INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON item USING gin ((CAST({column} AS JSONB)) jsonb_path_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        for name in JSONB_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table('item_fanout', schema=None) as batch_op:
        batch_op.drop_index('ix_item_fanout_story_id')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_parent_outbox_id')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_parent_outbox_id')
        batch_op.drop_index('ix_outbox_story_id')
