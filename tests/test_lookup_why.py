"""`lookup` (the company card) and `why` (an item's path to this channel), on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.commands import CommandCore
from bot.commands.why import extract_link, link_variants
from bot.commands.company_card import known_relationships
from tests.command_support import NOW, request, store_item, test_registry
from watchers.models import Event
from watchers.storage.db import session_scope
from watchers.storage.delivery import Alert, Channel, ItemFanout, Outbox, Subscription
from watchers.storage.tables import Item

FUNDING = Event(type="funding", subject="scale-ai", counterparty="meta", amount_usd=1.0e9,
                round="Series F", rule="funding.raise", evidence="raises $1 billion")


@pytest.fixture
def core(engine, settings) -> CommandCore:  # noqa: ANN001
    return CommandCore(engine, settings, test_registry(), clock=lambda: NOW)


async def scale_news(engine) -> None:  # noqa: ANN001
    raise_story = {"title": "Scale AI raises $1B from Meta", "link": "https://news.example/scale-1b",
                   "outlets": ["Reuters", "Bloomberg", "TechCrunch"], "item_count": 2}
    await store_item(engine, key="f1", title="Scale AI raises $1B from Meta", events=[FUNDING],
                     when=NOW - timedelta(days=10), link="https://news.example/scale-1b", outlet="Reuters",
                     story=raise_story)
    await store_item(engine, key="f2", title="Meta puts $1.2 billion into Scale AI",
                     events=[replace(FUNDING, amount_usd=1.2e9)], when=NOW - timedelta(days=9),
                     link="https://other.example/meta-scale", outlet="Bloomberg", story=raise_story)
    await store_item(engine, key="c1", title="OpenAI winds down work with Scale AI",
                     events=[Event(type="customer_loss", subject="scale-ai", counterparty="openai")],
                     when=NOW - timedelta(days=20), link="https://news.example/openai-scale", outlet="The Information",
                     story={"title": "OpenAI winds down work with Scale AI", "outlets": ["The Information"]})
    await store_item(engine, key="l1", title="Scale AI names Jane Doe CFO",
                     events=[Event(type="leadership_change", subject="scale-ai", person="Jane Doe",
                                   role="CFO")], when=NOW - timedelta(days=5), link="https://news.example/cfo")
    await store_item(engine, key="p1", title="Google signs data deal with Scale AI",
                     events=[Event(type="partnership", subject="scale-ai", counterparty="google")],
                     when=NOW - timedelta(days=3))
    await store_item(engine, key="old", title="Scale AI raised money long ago",
                     events=[replace(FUNDING, amount_usd=5e6)], when=NOW - timedelta(days=120))
    await store_item(engine, key="denied", title="Scale AI denies Google talks",
                     events=[Event(type="acquisition", subject="scale-ai", counterparty="google",
                                   status="denied")], when=NOW - timedelta(days=2))


def name_of(slug: str) -> str:
    return test_registry().get(slug).name


async def test_lookup_card(core: CommandCore, engine) -> None:  # noqa: ANN001
    await scale_news(engine)
    reply = await core.handle(request("lookup remotasks"))
    assert not reply.is_error and reply.message is not None
    assert reply.message.to_text() == "\n".join([
        "Scale AI: the last 90 days",
        "Top stories",
        "Scale AI raises $1B from Meta <https://news.example/scale-1b> (3 outlets, 2026-11-15)",
        "Scale AI denies Google talks (1 outlet, 2026-11-23)",
        "Google signs data deal with Scale AI (1 outlet, 2026-11-22)",
        "Scale AI names Jane Doe CFO <https://news.example/cfo> (1 outlet, 2026-11-20)",
        "OpenAI winds down work with Scale AI (1 outlet, 2026-11-05)",
        "Events, last 90 days: funding 1, leadership change 1, customer loss 1, partnership 1",
        "Latest funding: $1.2B (Series F) from Meta on 2026-11-15: Scale AI raises $1B from Meta",
        "Leadership changes: Jane Doe (CFO), 2026-11-20",
        "Customers gained: Google",
        "Customers lost: OpenAI",
        "Known relationships: " + known_relationships(test_registry().get("scale-ai"), name_of),
        "scale-ai (vendor); each event counted once per story",
    ])


async def test_lookup_quiet_company(core: CommandCore) -> None:
    reply = await core.handle(request("lookup thinking machines"))
    assert reply.message is not None
    assert reply.message.to_text() == ("Thinking Machines Lab: the last 90 days\nNo coverage in the last 90 days.\n"
                                       "Events, last 90 days: none found\nthinking-machines (lab); each event "
                                       "counted once per story")


def test_link_spellings() -> None:
    assert extract_link("<https://a.example/x|A headline>") == "https://a.example/x"
    assert extract_link("<https://a.example/x>") == "https://a.example/x"
    assert extract_link("Scale AI raises") is None
    variants = link_variants("http://www.a.example/x/?utm=1")
    assert "https://a.example/x" in variants and "https://www.a.example/x/?utm=1" in variants


async def why_text(core: CommandCore, text: str) -> str:
    reply = await core.handle(request("why " + text))
    assert not reply.is_error, reply.text
    assert reply.message is not None
    return reply.message.to_text()


async def test_why_not_watched_by_link_and_headline(core: CommandCore, engine) -> None:  # noqa: ANN001
    await scale_news(engine)
    expected = "\n".join([
        "Why: Scale AI raises $1B from Meta <https://news.example/scale-1b>",
        "Feed: Example News (https://news.example/feed.xml) via Reuters; first seen 2026-11-15 12:00 UTC, "
        "published 2026-11-15 12:00 UTC",
        "Rules: funding of Scale AI with Meta, $1B [rule funding.raise]; evidence \u201craises $1 billion\u201d"
        .replace(" [rule funding.raise]", "; rule funding.raise"),
        "Story: \u201cScale AI raises $1B from Meta\u201d (story 1: 3 outlets, 2 items, since 2026-11-15 12:00 UTC)",
        "This channel: not sent: this channel does not watch Scale AI or Meta.",
    ])
    assert await why_text(core, "<https://news.example/scale-1b/|Scale>") == expected
    assert await why_text(core, "https://NEWS.example/scale-1b?utm_source=slack&fbclid=x#top") == expected
    assert await why_text(core, "scale ai RAISES $1b from meta") == expected
    assert (await why_text(core, "Scale AI raizes 1B from Meta")).startswith("Why: Scale AI raises $1B from Meta")


async def test_why_type_filtered_late_subscription_and_paused(core: CommandCore, engine) -> None:  # noqa: ANN001
    await scale_news(engine)
    async with session_scope(engine) as session:
        first = (await session.exec(select(Item).where(Item.key == "f1"))).one()
        session.add(ItemFanout(item_id=first.id, story_id=first.story_id, done_at=NOW - timedelta(days=10)))
    await core.handle(request("watch scale ai layoffs"))
    assert (await why_text(core, "https://news.example/scale-1b")).endswith(
        "This channel: not sent: this channel watches Scale AI only for layoffs, and this item is funding.")
    await core.handle(request("watch scale ai funding"))
    assert (await why_text(core, "https://news.example/scale-1b")).endswith(
        "This channel: not sent: when it was delivered (2026-11-15 12:00 UTC) this channel did not watch Scale AI "
        "yet (since 2026-11-25 12:00 UTC).")
    assert (await why_text(core, "https://other.example/meta-scale")).endswith(
        "This channel: not sent yet: it waits for the next delivery pass.")
    async with session_scope(engine) as session:
        sub = (await session.exec(select(Subscription))).one()
        sub.created_at = NOW - timedelta(days=30)
        session.add(sub)
    assert (await why_text(core, "https://news.example/scale-1b")).endswith(
        "This channel: not sent: no message was queued for this channel when it was delivered.")
    async with session_scope(engine) as session:
        sub = (await session.exec(select(Subscription))).one()
        sub.paused_reason, sub.paused_at = "missing_access", NOW - timedelta(hours=1)
        session.add(sub)
    assert (await why_text(core, "https://news.example/scale-1b")).endswith(
        "This channel: not sent: alerts for Scale AI are paused here since 2026-11-25 11:00 UTC: missing_access.")


async def test_why_history_and_no_event(core: CommandCore, engine) -> None:  # noqa: ANN001
    await store_item(engine, key="h1", title="Mercor hires a CTO", history=True, when=NOW - timedelta(days=6),
                     events=[Event(type="leadership_change", subject="mercor")])
    await store_item(engine, key="n1", title="Mercor at a conference", events=[], companies=["mercor"],
                     when=NOW - timedelta(days=1))
    await store_item(engine, key="n2", title="Weather is nice", events=[], companies=[], when=NOW)
    text = await why_text(core, "Mercor hires a CTO")
    assert text.endswith("This channel: not sent: it was already old when its feed was first polled "
                         "(published 2026-11-19); such items are kept as history, never alerted.")
    assert "Story: none (an item joins a story when the rules find an event in it)" in text
    text = await why_text(core, "Mercor at a conference")
    assert "Rules: no event found; companies mentioned: Mercor" in text
    assert text.endswith("This channel: not sent: the rules found no event in it, and only items with events "
                         "are alerted.")
    assert "Rules: no tracked company mentioned" in await why_text(core, '"Weather is nice"')


async def test_why_sent_and_already_in_thread(core: CommandCore, engine) -> None:  # noqa: ANN001
    await scale_news(engine)
    await core.handle(request("watch scale ai"))
    async with session_scope(engine) as session:
        channel = (await session.exec(select(Channel))).one()
        parent = Outbox(idempotency_key="alert:1", channel_pk=channel.id, kind="post", story_id=1, status="sent",
                        sent_at=NOW - timedelta(days=10), platform_message_id="171.1")
        session.add(parent)
        await session.flush()
        session.add(Outbox(idempotency_key="more:1", channel_pk=channel.id, kind="reply", story_id=1,
                           parent_outbox_id=parent.id, payload={"items": [{"key": "f2", "title": "Meta puts"}]}))
        session.add(Alert(channel_pk=channel.id, story_id=1, parent_outbox_id=parent.id, item_keys=["f1", "f2"],
                          event_types=["funding"]))
    assert (await why_text(core, "https://news.example/scale-1b")).endswith(
        "This channel: sent as the story's message: sent 2026-11-15 12:00 UTC.")
    assert (await why_text(core, "https://other.example/meta-scale")).endswith(
        "This channel: not sent as a new message: its story was already posted here (message of "
        "2026-11-15 12:00 UTC), so it went into that message's thread: queued, not sent yet (attempts so far: 0).")
    await core.handle(request("unwatch scale ai"))
    assert (await why_text(core, "https://news.example/scale-1b")).endswith(
        "This channel: sent as the story's message: sent 2026-11-15 12:00 UTC.")


async def test_why_finds_nothing(core: CommandCore, engine) -> None:  # noqa: ANN001
    await scale_news(engine)
    reply = await core.handle(request("why https://nowhere.example/x"))
    assert reply.is_error and reply.text == "I have no item with that link; try its headline instead."
    reply = await core.handle(request("why completely unrelated words here"))
    assert reply.is_error
    assert reply.text == "I found no item with that headline; paste its link or more of the headline."
    reply = await core.handle(request("why 100%_match"))
    assert reply.is_error
    reply = await core.handle(request("why Scale AI"))  # in many headlines: too short to pick one
    assert reply.is_error
    assert (await why_text(core, "OpenAI winds down work with Scale AI - Reuters")).startswith(
        "Why: OpenAI winds down work with Scale AI")
    assert (await why_text(core, "winds down work with Scale")).startswith("Why: OpenAI winds down work with Scale AI")
