"""Fan-out: items filed into stories -> outbox rows, per subscribed channel.

For each new story item (not yet in table item_fanout), each channel with an active
subscription to one of its subjects (and to one of its event types, when narrowed) gets:

- the story's first item there: one parent alert (however many events and subjects the item
  has), then the context opener as the first reply of its thread;
- later coverage: a thread reply, batched: items arriving within THREAD_BATCH_SECONDS go into
  one reply listing them; and an edit of the parent (new source count, new facts), coalesced
  while it waits; while the parent itself is unsent its text is simply refreshed;
- an item bringing an event type the channel has not seen in this story: a flagged reply.

A channel that muted the story (the alert's button, bot.feedback) gets nothing more of it; rows
queued before the click may still go.

Idempotent: an item is fanned out once (the item_fanout row is inserted first, in the same
transaction; a second replica doing the same item fails on its primary key and rolls back),
every outbox row has a unique idempotency key, and Alert.item_keys records what each channel
got. Publisher edits of an item never reach here (the orchestrator does not refile them).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.alerts import NameOf, coverage_reply, name_resolver, new_type_reply, story_alert
from bot.delivery.thread_context import build_context
from bot.feedback import muted_channels
from watchers.models import Event
from watchers.settings import Settings
from watchers.storage.db import session_scope
from watchers.storage.delivery import Alert, ItemFanout, Outbox, Subscription
from watchers.storage.stories import Story
from watchers.storage.tables import Item
from watchers.stories.store import outlet_of

log = logging.getLogger(__name__)
FANOUT_BATCH = 200
MAX_BATCH_ITEMS = 20  # one coverage reply lists at most this many items (platform message size limits)


def _registry(registry: Any) -> Any:
    return registry() if callable(registry) else registry


async def fan_out(engine, settings: Settings, *, now: datetime, registry: Any = None,  # noqa: ANN001
                  limit: int = FANOUT_BATCH) -> int:
    """Queue the messages of every story item not yet fanned out; returns the outbox rows created.

    `registry` (a watchers.rules.registry.Registry, or a callable returning one) gives company names and
    seeded relationships; without it slugs are shown.
    """
    current = _registry(registry)
    name_of = name_resolver(current)
    async with session_scope(engine) as session:
        done = select(ItemFanout.item_id)
        pending = (await session.exec(
            select(Item.id).where(col(Item.story_id).is_not(None), Item.history == False,  # noqa: E712
                                  col(Item.id).not_in(done)).order_by(col(Item.id)).limit(limit))).all()
    created = 0
    for item_id in pending:
        try:
            async with session_scope(engine) as session:
                created += await fan_out_item(session, item_id, settings, now=now, registry=current, name_of=name_of)
        except IntegrityError:
            log.info("item %s was fanned out by another worker", item_id)
        except Exception:  # noqa: BLE001 - one bad item must not stop delivery of the others
            log.exception("fan-out of item %s failed; it is skipped", item_id)
            await _mark_failed(engine, item_id, now)
    return created


async def _mark_failed(engine, item_id: int, now: datetime) -> None:  # noqa: ANN001
    """Record the item as done with channels=-1, so that it is not retried on every pass."""
    try:
        async with session_scope(engine) as session:
            session.add(ItemFanout(item_id=item_id, story_id=None, channels=-1, done_at=now))
    except IntegrityError:
        pass


async def fan_out_item(session: AsyncSession, item_id: int, settings: Settings, *, now: datetime,
                       registry: Any = None, name_of: NameOf | None = None) -> int:
    """Queue one item's messages within `session`; returns the outbox rows created."""
    name_of = name_of or name_resolver(registry)
    item = await session.get(Item, item_id)
    if item is None or item.story_id is None:
        return 0
    story = await session.get(Story, item.story_id)
    if story is None:
        return 0
    mark = ItemFanout(item_id=item_id, story_id=story.id, done_at=now)
    session.add(mark)
    await session.flush()
    channels = await subscribed_channels(session, item.events)
    for channel_pk in await _alerted_channels(session, story):
        channels.setdefault(channel_pk, [])
    for channel_pk in await muted_channels(session, story.id):
        channels.pop(channel_pk, None)
    created = 0
    for channel_pk, watched in channels.items():
        created += await _fan_out_to_channel(session, item, story, channel_pk, watched, settings, now, registry,
                                             name_of)
    mark.channels = len(channels)
    session.add(mark)
    return created


