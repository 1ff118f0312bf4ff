"""The outbox sender: claims due rows of table outbox, posts them through the platforms, records ids.

Each cycle claims at most one row per channel (the oldest due one whose parent message, for
a reply or an edit, already has its platform id), so that a channel's messages go in order
and at its pace (each platform declares its `pace`; Slack and Discord take it from
SLACK_PACE_SECONDS and DISCORD_PACE_SECONDS, console and memory have none).
Claiming locks the channels' rows with FOR UPDATE SKIP LOCKED on PostgreSQL and leases the
outbox row (claimed_by, claimed_until), so that several replicas share the work and never send
to one channel at once; on SQLite the database's write lock serializes claims.

Errors: RateLimited -> the row waits Retry-After, and so do the other rows its scope covers
(the channel, every channel of its workspace or guild, or every channel of the platform);
TransientError or anything unexpected -> exponential backoff, retried without end (nothing is
dropped); when the platform is unreachable (a TransientError, a timeout, a refused or dropped
connection) the channel's later rows wait with the failed one, so that after an outage a
channel's messages still go in order (a bug in one row's payload holds only that row); PermanentError -> the channel's subscriptions are paused with the reason and its rows
are held; held rows go back to pending once the channel's subscriptions are active again.

Leases: a claim lasts LEASE_SECONDS and is renewed every RENEW_SECONDS while its cycle sends,
so that a slow send of a live replica is never taken over, while the claims of a dead one lapse
(and are taken over by the next cycle of another replica) within LEASE_SECONDS.

Crash between sending and recording: the row's lease expires and another claim sends it
again. Before re-sending a row that was claimed before (attempts > 1) the sender asks
`Platform.find_sent(channel, key, thread=...)`; where the platform can answer (memory; Slack
and Discord adapters that search recent channel history for the key they embed), nothing is
posted twice. Where it cannot, one duplicate is possible in that window. Edits are replayed
harmlessly (an edit is idempotent).

Attachments: on a platform that sends files apart from their message (`uploads_separately`,
Slack) a post goes out without its attachments, and recording it as sent queues each
attachment as its own "upload" row in the post's thread (bot/delivery/uploads.py), so that a
failed file upload is retried like any row instead of being lost with the post already out.

Metrics (`metrics`, a bot.metrics.BotMetrics, optional): every send's outcome by platform, the
outbox rows taken over from a lapsed claim, and for each parent or reply posted the seconds
from its items' first sighting (item.first_seen_at) to the post.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Mapping

from sqlalchemy import and_, func, or_, update
from sqlmodel import col, select

from bot.delivery.uploads import UPLOAD_KIND, queue_uploads, upload_attachment, upload_rows, upload_thread
from bot.messages import Message
from bot.platforms.contract import PermanentError, Platform, PlatformError, RateLimited
from watchers.settings import Settings
from watchers.storage.db import session_scope
from watchers.storage.delivery import Channel, Outbox, Subscription
from watchers.storage.tables import Item
from watchers.storage.types import utcnow

log = logging.getLogger(__name__)
LEASE_SECONDS = 30.0  # an outbox claim; renewed every RENEW_SECONDS while its cycle sends
RENEW_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 3600.0
LOOKAHEAD_ROWS = 8  # due rows read per channel and cycle, to step over replies waiting for their parent
BATCH_SECONDS = 1.0  # a channel sends at most this long (at its pace) in one cycle, then others get a turn


@dataclass(frozen=True)
class OutboxClaim:
    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    channel_pk: int
    platform: str
    channel_id: str
    parent_message_id: str | None
    parent_outbox_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    claim: OutboxClaim
    message_id: str | None = None
    retry_after: float | None = None  # rate limited: wait this long
    limit_scope: str = "channel"  # what the limit covers: channel | workspace | global
    limit_workspace: str | None = None
    error: str | None = None  # transient: back off
    permanent: str | None = None  # pause the channel
    released: bool = False  # not tried this cycle: back to pending as it was
    sent_at: datetime | None = None
    already_sent: bool = False  # find_sent found it from an earlier try: nothing posted now
    unreachable: bool = False  # the error says the platform is away: the channel's later rows wait too


class OutboxSender:
    def __init__(self, engine, settings: Settings, platforms: Mapping[str, Platform], *,  # noqa: ANN001
                 worker_id: str | None = None,
                 max_channels: int = 200, clock: Callable[[], datetime] = utcnow,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, metrics: Any = None):
        self.engine = engine
        self.metrics = metrics
        self.platforms = dict(platforms)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.max_channels = max_channels
        self.clock = clock
        self.sleep = sleep
        self._blocked_until: dict[int, datetime] = {}

    def pace(self, platform: str) -> float:
        return self.platforms[platform].pace.channel_seconds

    async def send_due(self) -> int:
        """Send every row due now (waiting out the channels' pace); returns the messages sent."""
        return await self.drain(until_empty=False)

    async def drain(self, until_empty: bool = True, *, max_idle_cycles: int = 50) -> int:
        """Send until nothing is due (until_empty=False) or nothing is left to send; returns messages sent.

        Rows that cannot go (a reply whose parent is held, a channel another replica is sending
        to) end the drain after `max_idle_cycles` cycles without progress.
        """
        total, idle = 0, 0
        while True:
            sent, wait = await self.cycle()
            total += sent
            if sent:
                idle = 0
                continue
            if wait is None:
                next_due = await self._next_due() if until_empty else None
                if next_due is None:
                    return total
                wait = max(0.0, (next_due - self.clock()).total_seconds())
            idle += 1
            if idle > max_idle_cycles:
                return total
            await self.sleep(max(wait, 0.001))

    async def cycle(self) -> tuple[int, float | None]:
        """OutboxClaim, send and record one round; returns (messages sent, seconds until a paced channel may send)."""
        claims, wait = await self._claim(self.clock())
        if not claims:
            return 0, wait
        renewing = asyncio.create_task(self._renew([claim.id for batch in claims for claim in batch]))
        try:
            batches = await asyncio.gather(*(self._send_channel(batch) for batch in claims))
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
        outcomes = [o for batch in batches for o in batch]
        await self._record(outcomes, self.clock())
        if self.metrics is not None:
            await self._measure(outcomes)
        return sum(1 for o in outcomes if o.message_id is not None), wait

    async def _renew(self, ids: list[int]) -> None:
        """Every RENEW_SECONDS (real time) until cancelled: extend this sender's claims on these rows."""
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                async with session_scope(self.engine) as session:
                    await session.exec(update(Outbox).where(
                        col(Outbox.id).in_(ids), Outbox.status == "claimed", Outbox.claimed_by == self.worker_id)
                        .values(claimed_until=self.clock() + timedelta(seconds=LEASE_SECONDS))
                        .execution_options(synchronize_session=False))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - tried again at the next renewal
                log.warning("could not renew outbox claims", exc_info=True)

    async def _send_channel(self, claims: list[OutboxClaim]) -> list[Outcome]:
        """One channel's claimed rows, in order and at its pace; a failure leaves the rest for later."""
        outcomes: list[Outcome] = []
        sent_ids: dict[int, str] = {}
        for index, claim in enumerate(claims):
            if outcomes and outcomes[-1].message_id is None:
                outcomes.append(Outcome(claim, released=True))
                continue
            if claim.parent_message_id is None and claim.parent_outbox_id is not None:
                claim = replace(claim, parent_message_id=sent_ids.get(claim.parent_outbox_id))
            if index:
                await self.sleep(self.pace(claim.platform))
            outcome = await self._send(claim)
            outcomes.append(outcome)
            if outcome.message_id is not None:
                sent_ids[claim.id] = outcome.message_id
        return outcomes

    async def _next_due(self) -> datetime | None:
        """The soonest time a pending row may go, leaving out replies and edits whose parent is unsent."""
        sent_parents = select(Outbox.id).where(col(Outbox.platform_message_id).is_not(None))
        async with session_scope(self.engine) as session:
            return (await session.exec(
                select(func.min(Outbox.next_attempt_at)).join(Channel, col(Channel.id) == Outbox.channel_pk)
                .where(Outbox.status == "pending", col(Channel.platform).in_(list(self.platforms)),
                       or_(col(Outbox.parent_outbox_id).is_(None), col(Outbox.parent_outbox_id).in_(sent_parents))))
            ).first()

    async def _claim(self, now: datetime) -> tuple[list[list[OutboxClaim]], float | None]:
        async with session_scope(self.engine) as session:
            await self._release_held(session)
            due = or_(and_(Outbox.status == "pending", Outbox.next_attempt_at <= now),
                      and_(Outbox.status == "claimed", col(Outbox.claimed_until) < now))
            channel_pks = (await session.exec(
                select(Outbox.channel_pk).join(Channel, col(Channel.id) == Outbox.channel_pk)
                .where(due, col(Channel.platform).in_(list(self.platforms))).distinct()
                .limit(self.max_channels))).all()
            if not channel_pks:
                return [], None
            channels = {c.id: c for c in (await session.exec(
                select(Channel).where(col(Channel.id).in_(channel_pks)).with_for_update(skip_locked=True))).all()}
            busy = set((await session.exec(select(Outbox.channel_pk).where(
                col(Outbox.channel_pk).in_(list(channels)), Outbox.status == "claimed",
                col(Outbox.claimed_until) >= now))).all())
            last_sent = dict((await session.exec(select(Outbox.channel_pk, func.max(Outbox.sent_at)).where(
                col(Outbox.channel_pk).in_(list(channels))).group_by(Outbox.channel_pk))).all())
            wait: float | None = None
            ready = []
            for pk, channel in channels.items():
                free_at = self._blocked_until.get(pk)
                if last_sent.get(pk) is not None:
                    paced = last_sent[pk] + timedelta(seconds=self.pace(channel.platform))
                    free_at = max(free_at, paced) if free_at else paced
                if free_at is not None and free_at > now:
                    remaining = (free_at - now).total_seconds()
                    wait = remaining if wait is None else min(wait, remaining)
                elif pk not in busy:
                    ready.append(pk)
            claims = await self._pick(session, ready, channels, due, now) if ready else []
        return claims, wait

    async def _pick(self, session, ready: list[int], channels: dict[int, Channel], due, now: datetime  # noqa: ANN001
                    ) -> list[list[OutboxClaim]]:
        ranked = (select(Outbox.id, func.row_number().over(partition_by=Outbox.channel_pk,
                                                           order_by=col(Outbox.id)).label("rank"))
                  .where(col(Outbox.channel_pk).in_(ready), due).subquery())
        rows = (await session.exec(select(Outbox).join(ranked, col(Outbox.id) == ranked.c.id)
                                   .where(ranked.c.rank <= LOOKAHEAD_ROWS).order_by(col(Outbox.id)))).all()
        parent_ids = {r.parent_outbox_id for r in rows if r.parent_outbox_id is not None}
        parents = {} if not parent_ids else {p.id: p for p in (await session.exec(
            select(Outbox).where(col(Outbox.id).in_(parent_ids)))).all()}
        chosen: dict[int, list[OutboxClaim]] = {}
        updates = []
        for row in rows:
            channel = channels[row.channel_pk]
            batch = chosen.setdefault(row.channel_pk, [])
            limit = max(1, int(BATCH_SECONDS / self.pace(channel.platform))) if self.pace(channel.platform) else \
                LOOKAHEAD_ROWS
            if len(batch) >= limit:
                continue
            parent_message_id = None
            if row.parent_outbox_id is not None:
                parent = parents.get(row.parent_outbox_id)
                in_batch = any(c.id == row.parent_outbox_id for c in batch)
                if not in_batch and (parent is None or parent.platform_message_id is None):
                    continue
                parent_message_id = None if in_batch else parent.platform_message_id
            batch.append(OutboxClaim(row.id, row.idempotency_key, row.kind, dict(row.payload), row.attempts + 1,
                               row.channel_pk, channel.platform, channel.channel_id, parent_message_id,
                               row.parent_outbox_id))
            updates.append({"id": row.id, "status": "claimed", "attempts": row.attempts + 1,
                            "claimed_by": self.worker_id,
                            "claimed_until": now + timedelta(seconds=LEASE_SECONDS)})
        if updates:
            # Read before the UPDATE: the bulk update by primary key refreshes these ORM rows (status
            # becomes "claimed" on every one of them), which once counted every claim as a takeover.
            claimed_ids = {u["id"] for u in updates}
            taken_over = sum(1 for row in rows if row.status == "claimed" and row.id in claimed_ids)
            await session.exec(update(Outbox), params=updates)
            if taken_over and self.metrics is not None:
                self.metrics.takeover("outbox", taken_over)
        return [batch for batch in chosen.values() if batch]

    async def _send(self, claim: OutboxClaim) -> Outcome:
        platform = self.platforms[claim.platform]
        extra = {"channel": claim.channel_id, "platform": claim.platform}
        try:
            thread = claim.parent_message_id if claim.kind == "reply" else None
            if claim.kind == UPLOAD_KIND:
                thread = upload_thread(claim.payload, claim.parent_message_id)
            if claim.kind != "edit" and claim.attempts > 1:
                found = await platform.find_sent(claim.channel_id, claim.key, thread=thread)
                if found is not None:
                    log.info("outbox row %s was already sent as %s", claim.id, found, extra=extra)
                    return Outcome(claim, message_id=found, sent_at=self.clock(), already_sent=True)
            if claim.kind == UPLOAD_KIND:
                message_id = await platform.upload(claim.channel_id, upload_attachment(claim.payload), thread=thread,
                                                   key=claim.key)
                return Outcome(claim, message_id=message_id, sent_at=self.clock())
            message = Message.from_dict(claim.payload["message"])
            if claim.kind == "edit":
                if claim.parent_message_id is None:
                    raise PermanentError("nothing to edit")
                await platform.edit(claim.channel_id, claim.parent_message_id, message)
                return Outcome(claim, message_id=claim.parent_message_id, sent_at=self.clock())
            if platform.uploads_separately:
                message = replace(message, attachments=())  # each goes up as its own row once this is out
            message_id = await platform.post(claim.channel_id, message, thread=thread, key=claim.key)
            return Outcome(claim, message_id=message_id, sent_at=self.clock())
        except RateLimited as exc:
            log.warning("rate limited (%s); retry in %.1f s", exc.scope, exc.retry_after, extra=extra)
            return Outcome(claim, retry_after=max(0.0, float(exc.retry_after)), limit_scope=exc.scope,
                           limit_workspace=exc.workspace)
        except PermanentError as exc:
            log.error("cannot send to this channel: %s", exc.reason, extra=extra)
            return Outcome(claim, permanent=exc.reason)
        except Exception as exc:  # noqa: BLE001 - a TransientError, or a bug: retried with backoff
            log.warning("send failed (attempt %s): %s", claim.attempts, exc, extra=extra,
                        exc_info=not isinstance(exc, (PlatformError, ConnectionError, TimeoutError)))
            return Outcome(claim, error=f"{exc.__class__.__name__}: {exc}"[:900],
                           unreachable=isinstance(exc, (PlatformError, OSError, TimeoutError)))

    async def _record(self, outcomes: list[Outcome], now: datetime) -> None:
        updates = []
        paused: dict[int, str] = {}
        limited: dict[int, datetime] = {}
        wider: list[tuple[Any, datetime]] = []  # channels of a workspace or platform held by one 429
        uploads: list[dict[str, Any]] = []  # attachments of posts just sent, as rows of their own
        for o in outcomes:
            base = {"id": o.claim.id, "claimed_by": None, "claimed_until": None}
            if o.message_id is not None:
                updates.append({**base, "status": "sent", "platform_message_id": o.message_id,
                                "sent_at": o.sent_at or now, "last_error": None})
                uploads += self._uploads_of(o, now)
            elif o.released:
                updates.append({**base, "status": "pending", "attempts": o.claim.attempts - 1})
            elif o.retry_after is not None:
                until = now + timedelta(seconds=o.retry_after)
                self._blocked_until[o.claim.channel_pk] = until
                limited[o.claim.channel_pk] = until
                if o.limit_scope != "channel":
                    wider.append((_scope_channels(o), until))
                updates.append({**base, "status": "pending", "next_attempt_at": until, "last_error": "rate limited"})
            elif o.permanent is not None:
                paused[o.claim.channel_pk] = o.permanent
                updates.append({**base, "status": "held", "last_error": o.permanent[:900]})
            else:
                delay = min(MAX_BACKOFF_SECONDS, 2.0 ** min(o.claim.attempts, 12)) * random.uniform(0.8, 1.2)
                updates.append({**base, "status": "pending", "next_attempt_at": now + timedelta(seconds=delay),
                                "last_error": o.error})
                if o.unreachable:
                    until = now + timedelta(seconds=delay)
                    limited[o.claim.channel_pk] = max(until, limited.get(o.claim.channel_pk, until))
        async with session_scope(self.engine) as session:
            if updates:
                await session.exec(update(Outbox), params=updates)
            await queue_uploads(session, uploads)
            for channel_pk, until in limited.items():  # the channel's other rows wait too, in every replica
                await session.exec(update(Outbox).where(
                    Outbox.channel_pk == channel_pk, Outbox.status == "pending", Outbox.next_attempt_at < until)
                    .values(next_attempt_at=until).execution_options(synchronize_session=False))
            for channels, until in wider:
                await session.exec(update(Outbox).where(
                    col(Outbox.channel_pk).in_(channels), Outbox.status == "pending", Outbox.next_attempt_at < until)
                    .values(next_attempt_at=until).execution_options(synchronize_session=False))
            for channel_pk, reason in paused.items():
                await pause_channel(session, channel_pk, reason, now)

    def _uploads_of(self, outcome: Outcome, now: datetime) -> list[dict[str, Any]]:
        """The upload rows of a post or reply just sent (or found sent) to a platform that sends files apart."""
        claim = outcome.claim
        if claim.kind not in ("post", "reply") or not self.platforms[claim.platform].uploads_separately:
            return []
        thread = claim.parent_message_id if claim.kind == "reply" and claim.parent_message_id else outcome.message_id
        return upload_rows(post_row_id=claim.id, post_key=claim.key, channel_pk=claim.channel_pk,
                           post_payload=claim.payload, thread=str(thread), now=now)

    async def _measure(self, outcomes: list[Outcome]) -> None:
        """Count each send by platform and outcome; observe first-seen-to-posted for parents and replies."""
        posted = [o for o in outcomes if o.message_id is not None and o.claim.kind != "edit"]
        item_ids = {entry["id"] for o in posted for entry in o.claim.payload.get("items", [])
                    if isinstance(entry, dict) and isinstance(entry.get("id"), int)}
        first_seen: dict[int, datetime] = {}
        if item_ids:
            try:
                async with session_scope(self.engine) as session:
                    first_seen = dict((await session.exec(select(Item.id, Item.first_seen_at)
                                                          .where(col(Item.id).in_(item_ids)))).all())
            except Exception:  # noqa: BLE001 - a metric must never hold up delivery
                log.warning("could not read first-seen times for the latency metric", exc_info=True)
        for o in outcomes:
            if o.released:
                continue
            if o.message_id is not None:
                outcome = "edited" if o.claim.kind == "edit" else ("already_sent" if o.already_sent else "sent")
                latencies = [((o.sent_at or self.clock()) - first_seen[entry["id"]]).total_seconds()
                             for entry in o.claim.payload.get("items", [])
                             if o.claim.kind != "edit" and isinstance(entry, dict) and entry.get("id") in first_seen]
            else:
                outcome = "rate_limited" if o.retry_after is not None else (
                    "permanent" if o.permanent is not None else "transient")
                latencies = []
            self.metrics.delivery(o.claim.platform, outcome, latencies)

    async def _release_held(self, session) -> None:  # noqa: ANN001
        """Rows held for a paused channel go back to pending once none of its subscriptions is paused."""
        paused = select(Subscription.channel_pk).where(col(Subscription.paused_reason).is_not(None))
        active = select(Subscription.channel_pk).where(col(Subscription.paused_reason).is_(None))
        await session.exec(update(Outbox).where(
            Outbox.status == "held", col(Outbox.channel_pk).not_in(paused), col(Outbox.channel_pk).in_(active))
            .values(status="pending").execution_options(synchronize_session=False))


def _scope_channels(outcome: Outcome) -> Any:
    """The channels a workspace-wide or global rate limit holds, as a subquery."""
    channels = select(Channel.id).where(Channel.platform == outcome.claim.platform)
    if outcome.limit_scope == "workspace" and outcome.limit_workspace is not None:
        channels = channels.where(Channel.workspace == outcome.limit_workspace)
    return channels


async def pause_channel(session, channel_pk: int, reason: str, now: datetime) -> None:  # noqa: ANN001
    """Pause every subscription of the channel with the reason, and hold its unsent rows (none is dropped)."""
    await session.exec(update(Subscription).where(Subscription.channel_pk == channel_pk,
                                                     col(Subscription.paused_reason).is_(None))
                          .values(paused_reason=reason[:500], paused_at=now)
                          .execution_options(synchronize_session=False))
    await session.exec(update(Outbox).where(Outbox.channel_pk == channel_pk,
                                               col(Outbox.status).in_(("pending", "claimed")))
                          .values(status="held", last_error=reason[:900], claimed_by=None, claimed_until=None)
                          .execution_options(synchronize_session=False))
