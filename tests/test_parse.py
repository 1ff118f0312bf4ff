"""FeedParser: recorded feeds, hostile feeds, and the worker pool's timeout and replacement.

One pool serves the whole module (starting workers is the slow part); the stuck-parse test
uses its own pool so that killing a worker cannot disturb the others.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import AsyncIterator

import pytest
import pytest_asyncio

from tests.feedserver import FEEDS_DIR, FeedServer
from tests.shared_data import FEEDPARSER_CORPUS
from watchers.models import ParsedFeed
from watchers.feeds.parse import FeedParser, ParseError
from watchers.feeds.parse_worker import strip_internal_subset

pytestmark = pytest.mark.asyncio(loop_scope="module")
CORPUS = FEEDPARSER_CORPUS
URL = "https://feeds.example.com/feed.xml"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def parser() -> AsyncIterator[FeedParser]:
    parser = FeedParser(workers=2, timeout_seconds=10)
    try:
        yield parser
    finally:
        await parser.aclose()


async def parse(parser: FeedParser, body: bytes, content_type: str | None = "application/rss+xml") -> ParsedFeed:
    return await parser.parse(body, content_type=content_type, url=URL)


def rss(items: str, head: str = "", channel: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{head}<rss version="2.0"><channel><title>T</title>'
            f'{channel}{items}</channel></rss>').encode()


async def test_rss2(parser: FeedParser) -> None:
    feed = await parse(parser, (FEEDS_DIR / "rss2.xml").read_bytes())
    assert (feed.title, feed.ttl_minutes, feed.bozo, len(feed.entries)) == ("AI Industry Wire", 30, False, 3)
    first = feed.entries[0]
    assert first.guid == "wire-10001"
    assert first.title == "Scale AI raises $1 billion in Series F led by Accel"
    assert first.published.isoformat() == "2026-05-21T12:30:00+00:00"  # +0200 in the feed
    assert "<b>Scale AI</b>" in first.summary  # still HTML: normalize makes it plain text


async def test_atom_resolves_relative_links_against_the_final_url(parser: FeedParser) -> None:
    feed = await parse(parser, (FEEDS_DIR / "atom.xml").read_bytes(), "application/atom+xml")
    assert [e.guid for e in feed.entries] == ["tag:labnotes.example.org,2026:post-42", "tag:labnotes.example.org,2026:post-41"]
    assert feed.entries[0].author == "Jane Reporter"
    assert feed.entries[1].link == "https://feeds.example.com/posts/anthropic-cloud"
    assert feed.entries[1].summary == "<p>A multi-year agreement.</p>"  # from <content>


async def test_rss1_rdf(parser: FeedParser) -> None:
    feed = await parse(parser, (FEEDS_DIR / "rdf.xml").read_bytes(), "application/rdf+xml")
    assert [e.title for e in feed.entries] == ["Surge AI loses major customer", "Cohere lays off 5% of staff"]
    assert feed.entries[1].updated.isoformat() == "2026-05-17T12:15:00+00:00"


async def test_google_news_source_element(parser: FeedParser) -> None:
    feed = await parse(parser, (FEEDS_DIR / "google_news.xml").read_bytes())
    first = feed.entries[0]
    assert (first.source_title, first.source_url) == ("Reuters", "https://www.reuters.com")
    assert first.title.endswith(" - Reuters")
    assert feed.entries[2].source_title is None


@pytest.mark.parametrize("body, content_type", [
    (b"<!doctype html><html><head><title>Home</title></head><body><h1>Welcome</h1></body></html>", "text/html"),
    (b"<!doctype html><html><head><title>Home</title></head><body><h1>Welcome</h1></body></html>", "application/rss+xml"),
    (b'{"error": "not found"}', "application/json"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1"}]}', "application/feed+json"),
    (b"\x00\x01\x02\xff\xfe garbage \x89PNG", "application/octet-stream"),
    (b"", "application/rss+xml"),
    (b"just some text", None),
])
async def test_what_is_not_a_feed(parser: FeedParser, body: bytes, content_type: str | None) -> None:
    with pytest.raises(ParseError) as failed:
        await parse(parser, body, content_type)
    assert failed.value.kind == "not_a_feed"


@pytest.mark.parametrize("ttl, expected", [("60", 60), ("999999", 1440), ("0", None), ("-5", None), ("soon", None)])
async def test_ttl(parser: FeedParser, ttl: str, expected: int | None) -> None:
    feed = await parse(parser, rss("<item><title>a</title></item>", channel=f"<ttl>{ttl}</ttl>"))
    assert feed.ttl_minutes == expected


async def test_quadratic_blowup_is_not_expanded(parser: FeedParser) -> None:
    """One 100 KB entity referenced 1,000 times: 100 MB if expanded."""
    head = '<!DOCTYPE rss [<!ENTITY big "' + "A" * 100_000 + '">]>'
    feed = await parse(parser, rss("<item><title>" + "&big;" * 1000 + "</title></item>", head=head))
    assert len(feed.entries) == 1
    assert len(feed.entries[0].title) < 10_000


async def test_entity_hidden_behind_brackets_in_a_literal_is_still_removed(parser: FeedParser) -> None:
    head = ('<!DOCTYPE rss [<!ENTITY trick "]>"><!-- ]> --><!ENTITY big \'' + "A" * 100_000 + "'>]>")
    feed = await parse(parser, rss("<item><title>" + "&big;" * 1000 + "</title></item>", head=head))
    assert len(feed.entries[0].title) < 10_000


async def test_billion_laughs_is_not_expanded(parser: FeedParser) -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    feed = await parse(parser, rss("<item><title>&lol9;</title></item>", head=f"<!DOCTYPE rss [{entities}]>"))
    assert len(feed.entries[0].title) < 1000


async def test_external_entities_are_not_fetched_or_read(parser: FeedParser, feed_server: FeedServer) -> None:
    feed_server.serve("/secret", b"SECRET-FROM-HTTP")
    head = (f'<!DOCTYPE rss [<!ENTITY file SYSTEM "file:///etc/passwd">'
            f'<!ENTITY web SYSTEM "{feed_server.url("/secret")}">]>')
    feed = await parse(parser, rss("<item><title>x &file; &web; y</title></item>", head=head))
    assert "root:" not in feed.entries[0].title
    assert "SECRET" not in feed.entries[0].title
    assert feed_server.requests == []


async def test_script_in_titles_is_kept_as_untrusted_text(parser: FeedParser) -> None:
    feed = await parse(parser, rss("<item><title>&lt;script&gt;alert(1)&lt;/script&gt;Hi</title></item>"))
    assert "Hi" in feed.entries[0].title  # plain-text conversion is normalize's job (tested there)


@pytest.mark.parametrize("name", ["utf-16le-bom.xml", "utf-16be.xml", "bozo_linenoise.xml",
                                  "double-encoded-html.xml", "bozo_encoding_mismatch_crash.xml",
                                  "rss_incomplete_cdata.xml", "always_strip_doctype.xml"])
async def test_broken_and_unusual_encodings_from_feedparsers_corpus(parser: FeedParser, name: str) -> None:
    body = (FEEDS_DIR / name).read_bytes()
    try:
        feed = await parse(parser, body, "application/xml")
    except ParseError as exc:
        assert exc.kind == "not_a_feed"
    else:
        assert isinstance(feed, ParsedFeed)


async def test_utf16_feed_entries_survive(parser: FeedParser) -> None:
    body = rss("<item><title>Caf\u00e9 \u2014 OpenAI</title></item>").decode().replace('encoding="utf-8"', 'encoding="utf-16"')
    feed = await parse(parser, b"\xff\xfe" + body.encode("utf-16-le"), "application/rss+xml; charset=utf-16")
    assert feed.entries[0].title == "Caf\u00e9 \u2014 OpenAI"


async def test_huge_fields_are_capped(parser: FeedParser) -> None:
    feed = await parse(parser, rss("<item><title>" + "x" * 200_000 + "</title><guid>" + "g" * 50_000 + "</guid></item>"))
    assert len(feed.entries[0].title) <= 4_000
    assert len(feed.entries[0].guid) <= 4_000


async def test_strip_internal_subset_keeps_a_plain_doctype() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "x.dtd"><rss/>'
    assert strip_internal_subset(body) == body
    assert strip_internal_subset(b'<!DOCTYPE rss [<!ENTITY a "b">]><rss/>') == b"<!DOCTYPE rss ><rss/>"


async def test_stuck_parse_is_killed_and_its_worker_replaced() -> None:
    """feedparser issue #562: a 16 KB <author> costs over a second per item; 20 items would take
    20 s. The parse is stopped at the timeout, the stuck worker is killed, and a new one serves."""
    bomb = rss("".join(f"<item><title>t{i}</title><author>{'a' * 16_000}</author></item>" for i in range(20)))
    pool = FeedParser(workers=1, timeout_seconds=1.0)
    try:
        await parse(pool, rss("<item><title>warm</title></item>"))
        (stuck_pid,) = pool.worker_pids
        with pytest.raises(ParseError) as failed:
            await parse(pool, bomb)
        assert failed.value.kind == "parse_timeout"
        feed = await parse(pool, (FEEDS_DIR / "rss2.xml").read_bytes())
        assert len(feed.entries) == 3
        assert pool.worker_pids and stuck_pid not in pool.worker_pids
        with pytest.raises(ProcessLookupError):
            os.kill(stuck_pid, 0)
    finally:
        await pool.aclose()


async def test_a_worker_that_died_while_idle_is_replaced_before_use() -> None:
    pool = FeedParser(workers=1, timeout_seconds=10)
    try:
        await pool.start()
        (pid,) = pool.worker_pids
        os.kill(pid, 9)
        while True:  # wait until the kill is seen
            if pool._workers and next(iter(pool._workers)).process.returncode is not None:
                break
            await asyncio.sleep(0.01)
        feed = await parse(pool, (FEEDS_DIR / "rdf.xml").read_bytes())
        assert len(feed.entries) == 2
        assert pid not in pool.worker_pids
    finally:
        await pool.aclose()


async def test_parses_run_concurrently_and_pool_closes_its_workers() -> None:
    pool = FeedParser(workers=3, timeout_seconds=10)
    body = (FEEDS_DIR / "atom.xml").read_bytes()
    await pool.start()
    feeds = await asyncio.gather(*(pool.parse(body, content_type=None, url=URL) for _ in range(12)))
    assert all(len(f.entries) == 2 for f in feeds)
    pids = pool.worker_pids
    assert len(pids) == 3
    await pool.aclose()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="feedparser corpus not present")
async def test_every_file_of_feedparsers_corpus_parses_or_is_named(parser: FeedParser) -> None:
    """2,100 real-world and edge-case feeds: each gives a ParsedFeed or ParseError("not_a_feed")."""
    async def one(path: Path) -> str:
        try:
            await parser.parse(path.read_bytes(), content_type="application/xml", url="http://example.com/")
            return "ok"
        except ParseError as exc:
            return exc.kind

    kinds = await asyncio.gather(*(one(p) for p in sorted(CORPUS.rglob("*.xml"))))
    assert set(kinds) <= {"ok", "not_a_feed"}
    assert kinds.count("ok") > 2000
