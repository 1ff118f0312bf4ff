"""End to end from classified items to what readers see in channels (the in-memory platform).

Items are stored and filed into stories as the orchestrator does (watchers.stories.store), then
fan-out queues the messages and the outbox sender posts them; the assertions are on the exact
parents, threads and edits of each channel.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.delivery.fanout import fan_out
from bot.platforms.memory import MemoryPlatform
from bot.delivery.outbox import OutboxSender
from tests.delivery_support import META_SCALE, T0, ManualClock, add_channel, add_item
from watchers.models import Event
from watchers.rules.registry import load_registry
from watchers.settings import default_seeds_dir

FUNDING = [Event(type="funding", subject="scale-ai", counterparty="meta", amount_usd=14.3e9, stake_pct=49.0,
                 rule="funding.stake", evidence="Meta takes a 49% stake in Scale AI")]
HIRE = [e for e in META_SCALE if e.type == "leadership_change"]


@pytest.fixture
def registry():  # noqa: ANN201
    return load_registry(default_seeds_dir() / "companies.toml")


async def deliver(engine, settings, platform, clock, registry) -> int:  # noqa: ANN001
    await fan_out(engine, settings, now=clock(), registry=registry)
    return await OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep).drain()


async def test_a_story_becomes_one_alert_with_a_thread_edits_and_a_flagged_follow_up(engine, settings,
                                                                                     registry) -> None:
    await add_channel(engine, "C-both", {"scale-ai": [], "meta": []})
    await add_channel(engine, "C-meta", {"meta": []})
    await add_channel(engine, "C-openai", {"openai": []})
    platform, clock = MemoryPlatform(), ManualClock()

    await add_item(engine, "Meta takes 49% stake in Scale AI for $14.3 billion - Reuters", FUNDING, at=clock(),
                   outlet="Reuters", link="https://reuters.example/scale")
    # the parent and its context, in C-both and in C-meta (Meta is the investor)
    assert await deliver(engine, settings, platform, clock, registry) == 4
    clock.advance(120)
    await add_item(engine, "Meta invests $14.3B in Scale AI", FUNDING, at=clock(), outlet="CNBC",
                   link="https://cnbc.example/scale")
    await fan_out(engine, settings, now=clock(), registry=registry)
    clock.advance(5)
    await add_item(engine, "Scale AI gets $14.3 billion from Meta for a 49% stake", FUNDING, at=clock(),
                   outlet="The Verge", link="https://verge.example/scale")
    await deliver(engine, settings, platform, clock, registry)
    clock.advance(3 * 3600)
    hire_id, _ = await add_item(engine, "Meta hires Scale AI CEO Alexandr Wang after its investment", HIRE,
                                at=clock(), outlet="Bloomberg", link="https://bloomberg.example/wang")
    await deliver(engine, settings, platform, clock, registry)

    assert platform.transcript("C-both").splitlines() == [
        "Scale AI / Meta: Funding, Leadership change <https://reuters.example/scale>",
        "Meta takes 49% stake in Scale AI for $14.3 billion <https://reuters.example/scale>",
        "What: Funding of Scale AI from Meta: $14.3B, 49% stake",
        "Leadership change at Scale AI: Alexandr Wang (CEO)",
        "Leadership change at Meta: Alexandr Wang (CEO)",
        "Sources: 4 outlets: Reuters, CNBC, The Verge, Bloomberg",
        "Why: rule funding.stake: \u201cMeta takes a 49% stake in Scale AI\u201d; "
        "rule leadership.poach: \u201chires its CEO Alexandr Wang\u201d; this channel watches Scale AI, Meta",
        "story 1 \u00b7 first seen 2025-06-12 14:00 UTC",
        "    Context: Scale AI",
        "    Scale AI's known customers: OpenAI, Meta, Google, Microsoft",
        "    Scale AI's known investors: Meta, Amazon, Nvidia",
        "    More coverage: 2 more sources",
        "    Meta invests $14.3B in Scale AI <https://cnbc.example/scale> \u2014 CNBC",
        "    Scale AI gets $14.3 billion from Meta for a 49% stake <https://verge.example/scale> \u2014 The Verge",
        "    [new event type] New in this story: Leadership change",
        "    Meta hires Scale AI CEO Alexandr Wang after its investment <https://bloomberg.example/wang> \u2014 Bloomberg",
        "    What: Leadership change at Scale AI: Alexandr Wang (CEO)",
        "    Leadership change at Meta: Alexandr Wang (CEO)",
        "    Why: rule leadership.poach: \u201chires its CEO Alexandr Wang\u201d",
    ]
    both_parent = platform.parents("C-both")[0]
    assert len(both_parent.edits) == 2  # one coalesced edit for the coverage, one for the hire
    # a channel watching only Meta hears of the story (Meta is the investor): one parent
    meta_parents = platform.parents("C-meta")
    assert len(meta_parents) == 1
    assert meta_parents[0].message.title == "Scale AI: Funding"
    assert meta_parents[0].edits[-1].title == "Scale AI / Meta: Funding, Leadership change"
    assert platform.parents("C-openai") == []

    # the publisher edits an item: the orchestrator does not refile it, and fan-out again sends nothing
    assert await fan_out(engine, settings, now=clock(), registry=registry) == 0
    sent_before = len(platform.messages)
    assert await OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep).drain() == 0
    assert len(platform.messages) == sent_before
    assert hire_id == 4


async def test_the_thread_opens_with_the_companys_relationships_and_earlier_events(engine, settings,
                                                                                   registry) -> None:
    await add_channel(engine, "C1", {"scale-ai": []})
    platform, clock = MemoryPlatform(), ManualClock()
    await add_item(engine, "Scale AI lays off 14% of staff", [Event(type="layoffs", subject="scale-ai")],
                   at=clock() - timedelta(days=20), outlet="TechCrunch")
    await add_item(engine, "OpenAI winds down work with Scale AI",
                   [Event(type="customer_loss", subject="scale-ai", counterparty="openai",
                          rule="customer_loss.winds_down", evidence="winds down work with Scale AI")],
                   at=clock(), outlet="Bloomberg", link="https://bloomberg.example/openai-scale")
    await fan_out(engine, settings, now=clock(), registry=registry)
    await OutboxSender(engine, settings, {"memory": platform}, clock=clock, sleep=clock.sleep).drain()
    parents = platform.parents("C1")
    assert [p.message.title for p in parents] == ["Scale AI: Layoffs", "Scale AI: Customer loss"]
    assert "What: Scale AI loses OpenAI as a customer" in parents[1].message.to_text()
    context = platform.thread(parents[1].id)[0].message.to_text().splitlines()
    assert context == [
        "Context: Scale AI",
        "Earlier events (last 90 days):",
        "2025-05-23: Layoffs at Scale AI \u2014 \u201cScale AI lays off 14% of staff\u201d",
        "Scale AI's known customers: OpenAI, Meta, Google, Microsoft",
        "Scale AI's known investors: Meta, Amazon, Nvidia",
    ]


async def test_feed_markup_reaches_the_platform_as_plain_text(engine, settings, registry) -> None:
    await add_channel(engine, "C1", {"scale-ai": []})
    platform, clock = MemoryPlatform(), ManualClock()
    evidence = "<!channel> Scale AI raises <https://evil.example|$1B> @everyone"
    await add_item(engine, "Scale AI raises $1B @everyone <!here>",
                   [Event(type="funding", subject="scale-ai", evidence=evidence, rule="funding.raise")],
                   at=clock(), outlet="@here news", link="https://example.com/a")
    await deliver(engine, settings, platform, clock, registry)
    text = platform.transcript("C1")
    assert f"\u201c{evidence}\u201d" in text  # carried as plain text; the Slack and Discord renderers escape it
    assert "Sources: 1 outlet: @here news" in text


async def test_feeds_polled_by_the_orchestrator_reach_the_channel_once(engine, settings, registry,
                                                                       feed_server) -> None:
    from datetime import datetime, timezone

    from tests.feed_fixtures import rss
    from watchers.rules.classify import RulesEngine
    from watchers.feeds.sources import add_user_feed
    from watchers.orchestrator import Orchestrator
    from watchers.rules.provider import RulesProvider
    from watchers.storage.db import session_scope

    settings = settings.replace(thread_batch_seconds=0.0)
    now = datetime.now(timezone.utc)
    orchestrator = Orchestrator(settings, engine, rules=RulesProvider.fixed(RulesEngine.load(default_seeds_dir())))
    feed_server.serve("/wire.xml", rss([("w1", "Scale AI raises $1 billion from Meta", now - timedelta(minutes=30),
                                         "", "https://wire.example/scale")], title="Wire"),
                      content_type="application/rss+xml")
    feed_server.serve("/blog.xml", rss([("b1", "Meta invests $1 billion in Scale AI @everyone",
                                         now - timedelta(minutes=20), "", "https://blog.example/scale")],
                                       title="Blog"),
                      content_type="application/rss+xml")
    feed_ids = []
    async with session_scope(engine) as session:
        for path in ("/wire.xml", "/blog.xml"):
            feed_ids.append((await add_user_feed(session, feed_server.url(path), path, None, settings)).id)
    await add_channel(engine, "C1", {"scale-ai": []})
    platform = MemoryPlatform()
    sender = OutboxSender(engine, settings, {"memory": platform})
    try:
        await orchestrator.poll_feed(feed_ids[0])
        await fan_out(engine, settings, now=datetime.now(timezone.utc), registry=registry)
        await sender.drain()
        await orchestrator.poll_feed(feed_ids[1])
        await fan_out(engine, settings, now=datetime.now(timezone.utc), registry=registry)
        await sender.drain()
        # the publisher edits its item: stored as an update, never fanned out again
        feed_server.serve("/wire.xml", rss([("w1", "Scale AI raises $1 billion from Meta, sources say",
                                             now - timedelta(minutes=30), "", "https://wire.example/scale")],
                                           title="Wire"), content_type="application/rss+xml")
        await orchestrator.poll_feed(feed_ids[0])
        assert await fan_out(engine, settings, now=datetime.now(timezone.utc), registry=registry) == 0
        assert await sender.drain() == 0
    finally:
        await orchestrator.aclose()
    parents = platform.parents("C1")
    assert len(parents) == 1
    assert parents[0].message.title == "Scale AI: Funding"
    assert parents[0].current.fields[1].value == "2 outlets: Wire, Blog"
    replies = [m.message.title for m in platform.thread(parents[0].id)]
    assert replies[-1] == "More coverage: 1 more source"
    assert "Meta invests $1 billion in Scale AI @everyone" in platform.transcript("C1")


async def test_the_console_prints_parents_and_indented_thread_replies() -> None:
    import io

    from bot.platforms.console import ConsolePlatform
    from bot.messages import Message

    out = io.StringIO()
    console = ConsolePlatform(out)
    parent = await console.post("demo", Message(title="Scale AI: Funding", url="https://example.com/a"))
    await console.post("demo", Message(title="More coverage: 1 more source"), thread=parent)
    await console.edit("demo", parent, Message(title="Scale AI: Funding, 2 outlets"))
    assert await console.find_sent("demo", "any") is None
    assert out.getvalue().splitlines()[1:] == [
        "#1 [demo]", "Scale AI: Funding <https://example.com/a>",
        "    \u21b3 in the thread of #1:", "    More coverage: 1 more source",
        "    (updated #1)", "    Scale AI: Funding, 2 outlets",
    ]
