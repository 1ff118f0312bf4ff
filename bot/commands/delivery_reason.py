"""Why one item was or was not sent to one channel, read back from the delivery tables.

First what was sent (the channel's alert for the story lists the item keys it got, the outbox
rows say how far they went); else why fan-out did not choose the channel, in the order the
pipeline decides: history, events, a mute of the story here, subscription, event types, pause, timing. The choice itself is
fan-out's own function (`bot.delivery.fanout.subscribed_channels`), so the answer cannot drift from it.
"""

from __future__ import annotations

from typing import Callable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands.subscriptions import describe_types
from bot.delivery.fanout import event_parties, subscribed_channels
from bot.feedback import story_feedback
from bot.wording import type_words
from watchers.models import Event
from watchers.storage.delivery import Alert, Channel, ItemFanout, Outbox, Subscription
from watchers.storage.feedback import StoryFeedback
from watchers.storage.stories import Story
from watchers.storage.tables import Item


async def explain_delivery(session: AsyncSession, item: Item, story: Story | None, channel: Channel | None,
                           name_of: Callable[[str], str]) -> str:
    if item.history:
        published = f" (published {item.published_at:%Y-%m-%d})" if item.published_at else ""
        return ("not sent: it was already old when its feed was first polled" + published
                + "; such items are kept as history, never alerted.")
    events = item.events
    if not events:
        return "not sent: the rules found no event in it, and only items with events are alerted."
    if channel is not None and story is not None:
        sent = await _what_was_sent(session, item, story, channel)
        if sent is not None:
            return sent
        mute = next((f for f in await story_feedback(session, story.id, channel.id) if f.kind == "mute"), None)
        if mute is not None:
            return f"not sent: its story was {feedback_line(mute)}, so its later coverage stays out of here."
    selected = await subscribed_channels(session, events)  # fan-out's own choice of channels
    if channel is None or channel.id not in selected:
        return await _why_not_selected(session, events, channel, name_of)
    if story is None:
        return "not sent yet: it has not joined a story (the story step runs after classification)."
    fanned_out = await session.get(ItemFanout, item.id)
    if fanned_out is None:
        return "not sent yet: it waits for the next delivery pass."
    subscriptions = (await session.exec(select(Subscription).where(
        Subscription.channel_pk == channel.id, col(Subscription.company_slug).in_(selected[channel.id])))).all()
    first_sub = min(subscriptions, key=lambda s: s.created_at)
    if first_sub.created_at > fanned_out.done_at:
        return (f"not sent: when it was delivered ({fanned_out.done_at:%Y-%m-%d %H:%M} UTC) this channel did not "
                f"watch {name_of(first_sub.company_slug)} yet (since {first_sub.created_at:%Y-%m-%d %H:%M} UTC).")
    return "not sent: no message was queued for this channel when it was delivered."


def feedback_line(row: StoryFeedback) -> str:
    """"muted in this channel by Ana (2025-06-12)" or "marked not relevant by Ana (rule funding.stake)"."""
    who = f" by {row.user}" if row.user else ""
    if row.kind == "mute":
        return f"muted in this channel{who} ({row.created_at:%Y-%m-%d})"
    rules = f" (rule{'s' if len(row.rules) > 1 else ''} {', '.join(row.rules)})" if row.rules else ""
    return f"marked not relevant{who}{rules}"


async def feedback_notes(session: AsyncSession, story: Story | None, channel: Channel | None) -> str | None:
    """This channel's feedback on the story, one line each; None when there is none."""
    if story is None or channel is None:
        return None
    rows = await story_feedback(session, story.id, channel.id)
    return "\n".join(feedback_line(r) for r in rows) or None


async def _what_was_sent(session: AsyncSession, item: Item, story: Story, channel: Channel) -> str | None:
    alert = (await session.exec(select(Alert).where(Alert.channel_pk == channel.id,
                                                    Alert.story_id == story.id))).first()
    if alert is None or item.key not in (alert.item_keys or []):
        return None
    parent = await session.get(Outbox, alert.parent_outbox_id) if alert.parent_outbox_id else None
    if alert.item_keys[0] == item.key:
        return "sent as the story's message: " + _outbox_state(parent)
    reply = await _reply_row(session, channel.id, story.id, item.key)
    when = f" (message of {parent.sent_at:%Y-%m-%d %H:%M} UTC)" if parent is not None and parent.sent_at else ""
    return (f"not sent as a new message: its story was already posted here{when}, so it went into "
            "that message's thread: " + _outbox_state(reply))


async def _why_not_selected(session: AsyncSession, events: list[Event], channel: Channel | None,
                            name_of: Callable[[str], str]) -> str:
    subscriptions = [] if channel is None else list((await session.exec(select(Subscription).where(
        Subscription.channel_pk == channel.id))).all())
    subjects = event_parties(events)
    by_slug = {s.company_slug: s for s in subscriptions}
    watched = [by_slug[s] for s in subjects if s in by_slug]
    if not watched:
        names = " or ".join(name_of(s) for s in subjects) or "its companies"
        return f"not sent: this channel does not watch {names}."
    wanted = [s for s in watched if not s.event_types
              or any(e.type in s.event_types for e in events if s.company_slug in (e.subject, e.counterparty))]
    if not wanted:
        sub = watched[0]
        kinds = ", ".join(dict.fromkeys(type_words(e.type or "?") for e in events if sub.company_slug in (e.subject, e.counterparty)))
        return (f"not sent: this channel watches {name_of(sub.company_slug)} only for "
                f"{describe_types(sub.event_types)}, and this item is {kinds}.")
    sub = next((s for s in wanted if s.paused_reason), None)
    if sub is None:
        return "not sent: no active subscription here matches its events."
    since = f" since {sub.paused_at:%Y-%m-%d %H:%M} UTC" if sub.paused_at else ""
    return f"not sent: alerts for {name_of(sub.company_slug)} are paused here{since}: {sub.paused_reason}."


async def _reply_row(session: AsyncSession, channel_pk: int, story_id: int, item_key: str) -> Outbox | None:
    """The thread reply (single or batched) that carries this item."""
    rows = (await session.exec(select(Outbox).where(Outbox.channel_pk == channel_pk, Outbox.story_id == story_id,
                                                    Outbox.kind == "reply"))).all()
    return next((r for r in rows if any(e.get("key") == item_key for e in r.payload.get("items", []))), None)


def _outbox_state(row: Outbox | None) -> str:
    if row is None:
        return "queued."
    if row.status == "sent":
        when = f" {row.sent_at:%Y-%m-%d %H:%M} UTC" if row.sent_at else ""
        return f"sent{when}."
    if row.status == "failed":
        return f"sending failed: {row.last_error or 'no detail'}."
    if row.status == "held":
        return f"held, not sent: {row.last_error or 'alerts are paused'}."
    return f"queued, not sent yet (attempts so far: {row.attempts})."
