"""The digest chart's data: a channel's events per week over the last weeks, and its quiet companies.

Read with bot.company_activity.load_activity over the whole span at once (one query), each
subscription narrowed to its event types as the digest's text is, then binned by the week of
each event. A week's count is the sum of its companies' counts, as the chart's bars are.

Only the events are read (`events_only`): the items where a watched company is an event's subject,
one index range of table item_company per company, and no stories. The counting stays in Python,
where the text's de-duplication rules are (one event per story, a leadership move merged however it
was reported): counting in SQL would need a second copy of those rules. One million items:
benchmarks/bench_million.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.company_activity import load_activity
from watchers.models import EVENT_TYPES
from watchers.storage.db import session_scope

TREND_WEEKS = 8


@dataclass(frozen=True)
class WeekCounts:
    start: date  # the first day of the week, in the digest's time zone
    counts: dict[str, int]  # event type -> events, in EVENT_TYPES order, zeros left out

    @property
    def label(self) -> str:
        return f"{self.start:%b} {self.start.day}"


async def load_trend(engine: AsyncEngine, subscriptions: Iterable[tuple[str, Sequence[str]]],
                     weeks: Sequence[tuple[date, datetime, datetime]]) -> list[WeekCounts]:
    """Events per week and type of these (company slug, event types) subscriptions.

    `weeks`: (first day, start, end) of each week in UTC, oldest first; returns one WeekCounts each."""
    subscriptions = list(subscriptions)
    if not weeks:
        return []
    async with session_scope(engine) as session:
        activity = await load_activity(session, [slug for slug, _ in subscriptions], weeks[0][1], weeks[-1][2],
                                       events_only=True)
    tallies = [{kind: 0 for kind in EVENT_TYPES} for _ in weeks]
    for slug, types in subscriptions:
        for event in activity[slug].only(types).events:
            for index, (_, start, end) in enumerate(weeks):
                if start <= event.when < end:
                    tallies[index][event.type] += 1
                    break
    return [WeekCounts(first, {k: n for k, n in tally.items() if n}) for (first, _, _), tally in zip(weeks, tallies)]


def quiet_names(names_with_events: Iterable[tuple[str, bool]]) -> list[str]:
    """The names of the companies without events, in order."""
    return [name for name, busy in names_with_events if not busy]
