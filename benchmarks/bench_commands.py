"""Command and digest latency on a busy database: `python -m benchmarks.bench_commands`.

Fills a database with N items over the last 90 days (default 20,000, about a third with events,
grouped into stories of 1-6 items), one channel watching 30 companies, then times:
`lookup` (the 90-day company card), `why` by link, `why` by a misspelt headline (the fuzzy path),
`list`, the digest preview (`digest`, chart included) and the weekly job for one channel.
Options: --items N, --database-url URL (default: a temporary SQLite file), --json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bot.commands import CommandCore
from bot.digest.job import enqueue_weekly_digests
from bot.messages import Request
from watchers.models import Event
from watchers.rules.registry import load_registry
from watchers.settings import default_seeds_dir, load_settings
from watchers.storage.db import make_engine, session_scope, upgrade
from watchers.storage.item_store import write_company_rows
from watchers.storage.stories import Story
from watchers.storage.tables import Feed, Item
from watchers.storage.types import utcnow

TYPES = ("funding", "leadership_change", "customer_loss", "partnership", "layoffs")


async def fill(engine, slugs: list[str], items: int, rng: random.Random) -> None:  # noqa: ANN001
    now = utcnow()
    async with session_scope(engine) as session:
        feed = Feed(url="https://bench.example/feed.xml", name="Bench")
        session.add(feed)
        await session.flush()
        story_id, left = None, 0
        pending: list[Item] = []  # stored in batches, with their item_company rows as the orchestrator writes them
        for n in range(items):
            slug = rng.choice(slugs)
            when = now - timedelta(minutes=rng.randint(0, 90 * 24 * 60))
            events = [Event(type=rng.choice(TYPES), subject=slug, amount_usd=1e8)] if n % 3 == 0 else []
            if events and left == 0:
                story = Story(subject=slug, title=f"Story {n} about {slug}", outlets=[f"o{i}" for i in range(3)],
                              event_types=[events[0].type], companies=[slug], events=events,
                              first_seen_at=when, last_item_at=when)
                session.add(story)
                await session.flush()
                story_id, left = story.id, rng.randint(1, 6)
            pending.append(Item(key=f"k{n}", feed_id=feed.id, title=f"Headline number {n} about {slug} and markets",
                                link=f"https://bench.example/{n}", content_hash=str(n), published_at=when,
                                first_seen_at=when, companies=[slug], events=events,
                                story_id=story_id if events else None))
            if events:
                left -= 1
            if len(pending) == 2000 or n == items - 1:
                session.add_all(pending)
                await session.flush()
                await write_company_rows(session, pending)
                pending = []


async def timed(label: str, figures: dict, action) -> None:  # noqa: ANN001
    start = time.perf_counter()
    result = await action()
    figures[label] = round((time.perf_counter() - start) * 1000, 1)
    if getattr(result, "is_error", False):
        raise SystemExit(f"{label} failed: {result.text}")


async def main(items: int, database_url: str | None, as_json: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = load_settings({"DATABASE_URL": url, "SEED_FEEDS": "0"}, dotenv_path=None)
        await upgrade(url)
        engine = make_engine(url)
        registry = load_registry(default_seeds_dir() / "companies.toml")
        slugs = [c.slug for c in registry][:30]
        rng = random.Random(7)
        fill_start = time.perf_counter()
        await fill(engine, slugs, items, rng)
        core = CommandCore(engine, settings, registry)

        def ask(text: str):  # noqa: ANN202
            return lambda: core.handle(Request(platform="slack", channel_id="B1", text=text))

        for slug in slugs:
            await core.handle(Request(platform="slack", channel_id="B1", text=f"watch {slug}"))
        figures: dict[str, float] = {"items": items, "fill_s": round(time.perf_counter() - fill_start, 1)}
        await timed("lookup_ms", figures, ask(f"lookup {slugs[0]}"))
        await timed("why_link_ms", figures, ask(f"why https://bench.example/{items // 2}"))
        await timed("why_fuzzy_ms", figures, ask(f"why Headline numbr {items // 2} about {slugs[1]} and marktes"))
        await timed("list_ms", figures, ask("list"))
        await timed("digest_preview_ms", figures, ask("digest"))
        await timed("weekly_job_one_channel_ms", figures,
                    lambda: enqueue_weekly_digests(engine, settings, registry, now=utcnow()))
        await engine.dispose()
    print(json.dumps(figures) if as_json else "\n".join(f"{k}: {v}" for k, v in figures.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--database-url")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.items, args.database_url, args.json))
