"""The weekly digest: contents, chart, week arithmetic, one digest per channel and week, the CLI."""

from __future__ import annotations

import asyncio
import os
from argparse import Namespace
import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.commands import CommandCore
from bot.digest.build import build_digest, week_start_for
from bot.digest.chart import render_digest_chart
from tests.shared_data import VENDORWATCH
from bot.cli import digest as digest_cli
from bot.cli.digest import parse_channel_arg
from bot.digest.job import DigestJob, enqueue_digest, enqueue_weekly_digests
from bot.messages import Message
from tests.command_support import NOW, request, store_item, test_registry
from watchers.errors import UsageError
from watchers.models import Event
from watchers.storage.db import session_scope
from watchers.storage.delivery import Channel, Digest, Outbox, Subscription
from watchers.storage.types import utcnow

ROOT = Path(__file__).resolve().parent.parent
WEEK = date(2026, 11, 16)  # the week before the digest due on Monday 2026-11-23 (NOW is Wednesday the 25th)
FUNDING = Event(type="funding", subject="scale-ai", counterparty="meta", amount_usd=1.0e9)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=timezone.utc)


async def week_of_news(engine, start: datetime = at(16)) -> None:  # noqa: ANN001
    story = {"title": "Scale AI raises $1B from Meta", "link": "https://news.example/scale-1b",
             "outlets": ["Reuters", "Bloomberg", "TechCrunch"], "item_count": 2}
    day = timedelta(days=1)
    await store_item(engine, key="f1", title="Scale AI raises $1B from Meta", events=[FUNDING], when=start + day,
                     link="https://news.example/scale-1b", story=story)
    await store_item(engine, key="f2", title="Meta puts $1.2B into Scale AI", events=[replace(FUNDING, amount_usd=1.2e9)],
                     when=start + day * 1.5, story=story)
    await store_item(engine, key="l1", title="Scale AI names Jane Doe CFO", when=start + day * 2,
                     events=[Event(type="leadership_change", subject="scale-ai", person="Jane Doe", role="CFO")])
    await store_item(engine, key="c1", title="OpenAI winds down work with Scale AI", when=start + day * 3,
                     events=[Event(type="customer_loss", subject="scale-ai", counterparty="openai")])
    await store_item(engine, key="o1", title="OpenAI cuts 50 jobs", when=start + day * 4,
                     events=[Event(type="layoffs", subject="openai")])
    await store_item(engine, key="o2", title="OpenAI raises $500M", when=start + day * 5,
                     events=[Event(type="funding", subject="openai", amount_usd=5e8)])
    await store_item(engine, key="next", title="Scale AI lays off staff", when=start + day * 8,
                     events=[Event(type="layoffs", subject="scale-ai")])


@pytest.fixture
def core(engine, settings) -> CommandCore:  # noqa: ANN001
    return CommandCore(engine, settings, test_registry(), clock=lambda: NOW)


async def subscribe(core: CommandCore, channel_id: str = "C1") -> int:
    for text in ("watch scale ai", "watch openai funding", "watch appen", "watch mercor"):
        assert not (await core.handle(request(text, channel_id))).is_error
    async with session_scope(core.engine) as session:
        channel = (await session.exec(select(Channel).where(Channel.channel_id == channel_id))).one()
    return channel.id


EXPECTED = "\n".join([
    "Weekly digest: Nov 16 to Nov 22, 2026",
    "OpenAI: funding 1; raised $500M",
    "Scale AI: funding 1, leadership change 1, customer loss 1; raised $1.2B; leadership: Jane Doe (CFO); "
    "customers lost: OpenAI",
    "Top stories",
    "Scale AI raises $1B from Meta <https://news.example/scale-1b> (3 outlets)",
    "OpenAI raises $500M (1 outlet)",
    "OpenAI winds down work with Scale AI (1 outlet)",
    "Scale AI names Jane Doe CFO (1 outlet)",
    "Quiet this week: Appen, Mercor",
    "Events: funding 2, leadership change 1, customer loss 1",
    "Money raised: $1.7B",
    "4 watched, 2 with news, 2 quiet",
    "(attached: digest-2026-11-16.png)",
])


async def test_digest_contents_and_chart(core: CommandCore, engine, settings) -> None:  # noqa: ANN001
    await week_of_news(engine)
    channel_pk = await subscribe(core)
    message = await build_digest(engine, channel_pk, WEEK, settings, test_registry())
    assert message.to_text() == EXPECTED
    chart = message.attachments[0]
    assert chart.data.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.data) > 1000


