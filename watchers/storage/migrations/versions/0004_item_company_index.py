"""item_company: the companies each item names, indexed by (slug, at)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 18:37:41.049724

Lookup and the digest read a company's items of a period. Filtering the JSON of the items (LIKE
on SQLite, the GIN containment indexes of 0003 on PostgreSQL) finds every item of the company
over the whole retention span before the period is applied: with one million items a 20-company
digest week took 267 ms (median) on PostgreSQL. Table item_company holds one row per item and
company it names, at the item's time, so that a company's period is one range of the (slug, at)
index (watchers.storage.tables.ItemCompany; benchmarks/bench_million.py). The index's key goes on
with item_id and is_subject, so that it covers the readers' query (an index-only scan: 10 ms
instead of 23 ms for the 9-week trend of 20 companies in EXPLAIN ANALYZE).

The upgrade fills it for the items already stored, the same rows as
watchers.storage.item_store.company_rows gives (tests/test_item_company.py checks both agree),
and drops the GIN indexes of 0003, which nothing reads any more and every insert paid for.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import watchers.storage.types


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MAX_SLUG = 100
JSONB_INDEXES = {"ix_item_companies_jsonb": "companies", "ix_item_events_jsonb": "events"}

# Every (item, slug) the item names: a text in companies, or the text subject (is_subject) or
# counterparty of an event object; anything else is left out, as Event.from_json leaves it out.
_ITEM_AT = "COALESCE(item.published_at, item.first_seen_at)"
NAMED_POSTGRESQL = f"""
SELECT item.id AS item_id, named.slug, {_ITEM_AT} AS at, named.is_subject
FROM item CROSS JOIN LATERAL (
    SELECT name #>> '{{}}' AS slug, false AS is_subject
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(CAST(item.companies AS JSONB)) = 'array'
                                   THEN CAST(item.companies AS JSONB) ELSE '[]'::jsonb END) AS name
    WHERE jsonb_typeof(name) = 'string'
    UNION ALL
    SELECT event ->> side.key, side.key = 'subject'
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(CAST(item.events AS JSONB)) = 'array'
                                   THEN CAST(item.events AS JSONB) ELSE '[]'::jsonb END) AS event,
         (VALUES ('subject'), ('counterparty')) AS side (key)
    WHERE jsonb_typeof(event) = 'object' AND jsonb_typeof(event -> side.key) = 'string'
) AS named"""
NAMED_SQLITE = f"""
SELECT item.id AS item_id, name.value AS slug, {_ITEM_AT} AS at, 0 AS is_subject
FROM item, json_each(CASE WHEN json_type(item.companies) = 'array' THEN item.companies ELSE '[]' END) AS name
WHERE name.type = 'text'
UNION ALL
SELECT item.id, json_extract(event.value, '$.' || side.key), {_ITEM_AT}, side.key = 'subject'
FROM item, json_each(CASE WHEN json_type(item.events) = 'array' THEN item.events ELSE '[]' END) AS event,
     (SELECT 'subject' AS key UNION ALL SELECT 'counterparty') AS side
WHERE event.type = 'object' AND json_type(event.value, '$.' || side.key) = 'text'"""


def _fill(dialect: str) -> None:
    named, subject = (NAMED_POSTGRESQL, "bool_or(is_subject)") if dialect == "postgresql" \
        else (NAMED_SQLITE, "max(is_subject)")
    op.execute(f"""INSERT INTO item_company (item_id, slug, at, is_subject)
SELECT item_id, slug, min(at), {subject} FROM ({named}) AS rows
WHERE slug IS NOT NULL AND slug <> '' AND length(slug) <= {MAX_SLUG}
GROUP BY item_id, slug""")


def upgrade() -> None:
    op.create_table('item_company',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('at', watchers.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('is_subject', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'slug')
    )
    dialect = op.get_bind().dialect.name
    _fill(dialect)  # before the index: one sort at the end instead of an insert into it per row
    with op.batch_alter_table('item_company', schema=None) as batch_op:
        batch_op.create_index('ix_item_company_slug_at', ['slug', 'at', 'item_id', 'is_subject'], unique=False)
    if dialect == 'postgresql':
        for name in JSONB_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute("ANALYZE item_company")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, column in JSONB_INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON item USING gin ((CAST({column} AS JSONB)) jsonb_path_ops)")
    with op.batch_alter_table('item_company', schema=None) as batch_op:
        batch_op.drop_index('ix_item_company_slug_at')

    op.drop_table('item_company')
