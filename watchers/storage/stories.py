"""Stories: the coverage of one event by many outlets, grouped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from watchers.models import Event
from watchers.storage.types import EventList, UTCDateTime, utcnow


class Story(SQLModel, table=True):
    __tablename__ = "story"
    __table_args__ = (Index("ix_story_subject_last", "subject", "last_item_at"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=100)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    companies: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    events: list[Event] = Field(default_factory=list, sa_column=Column(EventList, nullable=False))
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    title: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, sa_column=Column(Text))
    outlets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    item_count: int = Field(default=1)
    history: bool = Field(default=False)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_item_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
