"""The feedback buttons under an alert: mute the story in this channel, or mark it not relevant.

Platform adapters call these with the channel of the click and the story id of the button's
value ("story:42"); each returns a one-sentence ephemeral Reply. A second click (or a click of
a colleague, or of the same click delivered twice) finds the row already there and says so.
Muting takes effect at the next fan-out (bot.delivery.fanout skips muted stories per channel);
messages already queued for the story may still go.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Reply
from watchers.storage.db import session_scope
from watchers.storage.delivery import Channel
from watchers.storage.feedback import StoryFeedback
from watchers.storage.stories import Story
from watchers.storage.tables import Item
from watchers.storage.types import utcnow

MAX_TITLE = 120


async def mute_story(engine, *, platform: str, channel_id: str, story_id: int, user: str) -> Reply:  # noqa: ANN001
    """Stop this story's thread replies and parent edits in this channel."""
    return await _record(engine, "mute", platform, channel_id, story_id, user)


async def mark_not_relevant(engine, *, platform: str, channel_id: str, story_id: int,  # noqa: ANN001
                            user: str) -> Reply:
    """Record that this story's alert was not relevant here (counted in the channel's weekly digest)."""
    return await _record(engine, "not_relevant", platform, channel_id, story_id, user)


def _quoted(title: str) -> str:
    title = " ".join(title.split())
    return "\u201c" + (title if len(title) <= MAX_TITLE else title[:MAX_TITLE - 1] + "\u2026") + "\u201d"


def _by(user: str) -> str:
    return f" by {user}" if user else ""


async def _record(engine, kind: str, platform: str, channel_id: str, story_id: int,  # noqa: ANN001
                  user: str) -> Reply:
    async with session_scope(engine) as session:
        channel = (await session.exec(select(Channel).where(Channel.platform == platform,
                                                            Channel.channel_id == channel_id))).first()
        if channel is None:
            return Reply(text="This channel gets no Vendorwatch alerts, so there is no story here to "
                              f"{'mute' if kind == 'mute' else 'mark'}.", is_error=True)
        story = await session.get(Story, story_id)
        if story is None:
            return Reply(text=f"I no longer know story {story_id}; it may have been removed.", is_error=True)
        existing = await _existing(session, channel.id, story_id, kind)
        if existing is None:
            row = StoryFeedback(channel_pk=channel.id, story_id=story_id, kind=kind, user=user[:300],
                                item_keys=await _item_keys(session, story_id),
                                rules=list(dict.fromkeys(e.rule for e in story.events if e.rule)),
                                companies=list(dict.fromkeys([story.subject, *(e.subject for e in story.events
                                                                               if e.subject)])),
                                created_at=utcnow())
            try:
                async with session.begin_nested():
                    session.add(row)
            except IntegrityError:  # the same click from another replica a moment ago
                existing = await _existing(session, channel.id, story_id, kind)
        title = _quoted(story.title)
    if existing is not None:
        if kind == "mute":
            return Reply(text=f"{title} is already muted in this channel{_by(existing.user)}.")
        return Reply(text=f"{title} is already marked not relevant here{_by(existing.user)}.")
    if kind == "mute":
        return Reply(text=f"Muted {title} in this channel: no more thread replies or updates of it here.")
    return Reply(text=f"Marked {title} as not relevant here; it will count in this channel's weekly digest.")


async def _existing(session: AsyncSession, channel_pk: int, story_id: int, kind: str) -> StoryFeedback | None:
    return (await session.exec(select(StoryFeedback).where(StoryFeedback.channel_pk == channel_pk,
                                                           StoryFeedback.story_id == story_id,
                                                           StoryFeedback.kind == kind))).first()


async def _item_keys(session: AsyncSession, story_id: int) -> list[str]:
    return list((await session.exec(select(Item.key).where(Item.story_id == story_id).order_by(Item.id))).all())


async def muted_channels(session: AsyncSession, story_id: int) -> set[int]:
    """The channels (pks) where this story is muted."""
    return set((await session.exec(select(StoryFeedback.channel_pk).where(
        StoryFeedback.story_id == story_id, StoryFeedback.kind == "mute"))).all())


async def story_feedback(session: AsyncSession, story_id: int, channel_pk: int) -> list[StoryFeedback]:
    """This channel's feedback on the story, oldest first."""
    return list((await session.exec(select(StoryFeedback).where(
        StoryFeedback.story_id == story_id, StoryFeedback.channel_pk == channel_pk)
        .order_by(StoryFeedback.created_at))).all())
