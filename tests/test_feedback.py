"""The feedback buttons: actions on alerts, mute and not-relevant clicks, their effect on fan-out,
`why` and the digest, and migration 0002 from an existing 0001 database."""

from __future__ import annotations

import os
import subprocess
from datetime import date, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text, update
from sqlmodel import select

from bot.commands import CommandCore
from bot.delivery.alerts import name_resolver, story_alert
from bot.delivery.fanout import fan_out
from bot.digest.build import build_digest
from bot.feedback import mark_not_relevant, mute_story
from bot.messages import Action, Message, Request
from tests.command_support import test_registry
from tests.delivery_support import T0, add_channel, add_item, outbox_rows
from tests.shared_data import VENDORWATCH
from watchers.models import Event
from watchers.storage.db import MIGRATIONS_DIR, session_scope, sync_url, upgrade_sync
from watchers.storage.delivery import Outbox
from watchers.storage.feedback import StoryFeedback
from watchers.storage.stories import Story

FUNDING = [Event(type="funding", subject="scale-ai", counterparty="meta", amount_usd=14.3e9,
                 rule="funding.stake", evidence="Meta invests $14.3 billion in Scale AI")]
TITLE = "Meta invests $14.3 billion in Scale AI"


async def _story_in(engine, *channels: str) -> tuple[int, dict[str, int]]:  # noqa: ANN001
    pks = {c: await add_channel(engine, c, {"scale-ai": []}, platform="slack") for c in channels}
    _, stories = await add_item(engine, TITLE, FUNDING, at=T0, outlet="Reuters", link="https://reuters.example/a")
    await fan_out(engine, _settings(), now=T0)
    return stories[0], pks


def _settings():  # noqa: ANN202
    from watchers.settings import load_settings
    return load_settings({"SEED_FEEDS": "0"}, dotenv_path=None)


async def _more_coverage(engine, minutes: int, outlet: str) -> None:  # noqa: ANN001
    at = T0 + timedelta(minutes=minutes)
    await add_item(engine, f"Scale AI gets $14.3 billion from Meta ({outlet})", FUNDING, at=at, outlet=outlet,
                   link=f"https://{outlet.lower()}.example/{minutes}")
    await fan_out(engine, _settings(), now=at)


def test_message_actions_round_trip_and_old_payloads_load() -> None:
    message = Message(title="t", actions=(Action("open", "Open article", url="https://x.example/a"),
                                          Action("mute", "Mute this story", value="story:3")))
    data = message.to_dict()
    assert Message.from_dict(data) == message
    del data["actions"]
    assert Message.from_dict(data).actions == ()
    assert message.to_text() == "t"  # the console has no buttons


async def test_every_parent_alert_carries_open_mute_and_not_relevant(engine) -> None:  # noqa: ANN001
    story_id, pks = await _story_in(engine, "C1")
    parent = (await outbox_rows(engine, pks["C1"]))[0]
    actions = Message.from_dict(parent.payload["message"]).actions
    assert actions == (Action("open", "Open article", url="https://reuters.example/a"),
                       Action("mute", "Mute this story", value=f"story:{story_id}"),
                       Action("not_relevant", "Not relevant", value=f"story:{story_id}"))
    async with session_scope(engine) as session:
        story = await session.get(Story, story_id)
    bare = story_alert(story, watched=["scale-ai"], name_of=name_resolver(None))
    assert "Mute" not in bare.to_text() and "Not relevant" not in bare.to_text()


async def test_mute_and_not_relevant_replies_are_idempotent(engine) -> None:  # noqa: ANN001
    story_id, _ = await _story_in(engine, "C1")
    first = await mute_story(engine, platform="slack", channel_id="C1", story_id=story_id, user="ana")
    assert not first.is_error and first.ephemeral
    assert first.text == f"Muted \u201c{TITLE}\u201d in this channel: no more thread replies or updates of it here."
    again = await mute_story(engine, platform="slack", channel_id="C1", story_id=story_id, user="bo")
    assert not again.is_error and again.text == f"\u201c{TITLE}\u201d is already muted in this channel by ana."
    marked = await mark_not_relevant(engine, platform="slack", channel_id="C1", story_id=story_id, user="bo")
    assert not marked.is_error and "as not relevant here" in marked.text
    marked_again = await mark_not_relevant(engine, platform="slack", channel_id="C1", story_id=story_id, user="ana")
    assert marked_again.text.endswith("is already marked not relevant here by bo.")
    async with session_scope(engine) as session:
        rows = (await session.exec(select(StoryFeedback).order_by(StoryFeedback.id))).all()
    assert [(r.kind, r.user, r.rules, r.companies, len(r.item_keys)) for r in rows] == [
        ("mute", "ana", ["funding.stake"], ["scale-ai"], 1), ("not_relevant", "bo", ["funding.stake"], ["scale-ai"], 1)]


