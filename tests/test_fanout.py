"""Fan-out: which channels get a parent, a thread reply, an edit, a flagged reply; idempotency."""

from __future__ import annotations

from datetime import timedelta

from bot.delivery.fanout import fan_out
from bot.messages import Message
from tests.delivery_support import META_SCALE, T0, add_channel, add_item, outbox_rows
from watchers.models import Event
from watchers.storage.db import session_scope
from watchers.storage.delivery import Alert, ItemFanout
from watchers.storage.stories import Story

FUNDING = [Event(type="funding", subject="scale-ai", counterparty="meta", amount_usd=14.3e9,
                 rule="funding.stake", evidence="Meta invests $14.3 billion in Scale AI")]


async def test_an_item_with_several_events_is_one_parent_in_a_channel_watching_both(engine, settings) -> None:
    both = await add_channel(engine, "C-both", {"meta": [], "scale-ai": []})
    _, stories = await add_item(engine, "Meta takes 49% of Scale AI for $14.3 billion and hires its CEO", META_SCALE,
                                at=T0, outlet="Reuters", link="https://example.com/a")
    assert len(stories) == 1
    await fan_out(engine, settings, now=T0)
    rows = await outbox_rows(engine, both)
    assert [r.kind for r in rows if r.parent_outbox_id is None] == ["post"]
    text = Message.from_dict(rows[0].payload["message"]).to_text()
    assert "scale-ai / meta: Funding, Leadership change" in text
    assert "Funding of scale-ai from meta: $14.3B, 49% stake" in text
    assert "Leadership change at meta: Alexandr Wang (CEO)" in text
    assert "rule funding.stake: \u201cMeta takes 49% stake in Scale AI\u201d" in text
    assert "this channel watches scale-ai, meta" in text


async def test_subscriptions_filter_types_and_paused_channels_get_nothing(engine, settings) -> None:
    layoffs_only = await add_channel(engine, "C-layoffs", {"scale-ai": ["layoffs"]})
    paused = await add_channel(engine, "C-paused", {"scale-ai": []}, paused="channel_not_found")
    other = await add_channel(engine, "C-other", {"openai": []})
    funding_only = await add_channel(engine, "C-funding", {"scale-ai": ["funding"]})
    await add_item(engine, "Meta invests $14.3 billion in Scale AI", FUNDING, at=T0, outlet="Reuters")
    assert await fan_out(engine, settings, now=T0) == 1
    assert await outbox_rows(engine, layoffs_only) == []
    assert await outbox_rows(engine, paused) == []
    assert await outbox_rows(engine, other) == []
    assert [r.kind for r in await outbox_rows(engine, funding_only)] == ["post"]


