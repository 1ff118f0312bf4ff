"""Small RSS documents for the poll tests (orchestrator, poller, CLI, benchmark)."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Iterable
from xml.sax.saxutils import escape

Entry = tuple  # (guid, title, published[, summary[, link]])


def rss(entries: Iterable[Entry], *, title: str = "Test feed", ttl_minutes: int | None = None,
        base_link: str = "https://news.example.com") -> bytes:
    """An RSS 2.0 document; each entry is (guid, title, published datetime or None[, summary[, link]])."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>', '<rss version="2.0"><channel>',
             f"<title>{escape(title)}</title><link>{escape(base_link)}/</link><description>test</description>"]
    if ttl_minutes is not None:
        parts.append(f"<ttl>{ttl_minutes}</ttl>")
    for entry in entries:
        guid, headline, published = entry[0], entry[1], entry[2]
        summary = entry[3] if len(entry) > 3 else ""
        link = entry[4] if len(entry) > 4 else f"{base_link}/articles/{guid}"
        parts.append("<item>")
        parts.append(f"<guid isPermaLink=\"false\">{escape(guid)}</guid><title>{escape(headline)}</title>"
                     f"<link>{escape(link)}</link><description>{escape(summary)}</description>")
        if isinstance(published, datetime):
            parts.append(f"<pubDate>{format_datetime(published)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()
