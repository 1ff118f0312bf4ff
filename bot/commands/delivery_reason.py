"""Why one item was or was not sent to one channel, read back from the delivery tables.

Checked in the order the pipeline decides: history, events, subscription, event types, pause,
then what fan-out and the sender did (alert row, outbox rows).
"""

from __future__ import annotations

from typing import Callable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands.subscriptions import describe_types
from watchers.storage.delivery import Alert, Channel, Outbox, Subscription
from watchers.storage.stories import Story
from watchers.storage.tables import Item


async def explain_delivery(session: AsyncSession, item: Item, story: Story | None, channel: Channel | None,
                           name_of: Callable[[str], str]) -> str:
    if item.history:
        published = f" (published {item.published_at:%Y-%m-%d})" if item.published_at else ""
        return ("not sent: it was already old when its feed was first polled" + published
                + "; such items are kept as history, never alerted.")
    events = item.events or []
    if not events:
        return "not sent: the rules found no event in it, and only items with events are alerted."
    subscriptions = [] if channel is None else list((await session.exec(select(Subscription).where(
        Subscription.channel_pk == channel.id))).all())
    subjects = list(dict.fromkeys(e.get("subject") for e in events if e.get("subject")))
    by_slug = {s.company_slug: s for s in subscriptions}
    watched = [by_slug[s] for s in subjects if s in by_slug]
    if not watched:
        names = " or ".join(name_of(s) for s in subjects) or "its companies"
        return f"not sent: this channel does not watch {names}."
    wanted = [s for s in watched if not s.event_types
              or any(e.get("type") in s.event_types for e in events if e.get("subject") == s.company_slug)]
    if not wanted:
        sub = watched[0]
        kinds = ", ".join(dict.fromkeys(e.get("type", "?") for e in events if e.get("subject") == sub.company_slug))
        return (f"not sent: this channel watches {name_of(sub.company_slug)} only for "
                f"{describe_types(sub.event_types)}, and this item is {kinds}.")
    active = [s for s in wanted if not s.paused_reason]
    if not active:
        sub = wanted[0]
        since = f" since {sub.paused_at:%Y-%m-%d %H:%M} UTC" if sub.paused_at else ""
        return f"not sent: alerts for {name_of(sub.company_slug)} are paused here{since}: {sub.paused_reason}."
    if story is None:
        return "not sent yet: it has not joined a story (the story step runs after classification)."
    assert channel is not None
    alert = (await session.exec(select(Alert).where(Alert.channel_pk == channel.id,
                                                    Alert.story_id == story.id))).first()
    if alert is None:
        first_sub = min(active, key=lambda s: s.created_at)
        if first_sub.created_at > story.first_seen_at:
            return (f"not sent: its story came out before this channel watched {name_of(first_sub.company_slug)} "
                    f"(since {first_sub.created_at:%Y-%m-%d %H:%M} UTC).")
        return "not sent yet: nothing is queued for this channel; delivery has not reached this story."
    parent = await session.get(Outbox, alert.parent_outbox_id) if alert.parent_outbox_id else None
    if item.key not in (alert.item_keys or []):
        when = f" of {parent.sent_at:%Y-%m-%d %H:%M} UTC" if parent is not None and parent.sent_at else ""
        return (f"not sent as a new message: its story was already posted here (message{when}); "
                "more coverage goes into that message's thread.")
    role = "as the story's message" if alert.item_keys and alert.item_keys[0] == item.key else "in the story's thread"
    rows = list((await session.exec(select(Outbox).where(Outbox.channel_pk == channel.id,
                                                         Outbox.story_id == story.id))).all())
    return f"{role}: " + _outbox_state(parent, rows)


def _outbox_state(parent: Outbox | None, rows: list[Outbox]) -> str:
    if parent is None and not rows:
        return "queued."
    row = parent or rows[0]
    if row.status == "sent":
        when = f" {row.sent_at:%Y-%m-%d %H:%M} UTC" if row.sent_at else ""
        return f"sent{when}."
    if row.status == "failed":
        return f"sending failed: {row.last_error or 'no detail'}."
    if row.status == "held":
        return f"held, not sent: {row.last_error or 'alerts are paused'}."
    return f"queued, not sent yet (attempts so far: {row.attempts})."
