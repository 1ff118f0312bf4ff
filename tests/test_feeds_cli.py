"""`vendorwatch feeds add/list/remove` and `poll --once`, through the real console script.

Each test runs on SQLite and PostgreSQL; the feed served is a real loopback HTTP server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import build_parser
from tests.feed_fixtures import rss
from watchers.errors import UsageError
from bot.cli import feeds as feeds_cli
from watchers.feeds.sources import add_user_feed, sync_seed_feeds
from watchers.rules.registry import load_registry
from watchers.settings import default_seeds_dir
from watchers.storage.db import make_engine, session_scope
from watchers.storage.tables import Feed, Item

VENDORWATCH = str(Path(sys.executable).with_name("vendorwatch"))


def vendorwatch(database_url: str, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    full_env.update({"DATABASE_URL": database_url, "SEED_FEEDS": "0", "ALLOW_PRIVATE_FEED_URLS": "1",
                     "LOG_LEVEL": "WARNING"})
    full_env.update(env)
    return subprocess.run([VENDORWATCH, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=60)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


async def feeds(engine) -> list[Feed]:  # noqa: ANN001
    async with session_scope(engine) as session:
        return list((await session.exec(select(Feed).order_by(Feed.id))).scalars().all())


async def test_add_list_remove(database_url, settings, engine, feed_server, tmp_path, capsys):
    url = feed_server.url("/blog.xml")
    added = vendorwatch(database_url, "feeds", "add", url, "--name", "Lab blog", "--company", "Scale AI", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "added feed" in added.stdout and "due now" in added.stdout
    [feed] = await feeds(engine)
    assert (feed.url, feed.name, feed.company_slug, feed.origin, feed.enabled) == (url, "Lab blog", "scale-ai",
                                                                                   "user", True)
    assert feed.next_check_at <= datetime.now(timezone.utc)

    listed = vendorwatch(database_url, "feeds", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.strip().splitlines()
    assert header.split()[:4] == ["ID", "NAME", "URL", "STATUS"]
    assert row.split()[0] == str(feed.id) and "Lab blog" in row and url in row and " new " in row

    assert "already in the list" in await run_in_process(settings, "add", url)

    removed = vendorwatch(database_url, "feeds", "remove", str(feed.id), cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert await feeds(engine) == []
    assert await feeds_cli.run(build_parser().parse_args(["feeds", "list"]), settings) == 0
    assert capsys.readouterr().out.strip() == "no feeds"


def test_a_refused_url_is_one_line_and_exit_2(plain_settings, tmp_path):
    result = vendorwatch(plain_settings.database_url, "feeds", "add", "http://127.0.0.1:9/feed.xml", cwd=tmp_path,
                         ALLOW_PRIVATE_FEED_URLS="0")
    assert one_error_line(result).startswith("vendorwatch: ")
    assert "Traceback" not in result.stderr and result.stdout == ""


async def run_in_process(settings, *argv: str) -> str:  # noqa: ANN001
    """The same handler the console script runs, in this process (faster for the many bad inputs)."""
    with pytest.raises(UsageError) as caught:
        await feeds_cli.run(build_parser().parse_args(["feeds", *argv]), settings)
    message = str(caught.value)
    assert message and "\n" not in message
    return message


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/feed.xml", "http://10.1.2.3/rss", "http://[::1]/feed",
                                 "http://localhost/feed", "http://169.254.169.254/latest/meta-data/",
                                 "http://0.0.0.0/feed"])
async def test_add_refuses_private_addresses_unless_allowed(plain_settings, url):
    await run_in_process(plain_settings.replace(allow_private_feed_urls=False), "add", url)
    engine = make_engine(plain_settings.database_url)
    try:
        assert await feeds(engine) == []
    finally:
        await engine.dispose()


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "not a url", "file:///etc/passwd", "", "http://"])
async def test_add_refuses_malformed_urls(plain_settings, url):
    await run_in_process(plain_settings, "add", url)


async def test_add_with_unknown_company_suggests(settings, engine, feed_server):
    message = await run_in_process(settings, "add", feed_server.url("/x.xml"), "--company", "mercorr")
    assert "unknown company" in message and "mercor" in message
    assert await feeds(engine) == []


async def test_remove_unknown_id_is_a_usage_error(database_url, tmp_path):
    line = one_error_line(vendorwatch(database_url, "feeds", "remove", "4242", cwd=tmp_path))
    assert "no feed with id 4242" in line


async def test_seed_feeds_are_listed_but_not_removable(settings, engine, capsys):
    async with session_scope(engine) as session:
        await sync_seed_feeds(session, load_registry(default_seeds_dir() / "companies.toml"))
    seed = (await feeds(engine))[0]
    assert seed.origin == "seed" and seed.url.startswith("https://")
    assert "registry" in await run_in_process(settings, "remove", str(seed.id))
    assert await feeds_cli.run(build_parser().parse_args(["feeds", "list"]), settings) == 0
    assert "Google News" in capsys.readouterr().out


async def test_poll_once_prints_a_table(database_url, settings, engine, feed_server, tmp_path):
    now = datetime.now(timezone.utc)
    feed_server.serve("/news.xml", rss([("a1", "Scale AI raises $1 billion from Meta", now - timedelta(hours=1)),
                                        ("a2", "Weather is fine", now - timedelta(hours=2))]),
                      content_type="application/rss+xml", etag='"v1"')
    feed_server.serve("/broken.xml", b"<html>not a feed</html>", content_type="text/html")
    async with session_scope(engine) as session:
        for path, name in (("/news.xml", "News"), ("/broken.xml", "Broken")):
            await add_user_feed(session, feed_server.url(path), name, None, settings)

    first = vendorwatch(database_url, "poll", "--once", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert lines[0].split()[:5] == ["ID", "NAME", "STATUS", "NEW", "NEXT"]
    news = next(line for line in lines if " News " in line)
    broken = next(line for line in lines if " Broken " in line)
    assert " ok " in news and news.split()[3] == "2"
    assert "error: not_a_feed" in broken
    assert lines[-1].startswith("2 feeds polled") and "1 failed" in lines[-1]
    async with session_scope(engine) as session:
        assert len((await session.exec(select(Item))).scalars().all()) == 2

    nothing_due = vendorwatch(database_url, "poll", "--once", cwd=tmp_path)
    assert nothing_due.returncode == 0 and nothing_due.stdout.strip() == "no feeds due"

    everything = vendorwatch(database_url, "poll", "--once", "--all", cwd=tmp_path)
    assert everything.returncode == 0, everything.stderr
    assert "not_modified" in everything.stdout and "error: not_a_feed" in everything.stdout


async def test_poll_once_on_an_unreachable_database_exits_1(tmp_path):
    result = vendorwatch("postgresql+psycopg://nobody@127.0.0.1:1/none", "poll", "--once", cwd=tmp_path)
    assert result.returncode == 1


async def test_add_stores_a_host_that_does_not_resolve_with_a_warning(database_url, engine, tmp_path):
    url = "https://feeds.no-such-host.invalid/rss.xml"  # .invalid never resolves (RFC 6761)
    added = vendorwatch(database_url, "feeds", "add", url, cwd=tmp_path, ALLOW_PRIVATE_FEED_URLS="0")
    assert added.returncode == 0, added.stderr
    assert "added feed" in added.stdout
    [warning] = added.stderr.strip().splitlines()
    assert warning.startswith("vendorwatch: warning: ") and "feeds.no-such-host.invalid cannot be resolved" in warning
    [feed] = await feeds(engine)
    assert feed.url == url and feed.origin == "user"


async def test_poll_once_exits_1_when_every_feed_failed(database_url, settings, engine, feed_server, tmp_path):
    feed_server.serve("/a.xml", b"<html>not a feed</html>", content_type="text/html")
    feed_server.serve("/b.xml", b"<html>nor this</html>", content_type="text/html")
    async with session_scope(engine) as session:
        for path in ("/a.xml", "/b.xml"):
            await add_user_feed(session, feed_server.url(path), path, None, settings)
        await add_user_feed(session, "https://gone.no-such-host.invalid/feed", "Gone", None, settings,
                            warn=lambda _message: None)
    result = vendorwatch(database_url, "poll", "--once", cwd=tmp_path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout.count("error: ") == 3  # the table is still printed
    assert result.stderr.strip().splitlines()[-1] == "vendorwatch: 3 of 3 feeds failed: 2 not a feed, 1 dns"
    assert "Traceback" not in result.stderr


def test_summary_and_failure_lines() -> None:
    from bot.cli.poll import all_failed_line, summary_line
    from watchers.orchestrator import FeedOutcome

    ok = FeedOutcome(1, "A", "https://a/", "ok", new_items=2)
    timeout = FeedOutcome(2, "B", "https://b/", "error", error_kind="timeout")
    dns = FeedOutcome(3, "C", "https://c/", "error", error_kind="dns")
    assert summary_line([ok, timeout, dns]) == ("3 feeds polled: 1 changed, 0 not modified, 2 failed "
                                                "(1 dns, 1 timeout); 2 new items")
    assert all_failed_line([ok, timeout]) is None and all_failed_line([]) is None
    assert all_failed_line([timeout, dns, dns]) == "3 of 3 feeds failed: 2 dns, 1 timeout"
