"""The weekly digest of one channel: per watched company, what happened in the week.

Per company: events by type, money raised (sum of the funding events' amounts, each round
counted once), leadership moves, customers lost and won; then the week's top stories by outlet
count, the companies that were quiet, and a chart (PNG) of events per company and type.
A subscription narrowed to some event types narrows that company's part of the digest too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.company_activity import CompanyActivity, StoryRecord, distinct_events, format_usd, load_activity
from bot.digest.chart import render_digest_chart
from bot.digest.trend import TREND_WEEKS, load_trend
from bot.messages import Attachment, Block, Field, Link, Message, Strong
from bot.wording import counts_text, person_text
from watchers.models import EVENT_TYPES
from watchers.settings import Settings
from watchers.storage.db import session_scope
from watchers.storage.delivery import Subscription
from watchers.storage.feedback import StoryFeedback
from watchers.storage.tables import TrackedCompany

TOP_STORIES = 5
MAX_ACTIVE_SHOWN = 20
MAX_NAMES = 4


@dataclass
class CompanyWeek:
    slug: str
    name: str
    activity: CompanyActivity


def digest_window(week_start: date, settings: Settings) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the seven days from `week_start` midnight in the digest's time zone."""
    zone = ZoneInfo(settings.digest_timezone)
    start = datetime.combine(week_start, time(0), tzinfo=zone)
    end = datetime.combine(week_start + timedelta(days=7), time(0), tzinfo=zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def week_start_for(now: datetime, settings: Settings) -> date:
    """The first day of the week that the digest due at `now` covers: the seven days before the
    latest scheduled digest time at or before `now`. Stable until the next digest time, so a late
    or repeated run names the same week."""
    return last_digest_time(now, settings).date() - timedelta(days=7)


def last_digest_time(now: datetime, settings: Settings) -> datetime:
    """The latest scheduled digest time (DIGEST_WEEKDAY at DIGEST_HOUR, local) at or before `now`."""
    zone = ZoneInfo(settings.digest_timezone)
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - settings.digest_weekday) % 7)
    scheduled = datetime.combine(day, time(settings.digest_hour), tzinfo=zone)
    if scheduled > local:
        scheduled = datetime.combine(day - timedelta(days=7), time(settings.digest_hour), tzinfo=zone)
    return scheduled


async def build_digest(engine: AsyncEngine, channel_pk: int, week_start: date, settings: Settings,
                       registry: Any) -> Message:
    """The digest of one channel for the week from `week_start` (a Message with a PNG chart).

    `registry` gives company names (`get(slug)`); companies added from chat are named from
    table tracked_company."""
    since, until = digest_window(week_start, settings)
    async with session_scope(engine) as session:
        subscriptions = list((await session.exec(select(Subscription).where(
            Subscription.channel_pk == channel_pk))).all())
        slugs = [s.company_slug for s in subscriptions]
        names = await _names(session, slugs, registry)
        activity = await load_activity(session, slugs, since, until)
        marks = list((await session.exec(select(StoryFeedback).where(
            StoryFeedback.channel_pk == channel_pk, StoryFeedback.kind == "not_relevant",
            StoryFeedback.created_at >= since, StoryFeedback.created_at < until))).all())
    weeks = [CompanyWeek(s.company_slug, names[s.company_slug], activity[s.company_slug].only(s.event_types))
             for s in subscriptions]
    weeks.sort(key=lambda w: w.name.lower())
    message = compose_digest(weeks, week_start, lambda slug: _name_of(slug, names, registry),
                             not_relevant=[m.companies for m in marks])
    active = {w.name: w.activity.counts() for w in weeks if w.activity.events}
    if not active:
        return message
    trend = await load_trend(engine, [(s.company_slug, s.event_types) for s in subscriptions],
                             trend_weeks(week_start, settings))
    quiet = [w.name for w in weeks if not w.activity.events]
    png = await asyncio.to_thread(render_digest_chart, active, message.title, quiet=quiet, trend=trend)
    chart = Attachment(f"digest-{week_start.isoformat()}.png", png, title="Events per company and type")
    return replace(message, attachments=(chart,))


def trend_weeks(week_start: date, settings: Settings, count: int = TREND_WEEKS) -> list[tuple[date, datetime, datetime]]:
    """The `count` weeks up to the one from `week_start`, oldest first: (first day, start, end in UTC)."""
    firsts = [week_start - timedelta(days=7 * back) for back in range(count - 1, -1, -1)]
    return [(first, *digest_window(first, settings)) for first in firsts]


