"""Which feeds exist: seed feeds derived from the registry, and feeds users add.

Every tracked company gets a Google News search feed (its quoted name and aliases OR'ed, or its
own `news_query`), its blogs and press rooms (`feeds`), and for public companies an SEC EDGAR
8-K Atom feed (`sec_cik`). These are kept in the feed table with origin "seed" (companies from
chat: "company"), so that every replica polls one shared list. Feeds added with
`vendorwatch feeds add` have origin "user" and are never touched by the sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from urllib.parse import quote_plus

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from watchers.feeds.address_guard import UnresolvableHost, check_feed_url
from watchers.errors import UsageError
from watchers.rules.registry import Company, Registry
from watchers.settings import Settings
from watchers.storage.tables import Feed
from watchers.storage.types import utcnow

GOOGLE_NEWS_SEARCH = "https://news.google.com/rss/search?q={query}&hl=en-US&gl=US&ceid=US:en"
SEC_EDGAR_8K = "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK={cik}&type=8-K&output=atom"
DERIVED_ORIGINS = ("seed", "company")  # feeds the sync creates; "user" feeds are the user's


@dataclass(frozen=True)
class FeedSpec:
    url: str
    name: str
    company_slug: str | None
    origin: str = "seed"


def google_news_query(company: Company) -> str:
    if company.news_query and company.news_query.strip():
        return company.news_query.strip()
    names = dict.fromkeys(n.strip().replace('"', "") for n in (company.name, *company.aliases) if n.strip())
    return " OR ".join(f'"{name}"' for name in names)


def google_news_url(company: Company) -> str:
    return GOOGLE_NEWS_SEARCH.format(query=quote_plus(google_news_query(company)))


def sec_filings_url(cik: str) -> str:
    return SEC_EDGAR_8K.format(cik=quote_plus(cik.strip()))


def company_feed_specs(company: Company, origin: str = "seed") -> list[FeedSpec]:
    specs = [FeedSpec(google_news_url(company), f"Google News: {company.name}", company.slug, origin)]
    specs += [FeedSpec(feed.url, feed.name, company.slug, origin) for feed in company.feeds]
    if company.sec_cik and company.sec_cik.strip():
        specs.append(FeedSpec(sec_filings_url(company.sec_cik), f"SEC 8-K filings: {company.name}",
                              company.slug, origin))
    return specs


def seed_feed_specs(registry: Registry, user_added: frozenset[str] = frozenset()) -> list[FeedSpec]:
    """Every derived feed of the registry, one per URL (first company wins a shared URL).

    Companies whose slug is in `user_added` (added from chat) get origin "company".
    """
    specs: dict[str, FeedSpec] = {}
    for company in registry:
        origin = "company" if company.slug in user_added else "seed"
        for spec in company_feed_specs(company, origin):
            specs.setdefault(spec.url, spec)
    return list(specs.values())


def _insert(session: AsyncSession):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Feed)


async def sync_seed_feeds(session: AsyncSession, registry: Registry, *, enabled: bool = True,
                          user_added: frozenset[str] = frozenset(), now: datetime | None = None) -> int:
    """Make the derived feeds in the table match the registry; returns how many were created.

    New feeds are due at once. With `enabled` false (SEED_FEEDS=0) every seed feed is disabled and
    none is created. Feeds of companies added from chat (origin "company") are stored by the chat
    command itself and never disabled here: a registry read a moment earlier may not know them yet.
    Safe when several replicas sync at once (insert-or-ignore by URL).
    """
    now = now or utcnow()
    if not enabled:
        await session.exec(update(Feed).where(Feed.origin == "seed", Feed.enabled.is_(True)).values(enabled=False))
        return 0
    specs = seed_feed_specs(registry, user_added)
    wanted = {spec.url: spec for spec in specs}
    existing = {row.url: row for row in (await session.exec(select(Feed.id, Feed.url, Feed.origin, Feed.enabled,
                                                                   Feed.name, Feed.company_slug))).all()}
    rows = [dict(url=s.url, name=s.name, company_slug=s.company_slug, origin=s.origin, enabled=True,
                 next_check_at=now, created_at=now, polled_once=False, error_count=0)
            for s in specs if s.url not in existing]
    created = 0
    if rows:
        statement = _insert(session).values(rows).on_conflict_do_nothing(index_elements=["url"]).returning(Feed.id)
        created = len((await session.exec(statement)).all())
    for url, row in existing.items():
        spec = wanted.get(url)
        if row.origin not in DERIVED_ORIGINS:
            continue
        if spec is None:
            if row.enabled and row.origin == "seed":
                await session.exec(update(Feed).where(Feed.id == row.id).values(enabled=False))
        elif (not row.enabled or row.name != spec.name or row.company_slug != spec.company_slug
              or row.origin != spec.origin):
            changes = dict(enabled=True, name=spec.name, company_slug=spec.company_slug, origin=spec.origin)
            if not row.enabled:
                changes["next_check_at"] = now
            await session.exec(update(Feed).where(Feed.id == row.id).values(**changes))
    return created


async def add_user_feed(session: AsyncSession, url: str, name: str | None, company_slug: str | None,
                        settings: Settings, *, warn: Callable[[str], None] | None = None) -> Feed:
    """Check a URL and the addresses it resolves to (no fetch), then store it, due at once.

    Raises UsageError (RefusedURL) for a refused URL and for a URL already in the table. A host
    that does not resolve now (DNS down, a name not yet published) is not refused when `warn` is
    given: the reason goes to `warn` and the feed is stored, since every fetch checks its
    addresses again; without `warn` it raises UnresolvableHost.
    """
    url = url.strip()
    try:
        await check_feed_url(url, allow_private=settings.allow_private_feed_urls)
    except UnresolvableHost as exc:
        if warn is None:
            raise
        warn(str(exc).replace(" is refused: ", ": ", 1))
    existing = (await session.exec(select(Feed).where(Feed.url == url))).scalars().first()
    if existing is not None:
        if existing.origin in DERIVED_ORIGINS and not existing.enabled:
            existing.origin, existing.enabled, existing.next_check_at = "user", True, utcnow()
            existing.name = name or existing.name
            existing.company_slug = company_slug or existing.company_slug
            session.add(existing)
            await session.flush()
            return existing
        raise UsageError(f"feed {url} is already in the list (id {existing.id})")
    now = utcnow()
    feed = Feed(url=url, name=(name or url)[:300], company_slug=company_slug, origin="user",
                next_check_at=now, created_at=now)
    session.add(feed)
    await session.flush()
    return feed
