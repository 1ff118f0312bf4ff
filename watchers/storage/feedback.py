"""What people said about a story in a channel, from the buttons under its alert.

`mute` stops the story's thread replies and parent edits in that channel (fan-out skips it);
`not_relevant` is a judgement of the rules, kept with the items and rules that made the alert so
that it can be read back (`why`, the weekly digest) after the story grows. One row per channel,
story and kind: a second click changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from watchers.storage.types import UTCDateTime, utcnow

FEEDBACK_KINDS = ("mute", "not_relevant")


class StoryFeedback(SQLModel, table=True):
    __tablename__ = "story_feedback"
    __table_args__ = (UniqueConstraint("channel_pk", "story_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_pk: int = Field(foreign_key="channel.id", ondelete="CASCADE", index=True)
    story_id: int = Field(foreign_key="story.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=20)  # mute | not_relevant
    item_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # the story's items then
    rules: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # rules of its events
    companies: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # its subjects
    user: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
