"""WebSub subscription rows as the subscriber job and the callback see them (table websub_subscription).

Timing: a subscription is renewed when RENEW_AT of its lease has passed; a request the hub
accepted but never verified is sent again after VERIFY_WAIT; a failed request is retried with
exponential backoff up to a day; a denied one is asked again after a day. An unsubscription is
tried UNSUBSCRIBE_ATTEMPTS times, then its row is dropped (the hub's lease ends it anyway).

Several replicas: rows are claimed with a lease like feeds (FOR UPDATE SKIP LOCKED on
PostgreSQL), and the sync that creates rows for newly found hubs holds a transaction-level
advisory lock, so each request is sent once. The callback answers on any replica: it reads and
writes only the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, or_, select, text, update
from sqlmodel.ext.asyncio.session import AsyncSession

from watchers.feeds.websub import HubAnswer, new_secret, new_token
from watchers.storage.tables import Feed
from watchers.storage.websub import WebSubSubscription as Sub

SYNC_LOCK_ID = 0x76777773  # "vwws": one replica creates subscription rows at a time
RENEW_AT = 0.8  # of the lease
VERIFY_WAIT = timedelta(minutes=10)
DENIED_WAIT = timedelta(days=1)
MAX_RETRY_WAIT = timedelta(days=1)
UNSUBSCRIBE_ATTEMPTS = 3
PUSHING_STATES = ("subscribing", "active")  # a hub may push (and verify a subscription) in these


@dataclass(frozen=True, slots=True)
class SubscriptionWork:
    """A claimed row: the request the job is to send for it."""

    id: int
    mode: str  # subscribe | unsubscribe
    hub: str
    topic: str
    token: str
    secret: str
    attempts: int
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class PushTarget:
    """What the callback needs of a subscription to take a pushed body."""

    id: int
    feed_id: int
    secret: str
    topic: str


def _lease_free(now: datetime):  # noqa: ANN202
    return or_(Sub.lease_until.is_(None), Sub.lease_until < now)


async def sync_subscriptions(session: AsyncSession, *, now: datetime) -> int:
    """Rows to match the feeds: a new row for every enabled feed naming a hub and having none; a row
    whose feed was removed, disabled or names another hub or topic now is set to unsubscribe (and
    let go of its feed, so that the feed's new row can be made). Returns how many rows changed."""
    if session.bind.dialect.name == "postgresql":
        got = (await session.exec(text("SELECT pg_try_advisory_xact_lock(:id)"),  # type: ignore[call-overload]
                                  params={"id": SYNC_LOCK_ID})).scalar_one()
        if not got:
            return 0
    feeds = select(Feed.id).where(Feed.enabled.is_(True), Feed.websub_hub.is_not(None),
                                  Feed.websub_hub == Sub.hub, Feed.websub_topic == Sub.topic, Feed.id == Sub.feed_id)
    stale = await session.exec(update(Sub).where(Sub.state != "unsubscribing", or_(
        Sub.feed_id.is_(None), ~feeds.exists())).values(
        state="unsubscribing", feed_id=None, next_action_at=now, attempts=0)
        .execution_options(synchronize_session=False))
    changed = stale.rowcount or 0
    wanted = (await session.exec(select(Feed.id, Feed.websub_hub, Feed.websub_topic).where(
        Feed.enabled.is_(True), Feed.websub_hub.is_not(None), Feed.websub_topic.is_not(None),
        ~select(Sub.id).where(Sub.feed_id == Feed.id).exists()))).all()
    for feed_id, hub, topic in wanted:
        session.add(Sub(feed_id=feed_id, hub=hub, topic=topic, token=new_token(), secret=new_secret(),
                        state="subscribing", next_action_at=now, created_at=now))
    return changed + len(wanted)


async def claim_due(session: AsyncSession, *, owner: str, now: datetime, lease_seconds: float,
                    limit: int) -> list[SubscriptionWork]:
    """Lease up to `limit` rows whose next action is due; their request counts as sent now (a
    denied row is asked again, as subscribing)."""
    due = (select(Sub.id).where(Sub.next_action_at <= now, _lease_free(now))
           .order_by(Sub.next_action_at, Sub.id).limit(limit).with_for_update(skip_locked=True))
    statement = (update(Sub).where(Sub.id.in_(due), _lease_free(now))
                 .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds), requested_at=now,
                         state=case((Sub.state == "denied", "subscribing"), else_=Sub.state))
                 .returning(Sub.id, Sub.state, Sub.hub, Sub.topic, Sub.token, Sub.secret, Sub.attempts)
                 .execution_options(synchronize_session=False))
    rows = (await session.exec(statement)).all()
    return [SubscriptionWork(id=r.id, mode="unsubscribe" if r.state == "unsubscribing" else "subscribe", hub=r.hub,
                             topic=r.topic, token=r.token, secret=r.secret, attempts=r.attempts, requested_at=now)
            for r in sorted(rows, key=lambda r: r.id)]