async def test_unknown_channel_or_story_is_a_clear_error(engine) -> None:  # noqa: ANN001
    story_id, _ = await _story_in(engine, "C1")
    nowhere = await mute_story(engine, platform="slack", channel_id="C-unknown", story_id=story_id, user="ana")
    assert nowhere.is_error and "no Vendorwatch alerts" in nowhere.text
    gone = await mark_not_relevant(engine, platform="slack", channel_id="C1", story_id=story_id + 99, user="ana")
    assert gone.is_error and gone.text == f"I no longer know story {story_id + 99}; it may have been removed."


async def test_a_story_muted_in_one_channel_still_threads_in_another(engine) -> None:  # noqa: ANN001
    story_id, pks = await _story_in(engine, "C-A", "C-B")
    async with session_scope(engine) as session:  # both parents went out
        await session.exec(update(Outbox).values(status="sent", platform_message_id="m"))  # type: ignore[arg-type]
    await mute_story(engine, platform="slack", channel_id="C-A", story_id=story_id, user="ana")
    await _more_coverage(engine, 5, "CNBC")
    await _more_coverage(engine, 600, "Verge")
    muted = [r.kind for r in await outbox_rows(engine, pks["C-A"])]
    threaded = [r.kind for r in await outbox_rows(engine, pks["C-B"])]
    assert muted == ["post"]
    assert threaded.count("reply") >= 1 and "edit" in threaded


async def test_why_shows_mute_and_not_relevant(engine, settings) -> None:  # noqa: ANN001
    story_id, _ = await _story_in(engine, "C1")
    await mute_story(engine, platform="slack", channel_id="C1", story_id=story_id, user="ana")
    await mark_not_relevant(engine, platform="slack", channel_id="C1", story_id=story_id, user="bo")
    await _more_coverage(engine, 5, "CNBC")
    core = CommandCore(engine, settings, test_registry(), clock=lambda: T0 + timedelta(hours=1))
    reply = await core.handle(Request(platform="slack", channel_id="C1", text=f"why {TITLE}", user="U1"))
    lines = reply.to_text().splitlines()
    assert "muted in this channel by ana (" in reply.to_text()
    assert "marked not relevant by bo (rule funding.stake)" in lines
    later = await core.handle(Request(platform="slack", channel_id="C1",
                                      text="why Scale AI gets $14.3 billion from Meta (CNBC)", user="U1"))
    assert "This channel: not sent: its story was muted in this channel by ana" in later.to_text()


async def test_digest_counts_not_relevant_marks_of_the_week(engine, settings) -> None:  # noqa: ANN001
    story_id, pks = await _story_in(engine, "C1")
    await mark_not_relevant(engine, platform="slack", channel_id="C1", story_id=story_id, user="bo")
    await mute_story(engine, platform="slack", channel_id="C1", story_id=story_id, user="bo")  # not counted
    async with session_scope(engine) as session:
        await session.exec(update(StoryFeedback).values(created_at=T0))  # type: ignore[arg-type]
    message = await build_digest(engine, pks["C1"], date(2025, 6, 9), settings, test_registry())
    assert "Marked not relevant here: 1 alert: Scale AI 1" in message.to_text()
    previous = await build_digest(engine, pks["C1"], date(2025, 6, 2), settings, test_registry())
    assert "not relevant" not in previous.to_text()


def _downgrade(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = sync_url(url).render_as_string(hide_password=False)
    command.downgrade(config, revision)


def test_db_upgrade_migrates_an_existing_0001_database(empty_database_url: str) -> None:
    url = empty_database_url
    assert upgrade_sync(url, "0001").after == ("0001",)
    engine = create_engine(sync_url(url))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO channel (platform, channel_id, created_at) "
                          "VALUES ('slack', 'C1', CURRENT_TIMESTAMP)"))
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": url, "SEED_FEEDS": "0"}
    done = subprocess.run([str(VENDORWATCH), "db", "upgrade"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()  # the newest revision, whichever it is
    assert f"migrated the database schema (from 0001 to {head})" in done.stdout
    engine = create_engine(sync_url(url))
    assert "story_feedback" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM channel")).scalar() == 1
    engine.dispose()
    _downgrade(url, "0001")  # and back down
    engine = create_engine(sync_url(url))
    assert "story_feedback" not in inspect(engine).get_table_names()
    engine.dispose()
