"""Tables of the ingestion side: feeds, items, user-added companies.

Stories, channels, subscriptions, the outbox and digests are in their own modules beside
this one; `all_tables` imports every module so that one metadata holds the whole schema.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from watchers.models import Event
from watchers.storage.types import EventList, UTCDateTime, utcnow


class Feed(SQLModel, table=True):
    __tablename__ = "feed"
    __table_args__ = (Index("ix_feed_due", "enabled", "next_check_at"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2048, unique=True)
    name: str = Field(default="", max_length=300)
    company_slug: str | None = Field(default=None, max_length=100, index=True)
    origin: str = Field(default="user", max_length=20)  # seed | user | company
    enabled: bool = Field(default=True)
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    ttl_minutes: int | None = None
    polled_once: bool = Field(default=False)
    next_check_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status: str | None = Field(default=None, max_length=20)
    last_http_status: int | None = None
    error_count: int = Field(default=0)
    error_kind: str | None = Field(default=None, max_length=30)
    error_message: str | None = Field(default=None, max_length=1000)
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    websub_hub: str | None = Field(default=None, max_length=2048)  # WebSub links found by the last poll
    websub_topic: str | None = Field(default=None, max_length=2048)


class Item(SQLModel, table=True):
    """A normalized news item. `key` is its stable identity across edits and feeds.

    Which companies it names is also in table item_company (below), the index that lookup and
    the digest read by company and time."""

    __tablename__ = "item"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    feed_id: int | None = Field(default=None, foreign_key="feed.id", ondelete="SET NULL", index=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    outlet: str | None = Field(default=None, max_length=300)
    link: str | None = Field(default=None, sa_column=Column(Text))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    content_hash: str = Field(max_length=64)
    history: bool = Field(default=False)  # old on a feed's first poll: stored, never alerted
    companies: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    events: list[Event] = Field(default_factory=list, sa_column=Column(EventList, nullable=False))
    story_id: int | None = Field(default=None, foreign_key="story.id", ondelete="SET NULL", index=True)


class ItemCompany(SQLModel, table=True):
    """One company an item names (in `companies`, or as an event's subject or counterparty), at the item's time.

    Lookup and the digest read a company's items of a period as one range of the (slug, at) index
    instead of filtering the JSON of every item (bot.company_activity; one million items:
    benchmarks/bench_million.py). Written with the item, in the same transaction
    (watchers.storage.item_store), rewritten when an edit changes the item; pruned with it
    (watchers.storage.retention, and ON DELETE CASCADE). `at` is the item's time: published,
    else first seen. `is_subject`: the company is the subject of one of the item's events, the
    only items the digest's trend counts.

    The index's key ends with item_id and is_subject so that it covers the readers' query: an
    index-only scan, not one heap page per row (a company's rows are scattered in item order)."""

    __tablename__ = "item_company"
    __table_args__ = (Index("ix_item_company_slug_at", "slug", "at", "item_id", "is_subject"),)

    item_id: int = Field(foreign_key="item.id", ondelete="CASCADE", primary_key=True)
    slug: str = Field(max_length=100, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    is_subject: bool = Field(default=False)


class TrackedCompany(SQLModel, table=True):
    """A company added from chat, tracked beside the ones in seeds/companies.toml."""

    __tablename__ = "tracked_company"

    slug: str = Field(primary_key=True, max_length=100)
    name: str = Field(max_length=300)
    kind: str = Field(default="vendor", max_length=20)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    added_by: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
