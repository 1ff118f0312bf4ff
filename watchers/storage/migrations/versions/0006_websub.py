"""websub_subscription, and the WebSub hub and topic a feed's last poll found (feed.websub_hub, websub_topic)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 19:30:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import watchers.storage.types


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('websub_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feed_id', sa.Integer(), nullable=True),
    sa.Column('hub', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('lease_seconds', sa.Integer(), nullable=True),
    sa.Column('expires_at', watchers.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_action_at', watchers.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('requested_at', watchers.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_at', watchers.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_push_at', watchers.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('lease_until', watchers.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', watchers.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['feed_id'], ['feed.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('feed_id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('websub_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websub_subscription_next_action_at'), ['next_action_at'], unique=False)

    with op.batch_alter_table('feed', schema=None) as batch_op:
        batch_op.add_column(sa.Column('websub_hub', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True))
        batch_op.add_column(sa.Column('websub_topic', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('feed', schema=None) as batch_op:
        batch_op.drop_column('websub_topic')
        batch_op.drop_column('websub_hub')

    with op.batch_alter_table('websub_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_websub_subscription_next_action_at'))

    op.drop_table('websub_subscription')
