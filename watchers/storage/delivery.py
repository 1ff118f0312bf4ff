"""Channels, their subscriptions, the outbox of messages to send, and weekly digests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from watchers.storage.types import UTCDateTime, utcnow


class Channel(SQLModel, table=True):
    __tablename__ = "channel"
    __table_args__ = (UniqueConstraint("platform", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)  # slack | discord | console | memory
    workspace: str | None = Field(default=None, max_length=100)  # Slack team or Discord guild
    channel_id: str = Field(max_length=100)
    name: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Subscription(SQLModel, table=True):
    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("channel_pk", "company_slug"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_pk: int = Field(foreign_key="channel.id", ondelete="CASCADE", index=True)
    company_slug: str = Field(max_length=100, index=True)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [] = all
    paused_reason: str | None = Field(default=None, max_length=500)
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Alert(SQLModel, table=True):
    """One story's parent message in one channel: later coverage goes into its thread."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("channel_pk", "story_id"),
                      Index("ix_alert_parent_outbox_id", "parent_outbox_id"))

    id: int | None = Field(default=None, primary_key=True)
    channel_pk: int = Field(foreign_key="channel.id", ondelete="CASCADE", index=True)
    story_id: int = Field(foreign_key="story.id", ondelete="CASCADE", index=True)
    parent_outbox_id: int | None = Field(default=None)
    item_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Outbox(SQLModel, table=True):
    """A message to send (post, reply, edit, file), claimed and sent by the sender."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      Index("ix_outbox_story_id", "story_id"),  # a pruned story clears it (ON DELETE SET NULL)
                      Index("ix_outbox_parent_outbox_id", "parent_outbox_id"))  # thread batches, retention

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    channel_pk: int = Field(foreign_key="channel.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=20)  # post | reply | edit | upload (bot/delivery/uploads.py)
    story_id: int | None = Field(default=None, foreign_key="story.id", ondelete="SET NULL")
    parent_outbox_id: int | None = Field(default=None)  # for reply, edit and upload: the parent message's row
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)  # pending | claimed | sent | failed | held
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    platform_message_id: str | None = Field(default=None, max_length=200)
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Digest(SQLModel, table=True):
    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("channel_pk", "week_start"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_pk: int = Field(foreign_key="channel.id", ondelete="CASCADE")
    week_start: date
    outbox_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ItemFanout(SQLModel, table=True):
    """An item whose story was fanned out to the subscribed channels: fan-out happens once per item."""

    __tablename__ = "item_fanout"
    __table_args__ = (Index("ix_item_fanout_story_id", "story_id"),)  # a pruned story clears it

    item_id: int = Field(primary_key=True, foreign_key="item.id", ondelete="CASCADE")
    story_id: int | None = Field(default=None, foreign_key="story.id", ondelete="SET NULL")
    channels: int = Field(default=0)
    done_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
