"""Story matching (pure) and the story step (tables story and item, both databases)."""

from __future__ import annotations

from datetime import timedelta

from watchers.stories.cluster import StoryIndex, item_view, title_tokens
from watchers.models import Classification, Event
from watchers.storage.db import session_scope
from watchers.storage.stories import Story
from watchers.storage.tables import Item
from watchers.stories.store import file_item
from tests.delivery_support import T0, add_item

ALTMAN = [Event(type="leadership_change", subject="openai")]


def view(title: str, events: list[Event], hours: float = 0.0, **kwargs):  # noqa: ANN003, ANN201
    return item_view(title, events, at=T0 + timedelta(hours=hours), **kwargs)


def test_title_tokens_drop_the_outlet_suffix_entities_and_stopwords() -> None:
    assert title_tokens("Anthropic cuts off OpenAI&#8217;s access to its Claude models - Wired", "Wired") == (
        "anthr", "cuts", "off", "opena", "s", "acces", "claud", "model")
    assert title_tokens("") == ()
    assert title_tokens("<b>" * 1000) == ()


def test_coverage_of_one_event_joins_and_a_later_unrelated_item_does_not() -> None:
    index = StoryIndex(72)
    first = index.file(view("OpenAI board ousts CEO Sam Altman", ALTMAN))
    assert index.file(view("Sam Altman fired as CEO of OpenAI", ALTMAN, hours=3)) == first
    assert index.file(view("Greg Brockman quits OpenAI after Altman firing", ALTMAN, hours=20)) == first
    # two days after the burst, with no shared fact: a new story, and no chaining into the next one
    shear = index.file(view("Former Twitch CEO Emmett Shear named OpenAI interim chief executive", ALTMAN, hours=68))
    assert shear != first
    back = index.file(view("Sam Altman to return as OpenAI CEO under new board", ALTMAN, hours=116))
    assert back not in (first, shear)


def test_a_later_item_joins_with_a_shared_fact_or_link() -> None:
    loss = [Event(type="customer_loss", subject="anthropic", counterparty="openai")]
    index = StoryIndex(72)
    first = index.file(view("Anthropic cuts off OpenAI's access to Claude", loss, link="https://a.example/1"))
    assert index.file(view("Why Anthropic pulled the plug on OpenAI", loss, hours=60)) == first
    other = [Event(type="customer_loss", subject="anthropic")]
    assert index.file(view("A different headline entirely", other, hours=70, link="https://a.example/1")) == first


def test_a_different_counterparty_or_subject_or_a_late_item_is_another_story() -> None:
    index = StoryIndex(72)
    google = index.file(view("Google invests $2 billion in Anthropic",
                             [Event(type="funding", subject="anthropic", counterparty="google")]))
    amazon = index.file(view("Amazon invests $4 billion in Anthropic",
                             [Event(type="funding", subject="anthropic", counterparty="amazon")], hours=2))
    assert amazon != google
    mistral = index.file(view("Mistral raises $2 billion", [Event(type="funding", subject="mistral")], hours=3))
    assert mistral not in (google, amazon)
    late = index.file(view("Google invests $2 billion in Anthropic",
                           [Event(type="funding", subject="anthropic", counterparty="google")], hours=24 * 5))
    assert late not in (google, amazon, mistral)


def test_a_new_event_type_joins_when_it_names_the_same_companies_soon_after() -> None:
    index = StoryIndex(72)
    deal = index.file(view("Meta takes 49% stake in Scale AI",
                           [Event(type="funding", subject="scale-ai", counterparty="meta")]))
    hire = [Event(type="leadership_change", subject="scale-ai"), Event(type="leadership_change", subject="meta")]
    assert index.file(view("Scale AI CEO Alexandr Wang joins Meta", hire, hours=5)) == deal
    sued = index.file(view("Contractors sue Scale AI over wages", [Event(type="legal", subject="scale-ai")], hours=6))
    assert sued != deal


def test_the_same_two_companies_in_the_same_event_type_join_whichever_way_round() -> None:
    index = StoryIndex(72)
    deal = index.file(view("Meta set to take 49% stake in Scale AI",
                           [Event(type="funding", subject="scale-ai", counterparty="meta")]))
    mirrored = [Event(type="funding", subject="meta", counterparty="scale-ai")]
    assert index.file(view("Scale AI confirms Meta investment", mirrored, hours=54)) == deal


def test_a_new_event_type_with_a_new_counterparty_is_its_own_story() -> None:
    index = StoryIndex(72)
    deal = index.file(view("Meta takes 49% stake in Scale AI",
                           [Event(type="funding", subject="scale-ai", counterparty="meta")]))
    loss = [Event(type="customer_loss", subject="scale-ai", counterparty="google")]
    assert index.file(view("Google to cut ties with Scale AI after Meta deal", loss, hours=10,
                           companies=["scale-ai", "google", "meta"])) != deal


def test_an_item_without_events_starts_no_story() -> None:
    assert StoryIndex(72).file(view("Scale AI hosts a meetup", [])) is None
    assert StoryIndex(72).file(view("Bad event", [Event(type="funding", subject=""), Event(type="", subject="x")])) is None


