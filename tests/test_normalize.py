"""normalize_entries: keys, links, Google News outlets, plain text, dates and content hashes."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from tests.feedserver import FEEDS_DIR
from watchers.models import ParsedFeed, RawEntry
from watchers.feeds.normalize import canonical_link, normalize_entries, plain_text, split_outlet, utc_date
from watchers.feeds.parse_worker import parse_feed_bytes

NOW = datetime(2026, 5, 22, 12, 0, tzinfo=timezone.utc)
FEED_URL = "https://wire.example.com/feed"
GOOGLE_URL = "https://news.google.com/rss/search?q=%22Scale+AI%22&hl=en-US&gl=US&ceid=US:en"


def entry(**fields: object) -> RawEntry:
    base = dict(guid=None, link=None, title="A headline", summary="")
    base.update(fields)
    return RawEntry(**base)  # type: ignore[arg-type]


def one(raw: RawEntry, feed_url: str = FEED_URL, title: str = "Wire"):  # noqa: ANN201
    items = normalize_entries(ParsedFeed(title=title, entries=[raw]), feed_id=7, feed_url=feed_url, now=NOW)
    assert len(items) == 1
    return items[0]


def recorded(name: str, url: str):  # noqa: ANN201
    parsed = parse_feed_bytes((FEEDS_DIR / name).read_bytes(), "application/xml", url)
    return normalize_entries(parsed, feed_id=1, feed_url=url, now=NOW)


def test_google_news_titles_split_into_headline_and_outlet() -> None:
    items = recorded("google_news.xml", GOOGLE_URL)
    assert [(i.title, i.outlet) for i in items] == [
        ("Meta takes 49% stake in Scale AI, CEO Alexandr Wang to join Meta", "Reuters"),
        ("Google to cut ties with Scale AI after Meta deal", "The Wall Street Journal"),
        ("Scale AI - the data labeling giant - explained", "TechCrunch"),  # no <source>: the suffix
    ]
    assert items[0].link == "https://news.google.com/rss/articles/CBMiqAFBVV95cUxNX2Zha2VfYXJ0aWNsZV9pZF8x"
    assert items[0].summary == ""  # Google's description only repeats headline and outlet


def test_recorded_rss2() -> None:
    items = recorded("rss2.xml", FEED_URL)
    first = items[0]
    assert first.title == "Scale AI raises $1 billion in Series F led by Accel"
    assert first.outlet == "AI Industry Wire"
    assert first.link == "https://wire.example.com/2026/05/scale-ai-series-f?id=7"
    assert first.summary == "Data-labeling company Scale AI said on Tuesday it raised $1 billion."
    assert first.published == datetime(2026, 5, 21, 12, 30, tzinfo=timezone.utc)
    assert items[2].title == "OpenAI & Microsoft extend partnership"  # &amp;amp; in the feed
    assert all(len(i.key) == 64 and len(i.content_hash) == 64 for i in items)


def test_recorded_atom_and_rdf() -> None:
    atom = recorded("atom.xml", "https://labnotes.example.org/atom")
    assert atom[0].title == "Meta hires former OpenAI researcher to lead superintelligence lab"
    assert atom[0].link == "https://labnotes.example.org/posts/meta-hire?page=2"
    assert atom[0].summary == "The hire follows months of recruiting."
    rdf = recorded("rdf.xml", "https://rdf.example.net/rss")
    assert rdf[1].published == datetime(2026, 5, 17, 12, 15, tzinfo=timezone.utc)


def test_suffix_is_only_split_on_google_news_or_with_a_source() -> None:
    assert one(entry(title="Scale AI - the data giant")).title == "Scale AI - the data giant"
    item = one(entry(title="Layoffs at Cohere - Bloomberg", source_title="Bloomberg"))
    assert (item.title, item.outlet) == ("Layoffs at Cohere", "Bloomberg")
    assert split_outlet("Deal done \u2013 Reuters", "Reuters", False) == ("Deal done", "Reuters")
    assert split_outlet("Reuters", "Reuters", True) == ("Reuters", "Reuters")


@pytest.mark.parametrize("link, expected", [
    ("https://Example.COM/a?utm_source=x&utm_medium=rss&id=3#frag", "https://example.com/a?id=3"),
    ("https://example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&ref=home&cmpid=5&page=2", "https://example.com/a?page=2"),
    ("HTTP://example.com:80/x", "http://example.com/x"),
    ("https://example.com:443", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("https://user:pw@example.com/x", "https://example.com/x"),
    ("/relative/path?utm_campaign=z", "https://wire.example.com/relative/path"),
    ("javascript:alert(1)", None), ("data:text/html,<script>", None), ("mailto:a@b.c", None),
    ("", None), (None, None), ("http://[::1", None),
    ("https://news.google.com/rss/articles/CBMi?oc=5&hl=en-US", "https://news.google.com/rss/articles/CBMi"),
    ("https://exa\u200bmple.com/a", "https://example.com/a"),
])
def test_canonical_links(link: str | None, expected: str | None) -> None:
    assert canonical_link(link, FEED_URL) == expected


@pytest.mark.parametrize("raw, expected", [
    ("<script>alert(1)</script>Funding news", "Funding news"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;Funding", "Funding"),
    ("AT&amp;amp;T buys &lt;b&gt;startup&lt;/b&gt;", "AT&T buys startup"),
    ("Caf&eacute; &#8220;quoted&#8221; &#x2014; dash", "Caf\u00e9 \u201cquoted\u201d \u2014 dash"),
    ("zero\u200bwidth\u200d and\u2060 bidi\u202e text\ufeff", "zerowidth and bidi text"),
    ("  lots \n\n of\t\twhitespace  ", "lots of whitespace"),
    ("<p>one</p><p>two</p>", "one two"),
    ("a < b and c > d", "a < b and c > d"),
    ("<style>p{color:red}</style><!-- hidden -->shown", "shown"),
    ("ctrl\x00\x07chars\x1b", "ctrlchars"),
    ("@channel <!here> <@U123>", "@channel <@U123>"),
])
def test_plain_text(raw: str, expected: str) -> None:
    assert plain_text(raw, 500) == expected


def test_plain_text_is_length_capped() -> None:
    text = plain_text("word " * 10_000, 100)
    assert len(text) == 100 and text.endswith("\u2026")
    assert len(one(entry(title="x" * 100_000)).title) <= 500


def test_key_prefers_guid_then_link_then_title() -> None:
    by_guid = one(entry(guid="abc", link="https://a.example/1", title="T"))
    assert by_guid.key == one(entry(guid="abc", link="https://a.example/2", title="Other")).key
    by_link = one(entry(link="https://a.example/1?utm_source=x", title="T"))
    assert by_link.key == one(entry(link="https://A.example/1#top", title="Edited title")).key
    by_title = one(entry(title="Same headline", source_title="Reuters"))
    assert by_title.key == one(entry(title="Same  headline", source_title="Reuters")).key
    assert by_title.key != one(entry(title="Same headline", source_title="AP")).key
    assert len({by_guid.key, by_link.key, by_title.key}) == 3


def test_key_is_stable_across_processes() -> None:
    code = ("from tests.test_normalize import one, entry; "
            "print(one(entry(guid='g-1')).key, one(entry(link='https://a.example/x')).key, one(entry(title='t')).key)")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={"PYTHONHASHSEED": seed, "PATH": ""}, cwd=str(FEEDS_DIR.parent.parent.parent)).stdout
               for seed in ("1", "2")}
    assert outputs == {f"{one(entry(guid='g-1')).key} {one(entry(link='https://a.example/x')).key} "
                       f"{one(entry(title='t')).key}\n"}


def test_edited_item_keeps_its_key_and_changes_its_hash() -> None:
    before = one(entry(guid="g1", title="Scale AI raises $1B", summary="First version."))
    after = one(entry(guid="g1", title="Scale AI raises $1 billion", summary="Updated."))
    same = one(entry(guid="g1", title="Scale AI raises $1B", summary="<p>First   version.</p>"))
    assert before.key == after.key == same.key
    assert before.content_hash != after.content_hash
    assert before.content_hash == same.content_hash  # markup and spacing are not edits


@pytest.mark.parametrize("value, expected", [
    (datetime(2026, 5, 21, 14, 30, tzinfo=timezone(timedelta(hours=2))), datetime(2026, 5, 21, 12, 30, tzinfo=timezone.utc)),
    (datetime(2026, 5, 21, 12, 30), datetime(2026, 5, 21, 12, 30, tzinfo=timezone.utc)),  # naive: UTC
    (None, None),
    (datetime(1970, 1, 1, tzinfo=timezone.utc), None),
    (datetime(1994, 12, 31, tzinfo=timezone.utc), None),
    (NOW + timedelta(hours=5), NOW),  # a time-zone slip: clamped to now
    (NOW + timedelta(days=30), None),
    (datetime(9999, 12, 31, tzinfo=timezone.utc), None),
])
def test_dates(value: datetime | None, expected: datetime | None) -> None:
    assert utc_date(value, NOW) == expected


def test_published_falls_back_to_updated() -> None:
    when = datetime(2026, 5, 20, tzinfo=timezone.utc)
    assert one(entry(updated=when)).published == when


def test_entries_without_text_are_skipped_and_duplicates_dropped() -> None:
    entries = [entry(title="", summary=""), entry(title="  <br/> ", summary=""), entry(guid="a", title="One"),
               entry(guid="a", title="One again"), entry(title="", summary="<p>Only a summary here</p>")]
    items = normalize_entries(ParsedFeed(title="F", entries=entries), feed_id=None, feed_url=FEED_URL, now=NOW)
    assert [i.title for i in items] == ["One", "Only a summary here"]
    assert items[0].feed_id is None


def test_outlet_falls_back_to_the_feed_title_but_not_for_google_news() -> None:
    assert one(entry(title="Hello"), title="<b>Wire</b> &amp; Co").outlet == "Wire & Co"
    assert one(entry(title="Hello"), feed_url=GOOGLE_URL, title='"Scale AI" - Google News').outlet is None


def test_hostile_fields_never_leak_markup() -> None:
    raw = entry(guid="x" * 10_000, link="javascript:alert(document.cookie)",
                title="<img src=x onerror=alert(1)>Breaking&#x3C;script&#x3E;", summary="<iframe src=//evil></iframe>ok",
                source_title="<b>Evil</b> Outlet", published=datetime(3000, 1, 1, tzinfo=timezone.utc))
    item = one(raw)
    assert "<" not in item.title + item.summary + (item.outlet or "")
    assert (item.link, item.published, item.outlet) == (None, None, "Evil Outlet")
    assert len(item.key) == 64
    assert replace(item, feed_id=1).feed_id == 1


@pytest.mark.parametrize("hostile", ["<script>" * 5000, "<style x>" * 5000, "<!--" * 10000, "</script>" * 5000,
                                     "<script>x</script>" * 3000, "<a" * 20000, "&amp;" * 8000, "<" + "a" * 50000])
def test_pathological_markup_is_handled_in_one_pass(hostile: str) -> None:
    """Unclosed comments and scripts once made the regexes quadratic (seconds per title)."""
    text = plain_text(hostile, 2000)
    assert "<script" not in text.lower()[:-10] and "<!--" not in text
    assert len(text) <= 2000
