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


class Item(SQLModel, table=True):
    """A normalized news item. `key` is its stable identity across edits and feeds.

    On PostgreSQL migration 0003 adds GIN (jsonb_path_ops) indexes on `CAST(companies AS JSONB)`
    and `CAST(events AS JSONB)`, which serve the containment filters of lookup and the digest
    (bot.company_activity.load_activity); they are not declared here (PostgreSQL only)."""

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


class TrackedCompany(SQLModel, table=True):
    """A company added from chat, tracked beside the ones in seeds/companies.toml."""

    __tablename__ = "tracked_company"

    slug: str = Field(primary_key=True, max_length=100)
    name: str = Field(max_length=300)
    kind: str = Field(default="vendor", max_length=20)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    added_by: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
