"""The first reply in an alert's thread: what a reader needs to judge the alert.

For each subject of the story: its other events of the last 90 days (one line per story), and
its known relationships, from the seeds (Company.customers / investors) and from past events
(partnership -> customer, funding with an investor -> investor, customer_loss -> former
customer), so that "OpenAI winds down work with Scale AI" reads as the loss it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.alerts import NameOf, event_line
from bot.messages import Block, Field, Message
from watchers.storage.stories import Story

CONTEXT_DAYS = 90
RELATIONSHIP_DAYS = 3 * 365
MAX_EARLIER_EVENTS = 6


def relationships(slug: str, company: Any | None, stories: list[Story]) -> dict[str, list[str]]:
    """Known customers, former customers and investors of `slug` (slugs): the seeds, then past events in order."""
    customers = list(dict.fromkeys(getattr(company, "customers", ()) or ()))
    investors = list(dict.fromkeys(getattr(company, "investors", ()) or ()))
    former: list[str] = []
    for story in sorted(stories, key=lambda s: s.first_seen_at):
        for event in story.events:
            other = event.counterparty
            if event.subject != slug or not other:
                continue
            if event.type == "partnership":
                former = [c for c in former if c != other]
                customers = [*customers, other] if other not in customers else customers
            elif event.type == "funding" and other not in investors:
                investors.append(other)
            elif event.type == "customer_loss":
                customers = [c for c in customers if c != other]
                former = [*former, other] if other not in former else former
    return {"customers": customers, "former customers": former, "investors": investors}


async def build_context(session: AsyncSession, story: Story, *, registry: Any | None, name_of: NameOf,
                        now: datetime) -> Message | None:
    """The context opener of the story's thread, or None when there is nothing to tell.

    "Earlier" is relative to the story (what came before it started), not to the clock.
    """
    subjects = list(dict.fromkeys([story.subject, *(e.subject for e in story.events if e.subject)]))
    reference = min(story.first_seen_at, now)
    since = reference - timedelta(days=RELATIONSHIP_DAYS)
    rows = (await session.exec(select(Story).where(Story.last_item_at >= since, Story.first_seen_at < reference,
                                                   Story.id != story.id)
                               .order_by(col(Story.first_seen_at)))).all()
    blocks: list[Block] = []
    fields: list[Field] = []
    recent_since = reference - timedelta(days=CONTEXT_DAYS)
    for slug in subjects:
        about = [s for s in rows if any(e.subject == slug for e in s.events)]
        company = registry.get(slug) if registry is not None else None
        known = relationships(slug, company, about)
        for kind, slugs in known.items():
            if slugs:
                fields.append(Field(f"{name_of(slug)}'s known {kind}", ", ".join(name_of(s) for s in slugs)))
        earlier = [s for s in about if s.last_item_at >= recent_since][-MAX_EARLIER_EVENTS:]
        for other in earlier:
            lines = [event_line(e, name_of) for e in other.events if e.subject == slug]
            blocks.append(Block.of(f"{other.first_seen_at:%Y-%m-%d}: " + "; ".join(dict.fromkeys(lines))
                                   + f" \u2014 \u201c{other.title}\u201d"))
    if not blocks and not fields:
        return None
    if blocks:
        blocks.insert(0, Block.of(f"Earlier events (last {CONTEXT_DAYS} days):"))
    title = "Context: " + ", ".join(name_of(s) for s in subjects)
    return Message(title=title, blocks=tuple(blocks), fields=tuple(fields), accent="info")