async def test_file_item_writes_the_story_and_item_story_id(engine) -> None:
    first, stories = await add_item(engine, "Scale AI raises $1 billion - Reuters",
                                    [Event(type="funding", subject="scale-ai", amount_usd=1e9)], at=T0,
                                    outlet="Reuters: Technology", link="https://www.reuters.com/a")
    second, again = await add_item(engine, "Meta, Amazon invest in data-labeling giant Scale AI at $13.8B",
                                   [Event(type="funding", subject="scale-ai", counterparty="meta",
                                          person="Alexandr Wang")],
                                   at=T0 + timedelta(hours=2), outlet=None, link="https://www.theinformation.com/b")
    assert again == stories
    async with session_scope(engine) as session:
        story = await session.get(Story, stories[0])
        assert (await session.get(Item, first)).story_id == story.id == (await session.get(Item, second)).story_id
        assert story.subject == "scale-ai" and story.event_types == ["funding"]
        assert story.events == [Event(type="funding", subject="scale-ai", counterparty="meta", amount_usd=1e9,
                                      person="Alexandr Wang")]
        assert story.outlets == ["Reuters", "The Information"]  # named from the links' domains
        assert story.item_count == 2 and story.title == "Scale AI raises $1 billion"
        assert story.facts["amount_usd"] == 1e9 and story.last_item_at == T0 + timedelta(hours=2)


async def test_file_item_is_idempotent_and_skips_items_without_events(engine) -> None:
    item_id, stories = await add_item(engine, "Scale AI lays off 20%", [Event(type="layoffs", subject="scale-ai")],
                                      at=T0, outlet="TechCrunch")
    _, none = await add_item(engine, "Scale AI hosts a meetup", [], at=T0, outlet="Blog")
    assert none == []
    async with session_scope(engine) as session:
        item = await session.get(Item, item_id)
        assert await file_item(session, item, Classification(), now=T0, window_hours=72) == stories
        count = len((await session.exec(__import__("sqlmodel").select(Story))).all())
    assert count == 1


async def test_a_future_publication_date_counts_as_now(engine) -> None:
    _, stories = await add_item(engine, "Scale AI lays off 20%", [Event(type="layoffs", subject="scale-ai")],
                                at=T0 + timedelta(days=30), outlet="TechCrunch", now=T0)
    async with session_scope(engine) as session:
        story = await session.get(Story, stories[0])
    assert story.first_seen_at == story.last_item_at == T0


async def test_later_flat_coverage_confirms_a_rumour(engine) -> None:
    rumour = [Event(type="funding", subject="scale-ai", counterparty="meta", status="rumored")]
    _, stories = await add_item(engine, "Meta reportedly to invest in Scale AI", rumour, at=T0, outlet="TechCrunch")
    await add_item(engine, "Meta invests $14.3 billion in Scale AI",
                   [Event(type="funding", subject="scale-ai", counterparty="meta", amount_usd=14.3e9)],
                   at=T0 + timedelta(hours=30), outlet="Reuters")
    async with session_scope(engine) as session:
        story = await session.get(Story, stories[0])
    assert story.item_count == 2
    assert [(e.status, e.amount_usd) for e in story.events] == [("done", 14.3e9)]
    assert story.facts["status"] == "done"


async def test_coverage_filed_by_two_workers_at_once_is_all_counted(engine) -> None:
    import asyncio

    import pytest

    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time (one `run` per SQLite database)")
    layoffs = [Event(type="layoffs", subject="scale-ai")]
    _, stories = await add_item(engine, "Scale AI lays off 20% of staff", layoffs, at=T0, outlet="TechCrunch")
    results = await asyncio.gather(*(add_item(engine, f"Scale AI cuts a fifth of its workforce ({outlet})", layoffs,
                                              at=T0 + timedelta(hours=1), outlet=outlet)
                                     for outlet in ("Reuters", "CNBC", "Bloomberg")))
    assert {tuple(s) for _, s in results} == {tuple(stories)}
    async with session_scope(engine) as session:
        story = await session.get(Story, stories[0])
    assert story.item_count == 4
    assert sorted(story.outlets) == ["Bloomberg", "CNBC", "Reuters", "TechCrunch"]


async def test_the_first_items_of_a_new_story_filed_by_replicas_at_once_start_one_story(engine) -> None:
    """Three replicas filing the first coverage of one event at the same instant: one story, one alert."""
    import asyncio

    import pytest

    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time (one `run` per SQLite database)")
    layoffs = [Event(type="layoffs", subject="scale-ai")]
    results = await asyncio.gather(*(add_item(engine, f"Scale AI lays off 20% of staff ({outlet})", layoffs,
                                              at=T0, outlet=outlet)
                                     for outlet in ("Reuters", "CNBC", "Bloomberg")))
    assert len({tuple(s) for _, s in results}) == 1, results
    async with session_scope(engine) as session:
        story = await session.get(Story, results[0][1][0])
    assert story.item_count == 3
