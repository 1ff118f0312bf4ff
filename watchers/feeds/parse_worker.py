"""The part of parsing that runs inside a worker process: bytes in, ParsedFeed out.

feedparser gets the fetched bytes in a BytesIO (it then never fetches and never opens a path),
with the response headers carrying Content-Type and the final URL. Before that the DOCTYPE's
internal subset and any stray ENTITY declaration are removed: feedparser keeps "safe" internal
entities, and one 100 KB entity referenced 1,000 times expands to 100 MB (quadratic blow-up).
Every field that comes out is untrusted: it is type-checked and cut to a bounded length here,
and turned into plain text by watchers/feeds/normalize.py.
"""

from __future__ import annotations

import calendar
import io
import pickle
import re
import struct
import sys
import time
from datetime import datetime, timezone
from typing import Any, BinaryIO

import feedparser

from watchers.models import ParsedFeed, RawEntry

MAX_ENTRIES = 1_000
MAX_TITLE = 4_000
MAX_SUMMARY = 40_000
MAX_URL = 4_000
MAX_SHORT = 1_000
MAX_TTL_MINUTES = 24 * 60  # a feed may ask to be polled less often, but not less than daily

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_:]")
# Inside a DOCTYPE: quoted literals and comments may hide "]" and ">", so step over them.
_SUBSET_TOKEN = re.compile(rb"<!--.*?-->|\"[^\"]*\"|'[^']*'|\]", re.S)
_HEADER_TOKEN = re.compile(rb"\"[^\"]*\"|'[^']*'|\[|>")
_ENTITY_DECL = re.compile(rb"<!ENTITY(?:\"[^\"]*\"|'[^']*'|[^>\"'])*>?", re.I)


class NotAFeed(Exception):
    pass


def strip_internal_subset(data: bytes) -> bytes:
    """`data` without the DOCTYPE's internal subset and without ENTITY declarations before the root."""
    found = _DOCTYPE.search(data)
    if found and not _FIRST_ELEMENT.search(data, 0, found.start()):
        subset_start = None
        for token in _HEADER_TOKEN.finditer(data, found.end()):
            if token.group() == b"[":
                subset_start = token.start()
                break
            if token.group() == b">":
                break
        if subset_start is not None:
            end = len(data)
            for token in _SUBSET_TOKEN.finditer(data, subset_start + 1):
                if token.group() == b"]":
                    close = data.find(b">", token.end())
                    end = len(data) if close < 0 else close + 1
                    break
            data = data[:subset_start] + b">" + data[end:]
    root = _FIRST_ELEMENT.search(data)
    head_end = root.start() if root else len(data)
    if b"<!ENTITY" in data[:head_end].upper():
        data = _ENTITY_DECL.sub(b"", data[:head_end]) + data[head_end:]
    return data


