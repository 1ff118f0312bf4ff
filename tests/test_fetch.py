"""Fetcher against the real loopback FeedServer: every limit and every named error kind."""

from __future__ import annotations

import asyncio
import gzip
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import AsyncIterator

import pytest

from tests.feedserver import FEEDS_DIR, FeedServer, Reply
from watchers.feeds.fetch import Fetcher
from watchers.feeds.http_parts import BoundedDecoder, TooLarge, parse_max_age, parse_retry_after
from watchers.models import ERROR_KINDS, FeedSource, FetchResult
from watchers.settings import Settings

RSS_BODY = (FEEDS_DIR / "rss2.xml").read_bytes()


@pytest.fixture
def fetch_settings(plain_settings: Settings) -> Settings:
    return plain_settings.replace(feed_timeout_seconds=2.0, feed_connect_timeout_seconds=1.0, feed_max_bytes=100_000)


@pytest.fixture
async def fetcher(fetch_settings: Settings) -> AsyncIterator[Fetcher]:
    fetcher = Fetcher(fetch_settings)
    try:
        yield fetcher
    finally:
        await fetcher.aclose()


async def fetch(fetcher: Fetcher, url: str, **kwargs: object) -> FetchResult:
    result = await fetcher.fetch(FeedSource(id=1, url=url, name="test", **kwargs))  # type: ignore[arg-type]
    assert result.status in ("ok", "not_modified", "error")
    assert result.error_kind is None or result.error_kind in ERROR_KINDS
    return result