async def test_history_items_and_items_without_events_are_not_fanned_out(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    await add_item(engine, "Meta invests $14.3 billion in Scale AI", FUNDING, at=T0, outlet="Reuters", history=True)
    await add_item(engine, "Scale AI hosts a meetup", [], at=T0, outlet="Blog")
    assert await fan_out(engine, settings, now=T0) == 0
    assert await outbox_rows(engine, channel) == []


async def test_later_coverage_is_one_batched_reply_and_one_parent_edit(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    await add_item(engine, "Meta invests $14.3 billion in Scale AI", FUNDING, at=T0, outlet="Reuters",
                   link="https://reuters.example/a")
    await fan_out(engine, settings, now=T0)
    async with session_scope(engine) as session:  # the parent went out
        parent = (await outbox_rows(engine, channel))[0]
        parent.status, parent.platform_message_id = "sent", "m1"
        session.add(parent)
    second = T0 + timedelta(minutes=5)
    await add_item(engine, "Meta to invest $14.3B in Scale AI, taking a 49% stake", FUNDING, at=second,
                   outlet="CNBC", link="https://cnbc.example/b")
    await fan_out(engine, settings, now=second)
    await add_item(engine, "Scale AI gets $14.3 billion from Meta", FUNDING, at=second + timedelta(seconds=5),
                   outlet="The Verge", link="https://verge.example/c")
    await fan_out(engine, settings, now=second + timedelta(seconds=5))
    rows = await outbox_rows(engine, channel)
    assert [r.kind for r in rows] == ["post", "reply", "edit"]
    reply, edit = rows[1], rows[2]
    assert reply.parent_outbox_id == parent.id and edit.parent_outbox_id == parent.id
    assert reply.next_attempt_at == second + timedelta(seconds=settings.thread_batch_seconds)
    assert Message.from_dict(reply.payload["message"]).to_text().splitlines() == [
        "More coverage: 2 more sources",
        "Meta to invest $14.3B in Scale AI, taking a 49% stake <https://cnbc.example/b> \u2014 CNBC",
        "Scale AI gets $14.3 billion from Meta <https://verge.example/c> \u2014 The Verge",
    ]
    assert "Sources: 3 outlets: Reuters, CNBC, The Verge" in Message.from_dict(edit.payload["message"]).to_text()
    async with session_scope(engine) as session:
        alert = (await session.exec(__import__("sqlmodel").select(Alert))).one()
        assert len(alert.item_keys) == 3
    assert await fan_out(engine, settings, now=second + timedelta(minutes=1)) == 0


async def test_a_new_event_type_on_the_story_is_a_flagged_reply(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"scale-ai": [], "meta": []})
    await add_item(engine, "Meta invests $14.3 billion in Scale AI", FUNDING, at=T0, outlet="Reuters")
    await fan_out(engine, settings, now=T0)
    later = T0 + timedelta(hours=3)
    hire = [Event(type="leadership_change", subject="scale-ai", person="Alexandr Wang", role="CEO"),
            Event(type="leadership_change", subject="meta", person="Alexandr Wang", role="CEO")]
    _, stories = await add_item(engine, "Scale AI CEO Alexandr Wang joins Meta after its investment", hire,
                                at=later, outlet="Bloomberg")
    await fan_out(engine, settings, now=later)
    async with session_scope(engine) as session:
        story = await session.get(Story, stories[0])
        assert story.event_types == ["funding", "leadership_change"]
        assert (await session.get(ItemFanout, 2)).channels == 1
    rows = await outbox_rows(engine, channel)
    assert [r.kind for r in rows] == ["post", "reply"]
    flagged = Message.from_dict(rows[1].payload["message"])
    assert flagged.flag == "new event type"
    assert flagged.title == "New in this story: Leadership change"
    assert "Leadership change at meta: Alexandr Wang (CEO)" in flagged.to_text()


async def test_feed_markup_stays_plain_text_in_the_message(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    title = "<!channel> @everyone Scale AI raises <https://evil.example|click here> *now*"
    await add_item(engine, title, FUNDING, at=T0, outlet="<@U123>", link="https://example.com/a")
    await fan_out(engine, settings, now=T0)
    message = Message.from_dict((await outbox_rows(engine, channel))[0].payload["message"])
    links = [p for b in message.blocks for p in b.parts if hasattr(p, "url")]
    assert [(link.label, link.url) for link in links] == [("@everyone Scale AI raises *now*", "https://example.com/a")]
    assert "Sources: 1 outlet: <@U123>" in message.to_text()  # plain text: the renderers escape it


async def test_later_coverage_naming_only_another_company_of_the_story_goes_into_the_thread(engine,
                                                                                          settings) -> None:
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    await add_item(engine, "Meta takes 49% stake in Scale AI, hires its CEO", META_SCALE, at=T0, outlet="Reuters")
    await fan_out(engine, settings, now=T0)
    later = T0 + timedelta(hours=1)
    meta_only = [Event(type="leadership_change", subject="meta", person="Alexandr Wang")]
    _, stories = await add_item(engine, "Meta hires Scale AI chief Alexandr Wang for its superintelligence lab",
                                meta_only, at=later, outlet="The Verge")
    assert stories == [1]
    await fan_out(engine, settings, now=later)
    assert [r.kind for r in await outbox_rows(engine, channel) if r.kind != "edit"] == ["post", "reply"]
    # a channel that watches neither party gets nothing
    other = await add_channel(engine, "C2", {"openai": []})
    await add_item(engine, "Meta invests in Scale AI", FUNDING, at=later, outlet="CNBC")
    await fan_out(engine, settings, now=later)
    assert await outbox_rows(engine, other) == []


async def test_a_channel_watching_the_counterparty_is_alerted(engine, settings) -> None:
    investor = await add_channel(engine, "C3", {"meta": ["funding"]})
    customer = await add_channel(engine, "C4", {"openai": ["customer_loss"]})
    await add_item(engine, "Meta invests in Scale AI", FUNDING, at=T0, outlet="CNBC")
    loss = [Event(type="customer_loss", subject="scale-ai", counterparty="openai")]
    await add_item(engine, "OpenAI winds down work with Scale AI", loss, at=T0, outlet="Bloomberg")
    await fan_out(engine, settings, now=T0)
    assert [r.kind for r in await outbox_rows(engine, investor)][:1] == ["post"]
    assert [r.kind for r in await outbox_rows(engine, customer)][:1] == ["post"]


def test_relationships_follow_past_events_in_order() -> None:
    from types import SimpleNamespace

    from bot.delivery.thread_context import relationships

    def story(day: int, *events: dict) -> Story:
        return Story(subject="scale-ai", title="t", events=list(events), first_seen_at=T0 + timedelta(days=day),
                     last_item_at=T0 + timedelta(days=day))

    seeds = SimpleNamespace(customers=("openai", "google"), investors=("nvidia",))
    known = relationships("scale-ai", seeds, [
        story(2, Event(type="customer_loss", subject="scale-ai", counterparty="google")),
        story(1, Event(type="partnership", subject="scale-ai", counterparty="microsoft")),
        story(3, Event(type="funding", subject="scale-ai", counterparty="meta"),
              Event(type="funding", subject="meta", counterparty="scale-ai")),
    ])
    assert known == {"customers": ["openai", "microsoft"], "former customers": ["google"],
                     "investors": ["nvidia", "meta"]}
    assert relationships("scale-ai", None, []) == {"customers": [], "former customers": [], "investors": []}


async def test_replicas_fanning_out_at_once_queue_each_message_once(engine, settings) -> None:
    import asyncio

    channel = await add_channel(engine, "C1", {"scale-ai": []})
    for n, outlet in enumerate(["Reuters", "CNBC", "The Verge", "Bloomberg"]):
        await add_item(engine, f"Meta invests $14.3 billion in Scale AI ({outlet})", FUNDING,
                       at=T0 + timedelta(minutes=n), outlet=outlet)
    later = T0 + timedelta(minutes=10)
    for _ in range(3):  # a losing replica rolls back its item; the next pass does it
        await asyncio.gather(*(fan_out(engine, settings, now=later) for _ in range(3)))
    rows = await outbox_rows(engine, channel)
    assert [r.kind for r in rows if r.kind != "edit"] == ["post", "reply"]
    assert len(rows[1].payload["items"]) == 3
    async with session_scope(engine) as session:
        assert len((await session.exec(__import__("sqlmodel").select(ItemFanout))).all()) == 4


async def test_an_item_that_cannot_be_fanned_out_does_not_block_the_others(engine, settings) -> None:
    channel = await add_channel(engine, "C1", {"scale-ai": []})
    bad, _ = await add_item(engine, "Scale AI raises money", FUNDING, at=T0, outlet="Reuters")
    async with session_scope(engine) as session:  # a stored event of a shape the alert cannot show
        story = await session.get(Story, 1)
        story.event_types = [None]
        session.add(story)
    await add_item(engine, "Scale AI lays off 20% of staff", [Event(type="layoffs", subject="scale-ai")],
                   at=T0, outlet="CNBC")
    assert await fan_out(engine, settings, now=T0) >= 1
    assert {r.story_id for r in await outbox_rows(engine, channel)} == {2}
    async with session_scope(engine) as session:
        assert (await session.get(ItemFanout, bad)).channels == -1
    assert await fan_out(engine, settings, now=T0) == 0
