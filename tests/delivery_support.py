"""Helpers of the delivery tests: a manual clock, channels with subscriptions, classified items."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from watchers.models import Classification, Event
from watchers.storage.db import session_scope
from watchers.storage.item_store import write_company_rows
from watchers.storage.delivery import Channel, Outbox, Subscription
from watchers.storage.tables import Item
from watchers.stories.store import file_item

T0 = datetime(2025, 6, 12, 14, 0, tzinfo=timezone.utc)


class ManualClock:
    """Time that moves only when the code under test sleeps: no real waiting, no timed assertions."""

    def __init__(self, start: datetime = T0):
        self.current = start
        self.slept = 0.0

    def __call__(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.current += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current


async def add_channel(engine, channel_id: str, subscriptions: dict[str, list[str]], *,  # noqa: ANN001
                      platform: str = "memory", paused: str | None = None) -> int:
    async with session_scope(engine) as session:
        channel = Channel(platform=platform, channel_id=channel_id, workspace="T1", name=channel_id)
        session.add(channel)
        await session.flush()
        for slug, types in subscriptions.items():
            session.add(Subscription(channel_pk=channel.id, company_slug=slug, event_types=types,
                                     paused_reason=paused, paused_at=T0 if paused else None,
                                     created_at=T0 - timedelta(days=1)))
        return channel.id


def classification(events: list[Event], companies: list[str] | None = None) -> Classification:
    slugs = companies or list(dict.fromkeys(s for e in events for s in (e.subject, e.counterparty) if s))
    return Classification(companies=slugs, events=list(events))


async def add_item(engine, title: str, events: list[Event], *, at: datetime, outlet: str,  # noqa: ANN001
                   link: str | None = None, summary: str = "", history: bool = False,
                   window_hours: float = 72.0, now: datetime | None = None) -> tuple[int, list[int]]:
    """Store an item as the orchestrator would and file it into its story: (item id, story ids)."""
    result = classification(events)
    key = hashlib.sha256(f"{title}|{link}|{outlet}".encode()).hexdigest()[:40]
    async with session_scope(engine) as session:
        item = Item(key=key, title=title, outlet=outlet, link=link, summary=summary, published_at=at,
                    first_seen_at=at, content_hash=key, history=history, companies=result.companies,
                    events=result.events)
        session.add(item)
        await session.flush()
        await write_company_rows(session, [item])
        stories = [] if history else await file_item(session, item, result, now=now or at,
                                                           window_hours=window_hours)
        return item.id, stories


async def outbox_rows(engine, channel_pk: int | None = None) -> list[Outbox]:  # noqa: ANN001
    async with session_scope(engine) as session:
        query = select(Outbox).order_by(Outbox.id)
        if channel_pk is not None:
            query = query.where(Outbox.channel_pk == channel_pk)
        return list((await session.exec(query)).all())


META_SCALE = [
    Event(type="funding", subject="scale-ai", counterparty="meta", amount_usd=14.3e9, stake_pct=49.0,
          rule="funding.stake", evidence="Meta takes 49% stake in Scale AI"),
    Event(type="leadership_change", subject="scale-ai", person="Alexandr Wang", role="CEO",
          rule="leadership.poach", evidence="hires its CEO Alexandr Wang"),
    Event(type="leadership_change", subject="meta", person="Alexandr Wang", role="CEO",
          rule="leadership.poach", evidence="hires its CEO Alexandr Wang"),
]
