"""The company card of `/vendorwatch lookup`: a company's last 90 days as one Message."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.company_activity import CompanyActivity, EventRecord, format_usd, load_activity
from bot.messages import Block, Field, Link, Message, Strong
from bot.wording import counts_text, person_text
from watchers.rules.registry import Company
from watchers.storage.db import session_scope

CARD_DAYS = 90
TOP_STORIES = 5
MAX_LISTED = 6


async def company_card(engine: AsyncEngine, company: Company, name_of: Callable[[str], str], *,
                       now: datetime, days: int = CARD_DAYS) -> Message:
    async with session_scope(engine) as session:
        activity = (await load_activity(session, [company.slug], now - timedelta(days=days), now))[company.slug]
    return build_company_card(company, activity, name_of, days=days)


def build_company_card(company: Company, activity: CompanyActivity, name_of: Callable[[str], str], *,
                       days: int = CARD_DAYS) -> Message:
    counts = activity.counts()
    fields = [Field(f"Events, last {days} days",
                    counts_text(counts) if counts else "none found")]
    funding = activity.of_type("funding")
    if funding:
        fields.append(Field("Latest funding", _funding_line(funding, name_of)))
    leadership = activity.of_type("leadership_change")
    if leadership:
        fields.append(Field("Leadership changes", _listed([_leadership_line(e) for e in reversed(leadership)])))
    if activity.customers_won():
        fields.append(Field("Customers gained", _listed([name_of(s) for s in activity.customers_won()])))
    if activity.customers_lost():
        fields.append(Field("Customers lost", _listed([name_of(s) for s in activity.customers_lost()])))
    relations = known_relationships(company, name_of)
    if relations:
        fields.append(Field("Known relationships", relations))
    blocks: list[Block] = []
    if activity.stories:
        blocks.append(Block.of(Strong("Top stories")))
        for story in activity.stories[:TOP_STORIES]:
            outlets = f" ({story.outlets} outlet{'s' if story.outlets != 1 else ''}, {story.last_at:%Y-%m-%d})"
            head = Link(story.title, story.link) if story.link else story.title
            blocks.append(Block.of(head, outlets))
    else:
        blocks.append(Block.of(f"No coverage in the last {days} days."))
    kind = getattr(company, "kind", "vendor")
    return Message(title=f"{company.name}: the last {days} days", blocks=tuple(blocks), fields=tuple(fields),
                   footer=f"{company.slug} ({kind}); each event counted once per story", accent="info")


def _funding_line(funding: list[EventRecord], name_of: Callable[[str], str]) -> str:
    latest = funding[-1]
    same_round = [e for e in funding if (e.story_id is not None and e.story_id == latest.story_id) or e is latest]
    investors = list(dict.fromkeys(name_of(e.counterparty) for e in same_round if e.counterparty))
    amount = next((e.amount_usd for e in reversed(same_round) if e.amount_usd), None)
    parts = [format_usd(amount) if amount else "amount not reported"]
    if latest.round:
        parts.append(f"({latest.round})")
    if investors:
        parts.append(f"from {', '.join(investors)}")
    if latest.status != "done":
        parts.append(f"[{latest.status.replace('_', ' ')}]")
    parts.append(f"on {latest.when:%Y-%m-%d}: {latest.title}")
    return " ".join(parts)


def _leadership_line(event: EventRecord) -> str:
    """The person and role, never the headline in the person's place."""
    return f"{person_text(event.person, event.role)}, {event.when:%Y-%m-%d}"


def _listed(values: list[str]) -> str:
    shown = values[:MAX_LISTED]
    more = len(values) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def known_relationships(company: Company, name_of: Callable[[str], str]) -> str:
    """Customers and investors named in the seeds, as one line."""
    parts = []
    for label, slugs in (("customers", getattr(company, "customers", ())),
                         ("investors", getattr(company, "investors", ()))):
        if slugs:
            parts.append(f"{label}: {', '.join(name_of(s) for s in slugs)}")
    return "; ".join(parts)
