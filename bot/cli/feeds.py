"""`vendorwatch feeds add URL [--name NAME] [--company SLUG]` / `feeds list` / `feeds remove ID`.

Extra feeds live in the database (origin "user"). `add` checks the URL and the addresses its
host resolves to without fetching anything; a refused URL, an unknown company or a URL already in
the list is a usage error (exit 2, one line). A host that does not resolve now is stored with a
warning on stderr: the address guard checks every fetch anyway. Feeds derived from the registry (seed feeds, feeds of
companies added from chat) are listed too but cannot be removed here: they would come back.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from typing import TYPE_CHECKING

from watchers.errors import UsageError
from watchers.settings import Settings

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from watchers.storage.tables import Feed

NAME_WIDTH = 32
URL_WIDTH = 60


def _cell(text: str | None, width: int) -> str:
    text = " ".join((text or "-").split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def feed_status(feed: Feed) -> str:
    if not feed.enabled:
        return "disabled"
    return feed.last_status or "new"


def format_feeds(feeds: list[Feed]) -> str:
    header = (f"{'ID':>6}  {'NAME':<{NAME_WIDTH}}  {'URL':<{URL_WIDTH}}  {'STATUS':<12}  {'ERRORS':<18}  "
              f"{'NEXT CHECK':<16}  LAST SUCCESS")
    lines = [header]
    for feed in feeds:
        errors = f"{feed.error_count} {feed.error_kind}" if feed.error_count and feed.error_kind else str(feed.error_count)
        lines.append(f"{feed.id:>6}  {_cell(feed.name, NAME_WIDTH):<{NAME_WIDTH}}  {_cell(feed.url, URL_WIDTH):<{URL_WIDTH}}  "
                     f"{feed_status(feed):<12}  {_cell(errors, 18):<18}  {_when(feed.next_check_at):<16}  "
                     f"{_when(feed.last_success_at)}")
    return "\n".join(lines)


async def resolve_company(session: AsyncSession, settings: Settings, text: str) -> str:
    """The slug of a tracked company given by slug, name or alias; a usage error with suggestions otherwise."""
    from bot.cli.common import current_registry

    registry = await current_registry(session, settings)
    company = registry.resolve(text)
    if company is not None:
        return company.slug
    suggestions = registry.suggest(text)
    hint = f"; did you mean {', '.join(c.slug for c in suggestions)}?" if suggestions else ""
    raise UsageError(f"unknown company {text!r}{hint}")


async def add(session: AsyncSession, settings: Settings, args: argparse.Namespace) -> str:
    from watchers.feeds.sources import add_user_feed

    company = await resolve_company(session, settings, args.company) if args.company else None
    name = args.name.strip() if args.name and args.name.strip() else None
    warnings: list[str] = []
    feed = await add_user_feed(session, args.url, name, company, settings, warn=warnings.append)
    for warning in warnings:
        print(f"vendorwatch: warning: {warning.rstrip('.')}; added anyway (every fetch checks the address again)",
              file=sys.stderr)
    return f"added feed {feed.id}: {feed.name} ({feed.url}), due now"


async def list_feeds(session: AsyncSession) -> str:
    from sqlalchemy import select

    from watchers.storage.tables import Feed

    feeds = list((await session.exec(select(Feed).order_by(Feed.id))).scalars().all())
    return format_feeds(feeds) if feeds else "no feeds"


async def remove(session: AsyncSession, feed_id: int) -> str:
    from sqlalchemy import delete, select

    from watchers.feeds.sources import DERIVED_ORIGINS
    from watchers.storage.tables import Feed

    feed = (await session.exec(select(Feed).where(Feed.id == feed_id))).scalars().first()
    if feed is None:
        raise UsageError(f"no feed with id {feed_id} (see `vendorwatch feeds list`)")
    if feed.origin in DERIVED_ORIGINS:
        raise UsageError(f"feed {feed_id} comes from the company registry, not `feeds add`; "
                         "set SEED_FEEDS=0 to poll only the feeds you added")
    await session.exec(delete(Feed).where(Feed.id == feed_id))
    return f"removed feed {feed_id}: {feed.name} ({feed.url})"


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import IntegrityError

    from watchers.storage.db import make_engine, session_scope, upgrade

    await upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        async with session_scope(engine) as session:
            if args.feeds_command == "add":
                message = await add(session, settings, args)
            elif args.feeds_command == "list":
                message = await list_feeds(session)
            elif args.feeds_command == "remove":
                message = await remove(session, args.id)
            else:
                raise UsageError(f"unknown feeds action {args.feeds_command!r}")
    except IntegrityError:
        raise UsageError(f"feed {args.url} was added a moment ago by someone else") from None
    finally:
        await engine.dispose()
    print(message)
    return 0
