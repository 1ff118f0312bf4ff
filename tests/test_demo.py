"""`vendorwatch demo` end to end, and the sample feed server it runs on."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import httpx
import pytest

from bot.demo_server import SampleFeedServer, feed_as_of, load_sample_set
from watchers.errors import ConfigError
from watchers.settings import default_seeds_dir

ROOT = Path(__file__).resolve().parent.parent
VENDORWATCH = ROOT / ".venv" / "bin" / "vendorwatch"
SAMPLE_DIR = default_seeds_dir() / "sample"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def titles(body: bytes) -> list[str]:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.bozo_exception
    return [entry.title for entry in parsed.entries]


# --- the sample set and its server ---------------------------------------------------------------

def test_every_sample_feed_parses_and_every_wave_is_in_order() -> None:
    samples = load_sample_set(SAMPLE_DIR)
    assert len(samples.feeds) >= 6
    assert [w.at for w in samples.waves] == sorted(w.at for w in samples.waves)
    assert sum(w.digest for w in samples.waves) == 1
    for feed in samples.feeds:
        assert titles((SAMPLE_DIR / feed.file).read_bytes())


def test_rss_items_appear_once_published() -> None:
    body = (SAMPLE_DIR / "reuters-technology.xml").read_bytes()
    assert titles(feed_as_of(body, at("2025-06-10T00:00:00"))) == []
    shown = titles(feed_as_of(body, at("2025-06-13T06:00:00")))
    assert shown == ["Meta to invest $14.3 billion in Scale AI for a 49% stake"]
    assert len(titles(feed_as_of(body, at("2026-01-01T00:00:00")))) == 3


def test_an_updated_atom_entry_replaces_its_earlier_version() -> None:
    body = (SAMPLE_DIR / "theverge-ai.atom").read_bytes()
    before = titles(feed_as_of(body, at("2025-06-13T06:00:00")))
    after = titles(feed_as_of(body, at("2025-06-14T12:00:00")))
    assert before == ["Scale AI CEO Alexandr Wang is leaving for Meta"]
    assert after == ["Meta invests $14.3 billion in Scale AI as Alexandr Wang leaves to join Meta"]


async def test_server_answers_304_while_the_feed_is_unchanged() -> None:
    samples = load_sample_set(SAMPLE_DIR)
    server = SampleFeedServer(samples, samples.waves[0].at)
    await server.start()
    try:
        async with httpx.AsyncClient() as client:
            url = server.url("reuters-technology.xml")
            first = await client.get(url)
            assert first.status_code == 200 and "rss" in first.headers["content-type"]
            again = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
            assert again.status_code == 304
            server.now = samples.waves[-1].at
            changed = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
            assert changed.status_code == 200 and len(titles(changed.content)) == 3
            missing = await client.get(f"http://127.0.0.1:{server.port}/feeds/nothing.xml")
            assert missing.status_code == 404
    finally:
        await server.close()


@pytest.mark.parametrize("manifest, reason", [
    (None, "file not found"),
    ("[[feed\n", "sample.toml"),
    ('[[feed]]\nfile = "missing.xml"\n[[wave]]\nat = 2025-06-10T00:00:00Z\n', "missing"),
    ('[[feed]]\nfile = "a.xml"\n[[wave]]\nat = 2025-06-10T00:00:00\n', "UTC offset"),
    ('[[feed]]\nfile = "a.xml"\n', "at least one"),
])
def test_a_bad_sample_manifest_is_a_config_error(tmp_path: Path, manifest: str | None, reason: str) -> None:
    (tmp_path / "a.xml").write_bytes((SAMPLE_DIR / "reuters-technology.xml").read_bytes())
    if manifest is not None:
        (tmp_path / "sample.toml").write_text(manifest)
    with pytest.raises(ConfigError, match=reason):
        load_sample_set(tmp_path)
