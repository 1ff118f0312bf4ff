"""story feedback: mute and not-relevant clicks per channel and story

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 12:30:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import watchers.storage.types


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('story_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_pk', sa.Integer(), nullable=False),
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('item_keys', sa.JSON(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('companies', sa.JSON(), nullable=False),
    sa.Column('user', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', watchers.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_pk'], ['channel.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['story_id'], ['story.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel_pk', 'story_id', 'kind')
    )
    with op.batch_alter_table('story_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_story_feedback_channel_pk'), ['channel_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_story_feedback_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_story_feedback_story_id'), ['story_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('story_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_story_feedback_story_id'))
        batch_op.drop_index(batch_op.f('ix_story_feedback_created_at'))
        batch_op.drop_index(batch_op.f('ix_story_feedback_channel_pk'))

    op.drop_table('story_feedback')
