"""Retention: items, stories and their delivery rows older than RETENTION_DAYS are pruned.

What is kept, whatever the setting (RETENTION_DAYS is 0, keep everything, or at least
MIN_RETENTION_DAYS, which covers the 90-day company card of `lookup` and the 8-week trend of the
digest, both read by item time):
- an item whose time (published, else first seen) or whose first sighting is within the horizon;
  a pruned item's item_company rows go with it, in the same transaction;
- a story with an item left, or whose last item is within the horizon; deleting a story deletes
  its alerts and feedback (ON DELETE CASCADE) and clears story_id on outbox and item_fanout rows;
- outbox rows still to send (pending, claimed, held), rows of a story still kept, rows that a
  kept alert or a kept outbox row names as its parent, and anything created within the horizon;
- digest rows of weeks within the horizon.

An item that a feed still lists after it was pruned comes back as history (never alerted):
`watchers.storage.item_store.is_history` treats an item published before the horizon as history
on every poll, not only a feed's first. An undated item has no such guard; it is pruned only when
first seen before the horizon too.

Deletes run in batches of `batch` rows, each its own short transaction, so that polls and
deliveries are never held up for long. Every delete is idempotent (a replica that prunes at the
same moment deletes nothing twice); on PostgreSQL a transaction-level advisory lock keeps a second
replica from even trying while one is at it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from watchers.storage.db import session_scope
from watchers.storage.delivery import Alert, Digest, Outbox
from watchers.storage.stories import Story
from watchers.storage.tables import Item, ItemCompany

log = logging.getLogger("vendorwatch.retention")

MIN_RETENTION_DAYS = 90  # the company card's window (bot.commands.company_card.CARD_DAYS); the trend is 8 weeks
RETENTION_LOCK_ID = 0x76777274  # "vwrt": one replica prunes at a time
DEFAULT_BATCH = 5000
DONE_STATUSES = ("sent", "failed")


@dataclass
class PruneResult:
    cutoff: datetime | None = None
    deleted: dict[str, int] = field(default_factory=lambda: {"item": 0, "story": 0, "outbox": 0, "digest": 0})
    skipped: bool = False  # another replica held the lock

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def retention_cutoff(now: datetime, days: int) -> datetime | None:
    """The horizon: rows older than this may go; None when retention is off (0)."""
    if days <= 0:
        return None
    return now - timedelta(days=max(days, MIN_RETENTION_DAYS))


def _old_items(cutoff: datetime):  # noqa: ANN202
    return and_(Item.first_seen_at < cutoff,
                or_(Item.published_at.is_(None), Item.published_at < cutoff))  # type: ignore[union-attr]


def _old_stories(cutoff: datetime):  # noqa: ANN202
    return and_(Story.last_item_at < cutoff, ~exists().where(Item.story_id == Story.id))


def _old_outbox(cutoff: datetime):  # noqa: ANN202
    child = Outbox.__table__.alias("child")
    return and_(Outbox.status.in_(DONE_STATUSES), Outbox.created_at < cutoff,  # type: ignore[attr-defined]
                Outbox.story_id.is_(None),  # type: ignore[union-attr]
                ~exists().where(Alert.parent_outbox_id == Outbox.id),
                ~exists().where(child.c.parent_outbox_id == Outbox.id),
                ~exists().where(Digest.outbox_id == Outbox.id))


async def _delete_batch(engine: AsyncEngine, model: type, condition, batch: int) -> int | None:  # noqa: ANN001
    """Delete up to `batch` rows of `model` matching `condition`; None when another replica prunes."""
    key = model.__table__.c.id  # type: ignore[attr-defined]
    async with session_scope(engine) as session:
        if engine.dialect.name == "postgresql":
            got = (await session.exec(text("SELECT pg_try_advisory_xact_lock(:id)"),  # type: ignore[call-overload]
                                      params={"id": RETENTION_LOCK_ID})).scalar()
            if not got:
                return None
        ids = select(key).where(condition).limit(batch)
        if engine.dialect.name == "postgresql":  # a row another transaction is deleting is skipped, not waited for
            ids = ids.with_for_update(skip_locked=True)
        chosen = list((await session.exec(ids)).scalars())  # type: ignore[call-overload]
        if not chosen:
            return 0
        if model is Item:  # explicit, though the foreign key cascades: a SQLite connection may lack the pragma
            await session.exec(delete(ItemCompany).where(ItemCompany.item_id.in_(chosen)))  # type: ignore[call-overload,attr-defined]
        result = await session.exec(delete(model).where(key.in_(chosen)))  # type: ignore[call-overload]
        return result.rowcount or 0


async def prune(engine: AsyncEngine, *, now: datetime, days: int, batch: int = DEFAULT_BATCH,
                max_batches: int | None = None) -> PruneResult:
    """Delete what is older than the horizon, in batches, until nothing old is left (or `max_batches`)."""
    cutoff = retention_cutoff(now, days)
    result = PruneResult(cutoff=cutoff)
    if cutoff is None:
        return result
    steps = [("item", Item, _old_items(cutoff)), ("story", Story, _old_stories(cutoff)),
             ("digest", Digest, Digest.week_start < cutoff.date()), ("outbox", Outbox, _old_outbox(cutoff))]
    batches = 0
    for name, model, condition in steps:
        while max_batches is None or batches < max_batches:
            deleted = await _delete_batch(engine, model, condition, batch)
            batches += 1
            if deleted is None:
                result.skipped = True
                log.info("retention: another replica is pruning")
                return result
            result.deleted[name] += deleted
            if deleted == 0:
                break
    if result.total:
        log.info("retention: pruned rows older than %s: %s", cutoff.date().isoformat(),
                 ", ".join(f"{n} {c}" for n, c in result.deleted.items()), extra={"count": result.total})
    return result


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows in the pruned tables (tests, benchmarks)."""
    counts = {}
    async with session_scope(engine) as session:
        for name, model in (("item", Item), ("item_company", ItemCompany), ("story", Story), ("outbox", Outbox), ("digest", Digest),
                            ("alert", Alert)):
            counts[name] = (await session.exec(select(func.count()).select_from(model))).scalar()  # type: ignore[call-overload]
    return counts


RETENTION_JOB_ID = "retention"
RETENTION_HOUR_UTC = 4  # once a day at 04:xx UTC; the minute is spread by the trigger's jitter
RETENTION_JITTER_SECONDS = 1800


class RetentionJob:
    """The daily prune, a job of the runner's one scheduler (nothing when RETENTION_DAYS is 0)."""

    def __init__(self, engine: AsyncEngine, days: int):
        self.engine, self.days = engine, days
        self.last: PruneResult | None = None

    def start(self, scheduler) -> None:  # noqa: ANN001 - an APScheduler AsyncIOScheduler
        if self.days <= 0:
            return
        from apscheduler.triggers.cron import CronTrigger

        scheduler.add_job(self.run, CronTrigger(hour=RETENTION_HOUR_UTC, timezone="UTC", jitter=RETENTION_JITTER_SECONDS),
                          id=RETENTION_JOB_ID, coalesce=True, max_instances=1, misfire_grace_time=3600,
                          replace_existing=True)

    async def run(self) -> PruneResult | None:
        from watchers.storage.types import utcnow

        try:
            self.last = await prune(self.engine, now=utcnow(), days=self.days)
        except Exception:  # noqa: BLE001 - tomorrow's run tries again
            log.exception("retention: pruning failed")
            return None
        return self.last