_WIDE_ENCODINGS = (  # (leading bytes, codec): BOMs first, then "<?" / "<r" without a BOM
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"),
    (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"), (b"<\x00", "utf-16-le"), (b"\x00<", "utf-16-be"),
)


def _wide_to_utf8(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """UTF-16/32 bodies re-encoded as UTF-8 (so the DOCTYPE can be found), with the charset to match."""
    codec = next((c for prefix, c in _WIDE_ENCODINGS if body.startswith(prefix)), None)
    if codec is None:
        return body, content_type
    text = body.decode(codec, errors="replace").lstrip("\ufeff")
    text = re.sub(r"^(<\?xml[^>]*?encoding=)([\"'])[^\"']*\2", r"\1\2utf-8\2", text, count=1)
    media = (content_type or "application/xml").split(";", 1)[0].strip()
    return text.encode("utf-8"), f"{media}; charset=utf-8"


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _optional(value: Any, limit: int) -> str | None:
    text = _text(value, limit).strip()
    return text or None


def _when(value: Any) -> datetime | None:
    """feedparser's UTC struct_time as an aware datetime."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None


def _ttl(value: Any) -> int | None:
    text = _text(value, 20).strip()
    if not text.isdigit():
        return None
    minutes = int(text)
    return min(minutes, MAX_TTL_MINUTES) if minutes > 0 else None


def _entry(entry: Any) -> RawEntry:
    summary = entry.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        content = entry.get("content")
        summary = content[0].get("value") if isinstance(content, list) and content and hasattr(content[0], "get") else ""
    source = entry.get("source")
    source = source if hasattr(source, "get") else {}
    return RawEntry(
        guid=_optional(entry.get("id") or entry.get("guid"), MAX_URL),
        link=_optional(entry.get("link"), MAX_URL),
        title=_text(entry.get("title"), MAX_TITLE),
        summary=_text(summary, MAX_SUMMARY),
        source_title=_optional(source.get("title"), MAX_SHORT),
        source_url=_optional(source.get("href") or source.get("url"), MAX_URL),
        published=_when(entry.get("published_parsed")),
        updated=_when(entry.get("updated_parsed")),
        author=_optional(entry.get("author"), MAX_SHORT),
    )


def _link(feed: Any, rel: str) -> str | None:
    """The first http(s) link of the feed with this rel (WebSub discovery: hub, self)."""
    links = feed.get("links")
    for link in links if isinstance(links, list) else []:
        if hasattr(link, "get") and link.get("rel") == rel:
            href = _optional(link.get("href"), MAX_URL)
            if href and href.lower().startswith(("http://", "https://")):
                return href
    return None


def parse_feed_bytes(body: bytes, content_type: str | None, url: str) -> ParsedFeed:
    """Parse one fetched body; NotAFeed if it is no RSS, Atom or RDF feed (feedparser 6.0 reads no JSON Feed)."""
    body, content_type = _wide_to_utf8(body, content_type)
    body = strip_internal_subset(body)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    result = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    entries = result.get("entries") or []
    if not result.get("version") and not entries:
        reason = result.get("bozo_exception")
        raise NotAFeed("not an RSS, Atom or RDF feed" + (f" ({str(reason)[:200]})" if reason else ""))
    feed = result.get("feed") or {}
    bozo_exception = result.get("bozo_exception")
    return ParsedFeed(
        title=_text(feed.get("title"), MAX_SHORT),
        entries=[_entry(e) for e in entries[:MAX_ENTRIES]],
        ttl_minutes=_ttl(feed.get("ttl")),
        bozo=bool(result.get("bozo")),
        bozo_reason=f"{bozo_exception.__class__.__name__}: {bozo_exception}"[:300] if bozo_exception else None,
        hub_url=_link(feed, "hub"),
        self_url=_link(feed, "self"),
    )


def _read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(8)
    if len(header) < 8:
        return None
    (size,) = struct.unpack(">Q", header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def _write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(struct.pack(">Q", len(payload)) + payload)
    stream.flush()


def answer(job: tuple[bytes, str | None, str]) -> tuple[str, Any]:
    """("ok", ParsedFeed) or ("not_a_feed", reason); never raises for a bad feed."""
    body, content_type, url = job
    try:
        return ("ok", parse_feed_bytes(body, content_type, url))
    except NotAFeed as exc:
        return ("not_a_feed", str(exc))
    except MemoryError:
        return ("not_a_feed", "the feed needs too much memory to parse")
    except Exception as exc:  # noqa: BLE001 - any parser crash is this feed's problem, not the worker's
        return ("not_a_feed", f"unparsable feed ({exc.__class__.__name__}: {str(exc)[:200]})")


def main(memory_limit_bytes: int | None = None) -> None:
    """Serve parse jobs: length-prefixed pickles on stdin, replies the same way on stdout.

    Started by watchers.feeds.parse as `python -m watchers.feeds.parse_worker LIMIT`; it writes one byte when
    it is ready, and ends at the end of stdin."""
    if memory_limit_bytes:
        try:
            import resource

            _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard == resource.RLIM_INFINITY or hard > memory_limit_bytes:
                resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, hard))
        except (ImportError, ValueError, OSError):
            pass
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but replies may reach the reply pipe
    replies.write(b"R")
    replies.flush()
    while (payload := _read_frame(requests)) is not None:
        reply = answer(pickle.loads(payload))
        del payload
        _write_frame(replies, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else None)
