"""A real HTTP/1.1 feed server on 127.0.0.1 for tests, with scripted misbehaviour.

It runs an asyncio server in its own thread, so sync tests, async tests (on any event loop) and
subprocesses (`vendorwatch poll --once`) can all use it. Responses are written by hand on the
socket, so a route can lie about Content-Length, trickle its body, or never end.

    def test_x(feed_server):
        feed_server.serve("/feed.xml", body, etag='"v1"')
        url = feed_server.url("/feed.xml")

Routes (each returns the URL of the route):
- serve(path, body, content_type=..., etag=None, last_modified=None, headers=None, status=200):
  a static answer honouring If-None-Match / If-Modified-Since with 304.
- serve_file(path, name): a recorded feed from tests/data/feeds/.
- script(path, [Reply, ...]): one reply per request, the last one repeats.
- rate_limited(path, retry_after), error(path, status), redirect(path, location, status=302),
  redirect_chain(path, hops, final_path), slow(path, body, delay_seconds), oversized(path, size,
  declared_length=None, endless=False), gzip_bomb(path, decompressed_size), hang(path, interval).
`requests` records every request (method, path, headers) in arrival order.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import zlib
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Iterator

import pytest

FEEDS_DIR = Path(__file__).resolve().parent / "data" / "feeds"
RSS = "application/rss+xml; charset=utf-8"
REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
           307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 403: "Forbidden",
           404: "Not Found", 410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class Reply:
    """One scripted answer.

    content_length: None = the true length; False = none (body ends when the connection closes);
    an int = that number, whatever the body is (a lie). chunk_delay: seconds between chunks.
    endless: keep sending `body` chunks until the client goes away.
    """

    status: int = 200
    body: bytes = b""
    content_type: str | None = RSS
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    content_length: int | bool | None = None
    chunk_size: int = 65536
    chunk_delay: float = 0.0
    endless: bool = False


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names


class FeedServer:
    def __init__(self) -> None:
        self._routes: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "FeedServer":
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="feed-server", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._open(), self._loop)
        future.result(timeout=10)
        return self

    async def _open(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> "FeedServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- routes ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def script(self, path: str, replies: list[Reply]) -> str:
        with self._lock:
            self._routes[path] = list(replies)
        return self.url(path)

    def serve(self, path: str, body: bytes, content_type: str | None = RSS, etag: str | None = None,
              last_modified: str | None = None, headers: dict[str, str] | None = None, status: int = 200) -> str:
        return self.script(path, [Reply(status=status, body=body, content_type=content_type, etag=etag,
                                        last_modified=last_modified, headers=dict(headers or {}))])

    def serve_file(self, path: str, name: str, content_type: str | None = RSS, **kwargs: object) -> str:
        return self.serve(path, (FEEDS_DIR / name).read_bytes(), content_type=content_type, **kwargs)  # type: ignore[arg-type]

    def rate_limited(self, path: str, retry_after: str = "120") -> str:
        return self.script(path, [Reply(status=429, body=b"slow down", content_type="text/plain",
                                        headers={"Retry-After": retry_after})])

    def error(self, path: str, status: int = 503, headers: dict[str, str] | None = None) -> str:
        return self.script(path, [Reply(status=status, body=b"error", content_type="text/plain",
                                        headers=dict(headers or {}))])

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.script(path, [Reply(status=status, content_type=None, headers={"Location": location})])

    def redirect_chain(self, path: str, hops: int, final_path: str) -> str:
        """`path` redirects `hops` times (relative Locations) before landing on `final_path`."""
        steps = [path] + [f"{path}/hop{i}" for i in range(1, hops)] + [final_path]
        for here, there in zip(steps, steps[1:]):
            self.redirect(here, there)
        return self.url(path)

    def slow(self, path: str, body: bytes, delay_seconds: float, chunk_size: int = 64) -> str:
        return self.script(path, [Reply(body=body, chunk_size=chunk_size, chunk_delay=delay_seconds)])

    def hang(self, path: str, interval: float = 0.05) -> str:
        """Headers at once, then one byte every `interval` seconds, forever (never a read timeout)."""
        return self.script(path, [Reply(body=b" ", chunk_size=1, chunk_delay=interval, endless=True,
                                        content_length=False)])

    def oversized(self, path: str, size: int, declared_length: int | None = None, endless: bool = False) -> str:
        """`size` bytes of a feed-looking body (repeated for ever if `endless`), with no
        Content-Length, or with `declared_length` announced whatever the real size is."""
        body = b"<rss><channel>" + b"x" * max(0, size - 14)
        declared: int | bool = False if declared_length is None else declared_length
        return self.script(path, [Reply(body=body, content_length=declared, endless=endless)])

    def gzip_bomb(self, path: str, decompressed_size: int, encoding: str = "gzip") -> str:
        raw = b"<rss><channel><title>" + b"A" * decompressed_size
        packed = gzip.compress(raw, 9) if encoding == "gzip" else zlib.compress(raw, 9)
        return self.script(path, [Reply(body=packed, headers={"Content-Encoding": encoding})])

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path.split("?")[0] == path)

    # -- protocol --------------------------------------------------------------------------
    def _next_reply(self, path: str) -> Reply | None:
        with self._lock:
            replies = self._routes.get(path) or self._routes.get(path.split("?")[0])
            if not replies:
                return None
            return replies.pop(0) if len(replies) > 1 else replies[0]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                self.requests.append(request)
                keep_open = await self._answer(request, writer)
                if not keep_open or request.headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _answer(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        reply = self._next_reply(request.path)
        if reply is None:
            reply = Reply(status=404, body=b"not found", content_type="text/plain")
        status, body = reply.status, reply.body
        if status == 200 and _not_modified(reply, request.headers):
            status, body = 304, b""
        head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", f"Date: {formatdate(usegmt=True)}"]
        if reply.content_type and status != 304:
            head.append(f"Content-Type: {reply.content_type}")
        if reply.etag:
            head.append(f"ETag: {reply.etag}")
        if reply.last_modified:
            head.append(f"Last-Modified: {reply.last_modified}")
        head += [f"{k}: {v}" for k, v in reply.headers.items()]
        if status == 304 or request.method == "HEAD":
            head.append("Content-Length: 0" if status == 304 else f"Content-Length: {len(body)}")
            body = b""
        elif reply.content_length is False or (reply.endless and reply.content_length is None):
            head.append("Connection: close")
        else:
            declared = len(body) if reply.content_length in (None, True) else reply.content_length
            head.append(f"Content-Length: {declared}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        if reply.chunk_delay <= 0 and not reply.endless:
            writer.write(body)
            await writer.drain()
        else:
            await _trickle(writer, body, reply)
        closes = reply.content_length is not None or reply.endless
        return not closes


async def _trickle(writer: asyncio.StreamWriter, body: bytes, reply: Reply) -> None:
    first = True
    while True:
        for start in range(0, len(body), reply.chunk_size):
            if not first:
                await asyncio.sleep(reply.chunk_delay)
            first = False
            writer.write(body[start:start + reply.chunk_size])
            await writer.drain()
        if not reply.endless:
            return


def _not_modified(reply: Reply, headers: dict[str, str]) -> bool:
    if reply.etag and "if-none-match" in headers:
        return reply.etag in [t.strip() for t in headers["if-none-match"].split(",")]
    if reply.last_modified and "if-modified-since" in headers:
        return headers["if-modified-since"] == reply.last_modified
    return False


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) < 2:
        return None
    headers: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    if length:
        await reader.readexactly(length)
    return Request(parts[0], parts[1], headers)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A started FeedServer on 127.0.0.1 (random port), stopped after the test."""
    with FeedServer() as server:
        yield server