def event_parties(events: list[Event]) -> list[str]:
    """The companies these events are about: subjects and counterparties (a channel watching Meta
    wants "Meta takes 49% of Scale AI" as much as one watching Scale AI)."""
    return list(dict.fromkeys(slug for e in events for slug in (e.subject, e.counterparty) if slug))


async def subscribed_channels(session: AsyncSession, events: list[Event]) -> dict[int, list[str]]:
    """channel pk -> the companies it watches among these events' parties (active subscriptions whose types match)."""
    parties = event_parties(events)
    if not parties:
        return {}
    rows = (await session.exec(select(Subscription).where(col(Subscription.company_slug).in_(parties),
                                                          col(Subscription.paused_reason).is_(None)))).all()
    result: dict[int, list[str]] = {}
    for sub in rows:
        types = {e.type for e in events if sub.company_slug in (e.subject, e.counterparty)}
        if not sub.event_types or types & set(sub.event_types):
            result.setdefault(sub.channel_pk, []).append(sub.company_slug)
    rank = {slug: i for i, slug in enumerate(parties)}
    return {pk: sorted(slugs, key=rank.__getitem__) for pk, slugs in sorted(result.items())}


async def _alerted_channels(session: AsyncSession, story: Story) -> list[int]:
    """Channels that already have this story's alert and still watch one of its subjects, unpaused:
    later coverage goes into their thread even when it names only other companies of the story."""
    active = select(Subscription.channel_pk).where(col(Subscription.company_slug).in_(event_parties(story.events)),
                                                   col(Subscription.paused_reason).is_(None))
    return list((await session.exec(select(Alert.channel_pk).where(
        Alert.story_id == story.id, col(Alert.channel_pk).in_(active)))).all())


def item_entry(item: Item) -> dict[str, Any]:
    from watchers.stories.cluster import headline

    return {"id": item.id, "key": item.key, "title": headline(item.title, item.outlet), "link": item.link,
            "outlet": outlet_of(item)}


def _row(channel_pk: int, story_id: int, key: str, kind: str, payload: dict[str, Any], now: datetime,
         parent_outbox_id: int | None = None) -> Outbox:
    return Outbox(idempotency_key=key, channel_pk=channel_pk, kind=kind, story_id=story_id, payload=payload,
                  parent_outbox_id=parent_outbox_id, next_attempt_at=now, created_at=now)


async def _fan_out_to_channel(session: AsyncSession, item: Item, story: Story, channel_pk: int, watched: list[str],
                              settings: Settings, now: datetime, registry: Any, name_of: NameOf) -> int:
    alert = (await session.exec(select(Alert).where(Alert.channel_pk == channel_pk,
                                                    Alert.story_id == story.id))).first()
    item_types = list(dict.fromkeys(e.type for e in item.events if e.type))
    if alert is None:
        message = story_alert(story, watched=watched, name_of=name_of)
        parent = _row(channel_pk, story.id, f"alert:{channel_pk}:{story.id}", "post",
                      {"message": message.to_dict(), "watched": watched}, now)
        session.add(parent)
        await session.flush()
        session.add(Alert(channel_pk=channel_pk, story_id=story.id, parent_outbox_id=parent.id,
                          item_keys=[item.key], event_types=list(story.event_types), created_at=now, updated_at=now))
        context = await build_context(session, story, registry=registry, name_of=name_of, now=now)
        if context is None:
            return 1
        session.add(_row(channel_pk, story.id, f"context:{channel_pk}:{story.id}", "reply",
                         {"message": context.to_dict()}, now, parent.id))
        return 2
    if item.key in alert.item_keys:
        return 0
    created = 0
    new_types = [t for t in item_types if t not in alert.event_types]
    if new_types and not watched:
        return 0  # more of the story, but of a type or company this channel does not watch
    entry = item_entry(item)
    if new_types:
        await _close_batches(session, alert.parent_outbox_id, now)
        message = new_type_reply(entry, item.events, new_types, name_of)
        session.add(_row(channel_pk, story.id, f"newtype:{channel_pk}:{story.id}:{item.id}", "reply",
                         {"message": message.to_dict(), "items": [entry]}, now, alert.parent_outbox_id))
        created += 1
    elif not await _join_batch(session, alert.parent_outbox_id, entry, now):
        due = now + timedelta(seconds=settings.thread_batch_seconds)
        session.add(_row(channel_pk, story.id, f"more:{channel_pk}:{story.id}:{item.id}", "reply",
                         {"message": coverage_reply([entry]).to_dict(), "items": [entry], "batch": True}, due,
                         alert.parent_outbox_id))
        created += 1
    created += await _refresh_parent(session, alert, story, channel_pk, item, now, name_of)
    alert.item_keys = [*alert.item_keys, item.key]
    alert.event_types = list(dict.fromkeys([*alert.event_types, *story.event_types]))
    alert.updated_at = now
    session.add(alert)
    return created


