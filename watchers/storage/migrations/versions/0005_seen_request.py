"""seen_request: signed chat requests already answered, so that a replay is refused on every replica

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 19:10:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import watchers.storage.types


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('seen_request',
    sa.Column('signature_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seen_at', watchers.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('signature_sha256')
    )
    with op.batch_alter_table('seen_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_request_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('seen_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_request_seen_at'))

    op.drop_table('seen_request')
