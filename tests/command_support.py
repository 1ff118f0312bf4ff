"""Helpers for the command and digest tests: a registry, a fixed clock, requests, stored items."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from bot.messages import Request
from watchers.models import Event
from watchers.rules.registry import Registry, load_registry
from watchers.settings import default_seeds_dir
from watchers.storage.db import session_scope
from watchers.storage.item_store import write_company_rows
from watchers.storage.stories import Story
from watchers.storage.tables import Feed, Item

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # a Wednesday

SEEDS = default_seeds_dir() / "companies.toml"


@lru_cache(maxsize=1)
def test_registry() -> Registry:
    """The bundled seeds' companies (scale-ai, openai, meta, mercor, appen, thinking-machines...)."""
    return load_registry(SEEDS)


test_registry.__test__ = False  # type: ignore[attr-defined]


def request(text: str, channel_id: str = "C1", platform: str = "slack") -> Request:
    return Request(platform=platform, channel_id=channel_id, text=text, user="U1", workspace="T1",
                   channel_name="general")


async def store_item(engine: Any, *, key: str, title: str, events: list[Event], when: datetime,
                     companies: list[str] | None = None, link: str | None = None, outlet: str | None = None,
                     story: dict[str, Any] | None = None, feed_url: str = "https://news.example/feed.xml",
                     history: bool = False) -> Item:
    """An item as the orchestrator stores it, with its feed and (optionally) its story."""
    from sqlmodel import select

    async with session_scope(engine) as session:
        feed = (await session.exec(select(Feed).where(Feed.url == feed_url))).first()
        if feed is None:
            feed = Feed(url=feed_url, name="Example News")
            session.add(feed)
            await session.flush()
        story_id = None
        if story is not None:
            existing = (await session.exec(select(Story).where(Story.title == story["title"]))).first()
            if existing is None:
                existing = Story(subject=story.get("subject", events[0].subject if events else "?"),
                                 title=story["title"], link=story.get("link"), outlets=story.get("outlets", []),
                                 item_count=story.get("item_count", 1), event_types=[e.type for e in events],
                                 companies=companies or [], events=events, first_seen_at=when, last_item_at=when,
                                 updated_at=when)
                session.add(existing)
                await session.flush()
            story_id = existing.id
        subjects = [e.subject for e in events] + [e.counterparty for e in events if e.counterparty]
        item = Item(key=key, feed_id=feed.id, title=title, outlet=outlet, link=link, content_hash=key,
                    published_at=when, first_seen_at=when, history=history,
                    companies=companies if companies is not None else list(dict.fromkeys(subjects)),
                    events=events, story_id=story_id)
        session.add(item)
        await session.flush()
        await write_company_rows(session, [item])
    return item
