"""Parse throughput through the worker pool, with normalization, on a 50 KB RSS feed.

    python -m benchmarks.bench_parse [--feeds 2000] [--workers 2] [--items 20]

Feeds the same ~50 KB, 20-item RSS 2.0 body (with a `<content:encoded>` per item, HTML
summaries and tracking links) to FeedParser `--feeds` times, `--workers` parses at once, and
normalizes each result. Reported: pool start time, wall time, feeds per second, CPU milliseconds
per feed (this process and the workers; unlike wall time this does not grow when other programs
share the machine), and the same body parsed in-process (no pool) for comparison, so the pool's
overhead (pickling over pipes) is visible.
Goal: 2,000 feeds in well under the 60 s of a poll cycle on 2 workers.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import psutil
from datetime import datetime, timezone

from watchers.feeds.normalize import normalize_entries
from watchers.feeds.parse import FeedParser
from watchers.feeds.parse_worker import parse_feed_bytes

GOAL_SECONDS = 60.0
URL = "https://news.example.com/feed.xml"


def feed_body(items: int, target_bytes: int = 50_000) -> bytes:
    filler_words = max(10, (target_bytes // items - 700) // 9)
    filler = " ".join(["annotation"] * filler_words)
    entries = []
    for n in range(items):
        entries.append(
            f"<item><title>Scale AI raises $1{n}0 million &amp; expands (item {n})</title>"
            f"<link>https://news.example.com/2026/05/story-{n}?utm_source=rss&amp;utm_medium=feed&amp;id={n}</link>"
            f"<guid isPermaLink=\"false\">bench-{n}</guid><pubDate>Wed, 21 May 2026 1{n % 10}:00:00 GMT</pubDate>"
            f"<author>reporter{n}@news.example.com (Reporter {n})</author>"
            f"<description>&lt;p&gt;The &lt;b&gt;company&lt;/b&gt; said {n}.&lt;/p&gt;</description>"
            f"<content:encoded><![CDATA[<p>{filler}</p>]]></content:encoded></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Bench</title>'
            f'<link>https://news.example.com/</link><ttl>15</ttl>{"".join(entries)}</channel></rss>').encode()


async def run(feeds: int, workers: int, items: int) -> float:
    body = feed_body(items)
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    for _ in range(50):
        parse_feed_bytes(body, "application/rss+xml", URL)
    in_process_ms = (time.perf_counter() - started) / 50 * 1000

    parser = FeedParser(workers=workers, timeout_seconds=10)
    try:
        started = time.perf_counter()
        await parser.start()
        start_seconds = time.perf_counter() - started
        slots = asyncio.Semaphore(workers * 2)

        async def one() -> int:
            async with slots:
                parsed = await parser.parse(body, content_type="application/rss+xml", url=URL)
            return len(normalize_entries(parsed, feed_id=1, feed_url=URL, now=now))

        me = psutil.Process()
        pool = [psutil.Process(pid) for pid in parser.worker_pids]
        cpu_before = sum(sum(p.cpu_times()[:2]) for p in [me, *pool])
        started = time.perf_counter()
        counts = await asyncio.gather(*(one() for _ in range(feeds)))
        wall = time.perf_counter() - started
        cpu = sum(sum(p.cpu_times()[:2]) for p in [me, *pool]) - cpu_before
    finally:
        await parser.aclose()
    assert set(counts) == {items}, set(counts)
    print(f"body: {len(body):,} bytes, {items} items; in-process parse: {in_process_ms:.1f} ms")
    print(f"pool of {workers}: started in {start_seconds:.2f} s")
    print(f"{feeds} feeds parsed and normalized in {wall:.2f} s: {feeds / wall:.0f} feeds/s, "
          f"{wall * workers / feeds * 1000:.1f} ms per feed per worker; CPU {cpu / feeds * 1000:.1f} ms per feed; "
          f"load average {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} CPUs")
    print(f"goal: under {GOAL_SECONDS:.0f} s -> {'ok' if wall < GOAL_SECONDS else 'MISSED'}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args()
    wall = asyncio.run(run(args.feeds, args.workers, args.items))
    raise SystemExit(0 if wall < GOAL_SECONDS else 1)


if __name__ == "__main__":
    main()
