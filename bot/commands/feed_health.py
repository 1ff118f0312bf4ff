"""Feeds that have been failing for a while, as `/vendorwatch list` reports them.

A failing feed is never announced in a channel (no alert, no message pushed: it would be spam
that repeats at every retry). The poll loop backs it off on its own (watchers.feeds.schedule.
next_check_after_error, up to FEED_MAX_BACKOFF_SECONDS) and keeps retrying; it recovers by itself
on its first good poll (record_poll resets error_count and last_status). What the channel sees is
one line in the answer to `list`, and only once the failure has lasted (debounced): at least
FAILING_MIN_ERRORS polls in a row failed and the last success (or the feed's creation) is older
than FAILING_MIN_HOURS. A blip of one 503 never shows.

Which feeds: those of the companies the channel watches (the company's own feed) and the general
sources (feeds of no company) that every channel's alerts come from.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_
from sqlmodel import col, select

from watchers.storage.tables import Feed

FAILING_MIN_ERRORS = 3
FAILING_MIN_HOURS = 6.0
MAX_NAMED = 5


async def failing_feeds(session, company_slugs: list[str], now: datetime) -> list[Feed]:  # noqa: ANN001
    """Enabled feeds relevant to these companies that have failed for a while, longest first."""
    since = now - timedelta(hours=FAILING_MIN_HOURS)
    last_good = func.coalesce(Feed.last_success_at, Feed.created_at)
    relevant = or_(col(Feed.company_slug).is_(None), col(Feed.company_slug).in_(company_slugs or [""]))
    rows = (await session.exec(select(Feed).where(
        col(Feed.enabled).is_(True), Feed.last_status == "error", Feed.error_count >= FAILING_MIN_ERRORS,
        and_(last_good <= since), relevant).order_by(last_good, col(Feed.id)))).all()
    return list(rows)


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "its first poll"


def failing_note(feeds: list[Feed]) -> str | None:
    """One short paragraph naming the failing feeds, or None when all is well."""
    if not feeds:
        return None
    named = []
    for feed in feeds[:MAX_NAMED]:
        name = feed.name or "a feed"
        since = "last worked " + _when(feed.last_success_at) if feed.last_success_at else "never worked"
        named.append(f"{name} ({since}; {feed.error_kind or 'error'})")
    more = f" and {len(feeds) - MAX_NAMED} more" if len(feeds) > MAX_NAMED else ""
    count = len(feeds)
    return (f"Note: {count} news {'source is' if count == 1 else 'sources are'} failing: "
            f"{', '.join(named)}{more}. They are retried less and less often and come back on their own; "
            "alerts from other sources are not affected.")