async def _names(session: Any, slugs: list[str], registry: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for slug in slugs:
        company = registry.get(slug) if registry is not None else None
        if company is not None:
            names[slug] = company.name
    missing = [s for s in slugs if s not in names]
    if missing:
        rows = (await session.exec(select(TrackedCompany).where(TrackedCompany.slug.in_(missing)))).all()  # type: ignore[attr-defined]
        names.update({row.slug: row.name for row in rows})
    return {slug: names.get(slug, slug) for slug in slugs}


def _name_of(slug: str, names: dict[str, str], registry: Any) -> str:
    if slug in names:
        return names[slug]
    company = registry.get(slug) if registry is not None else None
    return company.name if company is not None else slug


def compose_digest(weeks: list[CompanyWeek], week_start: date, name_of: Callable[[str], str],
                   not_relevant: list[list[str]] = ()) -> Message:
    """The digest text (no chart): pure, for tests and previews.

    `not_relevant`: per alert marked not relevant in this channel that week, the companies of its story."""
    last_day = week_start + timedelta(days=6)
    title = f"Weekly digest: {week_start:%b} {week_start.day} to {last_day:%b} {last_day.day}, {last_day.year}"
    if not weeks:
        return Message(title=title, blocks=(Block.of("This channel watches no company yet; "
                                                     "try /vendorwatch watch Scale AI."),), accent="info")
    active = [w for w in weeks if w.activity.events]
    quiet = [w.name for w in weeks if not w.activity.events]
    blocks: list[Block] = []
    for week in active[:MAX_ACTIVE_SHOWN]:
        blocks.append(Block.of(Strong(week.name), ": " + company_summary(week.activity, name_of)))
    if len(active) > MAX_ACTIVE_SHOWN:
        blocks.append(Block.of(f"and {len(active) - MAX_ACTIVE_SHOWN} more companies with news."))
    if not active:
        blocks.append(Block.of("No events this week for the companies this channel watches."))
    stories = top_stories(weeks)
    if stories:
        blocks.append(Block.of(Strong("Top stories")))
        for story in stories:
            head = Link(story.title, story.link) if story.link else story.title
            blocks.append(Block.of(head, f" ({story.outlets} outlet{'s' if story.outlets != 1 else ''})"))
    if quiet:
        blocks.append(Block.of(Strong("Quiet this week"), ": " + ", ".join(quiet)))
    distinct = distinct_events(e for w in active for e in w.activity.events)  # a move's two sides once
    totals = {kind: sum(1 for e in distinct if e.type == kind) for kind in EVENT_TYPES}
    totals = {kind: n for kind, n in totals.items() if n}
    fields = [Field("Events", counts_text(totals) if totals else "none")]
    raised = sum(w.activity.money_raised() for w in active)
    if raised:
        fields.append(Field("Money raised", format_usd(raised)))
    if not_relevant:
        fields.append(Field("Marked not relevant here", not_relevant_line(not_relevant, weeks)))
    footer = f"{len(weeks)} watched, {len(active)} with news, {len(quiet)} quiet"
    return Message(title=title, blocks=tuple(blocks), fields=tuple(fields), footer=footer, accent="info")


def company_summary(activity: CompanyActivity, name_of: Callable[[str], str]) -> str:
    """`funding 1, layoffs 1; raised $1.2B; leadership: Jane Doe (CFO); customers lost: OpenAI`."""
    parts = [counts_text(activity.counts())]
    raised = activity.money_raised()
    if raised:
        parts.append(f"raised {format_usd(raised)}")
    moves = [person_text(e.person, e.role) + (
             f", a move between {name_of(e.subject)} and {' and '.join(name_of(s) for s in e.also_at)}"
             if e.also_at else "") for e in activity.of_type("leadership_change")]
    if moves:
        parts.append("leadership: " + _names_list(moves))
    for label, slugs in (("customers lost", activity.customers_lost()), ("customers won", activity.customers_won())):
        if slugs:
            parts.append(f"{label}: " + _names_list([name_of(s) for s in slugs]))
    return "; ".join(parts)


def not_relevant_line(marks: list[list[str]], weeks: list[CompanyWeek]) -> str:
    """"3 alerts: Scale AI 2, Mercor 1" (per watched company of the marked stories), or "3 alerts"."""
    total = len(marks)
    head = f"{total} alert{'s' if total != 1 else ''}"
    per = [(w.name, n) for w in weeks if (n := sum(1 for companies in marks if w.slug in companies))]
    return head + (": " + ", ".join(f"{name} {n}" for name, n in per) if per else "")


def _names_list(values: list[str]) -> str:
    shown = values[:MAX_NAMES]
    return ", ".join(shown) + (f" and {len(values) - len(shown)} more" if len(values) > len(shown) else "")


def top_stories(weeks: list[CompanyWeek]) -> list[StoryRecord]:
    """The week's most covered stories that carry a counted event (each story once)."""
    seen: dict[str, StoryRecord] = {}
    for week in weeks:
        if not week.activity.events:
            continue
        reported_in = {e.group for e in week.activity.events}
        for story in week.activity.stories:
            if story.key in reported_in:
                seen.setdefault(story.key, story)
    ranked = sorted(seen.values(), key=lambda s: (-s.outlets, -s.items, -s.last_at.timestamp()))
    return ranked[:TOP_STORIES]
