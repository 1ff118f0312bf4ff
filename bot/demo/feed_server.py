"""The loopback feed server of `vendorwatch demo`: the recorded sample feeds, as of a demo clock.

Each recorded file in seeds/sample/ holds every item its outlet published over the demo's
months. At the clock the demo sets (`SampleFeedServer.now`), a feed shows only the entries
published by then (Atom: updated by then), and of an Atom entry recorded twice with one id only
its latest version; so follow-ups appear in later polls and an edited article changes between
polls. Responses carry an ETag and honour If-None-Match with 304, like a well-behaved outlet.
"""

from __future__ import annotations

import hashlib
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from aiohttp import web

from watchers.errors import ConfigError

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"
ET.register_namespace("", ATOM_NS)
ET.register_namespace("media", MEDIA_NS)


@dataclass(frozen=True)
class SampleFeed:
    file: str
    name: str
    content_type: str


@dataclass(frozen=True)
class Wave:
    at: datetime
    label: str
    digest: bool = False


@dataclass(frozen=True)
class SampleSet:
    directory: Path
    feeds: tuple[SampleFeed, ...]
    waves: tuple[Wave, ...]


def load_sample_set(directory: Path) -> SampleSet:
    """The feeds and waves declared in `directory`/sample.toml (ConfigError when unusable)."""
    manifest = directory / "sample.toml"
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(manifest), None, "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(manifest), getattr(exc, "lineno", None), str(exc)) from None
    feeds = []
    for entry in data.get("feed", []):
        file = str(entry.get("file", ""))
        if not file or not (directory / file).is_file() or "/" in file:
            raise ConfigError(str(manifest), None, f"feed file {file!r} is missing")
        kind = "application/atom+xml" if file.endswith(".atom") else "application/rss+xml"
        feeds.append(SampleFeed(file, str(entry.get("name") or file), kind + "; charset=utf-8"))
    waves = []
    for entry in data.get("wave", []):
        at = entry.get("at")
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise ConfigError(str(manifest), None, f"wave at {at!r} must be a date-time with a UTC offset")
        waves.append(Wave(at.astimezone(timezone.utc), str(entry.get("label", "")), bool(entry.get("digest", False))))
    if not feeds or not waves:
        raise ConfigError(str(manifest), None, "needs at least one [[feed]] and one [[wave]]")
    waves.sort(key=lambda w: w.at)
    return SampleSet(directory, tuple(feeds), tuple(waves))


def _rss_time(item: ET.Element) -> datetime | None:
    text = (item.findtext("pubDate") or "").strip()
    try:
        return parsedate_to_datetime(text).astimezone(timezone.utc) if text else None
    except (TypeError, ValueError):
        return None


def _atom_time(entry: ET.Element, tag: str) -> datetime | None:
    text = (entry.findtext(f"{{{ATOM_NS}}}{tag}") or "").strip()
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc) if text else None
    except ValueError:
        return None


def feed_as_of(body: bytes, now: datetime) -> bytes:
    """The recorded feed `body` as its outlet served it at `now`."""
    root = ET.fromstring(body)
    if root.tag == f"{{{ATOM_NS}}}feed":
        latest: dict[str, tuple[datetime, ET.Element]] = {}
        for entry in root.findall(f"{{{ATOM_NS}}}entry"):
            root.remove(entry)
            updated = _atom_time(entry, "updated") or _atom_time(entry, "published")
            if updated is None or updated > now:
                continue
            key = entry.findtext(f"{{{ATOM_NS}}}id") or ""
            if key not in latest or latest[key][0] < updated:
                latest[key] = (updated, entry)
        for _, entry in sorted(latest.values(), key=lambda pair: pair[0], reverse=True):
            root.append(entry)
    else:
        channel = root.find("channel")
        if channel is not None:
            for item in channel.findall("item"):
                published = _rss_time(item)
                if published is None or published > now:
                    channel.remove(item)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


class SampleFeedServer:
    """Serves a SampleSet on 127.0.0.1 (a random free port) as of `now`."""

    def __init__(self, samples: SampleSet, now: datetime):
        self.samples = samples
        self.now = now
        self.requests = 0
        self.not_modified = 0
        self._recorded = {f.file: ((samples.directory / f.file).read_bytes(), f.content_type) for f in samples.feeds}
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, file: str) -> str:
        return f"http://127.0.0.1:{self.port}/feeds/{file}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/feeds/{file}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        recorded = self._recorded.get(request.match_info["file"])
        if recorded is None:
            raise web.HTTPNotFound()
        body = feed_as_of(recorded[0], self.now)
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        if etag in request.headers.get("If-None-Match", ""):
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"Content-Type": recorded[1], "ETag": etag})