async def test_digest_preview_command_shows_the_week_in_progress(core: CommandCore, engine) -> None:  # noqa: ANN001
    await week_of_news(engine)
    await subscribe(core)
    reply = await core.handle(request("digest"))
    assert not reply.is_error and reply.message is not None
    assert reply.message.to_text() == "\n".join([
        "Weekly digest: Nov 23 to Nov 29, 2026",
        "Scale AI: layoffs 1",
        "Top stories",
        "Scale AI lays off staff (1 outlet)",
        "Quiet this week: Appen, Mercor, OpenAI",
        "Events: layoffs 1",
        "4 watched, 1 with news, 3 quiet",
        "(attached: digest-2026-11-23.png)",
    ])


async def test_digest_of_a_channel_watching_nothing(engine, settings) -> None:  # noqa: ANN001
    async with session_scope(engine) as session:
        channel = Channel(platform="slack", channel_id="C0")
        session.add(channel)
    message = await build_digest(engine, channel.id, WEEK, settings, test_registry())
    assert message.to_text() == ("Weekly digest: Nov 16 to Nov 22, 2026\n"
                                 "This channel watches no company yet; try /vendorwatch watch Scale AI.")
    assert message.attachments == ()


async def test_job_enqueues_one_digest_per_channel_and_week(core: CommandCore, engine, settings) -> None:  # noqa: ANN001
    await week_of_news(engine)
    first = await subscribe(core, "C1")
    second = await subscribe(core, "C2")
    paused = await subscribe(core, "C3")
    async with session_scope(engine) as session:
        for sub in (await session.exec(select(Subscription).where(Subscription.channel_pk == paused))).all():
            sub.paused_reason = "channel_not_found"
            session.add(sub)
    enqueued = await enqueue_weekly_digests(engine, settings, test_registry(), now=NOW)
    assert len(enqueued) == 2
    assert await enqueue_weekly_digests(engine, settings, test_registry(), now=NOW) == []
    job = DigestJob(engine, settings, test_registry(), clock=lambda: NOW + timedelta(days=2))
    assert await job.run_once() == []  # later the same week: still the same week, nothing new
    async with session_scope(engine) as session:
        rows = (await session.exec(select(Outbox).order_by(Outbox.channel_pk))).all()
        digests = (await session.exec(select(Digest).order_by(Digest.channel_pk))).all()
    assert [r.idempotency_key for r in rows] == [f"digest:{first}:2026-11-16", f"digest:{second}:2026-11-16"]
    assert [(d.channel_pk, d.week_start, d.outbox_id) for d in digests] == [
        (first, WEEK, rows[0].id), (second, WEEK, rows[1].id)]
    assert all(r.kind == "post" and r.status == "pending" for r in rows)
    stored = Message.from_dict(rows[0].payload["message"])
    assert stored.to_text() == EXPECTED
    assert stored.attachments[0].data.startswith(b"\x89PNG")


@pytest.mark.parametrize("now, weekday, hour, zone, week_start", [
    (datetime(2026, 11, 23, 8, 59, tzinfo=timezone.utc), 0, 9, "UTC", date(2026, 11, 9)),
    (datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc), 0, 9, "UTC", date(2026, 11, 16)),
    (datetime(2026, 11, 29, 23, 0, tzinfo=timezone.utc), 0, 9, "UTC", date(2026, 11, 16)),
    (datetime(2026, 11, 27, 16, 30, tzinfo=timezone.utc), 4, 17, "Europe/Berlin", date(2026, 11, 20)),
    (datetime(2026, 11, 27, 15, 59, tzinfo=timezone.utc), 4, 17, "Europe/Berlin", date(2026, 11, 13)),
    (datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc), 0, 0, "America/Los_Angeles", date(2026, 11, 9)),
])
def test_week_start(plain_settings, now: datetime, weekday: int, hour: int, zone: str, week_start: date) -> None:  # noqa: ANN001
    settings = plain_settings.replace(digest_weekday=weekday, digest_hour=hour, digest_timezone=zone)
    assert week_start_for(now, settings) == week_start


async def test_job_schedule_and_catch_up(engine, settings) -> None:  # noqa: ANN001
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    scheduler.start(paused=True)
    try:
        local = settings.replace(digest_weekday=4, digest_hour=17, digest_timezone="Europe/Berlin")
        job = DigestJob(engine, local, test_registry(), clock=lambda: NOW)
        job.start(scheduler)
        berlin = job.next_run_time().astimezone(ZoneInfo("Europe/Berlin"))
        assert (berlin.weekday(), berlin.hour, berlin.minute) == (4, 17, 0) and berlin > utcnow()
        assert scheduler.get_job("weekly-digest-catch-up") is None
        job.stop()
        assert scheduler.get_job("weekly-digest") is None
        late = DigestJob(engine, settings, test_registry(), clock=lambda: datetime(2026, 11, 23, 15, tzinfo=timezone.utc))
        late.start(scheduler)
        assert scheduler.get_job("weekly-digest-catch-up") is not None
        late.stop()
    finally:
        scheduler.shutdown(wait=False)
    running = AsyncIOScheduler(timezone=timezone.utc)  # the runner's one scheduler, started
    running.start()
    try:
        job = DigestJob(engine, settings, test_registry(), clock=lambda: NOW)
        job.start(running)
        utc = job.next_run_time().astimezone(timezone.utc)
        assert (utc.weekday(), utc.hour, utc.minute) == (0, 9, 0) and utc - utcnow() <= timedelta(days=7)
        job.stop()
        job.stop()  # twice is harmless
    finally:
        running.shutdown(wait=False)


