"""`why LINK-OR-HEADLINE`: the path of one item through the pipeline, for this channel.

The item is found by its canonical link (a few spellings of it), else by headline: exact
(case-insensitive), then contained (20 characters or more), then fuzzy among recent items
(four words or more); the newest item wins a tie.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from rapidfuzz import fuzz, process
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands.invocation import Context, find_channel
from bot.commands.delivery_reason import explain_delivery, feedback_notes
from bot.commands.parsing import Command, CommandError
from bot.company_activity import format_usd
from bot.messages import Field, Message, Reply
from bot.wording import person_text, type_words
from watchers.feeds.normalize import canonical_link
from watchers.storage.db import session_scope
from watchers.storage.stories import Story
from watchers.storage.tables import Feed, Item

WHY_USAGE = "/vendorwatch why LINK-OR-HEADLINE"
FUZZY_RECENT_ITEMS = 5000
FUZZY_MIN_SCORE = 80
MIN_PARTIAL_CHARS = 20  # a shorter text inside many headlines would pick one at random
MIN_FUZZY_WORDS = 4
_SLACK_LINK = re.compile(r"^<(https?://[^|>]+)(?:\|[^>]*)?>$")


def extract_link(text: str) -> str | None:
    """The URL the text is (Slack wraps links as <url> or <url|label>), else None."""
    stripped = text.strip()
    slack = _SLACK_LINK.match(stripped)
    if slack:
        return slack.group(1)
    if re.match(r"^https?://\S+$", stripped, re.IGNORECASE):
        return stripped
    return None


def link_variants(url: str) -> list[str]:
    """Spellings under which the same article may be stored: the canonical link first (as
    normalize stores it: no tracking parameters), then with and without www, a trailing slash,
    https or http, the query."""
    canonical = canonical_link(url) or url
    parts = urlsplit(canonical)
    host = parts.netloc.lower()
    hosts = [host, host[4:] if host.startswith("www.") else "www." + host]
    paths = [parts.path or "/", (parts.path.rstrip("/") or "/") if parts.path.endswith("/") else parts.path + "/"]
    queries = [parts.query, ""] if parts.query else [""]
    variants = [canonical, url]
    for scheme in ("https", "http"):
        for h in hosts:
            for path in paths:
                for query in queries:
                    variants.append(urlunsplit((scheme, h, path, query, "")))
    return list(dict.fromkeys(variants))


async def find_item(session: AsyncSession, text: str) -> Item:
    link = extract_link(text)
    if link is not None:
        for variant in link_variants(link):
            item = (await session.exec(select(Item).where(Item.link == variant)
                                       .order_by(Item.first_seen_at.desc()))).first()  # type: ignore[attr-defined]
            if item is not None:
                return item
        raise CommandError("I have no item with that link; try its headline instead.")
    wanted = " ".join(text.split())
    lowered = func.lower(Item.title)
    item = (await session.exec(select(Item).where(lowered == wanted.lower())
                               .order_by(Item.first_seen_at.desc()))).first()  # type: ignore[attr-defined]
    if item is None and len(wanted) >= MIN_PARTIAL_CHARS:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", wanted.lower()) + "%"
        item = (await session.exec(select(Item).where(lowered.like(pattern, escape="\\"))
                                   .order_by(Item.first_seen_at.desc()))).first()  # type: ignore[attr-defined]
    if item is None and len(wanted.split()) >= MIN_FUZZY_WORDS:
        recent = (await session.exec(select(Item.id, Item.title).order_by(
            Item.first_seen_at.desc()).limit(FUZZY_RECENT_ITEMS))).all()  # type: ignore[attr-defined]
        match = process.extractOne(wanted.lower(), {row[0]: row[1].lower() for row in recent},
                                   scorer=fuzz.token_set_ratio, score_cutoff=FUZZY_MIN_SCORE)
        if match is not None:
            item = await session.get(Item, match[2])
    if item is None:
        raise CommandError("I found no item with that headline; paste its link or more of the headline.")
    return item


async def why(ctx: Context, command: Command) -> Reply:
    if not command.raw_args:
        raise CommandError(f"Which item? Usage: {WHY_USAGE}")
    async with session_scope(ctx.engine) as session:
        await ctx.directory.refresh(session)
        item = await find_item(session, command.raw_args.strip('"\u201c\u201d '))
        feed = await session.get(Feed, item.feed_id) if item.feed_id is not None else None
        story = await session.get(Story, item.story_id) if item.story_id is not None else None
        channel = await find_channel(session, ctx.request)
        decision = await explain_delivery(session, item, story, channel, ctx.directory.name_of)
        feedback = await feedback_notes(session, story, channel)
    name_of = ctx.directory.name_of
    fields = [
        Field("Feed", _feed_line(item, feed)),
        Field("Rules", _rules_line(item, name_of)),
        Field("Story", _story_line(story)),
        Field("This channel", decision),
    ]
    if feedback:
        fields.append(Field("Feedback here", feedback))
    return Reply(message=Message(title=f"Why: {item.title}", url=item.link, fields=tuple(fields), accent="info"))


def _feed_line(item: Item, feed: Feed | None) -> str:
    seen = f"first seen {item.first_seen_at:%Y-%m-%d %H:%M} UTC"
    published = f", published {item.published_at:%Y-%m-%d %H:%M} UTC" if item.published_at else ""
    outlet = f" via {item.outlet}" if item.outlet else ""
    if feed is None:
        return f"a feed since removed{outlet}; {seen}{published}"
    label = f"{feed.name} ({feed.url})" if feed.name else feed.url
    return f"{label}{outlet}; {seen}{published}"


def _rules_line(item: Item, name_of) -> str:  # noqa: ANN001
    if not item.events:
        if item.companies:
            return "no event found; companies mentioned: " + ", ".join(name_of(s) for s in item.companies)
        return "no tracked company mentioned"
    lines = []
    for event in item.events:
        text = f"{type_words(event.type or '?')} of {name_of(event.subject or '?')}"
        if event.counterparty:
            text += f" with {name_of(event.counterparty)}"
        if event.amount_usd is not None:
            text += f", {format_usd(event.amount_usd)}"
        if event.person or event.role:
            text += ", " + person_text(event.person, event.role)
        if event.status and event.status != "done":
            text += f" [{event.status}]"
        if event.rule:
            text += f"; rule {event.rule}"
        if event.evidence:
            text += f"; evidence \u201c{event.evidence}\u201d"
        lines.append(text)
    return "\n".join(lines)


def _story_line(story: Story | None) -> str:
    if story is None:
        return "none (an item joins a story when the rules find an event in it)"
    outlets = len(story.outlets or [])
    return (f"\u201c{story.title}\u201d (story {story.id}: {outlets} outlet{'s' if outlets != 1 else ''}, "
            f"{story.item_count} item{'s' if story.item_count != 1 else ''}, since "
            f"{story.first_seen_at:%Y-%m-%d %H:%M} UTC)")
