"""Issue 13: alerts and digests say exactly what happened: people and roles (never a headline or a
bare role in a person's place), one leadership move counted once, event types in words."""

from __future__ import annotations

from datetime import date, timedelta

from bot.commands import CommandCore
from bot.commands.company_card import company_card
from bot.company_activity import load_activity
from bot.delivery.alerts import event_line
from bot.digest.build import CompanyWeek, compose_digest
from bot.wording import counts_text, person_text, type_words
from tests.command_support import NOW, request, store_item, test_registry
from watchers.models import Event
from watchers.storage.db import session_scope

MOVE = {"title": "Scale AI CEO Alexandr Wang leaves for Meta", "link": "https://news.example/wang", "outlets": ["A"]}
EARLY = "Meta set to take a 49% stake in Scale AI, with its founder joining Meta"


def name_of(slug: str) -> str:
    return test_registry().get(slug).name


def test_words_for_types_and_people() -> None:
    assert type_words("leadership_change") == "leadership change" and type_words("customer_loss") == "customer loss"
    assert counts_text({"funding": 1, "leadership_change": 2}) == "funding 1, leadership change 2"
    assert person_text("Alexandr Wang", "CEO") == "Alexandr Wang (CEO)"
    assert person_text(None, "founder") == "unnamed founder"
    assert person_text(None, None) == "unnamed person"


def test_an_alert_never_shows_a_bare_role_for_a_person() -> None:
    unnamed = Event(type="leadership_change", subject="meta", role="founder")
    assert event_line(unnamed, name_of) == "Leadership change at Meta: unnamed founder"
    named = Event(type="leadership_change", subject="meta", person="Alexandr Wang", role="founder")
    assert event_line(named, name_of) == "Leadership change at Meta: Alexandr Wang (founder)"
    assert event_line(Event(type="leadership_change", subject="meta"), name_of) == "Leadership change at Meta"


async def _move(engine) -> None:  # noqa: ANN001
    """A move as the demo reports it: first unnamed on both sides, then named on both sides."""
    await store_item(engine, key="m1", title=EARLY, when=NOW - timedelta(days=3), story=MOVE,
                     events=[Event(type="leadership_change", subject="meta", role="founder"),
                             Event(type="leadership_change", subject="scale-ai", role="founder")])
    await store_item(engine, key="m2", title=MOVE["title"], when=NOW - timedelta(days=2), story=MOVE,
                     events=[Event(type="leadership_change", subject="scale-ai", person="Alexandr Wang", role="CEO"),
                             Event(type="leadership_change", subject="meta", person="Alexandr Wang", role="CEO")])


async def test_digest_counts_one_move_once_with_people_and_roles(engine) -> None:  # noqa: ANN001
    await _move(engine)
    async with session_scope(engine) as session:
        activity = await load_activity(session, ["scale-ai", "meta"], NOW - timedelta(days=7), NOW)
    weeks = [CompanyWeek("meta", "Meta", activity["meta"]), CompanyWeek("scale-ai", "Scale AI", activity["scale-ai"])]
    text = compose_digest(weeks, date(2026, 11, 18), name_of).to_text()
    assert "Scale AI: leadership change 1; leadership: Alexandr Wang (CEO), a move between Scale AI and Meta" in text
    assert "Meta: leadership change 1; leadership: Alexandr Wang (CEO), a move between Meta and Scale AI" in text
    assert "Events: leadership change 1" in text  # two sides, one move
    assert EARLY not in text and "leadership_change" not in text and "founder" not in text


async def test_two_people_in_one_story_are_two_moves(engine) -> None:  # noqa: ANN001
    await store_item(engine, key="t1", title="Scale AI's CEO and CFO leave", when=NOW - timedelta(days=1),
                     story={"title": "Scale AI's CEO and CFO leave"},
                     events=[Event(type="leadership_change", subject="scale-ai", person="Ann Lee", role="CEO"),
                             Event(type="leadership_change", subject="scale-ai", person="Bo Park", role="CFO")])
    async with session_scope(engine) as session:
        activity = await load_activity(session, ["scale-ai"], NOW - timedelta(days=7), NOW)
    text = compose_digest([CompanyWeek("scale-ai", "Scale AI", activity["scale-ai"])], date(2026, 11, 18),
                          name_of).to_text()
    assert "leadership change 2; leadership: Ann Lee (CEO), Bo Park (CFO)" in text


async def test_lookup_card_names_people_and_types_in_words(engine) -> None:  # noqa: ANN001
    await store_item(engine, key="u1", title="Scale AI's founder is said to be leaving", when=NOW - timedelta(days=4),
                     events=[Event(type="leadership_change", subject="scale-ai", role="founder")])
    card = await company_card(engine, test_registry().get("scale-ai"), name_of, now=NOW)
    text = card.to_text()
    assert "Events, last 90 days: leadership change 1" in text
    assert f"Leadership changes: unnamed founder, {NOW - timedelta(days=4):%Y-%m-%d}" in text


async def test_why_and_watch_say_types_in_words(engine, settings) -> None:  # noqa: ANN001
    await store_item(engine, key="u2", title="Scale AI's founder is said to be leaving", when=NOW - timedelta(days=4),
                     events=[Event(type="leadership_change", subject="scale-ai", role="founder",
                                   rule="leadership_change.role-departs")])
    core = CommandCore(engine, settings, test_registry(), clock=lambda: NOW)
    watched = await core.handle(request("watch scale-ai funding customer_loss"))
    assert watched.text.endswith("in this channel: funding, customer loss.")
    why = (await core.handle(request("why Scale AI's founder is said to be leaving"))).to_text()
    assert "Rules: leadership change of Scale AI, unnamed founder; rule leadership_change.role-departs" in why
    assert "only for funding, customer loss, and this item is leadership change." in why
