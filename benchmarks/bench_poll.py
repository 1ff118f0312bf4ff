"""One poll cycle of many feeds from a loopback server: throughput, CPU and peak memory.

    python -m benchmarks.bench_poll [--feeds 2000] [--items 20] [--not-modified-share 0.5]
                                    [--replicas 1] [--database-url URL]

By default half the feeds changed since the last poll (with `--items` items each, `--new-items` of
them new, one in four items with an event), half did not (304 to the stored ETag); the share of
304s is `--not-modified-share` (the issue's case: `--feeds 10000 --not-modified-share 0.8`). With
`--replicas N` (PostgreSQL only) N processes poll the same due feeds at once, sharing them through
the feed leases, and the CPU of all of them (and their parse workers) is summed: a steady-state cycle
of feeds polled before, so every item is looked up and the new ones are classified, stored and
filed into stories. The server runs in its own process, so its work is
not counted. Reported: wall time, feeds per second, CPU seconds per 1,000 feeds (this process
and its parse workers) and peak RSS (the same processes, sampled every 50 ms).
Goal on a 2-core machine: the cycle within 60 s, peak RSS under 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

import psutil

from tests.feed_fixtures import rss

GOAL_SECONDS = 60.0
GOAL_RSS_MB = 300.0
COMPANIES = ["Scale AI", "Mercor", "Surge AI", "OpenAI", "Anthropic", "Meta", "Turing", "Snorkel AI", "Labelbox"]
EVENTS = ["raises $%d million in Series C funding", "names new chief executive %s", "lays off %d%% of staff",
          "to acquire startup %s", "signs partnership with %s", "is sued by %s over contract",
          "loses its largest customer %s", "publishes a blog post about data quality %d"]
WORDS = ("model data annotation quality evaluation contract workforce pipeline training expert coding "
         "benchmark review labeling safety research enterprise platform market report").split()


def feed_entries(feed: int, items: int, now: datetime, event_every: int = 4) -> list[tuple]:
    """`items` entries, newest first; one in `event_every` carries an event about a tracked company."""
    entries = []
    for n in range(items):
        company = COMPANIES[(feed + n) % len(COMPANIES)]
        if (feed + n) % event_every == 0:
            event = EVENTS[(feed * 7 + n) % len(EVENTS)]
            other = COMPANIES[(feed + 3 * n + 1) % len(COMPANIES)]
            detail = event % ((feed + n) % 90 + 10) if "%d" in event else event % other
        else:
            detail = f"{WORDS[(feed + n) % len(WORDS)]} notes from the {WORDS[(feed * 3 + n) % len(WORDS)]} team"
        title = f"{company} {detail} ({feed}-{n})"
        summary = " ".join(WORDS[(feed + n + k) % len(WORDS)] for k in range(40))
        entries.append((f"bench-{feed}-{n}", title, now - timedelta(minutes=n + 1), f"{title}. {summary}",
                        f"https://news.example.com/{feed}/{n}"))
    return entries


def feed_body(feed: int, items: int, now: datetime, skip: int = 0, event_every: int = 4) -> bytes:
    return rss(feed_entries(feed, items, now, event_every)[skip:], title=f"Bench feed {feed}")


def changed(feed: int, share_304: float) -> bool:
    """Whether feed number `feed` changed since the last poll: evenly spread, 1 - share_304 of them."""
    return int((feed + 1) * (1 - share_304)) > int(feed * (1 - share_304))


def serve(feeds: int, items: int, now: datetime, event_every: int, ready: "multiprocessing.Queue[int]",
          done: "multiprocessing.Event", share_304: float = 0.5) -> None:
    """The loopback server process: changed feeds (new ETag) and the rest answering 304."""
    from tests.feedserver import FeedServer

    with FeedServer() as server:
        unchanged = b'<?xml version="1.0"?><rss version="2.0"><channel><title>same</title></channel></rss>'
        for feed in range(feeds):
            if changed(feed, share_304):
                server.serve(f"/feed/{feed}.xml", feed_body(feed, items, now, event_every=event_every), etag=f'"new-{feed}"')
            else:
                server.serve(f"/feed/{feed}.xml", unchanged, etag=f'"same-{feed}"')
        ready.put(server.port)
        done.wait()


class PeakMemory:
    """Samples the RSS of this process and its children (but not `exclude`) in a thread."""

    def __init__(self, exclude: set[int], interval: float = 0.05):
        self.exclude, self.interval = exclude, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def processes(self) -> list[psutil.Process]:
        me = psutil.Process()
        return [me] + [c for c in me.children(recursive=True) if c.pid not in self.exclude]

    def sample(self) -> int:
        total = 0
        for process in self.processes():
            try:
                total += process.memory_info().rss
            except psutil.Error:
                continue
        self.peak = max(self.peak, total)
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> "PeakMemory":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
        except psutil.Error:
            continue
    return seconds


def known_items(feed_id: int, url: str, feed: int, items: int, new_items: int, now: datetime,
                event_every: int) -> list[dict]:
    """The rows a previous poll stored: every item of the feed but the `new_items` newest."""
    from watchers.feeds.normalize import normalize_entries
    from watchers.feeds.parse_worker import parse_feed_bytes

    parsed = parse_feed_bytes(feed_body(feed, items, now, skip=new_items, event_every=event_every), "application/rss+xml", url)
    return [dict(key=i.key, feed_id=feed_id, title=i.title, outlet=i.outlet, link=i.link, summary=i.summary,
                 published_at=i.published, first_seen_at=now, content_hash=i.content_hash, history=False,
                 companies=[], events=[]) for i in normalize_entries(parsed, feed_id=feed_id, feed_url=url, now=now)]


async def prepare(database_url: str, feeds: int, items: int, new_items: int, now: datetime, port: int,
                  event_every: int, share_304: float = 0.5) -> None:
    from sqlalchemy import insert, select, text

    from watchers.storage.db import make_engine, session_scope, upgrade
    from watchers.storage.tables import Feed
    from watchers.storage.tables import Item as ItemRow

    await upgrade(database_url)
    engine = make_engine(database_url)
    # the server's `now`: stored items must carry the dates the server sends, or all of them read as edited
    async with session_scope(engine) as session:
        for table in ("item_fanout", "item", "story", "feed"):
            try:
                async with session.begin_nested():
                    await session.exec(text(f"DELETE FROM {table}"))
            except Exception:  # noqa: BLE001 - a table another module has not added yet
                pass
        rows = [dict(url=f"http://127.0.0.1:{port}/feed/{n}.xml", name=f"Bench feed {n}", origin="user",
                     enabled=True, etag=f'"old-{n}"' if changed(n, share_304) else f'"same-{n}"', polled_once=True,
                     next_check_at=now - timedelta(seconds=1), created_at=now, error_count=0) for n in range(feeds)]
        await session.exec(insert(Feed), params=rows)
        ids = dict((await session.exec(select(Feed.url, Feed.id))).all())
        known = [row for n in range(feeds) if changed(n, share_304)
                 for row in known_items(ids[rows[n]["url"]], rows[n]["url"], n, items, new_items, now,
                                            event_every)]
        if known:
            await session.exec(insert(ItemRow), params=known)
    await engine.dispose()


async def cycle(database_url: str, concurrency: int, memory: PeakMemory) -> tuple[list, float, dict[int, float]]:
    """The timed poll cycle; CPU times are read before the parse workers are shut down."""
    from watchers.orchestrator import Orchestrator
    from watchers.settings import load_settings
    from watchers.storage.db import make_engine

    settings = load_settings({"DATABASE_URL": database_url, "ALLOW_PRIVATE_FEED_URLS": "1", "SEED_FEEDS": "0",
                              "FEED_CONCURRENCY": str(concurrency),
                              # one loopback host stands in for many: lift the per-host limit
                              "FEED_HOST_CONCURRENCY": str(concurrency)}, dotenv_path=None)
    engine = make_engine(database_url)
    orchestrator = Orchestrator(settings, engine)
    started = time.perf_counter()
    try:
        outcomes = await orchestrator.poll_due()
        elapsed = time.perf_counter() - started
        cpu_after = cpu_seconds(memory.processes())
    finally:
        await orchestrator.aclose()
        await engine.dispose()
    return outcomes, elapsed, cpu_after


def replica(database_url: str, concurrency: int, start: "multiprocessing.Event",
            results: "multiprocessing.Queue[tuple]") -> None:
    """One replica process: waits for the start, polls what it can claim, reports its figures."""

    class Own:  # this process and its parse workers
        @staticmethod
        def processes() -> list[psutil.Process]:
            me = psutil.Process()
            return [me] + me.children(recursive=True)

    before = sum(cpu_seconds(Own.processes()).values())
    start.wait()
    outcomes, elapsed, after = asyncio.run(cycle(database_url, concurrency, Own))  # type: ignore[arg-type]
    results.put(([o.status for o in outcomes], sum(o.new_items for o in outcomes), elapsed,
                  sum(after.values()) - before))


def run_replicas(database_url: str, replicas: int, concurrency: int, context, memory: PeakMemory):  # noqa: ANN001
    """N replica processes at once; returns (statuses, new items, wall time, CPU s, per-replica feeds)."""
    start, results = context.Event(), context.Queue()
    processes = [context.Process(target=replica, args=(database_url, concurrency, start, results))
                 for _ in range(replicas)]
    for process in processes:
        process.start()
    time.sleep(3.0)  # the interpreters are up (their start-up is not part of a cycle)
    started = time.perf_counter()
    start.set()
    reports = [results.get(timeout=900) for _ in processes]
    wall = time.perf_counter() - started
    for process in processes:
        process.join(timeout=30)
    statuses = [s for report in reports for s in report[0]]
    return (statuses, sum(r[1] for r in reports), wall, sum(r[3] for r in reports),
            [len(r[0]) for r in reports])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--items", type=int, default=20, help="items in each changed feed")
    parser.add_argument("--new-items", type=int, default=2, help="of those, new since the last poll")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--not-modified-share", type=float, default=0.5,
                        help="share of the feeds answering 304 (0..1)")
    parser.add_argument("--replicas", type=int, default=1,
                        help="replica processes polling at once (more than 1: PostgreSQL --database-url)")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--all-events", action="store_true",
                        help="the story step's worst case: every item of a changed feed is new and carries an event")
    args = parser.parse_args(argv)
    if args.replicas > 1 and not (args.database_url or "").startswith("postgresql"):
        parser.error("--replicas above 1 needs a PostgreSQL --database-url (SQLite: one run at a time)")
    share = args.not_modified_share
    event_every = 1 if args.all_events else 4
    if args.all_events:
        args.new_items = args.items

    workdir = tempfile.mkdtemp(prefix="vw-bench-")
    database_url = args.database_url or f"sqlite:///{os.path.join(workdir, 'bench.db')}"
    context = multiprocessing.get_context("spawn")
    ready, done = context.Queue(), context.Event()
    now = datetime.now(timezone.utc)
    server = context.Process(target=serve, args=(args.feeds, args.items, now, event_every, ready, done, share),
                             daemon=True)
    server.start()
    try:
        port = ready.get(timeout=120)
        asyncio.run(prepare(database_url, args.feeds, args.items, args.new_items, now, port, event_every, share))
        split: list[int] = []
        with PeakMemory(exclude={server.pid}) as memory:
            if args.replicas > 1:
                statuses, new_items, elapsed, cpu, split = run_replicas(database_url, args.replicas,
                                                                         args.concurrency, context, memory)
            else:
                before = cpu_seconds(memory.processes())
                outcomes, elapsed, after = asyncio.run(cycle(database_url, args.concurrency, memory))
                cpu = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
                statuses, new_items = [o.status for o in outcomes], sum(o.new_items for o in outcomes)
    finally:
        done.set()
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()

    by_status: dict[str, int] = {}
    for status in statuses:
        by_status[status] = by_status.get(status, 0) + 1
    feeds_per_second = len(statuses) / elapsed if elapsed else 0.0
    peak_mb = memory.peak / 1e6
    print(f"database: {database_url.split('://')[0]}; feeds: {args.feeds}, {share:.0%} answering 304 "
          f"(changed ones: {args.items} items, {args.new_items} of them new); replicas: {args.replicas} {split or ''}; "
          f"concurrency {args.concurrency}; {os.cpu_count()} CPUs")
    print(f"outcomes: {by_status}; new items: {new_items}")
    print(f"cycle: {elapsed:.1f} s (goal <= {GOAL_SECONDS:.0f} s); {feeds_per_second:.0f} feeds/s")
    print(f"CPU: {cpu:.1f} s in all, {cpu / max(len(statuses), 1) * 1000:.2f} s per 1,000 feeds "
          f"(the polling processes and their parse workers); every 5 minutes that is "
          f"{cpu / 300:.2f} of a core")
    print(f"peak RSS: {peak_mb:.0f} MB (goal < {GOAL_RSS_MB:.0f} MB)")
    ok = elapsed <= GOAL_SECONDS and peak_mb < GOAL_RSS_MB and len(statuses) == args.feeds
    print("goal met" if ok else "goal NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
