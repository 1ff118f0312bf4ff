"""The companies a command can name: the registry's, plus those added from chat.

The registry (seeds) is handed in by the app through a provider, because the app reloads it
when companies are added. Companies stored in table tracked_company are read again at every
command, so one added a moment ago (here or by another replica) resolves at once.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Callable, Iterable

from rapidfuzz import fuzz, process
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands.parsing import CommandError, NewCompanyArgs, slugify
from watchers.feeds.sources import google_news_url
from watchers.rules.registry import Company, Registry, company_from_user
from watchers.storage.tables import Feed, TrackedCompany

RegistryProvider = Callable[[], Registry]


def as_provider(registry: Registry | RegistryProvider) -> RegistryProvider:
    """A registry, or a function returning the current one (the app reloads it)."""
    if hasattr(registry, "resolve"):
        return lambda: registry  # type: ignore[return-value]
    return registry  # type: ignore[return-value]


class CompanyDirectory:
    def __init__(self, registry: Registry | RegistryProvider):
        self._provider = as_provider(registry)
        self._extra: dict[str, Company] = {}
        self.refreshed_at: float | None = None  # time.monotonic() of the last refresh

    @property
    def registry(self) -> Registry:
        return self._provider()

    async def refresh(self, session: AsyncSession) -> None:
        """Read the companies added from chat that the registry does not hold (yet)."""
        self.refreshed_at = time.monotonic()
        registry = self.registry
        rows = (await session.exec(select(TrackedCompany))).all()
        self._extra = {row.slug: company_from_user(row.slug, row.name, tuple(row.aliases), kind=row.kind)
                       for row in rows if registry.get(row.slug) is None}

    def companies(self) -> list[Company]:
        """Every company a channel can watch: the registry's, then those added from chat."""
        registry = self.registry
        return [*registry, *(c for slug, c in self._extra.items() if registry.get(slug) is None)]

    def get(self, slug: str) -> Company | None:
        return self.registry.get(slug) or self._extra.get(slug)

    def name_of(self, slug: str) -> str:
        company = self.get(slug)
        return company.name if company else slug

    def resolve(self, text: str) -> Company | None:
        found = self.registry.resolve(text)
        if found is not None:
            return found
        wanted = " ".join(text.split()).lower()
        for company in self._extra.values():
            if wanted in _spellings(company):
                return company
        return None

    def suggest(self, text: str, limit: int = 3) -> list[Company]:
        found = list(self.registry.suggest(text, limit=limit))
        if self._extra:
            choices = {(slug, spelling): spelling for slug, c in self._extra.items() for spelling in _spellings(c)}
            # with a dict of choices rapidfuzz yields (value, score, key)
            for _spelling, score, (slug, _) in process.extract(text.lower(), choices, scorer=fuzz.WRatio,
                                                                 limit=limit):
                if score >= 70 and all(c.slug != slug for c in found):
                    found.append(self._extra[slug])
        return found[:limit]

    async def add(self, session: AsyncSession, new: NewCompanyArgs, *, added_by: str | None,
                  now: datetime) -> Company:
        """Store a company added from chat and create its Google News feed, due now."""
        for text in (new.name, *new.aliases):
            existing = self.resolve(text)
            if existing is not None:
                raise CommandError(f"\u201c{text}\u201d already names {existing.name} ({existing.slug}); "
                                   f"watch it with /vendorwatch watch {existing.slug}.")
        slug = await self._free_slug(session, slugify(new.name))
        aliases = (new.name, *new.aliases)
        try:
            async with session.begin_nested():
                session.add(TrackedCompany(slug=slug, name=new.name, aliases=list(aliases), added_by=added_by,
                                           created_at=now))
        except IntegrityError:
            raise CommandError(f"{new.name} was added a moment ago by someone else; try watching it again.") from None
        company = company_from_user(slug, new.name, aliases)
        url = google_news_url(company)
        if (await session.exec(select(Feed.id).where(Feed.url == url))).first() is None:
            session.add(Feed(url=url, name=f"Google News: {new.name}", company_slug=slug, origin="company",
                             next_check_at=now, created_at=now))
        self._extra[slug] = company
        return company

    async def _free_slug(self, session: AsyncSession, base: str) -> str:
        taken = set((await session.exec(select(TrackedCompany.slug).where(
            TrackedCompany.slug.startswith(base)))).all())  # type: ignore[union-attr]
        for n in range(1, 1000):
            slug = base if n == 1 else f"{base}-{n}"
            if slug not in taken and self.get(slug) is None:
                return slug
        raise CommandError("Too many companies share that name; choose another.")


def _spellings(company: Company) -> set[str]:
    names: Iterable[str] = (company.slug, company.name, *company.aliases)
    return {" ".join(n.split()).lower() for n in names}
