"""Replicas and crashes, end to end: real `vendorwatch run` processes against FakeSlack (HTTP mode)
and a loopback feed server.

- Three replicas on one PostgreSQL database share 50 feeds and three channels; one is killed with
  SIGKILL while it holds outbox claims (a post held in flight at the fake) and, when it has them,
  feed leases. Every story reaches each subscribed channel exactly once (one parent per story,
  each thread reply at most once), nothing is lost (every item stored, every outbox row sent), the
  dead replica's leases are taken over within a minute, and the weekly digest (made due at start
  by DIGEST_WEEKDAY/DIGEST_HOUR) is posted once per channel although every replica runs it.
- One process killed while its post is in flight at the fake, then restarted on the same
  database: the post that landed is found by the Slack adapter's find_sent (message metadata)
  and not posted again; the alerts still queued go out once.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import _truncate_postgres
from tests.e2e_support import SlackRun, item, rss_of, until
from tests.fakes.slack_api import FakeSlack
from tests.feedserver import feed_server  # noqa: F401

pytestmark = pytest.mark.timeout(170)

SECRET = "replica-signing-secret"
TEAM_ID = "T0FAKE0001"
ALL, BIG, SMALL = "C0REPLALL1", "C0REPLBIG1", "C0REPLSML1"
WATCHES = {ALL: ["scale-ai", "openai", "anthropic", "cohere", "mistral", "xai"],
           BIG: ["scale-ai", "openai", "xai"],
           SMALL: ["anthropic", "cohere"]}  # SMALL also gets mistral by a signed slash command
FEEDS = [f"f{n:02d}" for n in range(50)]
SLOW = FEEDS[::5]  # ten feeds answer slowly, so that replicas hold feed leases while they poll
TAKEOVER_LIMIT_SECONDS = 60.0

# (company, headline, other outlets' wording): each becomes one story with one to three items.
BEFORE_KILL = [
    ("scale-ai", "Scale AI raises $1 billion in Series F funding",
     ["Scale AI raises $1 billion Series F as Accel leads round"]),
    ("openai", "OpenAI to cut 5% of staff in restructuring",
     ["OpenAI lays off 5% of staff in a restructuring"]),
    ("anthropic", "Anthropic raises $3.5 billion Series E",
     ["Anthropic raises $3.5 billion in Series E funding round"]),
    ("cohere", "Cohere to cut 20 jobs", []),
]
AFTER_KILL = [
    ("mistral", "Mistral AI raises $640 million Series B",
     ["Mistral AI raises $640 million in Series B funding"]),
    ("xai", "xAI raises $6 billion in Series C funding", []),
    ("anthropic", "Anthropic to cut 8% of staff", ["Anthropic lays off 8% of its staff"]),
]


class Feeds:
    """What the feed server serves: each feed's items, re-served with a new ETag when they change."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.entries: dict[str, list[tuple]] = {name: [] for name in FEEDS}

    def serve(self, name: str) -> None:
        body = rss_of(self.entries[name], name)
        if name in SLOW:
            self.server.slow(f"/{name}.xml", body, 1.0, chunk_size=max(64, len(body) // 3))
        else:
            self.server.serve(f"/{name}.xml", body, etag='"%s"' % hashlib.sha1(body).hexdigest()[:12])

    def add(self, stories: list[tuple[str, str, list[str]]], offset: int) -> None:
        """Each story's items on different feeds (its first on a slow one when it can)."""
        for number, (_, headline, others) in enumerate(stories):
            for copy, title in enumerate([headline, *others]):
                name = FEEDS[(offset + 7 * number + 11 * copy) % len(FEEDS)]
                self.entries[name].append(item(f"{name}-{offset}-{number}-{copy}", title, f"outlet{copy}"))
        for name in FEEDS:
            self.serve(name)

    @property
    def count(self) -> int:
        return sum(len(entries) for entries in self.entries.values())


def key(message: dict[str, Any]) -> str:
    return (message.get("metadata") or {}).get("event_payload", {}).get("key", "")


def is_root(message: dict[str, Any]) -> bool:
    """Not a reply (a parent with replies carries its own ts as thread_ts, as in Slack)."""
    return message.get("thread_ts") in (None, message["ts"])


def everything(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    """Every message of the channel, top-level and in threads, once each (by ts)."""
    found: dict[str, dict[str, Any]] = {}
    for message in fake.messages(channel):
        found[message["ts"]] = message
        if is_root(message):
            for reply in fake.thread(channel, message["ts"]):
                found[reply["ts"]] = reply
    return list(found.values())


def query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def digest_env() -> dict[str, str]:
    """DIGEST_WEEKDAY and DIGEST_HOUR of this very hour: every replica's start-up catch-up runs it."""
    now = datetime.now(timezone.utc)
    return {"DIGEST_WEEKDAY": now.strftime("%a").lower(), "DIGEST_HOUR": str(now.hour), "DIGEST_TIMEZONE": "UTC"}


async def subscribe(url: str, channel: str, slugs: list[str]) -> None:
    """`/vendorwatch watch` through the command core, as the Slack adapter calls it."""
    from bot.commands.core import CommandCore
    from bot.messages import Request
    from tests.command_support import test_registry
    from watchers.settings import load_settings
    from watchers.storage.db import make_engine

    settings = load_settings({"DATABASE_URL": url, "SEED_FEEDS": "0"}, dotenv_path=None)
    engine = make_engine(url)
    try:
        core = CommandCore(engine, settings, test_registry())
        for slug in slugs:
            reply = await core.handle(Request(platform="slack", channel_id=channel, text=f"watch {slug}",
                                              user="U0REPLUSR1", workspace=TEAM_ID, channel_name=channel.lower()))
            assert not reply.is_error, reply.text
    finally:
        await engine.dispose()


def check_exactly_once(fake: FakeSlack, url: str) -> dict[str, Counter]:
    """Each message key once per channel, one parent per story; every outbox row sent and at the fake once."""
    parents: dict[str, Counter] = {}
    for channel in WATCHES:
        messages = everything(fake, channel)
        keys = Counter(key(m) for m in messages)
        assert all(count == 1 for count in keys.values()), (channel, [k for k, c in keys.items() if c > 1])
        parents[channel] = Counter(key(m).split(":")[2] for m in messages
                                   if key(m).startswith("alert:") and is_root(m))
        assert all(count == 1 for count in parents[channel].values()), (channel, parents[channel])
    rows = query(url, "SELECT o.idempotency_key, o.kind, o.status, c.channel_id, o.platform_message_id, "
                      "o.attempts, o.parent_outbox_id, o.id FROM outbox o "
                      "JOIN channel c ON c.id = o.channel_pk")
    assert rows and all(row.status == "sent" for row in rows), [r for r in rows if r.status != "sent"]
    for row in rows:
        if row.kind != "edit":
            found = [m for m in everything(fake, row.channel_id) if key(m) == row.idempotency_key]
            if len(found) != 1:
                same = [(c, key(m), m.get("thread_ts")) for c in WATCHES for m in everything(fake, c)
                        if m["ts"] == row.platform_message_id]
                calls = [(c.params.get("channel"), c.params.get("thread_ts"), c.at) for c in fake.calls_to("chat.postMessage")
                         if key(c.params) == row.idempotency_key]
                pytest.fail(f"{row} at the fake {len(found)} times; its ts holds {same}; posts {calls}")
    return parents


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    _truncate_postgres(postgres_server_url)
    return postgres_server_url


@pytest.fixture
async def fake() -> Any:
    async with FakeSlack(team="Acme Corp", team_id=TEAM_ID) as started:
        for channel in WATCHES:
            started.add_channel(channel, channel.lower())
        started.add_user("U0REPLUSR1")
        yield started


def replica_env(url: str) -> dict[str, str]:
    return {"DATABASE_URL": url, "FEED_CONCURRENCY": "8", "PARSE_WORKERS": "1", "LOG_LEVEL": "INFO", **digest_env()}


@pytest.mark.postgres
async def test_three_replicas_one_killed_deliver_every_story_once(tmp_path: Path, fake: FakeSlack, feed_server,  # noqa: F811
                                                                  postgres_url: str) -> None:
    started_at = time.monotonic()
    feeds = Feeds(feed_server)
    replicas = [SlackRun(tmp_path, fake, feed_server, 2, secret=SECRET, channel=ALL, user_id="U0REPLUSR1",
                         log_dir=tmp_path / "logs", **replica_env(postgres_url)) for _ in range(3)]
    await replicas[0].add_feeds(FEEDS)
    for name in FEEDS:
        feeds.serve(name)
    for channel, slugs in WATCHES.items():
        await subscribe(postgres_url, channel, slugs)
    try:
        await asyncio.gather(*(replica.start(wait=False) for replica in replicas))
        for replica in replicas:
            health = await replica.wait_healthy()
            assert health["platforms"]["slack"]["ok"], health
        status, answer = await replicas[1].command("watch mistral", channel=SMALL)
        assert status == 200 and not answer["text"].startswith(":warning:"), answer
        # The digest: every replica ran the catch-up at start; one per channel was written.
        await until(lambda: all(any(key(m).startswith("digest:") for m in fake.messages(c)) for c in WATCHES),
                    30, "the weekly digests")

        # Hold the first posts in flight at the fake, then serve the first stories.
        baseline = len(fake.calls_to("chat.postMessage"))
        fake.fail_next("chat.postMessage", delay=6, times=3)
        feeds.add(BEFORE_KILL, offset=0)
        pids = {replica.proc.pid: replica for replica in replicas}

        def holders() -> tuple[list[int], list[int]]:
            """Replicas with a post in flight (an outbox claim); those of them that also hold feed leases."""
            claims = query(postgres_url, "SELECT claimed_by FROM outbox WHERE status = 'claimed'")
            leases = query(postgres_url, "SELECT lease_owner FROM feed WHERE lease_owner IS NOT NULL")
            owners = [pid for pid in pids if any(f":{pid}:" in row.claimed_by for row in claims)]
            return owners, [pid for pid in owners if any(f":{pid}:" in row.lease_owner for row in leases)]

        in_flight = lambda: fake.calls_to("chat.postMessage")[baseline:]  # noqa: E731
        await until(in_flight, 45, "a post in flight")
        prefer_until = time.monotonic() + 2.5  # the posts are held 6 s: prefer a replica that also polls

        def holder() -> int | None:
            owners, with_leases = holders()
            if with_leases:
                return with_leases[0]
            return owners[0] if owners and time.monotonic() > prefer_until else None

        victim_pid = await until(holder, 10, "a replica holding an outbox claim", interval=0.02)
        victim = pids[victim_pid]
        await victim.kill()
        killed_at = time.monotonic()
        held_feeds = query(postgres_url, "SELECT id FROM feed WHERE lease_owner LIKE :o", o=f"%:{victim_pid}:%")
        held_rows = query(postgres_url, "SELECT id FROM outbox WHERE status = 'claimed' AND claimed_by LIKE :o",
                          o=f"%:{victim_pid}:%")
        assert held_rows, "the victim held no outbox claim when killed"
        survivors = [r for r in replicas if r is not victim]

        feeds.add(AFTER_KILL, offset=1)

        # The dead replica's leases: taken over within a minute (nothing left in its name).
        def released() -> bool:
            return not query(postgres_url, "SELECT 1 FROM feed WHERE lease_owner LIKE :o UNION ALL "
                                           "SELECT 1 FROM outbox WHERE claimed_by LIKE :o", o=f"%:{victim_pid}:%")

        await until(released, TAKEOVER_LIMIT_SECONDS + 30, "the dead replica's leases to be taken over", interval=0.5)
        takeover_seconds = time.monotonic() - killed_at
        taken = {lease: 0.0 for lease in ("feed", "outbox")}
        for replica in survivors:
            for line in (await replica.metrics()).splitlines():
                for lease in taken:
                    if line.startswith(f'vendorwatch_lease_takeovers_total{{lease="{lease}"}}'):
                        taken[lease] += float(line.split()[-1])
        print(f"\nkilled replica held {len(held_feeds)} feed leases and {len(held_rows)} outbox claims; "
              f"taken over after {takeover_seconds:.1f} s; takeovers counted {taken}")
        assert takeover_seconds < TAKEOVER_LIMIT_SECONDS, takeover_seconds
        assert taken["outbox"] >= 1, taken
        if held_feeds:
            assert taken["feed"] >= 1, taken

        # Nothing lost: every item stored, every outbox row sent.
        await until(lambda: query(postgres_url, "SELECT count(*) AS n FROM item")[0].n >= feeds.count, 60,
                    "every item stored", interval=0.5)
        # Fan-out runs in the delivery tick, after the filing commit: wait for every filed item's, then the posts.
        await until(lambda: not query(postgres_url, "SELECT 1 FROM item i LEFT JOIN item_fanout f ON f.item_id = i.id "
                                                    "WHERE i.story_id IS NOT NULL AND f.item_id IS NULL"), 45,
                    "every filed item fanned out", interval=0.5)
        await until(lambda: not query(postgres_url, "SELECT 1 FROM outbox WHERE status <> 'sent'"), 45,
                    "every outbox row sent", interval=0.5)
        assert query(postgres_url, "SELECT count(*) AS n FROM item")[0].n == feeds.count
        parents = check_exactly_once(fake, postgres_url)
        stories_per_channel = {c: len(p) for c, p in parents.items()}
        print(f"stories per channel: {stories_per_channel}")
        watches = {**WATCHES, SMALL: WATCHES[SMALL] + ["mistral"]}
        expected = {c: sum(1 for story in BEFORE_KILL + AFTER_KILL if story[0] in slugs) for c, slugs in watches.items()}
        stories = query(postgres_url, "SELECT id, subject, title, event_types, item_count FROM story ORDER BY id")
        items = query(postgres_url, "SELECT title, story_id FROM item ORDER BY id")
        assert stories_per_channel == expected, (stories, items, {c: sorted(p) for c, p in parents.items()})
        digests = query(postgres_url, "SELECT channel_pk FROM digest")
        assert len(digests) == len(WATCHES), digests
        for channel in WATCHES:
            assert sum(1 for m in fake.messages(channel) if key(m).startswith("digest:")) == 1, channel
        for replica in survivors:
            code, err = await replica.stop()
            assert code == 0, err
            assert "Traceback" not in err, err
        print(f"three replicas: {time.monotonic() - started_at:.1f} s")
    finally:
        for replica in replicas:
            await replica.kill()


async def test_killed_while_posting_and_restarted_posts_each_alert_once(tmp_path: Path, fake: FakeSlack,  # noqa: F811
                                                                        feed_server) -> None:
    started_at = time.monotonic()
    feeds = Feeds(feed_server)
    bot = SlackRun(tmp_path, fake, feed_server, 1, secret=SECRET, channel=ALL, user_id="U0REPLUSR1",
                   log_dir=tmp_path / "logs", FEED_CONCURRENCY="8", PARSE_WORKERS="1")
    await bot.add_feeds(FEEDS[:10])
    feeds.entries = {name: [] for name in FEEDS[:10]}
    try:
        await bot.start()
        for slug in WATCHES[ALL]:
            status, answer = await bot.command(f"watch {slug}")
            assert status == 200 and not answer["text"].startswith(":warning:"), answer
        fake.fail_next("chat.postMessage", delay=3, channel=ALL, times=1)
        stories = BEFORE_KILL[:3]
        for number, (_, headline, _) in enumerate(stories):
            name = FEEDS[1 + number]
            feeds.entries[name].append(item(f"{name}-{number}", headline, "wire"))
            feed_server.serve(f"/{name}.xml", rss_of(feeds.entries[name], name))
        (call,) = await until(lambda: fake.calls_to("chat.postMessage"), 30, "the first post, held in flight")
        await bot.kill()  # while the fake still holds the post: it lands after the process is gone
        posted_key = call.params["metadata"]["event_payload"]["key"]
        await until(lambda: [m for m in fake.messages(ALL) if key(m) == posted_key], 10, "the held post to land")
        before = len(fake.calls_to("chat.postMessage"))

        await bot.start()  # the same database: the row is still claimed by the dead process
        await until(lambda: fake.calls_to("conversations.history"), 60 + 10,
                    "find_sent, once the dead process's claim lapsed", interval=0.2)
        await until(lambda: len([m for m in fake.messages(ALL) if key(m).startswith("alert:")]) >= len(stories), 30,
                    "every alert")
        await asyncio.sleep(1.5)  # a duplicate would be posted within the next delivery ticks
        alerts = Counter(key(m) for m in fake.messages(ALL) if key(m).startswith("alert:"))
        assert len(alerts) == len(stories) and set(alerts.values()) == {1}, alerts
        reposts = [c for c in fake.calls_to("chat.postMessage")[before:]
                   if c.params["metadata"]["event_payload"]["key"] == posted_key]
        assert reposts == [], "the post that landed before the kill was sent again"
        code, err = await bot.stop()
        assert code == 0, err
        print(f"\nkilled while posting and restarted: {time.monotonic() - started_at:.1f} s")
    finally:
        await bot.kill()