async def test_200_then_304_with_etag(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", RSS_BODY, etag='"v1"', headers={"Cache-Control": "public, max-age=600"})
    first = await fetch(fetcher, url)
    assert (first.status, first.http_status, first.body, first.etag) == ("ok", 200, RSS_BODY, '"v1"')
    assert first.max_age_seconds == 600
    assert first.content_type.startswith("application/rss+xml")
    second = await fetch(fetcher, url, etag=first.etag)
    assert (second.status, second.http_status, second.body, second.etag) == ("not_modified", 304, None, '"v1"')
    assert feed_server.requests[-1].headers["if-none-match"] == '"v1"'


async def test_304_with_last_modified(fetcher: Fetcher, feed_server: FeedServer) -> None:
    stamp = "Wed, 21 May 2026 10:00:00 GMT"
    url = feed_server.serve("/feed.xml", RSS_BODY, last_modified=stamp)
    first = await fetch(fetcher, url)
    assert first.last_modified == stamp
    second = await fetch(fetcher, url, last_modified=stamp)
    assert second.status == "not_modified"
    assert second.last_modified == stamp


async def test_user_agent_and_accept_headers_are_sent(fetcher: Fetcher, feed_server: FeedServer,
                                                      fetch_settings: Settings) -> None:
    await fetch(fetcher, feed_server.serve("/feed.xml", RSS_BODY))
    headers = feed_server.requests[-1].headers
    assert headers["user-agent"] == fetch_settings.feed_user_agent
    assert "application/rss+xml" in headers["accept"]
    assert headers["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in headers


async def test_gzip_body_is_decoded(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.script("/gz", [Reply(body=gzip.compress(RSS_BODY), headers={"Content-Encoding": "gzip"})])
    result = await fetch(fetcher, url)
    assert (result.status, result.body) == ("ok", RSS_BODY)


@pytest.mark.parametrize("retry_after, expected", [("120", 120.0), ("0", 0.0)])
async def test_429_with_retry_after_seconds(fetcher: Fetcher, feed_server: FeedServer, retry_after: str,
                                            expected: float) -> None:
    result = await fetch(fetcher, feed_server.rate_limited("/feed", retry_after))
    assert (result.status, result.error_kind, result.http_status) == ("error", "http_429", 429)
    assert result.retry_after_seconds == expected


async def test_429_with_retry_after_http_date(fetcher: Fetcher, feed_server: FeedServer) -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(minutes=10), usegmt=True)
    result = await fetch(fetcher, feed_server.rate_limited("/feed", when))
    assert result.error_kind == "http_429"
    assert 500 < result.retry_after_seconds <= 600


@pytest.mark.parametrize("status, kind", [(500, "http_5xx"), (503, "http_5xx"), (404, "http_4xx"), (410, "http_4xx"),
                                          (403, "http_4xx")])
async def test_http_errors_are_named(fetcher: Fetcher, feed_server: FeedServer, status: int, kind: str) -> None:
    result = await fetch(fetcher, feed_server.error("/feed", status, headers={"Retry-After": "30"}))
    assert (result.status, result.error_kind, result.http_status, result.body) == ("error", kind, status, None)
    assert result.retry_after_seconds == 30


async def test_status_sequence_recovers(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.script("/feed", [Reply(status=503, body=b"down"), Reply(body=RSS_BODY)])
    assert (await fetch(fetcher, url)).error_kind == "http_5xx"
    assert (await fetch(fetcher, url)).status == "ok"


async def test_five_redirects_are_followed(fetcher: Fetcher, feed_server: FeedServer) -> None:
    feed_server.serve("/final.xml", RSS_BODY)
    result = await fetch(fetcher, feed_server.redirect_chain("/start", 5, "/final.xml"))
    assert result.status == "ok"
    assert result.final_url == feed_server.url("/final.xml")
    assert result.url == feed_server.url("/start")


async def test_sixth_redirect_is_refused(fetcher: Fetcher, feed_server: FeedServer) -> None:
    feed_server.serve("/final.xml", RSS_BODY)
    result = await fetch(fetcher, feed_server.redirect_chain("/start", 6, "/final.xml"))
    assert (result.status, result.error_kind) == ("error", "redirect")
    assert feed_server.hits("/final.xml") == 0


@pytest.mark.parametrize("location", ["ftp://example.com/feed", "file:///etc/passwd", "javascript:alert(1)", ""])
async def test_redirect_to_a_non_http_url_is_refused(fetcher: Fetcher, feed_server: FeedServer, location: str) -> None:
    result = await fetch(fetcher, feed_server.redirect("/feed", location))
    assert (result.status, result.error_kind) == ("error", "redirect")


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/"])
async def test_redirect_to_cloud_metadata_is_refused(fetcher: Fetcher, feed_server: FeedServer, target: str) -> None:
    result = await fetch(fetcher, feed_server.redirect("/feed", target))
    assert (result.status, result.error_kind) == ("error", "refused_address")


async def test_loopback_is_refused_before_connecting_when_private_urls_are_not_allowed(
        fetch_settings: Settings) -> None:
    """With ALLOW_PRIVATE_FEED_URLS=0 nothing reaches the loopback server, by literal or by name.
    (Each redirect hop goes through the same check: see the metadata redirect tests above.)"""
    strict = Fetcher(fetch_settings.replace(allow_private_feed_urls=False))
    try:
        with FeedServer() as server:
            server.redirect("/feed", server.url("/final"))
            result = await strict.fetch(FeedSource(id=1, url=server.url("/feed"), name="x"))
            assert result.error_kind == "refused_address"
            assert server.requests == []
            direct = await strict.fetch(FeedSource(id=1, url=f"http://localhost:{server.port}/feed", name="x"))
            assert direct.error_kind == "refused_address"
            assert server.requests == []
    finally:
        await strict.aclose()


@pytest.mark.parametrize("url", ["ftp://8.8.8.8/feed", "http://user:pass@127.0.0.1/feed", "not a url"])
async def test_bad_feed_urls_are_refused_without_raising(fetcher: Fetcher, url: str) -> None:
    result = await fetch(fetcher, url)
    assert (result.status, result.error_kind) == ("error", "refused_address")


async def test_slow_body_times_out(fetch_settings: Settings, feed_server: FeedServer) -> None:
    """A byte every 50 ms never trips the read timeout, but the whole fetch is capped."""
    fetcher = Fetcher(fetch_settings.replace(feed_timeout_seconds=0.5))
    try:
        result = await fetch(fetcher, feed_server.hang("/feed"))
    finally:
        await fetcher.aclose()
    assert (result.status, result.error_kind) == ("error", "timeout")


async def test_slow_but_finished_body_is_fine(fetcher: Fetcher, feed_server: FeedServer) -> None:
    result = await fetch(fetcher, feed_server.slow("/feed", RSS_BODY, delay_seconds=0.001, chunk_size=256))
    assert (result.status, result.body) == ("ok", RSS_BODY)


async def test_oversized_body_without_content_length_is_refused_while_streaming(
        fetcher: Fetcher, feed_server: FeedServer) -> None:
    result = await fetch(fetcher, feed_server.oversized("/feed", 64 * 1024, endless=True))
    assert (result.status, result.error_kind, result.body) == ("error", "too_large", None)


async def test_body_just_over_the_cap_is_refused(fetcher: Fetcher, feed_server: FeedServer) -> None:
    result = await fetch(fetcher, feed_server.oversized("/feed", 100_001))
    assert result.error_kind == "too_large"
    ok = await fetch(fetcher, feed_server.oversized("/small", 100_000))
    assert ok.status == "ok"


async def test_announced_content_length_over_the_cap_is_refused_before_reading(
        fetcher: Fetcher, feed_server: FeedServer) -> None:
    result = await fetch(fetcher, feed_server.oversized("/feed", 64 * 1024, declared_length=50_000_000, endless=True))
    assert result.error_kind == "too_large"
    assert "Content-Length" in result.error_message


async def test_lying_small_content_length_reads_only_what_was_announced(fetcher: Fetcher,
                                                                        feed_server: FeedServer) -> None:
    """A server that announces 1,000 bytes and sends 10 MB: HTTP framing stops at 1,000."""
    result = await fetch(fetcher, feed_server.oversized("/feed", 10_000_000, declared_length=1000))
    assert result.status == "ok"
    assert len(result.body) == 1000


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compression_bomb_is_refused_on_decompressed_size(fetcher: Fetcher, feed_server: FeedServer,
                                                                encoding: str) -> None:
    url = feed_server.gzip_bomb("/feed", 8_000_000, encoding=encoding)  # 8 KB on the wire, 80x the cap
    result = await fetch(fetcher, url)
    assert (result.status, result.error_kind) == ("error", "too_large")


async def test_unrequested_content_encoding_is_not_a_feed(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.script("/feed", [Reply(body=b"\x1b\x00\x00", headers={"Content-Encoding": "br"})])
    assert (await fetch(fetcher, url)).error_kind == "not_a_feed"


async def test_corrupt_gzip_is_not_a_feed(fetcher: Fetcher, feed_server: FeedServer) -> None:
    url = feed_server.script("/feed", [Reply(body=b"\x1f\x8b\x08\x00garbage-bytes", headers={"Content-Encoding": "gzip"})])
    assert (await fetch(fetcher, url)).error_kind == "not_a_feed"


async def test_connection_refused_is_connect(fetcher: Fetcher) -> None:
    result = await fetch(fetcher, "http://127.0.0.1:1/feed")
    assert (result.status, result.error_kind) == ("error", "connect")


async def test_unknown_host_is_dns(fetcher: Fetcher) -> None:
    result = await fetch(fetcher, "http://no-such-feed-host.invalid/feed")
    assert (result.status, result.error_kind) == ("error", "dns")


async def test_tls_failure_is_tls(fetcher: Fetcher) -> None:
    """https:// to a server that answers in plain text."""
    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await fetch(fetcher, f"https://127.0.0.1:{port}/feed")
    finally:
        server.close()
    assert (result.status, result.error_kind) == ("error", "tls")


def _count_concurrent(feed_server: FeedServer) -> dict[str, int]:
    """Wrap the server's answer step to record the most requests it served at once."""
    seen = {"active": 0, "peak": 0}
    original = feed_server._answer

    async def counting(request, writer):  # noqa: ANN001
        seen["active"] += 1
        seen["peak"] = max(seen["peak"], seen["active"])
        try:
            return await original(request, writer)
        finally:
            seen["active"] -= 1

    feed_server._answer = counting  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize("host_cap, global_cap, expected_peak", [(2, 32, 2), (4, 1, 1)])
async def test_concurrency_caps(fetch_settings: Settings, feed_server: FeedServer, host_cap: int, global_cap: int,
                                expected_peak: int) -> None:
    """Six slow fetches (over two host names of one server): never more at once than the caps allow."""
    fetcher = Fetcher(fetch_settings.replace(feed_host_concurrency=host_cap, feed_concurrency=global_cap))
    seen = _count_concurrent(feed_server)
    url = feed_server.slow("/feed", RSS_BODY[:200], delay_seconds=0.01, chunk_size=50)
    urls = [url if n % 2 or global_cap > 1 else url.replace("127.0.0.1", "localhost") for n in range(6)]
    try:
        results = await asyncio.gather(*(fetch(fetcher, u) for u in urls))
    finally:
        await fetcher.aclose()
    assert all(r.status == "ok" for r in results)
    assert 1 <= seen["peak"] <= expected_peak


def test_retry_after_and_max_age_parsing() -> None:
    now = datetime(2026, 5, 21, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("3600", now) == 3600
    assert parse_retry_after("Thu, 21 May 2026 12:05:00 GMT", now) == 300
    assert parse_retry_after("Thu, 21 May 2026 11:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after("99999999999999", now) == 7 * 24 * 3600
    assert parse_retry_after(None, now) is None
    assert parse_max_age("public, max-age=900") == 900
    assert parse_max_age('max-age="60", must-revalidate') == 60
    assert parse_max_age("no-cache, max-age=900") is None
    assert parse_max_age("s-maxage=5") is None
    assert parse_max_age(None) is None


def test_bounded_decoder_stops_a_bomb_within_the_cap() -> None:
    decoder = BoundedDecoder("gzip", 1_000_000)
    bomb = gzip.compress(b"\0" * 10_000_000)
    with pytest.raises(TooLarge):
        for start in range(0, len(bomb), 8192):
            decoder.feed(bomb[start:start + 8192])
    assert decoder.produced <= 1_000_001


def test_bounded_decoder_reads_concatenated_gzip_members() -> None:
    decoder = BoundedDecoder("gzip", 1000)
    assert decoder.feed(gzip.compress(b"<rss>") + gzip.compress(b"</rss>")) == b"<rss></rss>"