def retry_wait(attempts: int, first: timedelta = timedelta(minutes=1)) -> timedelta:
    """Doubling from `first` with each attempt in a row, at most a day."""
    return min(first * (2 ** min(attempts, 20)), MAX_RETRY_WAIT)


async def record_request(session: AsyncSession, work: SubscriptionWork, answer: HubAnswer, *, owner: str,
                         now: datetime) -> None:
    """What the hub said to the request of a claimed row; the lease is handed back.

    An accepted request waits for its verification (VERIFY_WAIT, longer after each unverified
    attempt), unless that already came (a hub may verify before it answers): then the row stays
    as the verification left it. A refused one is retried with backoff."""
    mine = and_(Sub.id == work.id, Sub.lease_owner == owner)
    attempts = work.attempts + 1
    if answer.accepted:
        not_verified_since = or_(Sub.verified_at.is_(None), Sub.verified_at < work.requested_at)
        await session.exec(update(Sub).where(mine, not_verified_since)
                           .values(next_action_at=now + retry_wait(work.attempts, VERIFY_WAIT), attempts=attempts,
                                   last_error=None)
                           .execution_options(synchronize_session=False))
        values: dict = {}
    else:
        values = dict(attempts=attempts, last_error=answer.detail[:300],
                      next_action_at=now + retry_wait(work.attempts))
    await session.exec(update(Sub).where(mine).values(lease_owner=None, lease_until=None, **values)
                       .execution_options(synchronize_session=False))


async def drop(session: AsyncSession, subscription_id: int) -> None:
    """Forget a subscription (an unsubscription that never went through: its lease ends it)."""
    await session.exec(delete(Sub).where(Sub.id == subscription_id))


async def verify_intent(session: AsyncSession, token: str, *, mode: str, topic: str, lease_seconds: str | None,
                        reason: str | None, asked_lease: int, now: datetime) -> bool:
    """The hub's verification GET: True to echo hub.challenge, only for a row of this callback token
    with this topic waiting for this mode (a subscribe also renews an active one)."""
    row = (await session.exec(select(Sub).where(Sub.token == token))).scalars().first()
    if row is None or row.topic != topic:
        return False
    if mode == "subscribe" and row.state in PUSHING_STATES and row.feed_id is not None:
        lease = int(lease_seconds) if lease_seconds and lease_seconds.strip().isdigit() else asked_lease
        lease = max(60, min(lease, 10 * 365 * 86400))
        row.state, row.lease_seconds, row.verified_at = "active", lease, now
        row.expires_at = now + timedelta(seconds=lease)
        row.next_action_at = now + timedelta(seconds=lease * RENEW_AT)
        row.attempts, row.last_error = 0, None
        return True
    if mode == "unsubscribe" and row.state == "unsubscribing":
        await session.delete(row)
        return True
    if mode == "denied" and row.state in PUSHING_STATES:
        row.state, row.expires_at, row.next_action_at = "denied", None, now + DENIED_WAIT
        row.last_error = f"denied by the hub: {reason or 'no reason given'}"[:300]
        return True
    return False


async def push_target(session: AsyncSession, token: str) -> PushTarget | None:
    """The subscription a content POST to this callback token is for, if it may push now."""
    row = (await session.exec(select(Sub.id, Sub.feed_id, Sub.secret, Sub.topic).where(
        Sub.token == token, Sub.state.in_(PUSHING_STATES), Sub.feed_id.is_not(None)))).first()
    return PushTarget(id=row.id, feed_id=row.feed_id, secret=row.secret, topic=row.topic) if row else None


async def record_push(session: AsyncSession, subscription_id: int, now: datetime) -> None:
    await session.exec(update(Sub).where(Sub.id == subscription_id).values(last_push_at=now)
                       .execution_options(synchronize_session=False))


async def pushed_feeds(session: AsyncSession, feed_ids: list[int], now: datetime) -> set[int]:
    """Those of `feed_ids` whose hub pushes to us now (a verified subscription within its lease)."""
    if not feed_ids:
        return set()
    rows = await session.exec(select(Sub.feed_id).where(Sub.feed_id.in_(feed_ids), Sub.state == "active",
                                                        Sub.expires_at > now))
    return set(rows.scalars().all())
