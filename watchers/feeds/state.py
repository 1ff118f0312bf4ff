"""Feed rows as the poll loop sees them: claiming due feeds with a lease, recording each poll.

A claim is one UPDATE of the due rows' lease (`lease_owner`, `lease_until`): on PostgreSQL its
inner SELECT takes `FOR UPDATE SKIP LOCKED`, so replicas claiming at once get disjoint feeds; on
SQLite the single UPDATE statement is atomic by itself (one writer at a time). A lease that
outlives its holder (a crash) simply expires; the claim that takes such a feed marks it
`taken_over` (for the lease-takeover metric). A long-running holder (the poller of `vendorwatch
run`) takes short leases and renews the ones it still holds (`renew_feeds`), so that a dead
replica's feeds are free again within a minute while a slow poll of a live one is never taken over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from watchers.models import FeedSource
from watchers.storage.tables import Feed

MAX_ERROR_MESSAGE = 1000
MAX_ETAG, MAX_LAST_MODIFIED, MAX_URL = 500, 100, 2048  # the columns' widths; longer values are not kept


def _fits(value: str | None, width: int) -> str | None:
    return value if value is not None and len(value) <= width else None


@dataclass(frozen=True, slots=True)
class FeedClaim:
    """A feed leased to this process, with what scheduling needs beyond FeedSource."""

    source: FeedSource
    ttl_minutes: int | None = None
    taken_over: bool = False  # its previous holder's lease had lapsed (a dead or stuck poller)
    due_at: datetime | None = None  # its next_check_at when claimed (a claim may look a little ahead)
    pushed: bool = False  # an active WebSub subscription pushes its items: polled as the fallback only
    websub_hub: str | None = None  # the hub its last poll found


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What one poll changes on its feed row."""

    status: str  # ok | not_modified | error
    checked_at: datetime
    next_check_at: datetime
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    ttl_minutes: int | None = None
    error_count: int = 0
    error_kind: str | None = None
    error_message: str | None = None
    websub_hub: str | None = None  # WebSub links the body or Link header named (a 200 only)
    websub_topic: str | None = None


_CLAIM_COLUMNS = (Feed.id, Feed.url, Feed.name, Feed.etag, Feed.last_modified, Feed.company_slug,
                  Feed.polled_once, Feed.error_count, Feed.ttl_minutes, Feed.next_check_at, Feed.websub_hub)


def _lease_free(now: datetime):
    return or_(Feed.lease_until.is_(None), Feed.lease_until < now)


async def claim_feeds(session: AsyncSession, *, owner: str, now: datetime, lease_seconds: float, limit: int,
                      due_at: datetime | None = None, everything_since: datetime | None = None,
                      feed_ids: list[int] | None = None) -> list[FeedClaim]:
    """Lease up to `limit` feeds (for `lease_seconds` from `now`) that are enabled, not leased, and:

    due (`next_check_at <= due_at`, default now); or not checked since `everything_since`
    (poll --all); or, with `feed_ids`, exactly those feeds, due or not.
    """
    conditions = [_lease_free(now)]
    if feed_ids is not None:
        conditions.append(Feed.id.in_(feed_ids))
    else:
        conditions.append(Feed.enabled.is_(True))
        if everything_since is not None:
            conditions.append(or_(Feed.last_checked_at.is_(None), Feed.last_checked_at < everything_since))
        else:
            conditions.append(Feed.next_check_at <= (due_at or now))
    due = (select(Feed.id).where(*conditions).order_by(Feed.next_check_at, Feed.id).limit(limit)
           .with_for_update(skip_locked=True))
    statement = (update(Feed).where(Feed.id.in_(due), _lease_free(now))
                 .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
                 .returning(*_CLAIM_COLUMNS)
                 .execution_options(synchronize_session=False))
    # Lapsed leases among the candidates (a cheap read of the due rows, before the claim changes them).
    lapsed = set((await session.exec(select(Feed.id).where(
        *conditions, Feed.lease_owner.is_not(None), Feed.lease_until.is_not(None)))).scalars().all())
    rows = (await session.exec(statement)).all()
    rows.sort(key=lambda r: (r.next_check_at, r.id))
    return [FeedClaim(FeedSource(id=r.id, url=r.url, name=r.name, etag=r.etag, last_modified=r.last_modified,
                             company_slug=r.company_slug, polled_once=r.polled_once, error_count=r.error_count),
                  ttl_minutes=r.ttl_minutes, taken_over=r.id in lapsed, due_at=r.next_check_at,
                  websub_hub=r.websub_hub) for r in rows]


async def release_feeds(session: AsyncSession, owner: str, feed_ids: list[int] | None = None) -> int:
    """Hand back leases of `owner` (all of them, or those of `feed_ids`) without polling."""
    statement = update(Feed).where(Feed.lease_owner == owner)
    if feed_ids is not None:
        statement = statement.where(Feed.id.in_(feed_ids))
    result = await session.exec(statement.values(lease_owner=None, lease_until=None)
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0


async def renew_feeds(session: AsyncSession, owner: str, *, now: datetime, lease_seconds: float) -> int:
    """Extend every unexpired lease `owner` still holds to `lease_seconds` from `now`; returns how many.

    A lease that has already lapsed is not revived: another poller may have taken the feed."""
    result = await session.exec(update(Feed).where(Feed.lease_owner == owner, Feed.lease_until >= now)
                                .values(lease_until=now + timedelta(seconds=lease_seconds))
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0


async def record_poll(session: AsyncSession, claim: FeedClaim, record: PollRecord) -> None:
    """Write one poll's outcome to the feed row and release its lease."""
    source = claim.source
    values: dict = dict(last_checked_at=record.checked_at, next_check_at=record.next_check_at,
                        last_status=record.status, last_http_status=record.http_status,
                        error_count=record.error_count, error_kind=record.error_kind,
                        error_message=(record.error_message or None) and record.error_message[:MAX_ERROR_MESSAGE],
                        lease_owner=None, lease_until=None)
    if record.status == "ok":
        values.update(etag=_fits(record.etag, MAX_ETAG), last_modified=_fits(record.last_modified, MAX_LAST_MODIFIED),
                      ttl_minutes=record.ttl_minutes, websub_hub=_fits(record.websub_hub, MAX_URL),
                      websub_topic=_fits(record.websub_topic, MAX_URL),
                      polled_once=True, last_success_at=record.checked_at)
    elif record.status == "not_modified":
        values.update(polled_once=True, last_success_at=record.checked_at)
        if _fits(record.etag, MAX_ETAG):
            values["etag"] = record.etag
        if _fits(record.last_modified, MAX_LAST_MODIFIED):
            values["last_modified"] = record.last_modified
    await session.exec(_RECORD, params={"record_feed_id": source.id, **values})


_FEEDS = Feed.__table__
# Core, SET columns taken from the parameters: one cached statement per shape instead of a new
# ORM statement (and cache key) per poll.
_RECORD = update(_FEEDS).where(_FEEDS.c.id == bindparam("record_feed_id"))
