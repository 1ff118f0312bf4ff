"""Conditional GET of one feed, with every limit a hostile or broken server needs.

Why httpx: it streams the body so we can count and cap it chunk by chunk (on the wire and after
decompression, which we do ourselves with a bounded inflater), keeps HTTP/1.1 connections alive
in a pool, takes separate connect/read/write/pool timeouts, and lets us replace the network layer
so that we connect only to the address the guard checked (watchers/feeds/pinned_network.py).

Limits: the whole fetch (DNS, connect, redirects, last byte) within FEED_TIMEOUT_SECONDS via
asyncio.timeout; connect within FEED_CONNECT_TIMEOUT_SECONDS; the body within FEED_MAX_BYTES
(also decompressed); at most 5 redirects, each hop checked by the address guard; at most
FEED_CONCURRENCY fetches at once and FEED_HOST_CONCURRENCY per host.

`Fetcher.fetch` never raises for network or HTTP trouble: it answers FetchResult(status="error")
with `error_kind` one of watchers.models.ERROR_KINDS.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator

import httpx

from watchers.feeds.address_guard import RefusedURL, UnresolvableHost, check_feed_url, url_host
from watchers.feeds.http_parts import BoundedDecoder, TooLarge, UnsupportedEncoding, parse_max_age, parse_retry_after
from watchers.models import FeedSource, FetchResult
from watchers.feeds.pinned_network import PinnedTransport, pinned_addresses
from watchers.settings import Settings

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, "
          "text/xml;q=0.9, application/feed+json;q=0.8, */*;q=0.5")


class FetchFailure(Exception):
    """A fetch that ends in a named error kind."""

    def __init__(self, kind: str, message: str, http_status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.kind, self.message, self.http_status, self.retry_after = kind, message, http_status, retry_after


class _HostSlots:
    """One semaphore per host, dropped again when no fetch of that host is running."""

    def __init__(self, size: int):
        self._size = size
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        semaphore, users = self._slots.get(host) or (asyncio.Semaphore(self._size), 0)
        self._slots[host] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._slots[host]
            if users <= 1:
                del self._slots[host]
            else:
                self._slots[host] = (semaphore, users - 1)


class Fetcher:
    def __init__(self, settings: Settings):
        self._settings = settings
        self._client: httpx.AsyncClient | None = None
        self._global: asyncio.Semaphore | None = None
        self._hosts = _HostSlots(settings.feed_host_concurrency)

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            s = self._settings
            limits = httpx.Limits(max_connections=s.feed_concurrency + 8,
                                  max_keepalive_connections=s.feed_concurrency, keepalive_expiry=30)
            timeout = httpx.Timeout(s.feed_timeout_seconds, connect=s.feed_connect_timeout_seconds)
            self._client = httpx.AsyncClient(transport=PinnedTransport(limits=limits), timeout=timeout,
                                             follow_redirects=False, trust_env=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(self, source: FeedSource) -> FetchResult:
        started = time.monotonic()
        result = FetchResult(url=source.url, final_url=source.url, status="error")
        if self._global is None:
            self._global = asyncio.Semaphore(self._settings.feed_concurrency)
        try:
            host = url_host(source.url)
        except Exception:  # noqa: BLE001 - any unparsable URL
            host = ""
        try:
            async with self._global, self._hosts.hold(host):
                started = time.monotonic()
                async with asyncio.timeout(self._settings.feed_timeout_seconds):
                    await self._fetch(source, result)
        except FetchFailure as exc:
            _fail(result, exc.kind, exc.message, exc.http_status, exc.retry_after)
        except UnresolvableHost as exc:
            _fail(result, "dns", str(exc))
        except RefusedURL as exc:
            _fail(result, "refused_address", str(exc))
        except (TimeoutError, httpx.TimeoutException):
            _fail(result, "timeout", f"no complete answer within {self._settings.feed_timeout_seconds:g} s")
        except socket.gaierror as exc:
            _fail(result, "dns", f"cannot resolve the host: {exc.strerror or exc}")
        except httpx.TransportError as exc:
            _fail(result, *_transport_error(exc))
        except OSError as exc:
            _fail(result, "connect", f"network error: {exc}")
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the cycle; it is logged with its traceback
            log.exception("unexpected fetch failure", extra={"feed_id": source.id, "feed_url": source.url})
            _fail(result, "connect", f"unexpected error: {exc.__class__.__name__}")
        result.elapsed_seconds = time.monotonic() - started
        log.debug("fetched", extra={"feed_id": source.id, "feed_url": source.url, "status": result.status,
                                    "error_kind": result.error_kind, "elapsed_ms": round(result.elapsed_seconds * 1000)})
        return result

    async def _fetch(self, source: FeedSource, result: FetchResult) -> None:
        s = self._settings
        headers = {"User-Agent": s.feed_user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
        if source.etag:
            headers["If-None-Match"] = source.etag
        if source.last_modified:
            headers["If-Modified-Since"] = source.last_modified
        client = self._get_client()
        url = source.url
        for hop in range(MAX_REDIRECTS + 1):
            result.final_url = url
            addresses = await check_feed_url(url, allow_private=s.allow_private_feed_urls)
            with pinned_addresses(url_host(url), addresses):
                request = client.build_request("GET", url, headers=headers)
                try:
                    response = await client.send(request, stream=True)
                except httpx.InvalidURL as exc:  # httpx prepares the next request from any Location
                    raise FetchFailure("redirect", f"redirect to an invalid URL ({exc})") from None
                try:
                    if response.status_code in REDIRECT_STATUSES:
                        if hop == MAX_REDIRECTS:
                            raise FetchFailure("redirect", f"more than {MAX_REDIRECTS} redirects", response.status_code)
                        url = _redirect_target(url, response)
                        continue
                    await self._read(response, source, result)
                    return
                finally:
                    await response.aclose()

    async def _read(self, response: httpx.Response, source: FeedSource, result: FetchResult) -> None:
        status = response.status_code
        result.http_status = status
        result.etag = _header(response, "etag") or source.etag
        result.last_modified = _header(response, "last-modified") or source.last_modified
        result.max_age_seconds = parse_max_age(response.headers.get("cache-control"))
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        result.retry_after_seconds = retry_after
        if status == 304:
            result.status = "not_modified"
            return
        if status == 429:
            raise FetchFailure("http_429", "429 Too Many Requests", status, retry_after)
        if status >= 500:
            raise FetchFailure("http_5xx", f"server error {status}", status, retry_after)
        if status >= 400:
            raise FetchFailure("http_4xx", f"client error {status}", status, retry_after)
        if status >= 300:
            raise FetchFailure("redirect", f"unexpected {status} answer", status)
        result.body = await self._read_body(response)
        result.content_type = response.headers.get("content-type")
        result.hub_url, result.self_url = _link_header(response, "hub"), _link_header(response, "self")
        result.status = "ok"

    async def _read_body(self, response: httpx.Response) -> bytes:
        limit = self._settings.feed_max_bytes
        declared = response.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            raise FetchFailure("too_large", f"Content-Length {int(declared)} is over the cap of {limit} bytes",
                               response.status_code)
        try:
            decoder = BoundedDecoder(response.headers.get("content-encoding"), limit)
            chunks: list[bytes] = []
            received = 0
            async for raw in response.aiter_raw():
                received += len(raw)
                if received > limit:
                    raise TooLarge(f"body larger than {limit} bytes")
                chunks.append(decoder.feed(raw))
        except TooLarge as exc:
            raise FetchFailure("too_large", str(exc), response.status_code) from None
        except UnsupportedEncoding as exc:
            raise FetchFailure("not_a_feed", str(exc), response.status_code) from None
        return b"".join(chunks)


def _header(response: httpx.Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.strip()[:500] if value and value.strip() else None


def _link_header(response: httpx.Response, rel: str) -> str | None:
    """An http(s) URL of the Link header with this rel (WebSub discovery), resolved against the feed."""
    try:
        href = (response.links.get(rel) or {}).get("url", "").strip()
        target = str(response.url.join(href)) if href else ""
    except (httpx.InvalidURL, ValueError, TypeError):
        return None
    return target if target.lower().startswith(("http://", "https://")) and len(target) <= 2048 else None


def _redirect_target(url: str, response: httpx.Response) -> str:
    location = response.headers.get("location", "").strip()
    if not location:
        raise FetchFailure("redirect", f"{response.status_code} redirect without a Location", response.status_code)
    try:
        target = httpx.URL(url).join(location)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise FetchFailure("redirect", f"redirect to an invalid URL {location[:200]!r}", response.status_code) from None
    if target.scheme not in ("http", "https"):
        raise FetchFailure("redirect", f"redirect to a non-HTTP URL {location[:200]!r}", response.status_code)
    return str(target.copy_with(fragment=None))


def _causes(exc: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return chain


def _transport_error(exc: httpx.TransportError) -> tuple[str, str]:
    chain = _causes(exc)
    tls = [e for e in chain if isinstance(e, ssl.SSLError)]
    if tls:
        return "tls", f"TLS failure: {tls[0].reason or tls[0]}"[:300]
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "dns", f"cannot resolve the host: {exc}"[:300]
    if isinstance(exc, httpx.ConnectError):
        return "connect", f"cannot connect: {exc}"[:300]
    return "connect", f"connection failed: {exc.__class__.__name__}: {exc}"[:300]


def _fail(result: FetchResult, kind: str, message: str, http_status: int | None = None,
          retry_after: float | None = None) -> None:
    result.status = "error"
    result.error_kind = kind
    result.error_message = message
    result.body = None
    if http_status is not None:
        result.http_status = http_status
    if retry_after is not None:
        result.retry_after_seconds = retry_after
