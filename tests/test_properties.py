"""Property tests (hypothesis): arbitrary feed text never crashes the normalizer, the matcher or
the classifier, and each call stays within a time bound.

Only public entry points: watchers.feeds.normalize.normalize_entries, watchers.rules.match.Matcher
(scan, find) and watchers.rules.classify.RulesEngine.classify. The bound (PER_CALL_SECONDS) is
measured on every call, apart from hypothesis' own deadline, which is off because the first call
of a fresh engine may build caches.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from functools import lru_cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchers.feeds.normalize import normalize_entries
from watchers.models import ParsedFeed, RawEntry
from watchers.rules.classify import RulesEngine
from watchers.rules.match import Matcher
from watchers.settings import default_seeds_dir

PER_CALL_SECONDS = 0.5
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text as feeds send it: any unicode, plus the pieces that stress the parsers and the rules
# (markup, entities, company names, money, quotes, huge runs of one character).
FRAGMENTS = st.sampled_from([
    "Scale AI", "OpenAI", "Meta", "raises $1.2B", "acquires", "lays off 20%", "CEO steps down", "sues",
    "<b>", "</p>", "<script>alert(1)</script>", "&amp;", "&#x1F600;", "&lt;", "<!--", "]]>", "@everyone",
    "<@U123>", "*bold*", "\u202e", "\u200b", "\x00", "\r\n", "; ", " — ", " - Reuters", "$", "%", "“", "”",
    "a" * 3000, ". " * 500, "Scale AI " * 200,
])
TEXT = st.one_of(st.text(max_size=2000), st.lists(st.one_of(FRAGMENTS, st.text(max_size=40)), max_size=40)
                 .map("".join))
LINK = st.one_of(st.none(), st.text(max_size=200), st.builds(lambda t: f"https://example.com/{t}", st.text(max_size=80)),
                 st.sampled_from(["javascript:alert(1)", "http://[::1", "https://news.google.com/rss/articles/x",
                                  "//evil.example/a", "https://a.example/?utm_source=x&id=1#frag"]))


@lru_cache(maxsize=1)
def engine() -> RulesEngine:
    return RulesEngine.load(default_seeds_dir())


@lru_cache(maxsize=1)
def matcher() -> Matcher:
    return Matcher(engine().registry)


def timed(call, *args, **kwargs):  # noqa: ANN001, ANN201
    start = time.perf_counter()
    result = call(*args, **kwargs)
    elapsed = time.perf_counter() - start
    assert elapsed < PER_CALL_SECONDS, f"{getattr(call, '__name__', call)} took {elapsed:.3f} s"
    return result


def test_warm_up() -> None:
    """Build the engine and matcher once, outside the timed calls."""
    engine().classify("Scale AI raises $1B")
    matcher().scan("Scale AI")


@PROFILE
@given(title=TEXT, summary=TEXT, guid=st.one_of(st.none(), st.text(max_size=100)), link=LINK,
       source=st.one_of(st.none(), TEXT), feed_title=TEXT,
       feed_url=st.sampled_from(["https://wire.example.com/feed",
                                 "https://news.google.com/rss/search?q=%22Scale+AI%22"]))
def test_the_normalizer_never_crashes(title, summary, guid, link, source, feed_title, feed_url) -> None:  # noqa: ANN001
    raw = RawEntry(guid=guid, link=link, title=title, summary=summary, source_title=source)
    items = timed(normalize_entries, ParsedFeed(title=feed_title, entries=[raw]), feed_id=1, feed_url=feed_url,
                  now=NOW)
    assert len(items) <= 1
    for item in items:
        assert item.title and isinstance(item.title, str)
        assert "<script" not in item.title.lower() and "<script" not in item.summary.lower()


@PROFILE
@given(texts=st.lists(TEXT, min_size=1, max_size=4), link=LINK)
def test_the_matcher_never_crashes(texts, link) -> None:  # noqa: ANN001
    found, _ = timed(matcher().scan, " ".join(texts))
    assert isinstance(found, list)
    per_text = timed(matcher().find, texts, link if isinstance(link, str) else None)
    assert len(per_text) == len(texts)


@PROFILE
@given(title=TEXT, summary=TEXT, link=LINK, source=st.one_of(st.none(), st.text(max_size=60)))
def test_the_classifier_never_crashes(title, summary, link, source) -> None:  # noqa: ANN001
    result = timed(engine().classify, title, summary, link=link if isinstance(link, str) else None, source=source)
    for event in result.events:
        assert event.type in {"funding", "leadership_change", "customer_loss", "acquisition", "layoffs",
                              "partnership", "legal"}
        assert isinstance(event.subject, str) and event.subject
