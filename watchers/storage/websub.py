"""WebSub subscriptions: one row per (feed, hub) we asked, or are asking, to push to us.

The row is the whole state of a subscription, shared by every replica: any replica answers the
hub's verification GET and takes its content POSTs (found by `token`, the unguessable last part of
the callback URL), and the subscriber job (watchers.feeds.websub_job) that (re)subscribes and
unsubscribes claims rows with a lease (`lease_owner`, `lease_until`), so that each request is sent
by one replica. `feed_id` becomes NULL when the feed is removed; such a row is unsubscribed and
then deleted.

States: `subscribing` (a request sent or to send, its verification awaited), `active` (verified,
`expires_at` is the hub's lease; renewals keep it active), `unsubscribing`, `denied` (the hub said
no; asked again later). `next_action_at`: when the job looks at the row next.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from watchers.storage.types import UTCDateTime, utcnow


class WebSubSubscription(SQLModel, table=True):
    __tablename__ = "websub_subscription"

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int | None = Field(default=None, foreign_key="feed.id", ondelete="SET NULL", unique=True)
    hub: str = Field(max_length=2048)
    topic: str = Field(max_length=2048)
    token: str = Field(max_length=64, unique=True)
    secret: str = Field(max_length=128)
    state: str = Field(default="subscribing", max_length=20)
    lease_seconds: int | None = None
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_action_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=300)
    requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_push_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
