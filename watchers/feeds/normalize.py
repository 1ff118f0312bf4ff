"""Raw feed entries to Items: plain text, canonical links, UTC dates, a stable key, a content hash.

- `key`: sha256 (64 hex chars) of the entry's guid, else its canonical link, else its title and
  outlet. The same article keeps its key when the publisher edits it, and across processes.
- `content_hash`: sha256 of the normalized title and summary: same key with a new hash is the
  same item, edited.
- Links: http(s) only (anything else, such as javascript:, is dropped), host lower-cased, default
  port, fragment and user info removed, tracking parameters (utm_*, fbclid, gclid, ...) removed.
- Google News titles "Headline - Publisher" are split into headline and outlet, using <source>
  when the feed gives it, else the " - Publisher" suffix.
- Text: tags (and script/style content) removed, entities decoded (also double-encoded ones),
  zero-width and control characters removed, whitespace collapsed, length capped.
- Dates: to UTC; a date before 1995 is dropped (None); one up to a day ahead of `now` is taken as
  a time-zone slip and clamped to `now`; one further ahead is dropped (None).
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from watchers.models import NewsItem, ParsedFeed, RawEntry

MAX_TITLE_CHARS = 500
MAX_SUMMARY_CHARS = 2_000
MAX_OUTLET_CHARS = 200
MAX_LINK_CHARS = 2_000
EARLIEST = datetime(1995, 1, 1, tzinfo=timezone.utc)
CLOCK_SLIP = timedelta(days=1)

TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "li_fat_id",
    "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "referrer", "cmpid", "igshid", "igsh",
    "_hsenc", "_hsmi", "hsctatracking", "mkt_tok", "oly_enc_id", "oly_anon_id", "vero_id", "vero_conv",
    "__twitter_impression", "s_cid", "sr_share", "spm", "ncid", "guccounter", "guce_referrer",
    "guce_referrer_sig", "smid", "smtyp", "ocid", "trk", "trkcampaign",
    "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4", "wt.mc_id", "sc_cid",
})
# Only names that never carry content: dropping a real parameter could merge two articles.
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_")
# Parameters that only track on particular hosts.
HOST_TRACKING_PARAMS = {"news.google.com": frozenset({"oc", "hl", "gl", "ceid"})}

_BLOCK_START = re.compile(r"<!--|<(script|style)\b", re.I)
_BLOCK_END = {"script": re.compile(r"</script[^>]*>", re.I), "style": re.compile(r"</style[^>]*>", re.I)}
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,2000}>|<![^<>]{0,2000}>|<\?[^<>]{0,2000}>")
_BLOCK_TAG = re.compile(r"</?(?:p|br|div|li|ul|ol|h[1-6]|tr|td|blockquote|section|article)\b[^<>]{0,2000}>", re.I)
# Zero-width, bidi controls, soft hyphen, BOM, and C0/C1 controls other than whitespace.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u206f\ufeff\ufff9-\ufffb\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")
_OUTLET_SUFFIX = re.compile(r"\s+[-\u2013\u2014|]\s+([^-\u2013\u2014|]{1,80})$")


def _drop_hidden_blocks(text: str) -> str:
    """Comments and script/style elements removed, content and all; an unclosed one drops the rest.
    One pass from left to right (a regex with .*? would be quadratic on many unclosed openings)."""
    out: list[str] = []
    position = 0
    while (start := _BLOCK_START.search(text, position)) is not None:
        out.append(text[position:start.start()])
        out.append(" ")
        if start.group(1):
            end = _BLOCK_END[start.group(1).lower()].search(text, start.end())
            position = end.end() if end else -1
        else:
            end_at = text.find("-->", start.end())
            position = end_at + 3 if end_at >= 0 else -1
        if position < 0:
            return "".join(out)
    out.append(text[position:])
    return "".join(out)


def plain_text(value: str | None, limit: int) -> str:
    """Untrusted feed text (maybe HTML, maybe double-encoded) as one line of plain text."""
    if not value:
        return ""
    text = value[: limit * 20]
    for _ in range(3):
        before = text
        if "<" in text:
            text = _drop_hidden_blocks(text)
            text = _BLOCK_TAG.sub(" ", text)
            text = _TAG.sub("", text)
        if "&" in text:
            text = html.unescape(text)
        if text == before:
            break
    text = _INVISIBLE.sub("", text)
    text = _SPACE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "\u2026"
    return text


def canonical_link(link: str | None, base: str | None = None) -> str | None:
    """The link without tracking, fragment or user info, host lower-cased; None unless http(s)."""
    if not link:
        return None
    link = _INVISIBLE.sub("", link).strip()
    if not link or len(link) > MAX_LINK_CHARS * 2:
        return None
    try:
        if base:
            link = urljoin(base, link)
        parts = urlsplit(link)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    host_only = parts.hostname.lower().rstrip(".")
    extra = HOST_TRACKING_PARAMS.get(host_only, frozenset())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(k, extra)]
    canonical = urlunsplit((scheme, host, parts.path or "/", urlencode(query, doseq=True), ""))
    return canonical[:MAX_LINK_CHARS]


def _is_tracking(name: str, extra: frozenset[str]) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered in extra or lowered.startswith(TRACKING_PREFIXES)


def is_google_news(feed_url: str) -> bool:
    try:
        host = (urlsplit(feed_url).hostname or "").lower()
    except ValueError:
        return False
    return host == "news.google.com" or host.endswith(".news.google.com")


def split_outlet(title: str, source: str | None, google_news: bool) -> tuple[str, str | None]:
    """("Headline", "Publisher") from "Headline - Publisher", using <source> when it is there."""
    if source:
        for dash in (" - ", " \u2013 ", " \u2014 ", " | "):
            if title.endswith(dash + source) and len(title) > len(dash + source):
                return title[: -len(dash + source)].rstrip(), source
        return title, source
    if google_news:
        found = _OUTLET_SUFFIX.search(title)
        if found and found.start() > 0:
            return title[: found.start()].rstrip(), found.group(1).strip()
    return title, None


def utc_date(value: datetime | None, now: datetime) -> datetime | None:
    """`value` in UTC, or None when it is missing or absurd (see the module docstring)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    if value < EARLIEST or value > now + CLOCK_SLIP:
        return None
    return min(value, now.astimezone(timezone.utc))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def item_key(guid: str | None, link: str | None, title: str, outlet: str | None) -> str:
    """Stable identity: guid, else canonical link, else title and outlet (64 hex chars)."""
    guid = _SPACE.sub(" ", _INVISIBLE.sub("", guid or "")).strip()
    if guid:
        return _digest("guid", guid[:MAX_LINK_CHARS])
    if link:
        return _digest("link", link)
    return _digest("title", title.casefold(), (outlet or "").casefold())