def test_chart_is_a_png_even_with_awkward_names() -> None:
    png = render_digest_chart({"$Money$ Corp": {"funding": 2, "layoffs": 1}, "Quiet": {}}, "Week of $x$")
    assert png.startswith(b"\x89PNG")
    assert render_digest_chart({}, "nothing").startswith(b"\x89PNG")


@pytest.mark.parametrize("text", ["C1", "slack:", "irc:C1", "slack:C 1", ":C1", "SLACK:C1"])
def test_channel_argument_format(text: str) -> None:
    with pytest.raises(UsageError, match="must be PLATFORM:CHANNEL_ID"):
        parse_channel_arg(text)
    assert parse_channel_arg("discord:123456789") == ("discord", "123456789")


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "SEED_FEEDS": "0"}
    return subprocess.run([str(VENDORWATCH), "digest", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


async def test_cli(plain_settings, capsys) -> None:  # noqa: ANN001
    from watchers.storage.db import make_engine, upgrade

    await upgrade(plain_settings.database_url)
    engine = make_engine(plain_settings.database_url)
    try:
        core = CommandCore(engine, plain_settings, test_registry())
        week = week_start_for(utcnow(), plain_settings)
        start = datetime.combine(week, datetime.min.time(), tzinfo=timezone.utc)
        await store_item(engine, key="cli", title="Scale AI raises $1B from Meta", events=[FUNDING],
                         when=start + timedelta(days=1))
        assert not (await core.handle(request("watch scale ai"))).is_error
        assert not (await core.handle(request("watch scale ai", "terminal", platform="console"))).is_error
    finally:
        await engine.dispose()
    url = plain_settings.database_url
    result = _cli(url, "--channel", "irc:C1", "--dry-run")
    assert result.returncode == 2 and result.stderr.strip() == (
        "vendorwatch: --channel 'irc:C1' must be PLATFORM:CHANNEL_ID with PLATFORM one of slack, discord, console, "
        "memory (for example slack:C0123456)")
    result = _cli(url, "--channel", "slack:C1", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Weekly digest: ") and "Scale AI: funding 1; raised $1B" in result.stdout
    result = _cli(url, "--channel", "slack:C1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Enqueued the digest of the week of {week} for slack:C1 (outbox 1); "
                                    "the running bot (vendorwatch run) posts it.")
    # the rest in-process (the same handler the console script calls), to keep the test quick
    assert await digest_cli.run(Namespace(channel="slack:C1", dry_run=False), plain_settings) == 0
    assert capsys.readouterr().out.strip() == (f"The digest of the week of {week} for slack:C1 was already "
                                               "enqueued; nothing to do.")
    with pytest.raises(UsageError) as caught:
        await digest_cli.run(Namespace(channel="slack:C404", dry_run=True), plain_settings)
    assert str(caught.value) == ("no channel slack:C404 in the database; a channel appears once it runs "
                                 "/vendorwatch watch")
    result = _cli(url, "--channel", "console:terminal")
    assert result.returncode == 0, result.stderr
    assert "#1 [terminal]\nWeekly digest: " in result.stdout and "Scale AI: funding 1; raised $1B" in result.stdout
    assert result.stdout.rstrip().endswith("Posted the digest of the week of " + str(week) + " to console:terminal.")


async def test_replicas_racing_enqueue_each_digest_once(core: CommandCore, engine, settings) -> None:  # noqa: ANN001
    await week_of_news(engine)
    for channel_id in ("C1", "C2", "C3"):
        await subscribe(core, channel_id)
    results = await asyncio.gather(*(enqueue_weekly_digests(engine, settings, test_registry(), now=NOW)
                                     for _ in range(3)))
    assert sum(len(r) for r in results) == 3
    async with session_scope(engine) as session:
        assert len((await session.exec(select(Outbox))).all()) == 3
        channel = (await session.exec(select(Channel).where(Channel.channel_id == "C1"))).one()
    message = Message(title="again")
    assert await enqueue_digest(engine, channel.id, WEEK, message, now=NOW) is None
    assert await enqueue_digest(engine, channel.id, WEEK + timedelta(days=7), message, now=NOW) is not None