async def _open_batch(session: AsyncSession, parent_outbox_id: int | None, now: datetime) -> Outbox | None:
    rows = (await session.exec(select(Outbox).where(Outbox.parent_outbox_id == parent_outbox_id,
                                                    Outbox.kind == "reply", Outbox.status == "pending",
                                                    Outbox.next_attempt_at > now)
                               .order_by(col(Outbox.id)))).all()
    return next((r for r in rows if r.payload.get("batch")), None)


async def _join_batch(session: AsyncSession, parent_outbox_id: int | None, entry: dict[str, Any],
                      now: datetime) -> bool:
    """Add the item to the thread's waiting coverage reply; False when there is none open."""
    batch = await _open_batch(session, parent_outbox_id, now)
    if batch is None or len(batch.payload.get("items", [])) >= MAX_BATCH_ITEMS:
        return False
    items = [*batch.payload.get("items", []), entry]
    payload = {**batch.payload, "items": items, "message": coverage_reply(items).to_dict()}
    return await _update_if_pending(session, batch.id, payload=payload)


async def _close_batches(session: AsyncSession, parent_outbox_id: int | None, now: datetime) -> None:
    """Send a waiting coverage reply now, so that the thread stays in order before a flagged reply."""
    batch = await _open_batch(session, parent_outbox_id, now)
    if batch is not None:
        await _update_if_pending(session, batch.id, next_attempt_at=now)


async def _update_if_pending(session: AsyncSession, outbox_id: int, *, statuses: tuple[str, ...] = ("pending",),
                             **values: Any) -> bool:
    """Change a row only if no sender has claimed it meanwhile."""
    result = await session.exec(update(Outbox).where(col(Outbox.id) == outbox_id, col(Outbox.status).in_(statuses))
                                   .values(**values).execution_options(synchronize_session="fetch"))
    return bool(result.rowcount)


async def _refresh_parent(session: AsyncSession, alert: Alert, story: Story, channel_pk: int, item: Item,
                          now: datetime, name_of: NameOf) -> int:
    """Show the new source count and facts: rewrite the parent while unsent, else queue (or refresh) an edit."""
    parent = await session.get(Outbox, alert.parent_outbox_id) if alert.parent_outbox_id else None
    if parent is None:
        return 0
    watched = list(parent.payload.get("watched", []))
    message = story_alert(story, watched=watched, name_of=name_of).to_dict()
    if parent.status in ("pending", "held") and await _update_if_pending(
            session, parent.id, statuses=("pending", "held"), payload={**parent.payload, "message": message}):
        return 0
    waiting = (await session.exec(select(Outbox).where(Outbox.parent_outbox_id == parent.id, Outbox.kind == "edit",
                                                       Outbox.status == "pending"))).first()
    if waiting is not None and await _update_if_pending(session, waiting.id, payload={"message": message}):
        return 0
    session.add(_row(channel_pk, story.id, f"edit:{channel_pk}:{story.id}:{item.id}", "edit",
                     {"message": message}, now, parent.id))
    return 1