def content_hash(title: str, summary: str) -> str:
    return _digest("content", title, summary)


def normalize_entry(entry: RawEntry, *, feed_id: int | None, feed_url: str, feed_title: str,
                    google_news: bool, now: datetime) -> NewsItem | None:
    raw_title = plain_text(entry.title, MAX_TITLE_CHARS * 2)
    summary = plain_text(entry.summary, MAX_SUMMARY_CHARS)
    source = plain_text(entry.source_title, MAX_OUTLET_CHARS) or None
    headline, outlet = split_outlet(raw_title, source, google_news)
    headline = plain_text(headline, MAX_TITLE_CHARS)
    if not headline:
        headline = plain_text(summary, 160)
    if not headline:
        return None
    if google_news and summary:  # Google's description repeats the headline and the outlet
        if summary.startswith(headline) and (not outlet or summary[len(headline):].strip() in ("", outlet)):
            summary = ""
    link = canonical_link(entry.link, feed_url)
    return NewsItem(
        key=item_key(entry.guid, link, headline, outlet),
        title=headline,
        outlet=(outlet or feed_title or None),
        link=link,
        summary=summary,
        published=utc_date(entry.published or entry.updated, now),
        content_hash=content_hash(headline, summary),
        feed_id=feed_id,
    )


def normalize_entries(parsed: ParsedFeed, *, feed_id: int | None, feed_url: str, now: datetime) -> list[NewsItem]:
    """The feed's entries as Items, in feed order, one per key; entries with no text are skipped."""
    google_news = is_google_news(feed_url)
    feed_title = "" if google_news else plain_text(parsed.title, MAX_OUTLET_CHARS)
    items: list[NewsItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        item = normalize_entry(entry, feed_id=feed_id, feed_url=feed_url, feed_title=feed_title,
                               google_news=google_news, now=now)
        if item is not None and item.key not in seen:
            seen.add(item.key)
            items.append(item)
    return items
