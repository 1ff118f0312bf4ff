"""Lookup and digest queries on a one-million-item database.

    python -m benchmarks.bench_million [--items 1000000] [--companies 2000] [--backend postgres|sqlite]
                                       [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Builds a separate database (PostgreSQL: `vw_bench` on the admin URL's server, dropped at the end;
SQLite: a temporary file) at the schema's head, fills it with bulk inserts (COPY on PostgreSQL,
executemany on SQLite): `--items` items spread over the last 180 days (the default retention),
each naming one or two of `--companies` companies, one in four with an event grouped into stories
of three, and their item_company rows (as watchers.storage.item_store.company_rows writes them).
Then times what `/vendorwatch lookup` and the weekly digest read
(bot.company_activity.load_activity): lookup = one company over 90 days; digest = a channel of 20
companies over its week, and the same 20 over the 9 weeks of the trend chart
(bot.digest.trend.load_trend). Each query runs for 20 different companies (channels); reported:
median and worst in ms, and EXPLAIN (ANALYZE on PostgreSQL) of the lookup and digest-week SQL.
Goal: each under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, text

GOAL_MS = 100.0
SPAN_DAYS = 180
RUNS = 20
CHANNEL_SIZE = 20


def slug(n: int) -> str:
    return f"co-{n:05d}"


def generate(items: int, companies: int, now: datetime, seed: int = 7):
    """(item rows, story rows, item_company rows) as plain tuples, in id order."""
    rng = random.Random(seed)
    item_rows, story_rows, company_rows = [], [], []
    event_types = ["funding", "leadership_change", "customer_loss", "acquisition", "layoffs", "partnership", "legal"]
    story_id, in_story = 0, 3
    for n in range(1, items + 1):
        seen = now - timedelta(seconds=rng.random() * SPAN_DAYS * 86400)
        published = None if rng.random() < 0.05 else seen - timedelta(minutes=rng.random() * 120)
        first = slug(rng.randrange(companies))
        named = [first] if rng.random() < 0.6 else [first, slug(rng.randrange(companies))]
        events, sid = [], None
        if n % 4 == 0:
            kind = event_types[n % len(event_types)]
            events = [{"type": kind, "subject": first, "amount_usd": 1e6 * (n % 90 + 1)} if kind == "funding"
                      else {"type": kind, "subject": first}]
            if in_story == 3:
                story_id, in_story = story_id + 1, 0
                story_rows.append((story_id, first, json.dumps([kind]), json.dumps(named), json.dumps(events),
                                   f"{first} story {story_id}", f"https://news.example.com/s/{story_id}", seen))
            in_story += 1
            sid = story_id
        # item_company: each named company once, at the item's time; the event's subject is `first`
        for name in dict.fromkeys(named):
            company_rows.append((n, name, published or seen, bool(events) and name == first))
        title = f"{first} news item {n}"
        item_rows.append((n, f"k{n:012d}", title, "Example Daily", f"https://news.example.com/{n}",
                          "a summary of the item " * 4, published, seen, f"h{n}", json.dumps(named),
                          json.dumps(events), sid))
    return item_rows, story_rows, company_rows


ITEM_COLUMNS = ("id", "key", "title", "outlet", "link", "summary", "published_at", "first_seen_at", "content_hash",
                "companies", "events", "story_id")


def fill_postgres(url: str, item_rows: list, story_rows: list, company_rows: list) -> None:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy("COPY story (id, subject, event_types, companies, events, title, link, first_seen_at, "
                      "last_item_at, updated_at, facts, outlets, item_count, history) FROM STDIN") as copy:
            for row in story_rows:
                copy.write_row((*row, row[-1], row[-1], "{}", '["Example Daily"]', 3, False))
        with cur.copy(f"COPY item ({', '.join(ITEM_COLUMNS)}, history) FROM STDIN") as copy:
            for row in item_rows:
                copy.write_row((*row, False))
        with cur.copy("COPY item_company (item_id, slug, at, is_subject) FROM STDIN") as copy:
            for row in company_rows:
                copy.write_row(row)
        cur.execute("SELECT setval('item_id_seq', (SELECT max(id) FROM item))")
        cur.execute("SELECT setval('story_id_seq', (SELECT max(id) FROM story))")
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE item")
        conn.execute("VACUUM ANALYZE story")
        conn.execute("VACUUM ANALYZE item_company")


def fill_sqlite(url: str, item_rows: list, story_rows: list, company_rows: list) -> None:
    import sqlite3

    def stamp(value: datetime | None) -> str | None:  # as watchers.storage.types.UTCDateTime stores it
        return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executemany("INSERT INTO story (id, subject, event_types, companies, events, title, link, first_seen_at, "
                     "last_item_at, updated_at, facts, outlets, item_count, history) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,'{}','[\"Example Daily\"]',3,0)",
                     [(*r[:7], stamp(r[7]), stamp(r[7]), stamp(r[7])) for r in story_rows])
    conn.executemany(f"INSERT INTO item ({', '.join(ITEM_COLUMNS)}, history) VALUES ({','.join('?' * 12)}, 0)",
                     ((*r[:6], stamp(r[6]), stamp(r[7]), *r[8:]) for r in item_rows))
    conn.executemany("INSERT INTO item_company (item_id, slug, at, is_subject) VALUES (?,?,?,?)",
                     ((item_id, name, stamp(at), int(subject)) for item_id, name, at, subject in company_rows))
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


ACTIVITY_SQL = """SELECT item.* FROM item WHERE item.id IN (
  SELECT item_company.item_id FROM item_company
  WHERE item_company.slug IN ({slugs}) AND item_company.at >= :since AND item_company.at < :until)"""
# what bot.company_activity.load_activity asks: the items naming these companies in the period


def explain(url: str, now: datetime, companies: list[str], days: float) -> str:
    engine = create_engine(url)
    since = now - timedelta(days=days)
    if engine.dialect.name == "sqlite":  # bound as the UTCDateTime column stores them
        params: dict = {"since": since.strftime("%Y-%m-%d %H:%M:%S.%f"), "until": now.strftime("%Y-%m-%d %H:%M:%S.%f")}
        prefix = "EXPLAIN QUERY PLAN "
    else:
        params = {"since": since, "until": now}
        prefix = "EXPLAIN ANALYZE "
    params.update({f"s{n}": company for n, company in enumerate(companies)})
    sql = ACTIVITY_SQL.format(slugs=", ".join(f":s{n}" for n in range(len(companies))))
    with engine.connect() as conn:
        rows = conn.execute(text(prefix + sql), params).all()
    engine.dispose()
    return "\n".join(" | ".join(str(v) for v in row) for row in rows)


async def measure(url: str, now: datetime, companies: int) -> dict[str, list[float]]:
    from bot.company_activity import load_activity
    from bot.digest.trend import load_trend
    from watchers.storage.db import make_engine, session_scope

    rng = random.Random(11)
    engine = make_engine(url)
    timings: dict[str, list[float]] = {"lookup (1 company, 90 days)": [], "digest week (20 companies)": [],
                                       "digest trend (20 companies, 9 weeks)": []}
    sizes: list[int] = []

    async def timed(name: str, slugs: list[str], days: float) -> None:
        started = time.perf_counter()
        async with session_scope(engine) as session:
            activity = await load_activity(session, slugs, now - timedelta(days=days), now)
        timings[name].append((time.perf_counter() - started) * 1000)
        if name.startswith("lookup"):
            sizes.append(len(activity[slugs[0]].stories))

    weeks = [((now - timedelta(weeks=back)).date(), now - timedelta(weeks=back), now - timedelta(weeks=back - 1))
             for back in range(9, 0, -1)]  # 9 weeks up to now, oldest first, as bot.digest.build.trend_weeks gives

    async def timed_trend(slugs: list[str]) -> None:
        started = time.perf_counter()
        await load_trend(engine, [(s, []) for s in slugs], weeks)  # every event type of each company
        timings["digest trend (20 companies, 9 weeks)"].append((time.perf_counter() - started) * 1000)

    try:
        await timed("lookup (1 company, 90 days)", [slug(0)], 90)  # warm the pool and the cache once
        for key in timings:
            timings[key].clear()
        sizes.clear()
        for _ in range(RUNS):
            channel = [slug(rng.randrange(companies)) for _ in range(CHANNEL_SIZE)]
            await timed("lookup (1 company, 90 days)", channel[:1], 90)
            await timed("digest week (20 companies)", channel, 7)
            await timed_trend(channel)
    finally:
        await engine.dispose()
    print(f"stories per lookup card: median {statistics.median(sizes):.0f}")
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--admin-url", default=os.environ.get("VW_TEST_POSTGRES_URL",
                                                              "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--keep", action="store_true", help="keep the database (PostgreSQL: vw_bench; SQLite: its file)")
    args = parser.parse_args(argv)

    from watchers.storage.db import sync_url, upgrade_sync

    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    item_rows, story_rows, company_rows = generate(args.items, args.companies, now)
    print(f"generated {len(item_rows):,} items, {len(story_rows):,} stories, {len(company_rows):,} item_company "
          f"rows in {time.perf_counter() - started:.1f} s")
    admin, sqlite_dir = None, None
    if args.backend == "postgres":
        admin = create_engine(sync_url(args.admin_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "vw_bench" WITH (FORCE)'))
            conn.execute(text('CREATE DATABASE "vw_bench"'))
        url = sync_url(args.admin_url).set(database="vw_bench").render_as_string(hide_password=False)
    else:
        sqlite_dir = tempfile.mkdtemp(prefix="vw-million-")
        url = f"sqlite:///{os.path.join(sqlite_dir, 'million.db')}"
    try:
        upgrade_sync(url)
        started = time.perf_counter()
        (fill_postgres if args.backend == "postgres" else fill_sqlite)(url, item_rows, story_rows, company_rows)
        print(f"bulk insert ({'COPY' if args.backend == 'postgres' else 'executemany'}) and ANALYZE: "
              f"{time.perf_counter() - started:.1f} s")
        del item_rows, story_rows, company_rows
        print("EXPLAIN of the lookup query (1 company, 90 days):\n" + explain(url, now, [slug(1)], 90))
        channel = [slug(n * 97 % args.companies) for n in range(CHANNEL_SIZE)]
        print("EXPLAIN of the digest week query (20 companies, 7 days):\n" + explain(url, now, channel, 7))
        timings = asyncio.run(measure(url, now, args.companies))
    finally:
        if admin is not None:
            if not args.keep:
                with admin.connect() as conn:
                    conn.execute(text('DROP DATABASE IF EXISTS "vw_bench" WITH (FORCE)'))
            admin.dispose()
        if sqlite_dir is not None:  # 600 MB for a million items
            if args.keep:
                print(f"kept {url}")
            else:
                shutil.rmtree(sqlite_dir, ignore_errors=True)
    ok = True
    print(f"database: {args.backend}; {args.items:,} items over {SPAN_DAYS} days, {args.companies:,} companies; "
          f"{RUNS} runs each; {os.cpu_count()} CPUs")
    for name, values in timings.items():
        worst = max(values)
        ok &= worst < GOAL_MS
        print(f"{name}: median {statistics.median(values):.1f} ms, worst {worst:.1f} ms (goal < {GOAL_MS:.0f} ms)")
    print("goal met" if ok else "goal NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
