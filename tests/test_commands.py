"""The command core on both databases: watch, unwatch, list, help, adding companies, bad input."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.commands import CommandCore
from bot.commands.core import APOLOGY
from tests.command_support import NOW, request, test_registry
from watchers.storage.db import session_scope
from watchers.storage.delivery import Channel, Subscription
from watchers.storage.tables import Feed, TrackedCompany


@pytest.fixture
def core(engine, settings) -> CommandCore:  # noqa: ANN001
    return CommandCore(engine, settings, test_registry(), clock=lambda: NOW)


async def ask(core: CommandCore, text: str, channel_id: str = "C1") -> str:
    reply = await core.handle(request(text, channel_id))
    return reply.to_text()


async def test_watch_creates_channel_and_subscription(core: CommandCore, engine) -> None:  # noqa: ANN001
    reply = await core.handle(request("watch Scale AI"))
    assert not reply.is_error and not reply.ephemeral  # the channel sees who subscribed it to what
    assert reply.text == "Now watching Scale AI (scale-ai) in this channel: all event types."
    async with session_scope(engine) as session:
        channel = (await session.exec(select(Channel))).one()
        sub = (await session.exec(select(Subscription))).one()
    assert (channel.platform, channel.workspace, channel.channel_id, channel.name) == ("slack", "T1", "C1", "general")
    assert (sub.channel_pk, sub.company_slug, sub.event_types, sub.created_by) == (channel.id, "scale-ai", [], "U1")


async def test_watch_again_updates_types(core: CommandCore) -> None:
    assert await ask(core, "watch remotasks funding") == \
        "Now watching Scale AI (scale-ai) in this channel: funding."
    assert await ask(core, "watch SCALE-AI funding leadership customer-loss") == (
        "Updated Scale AI (scale-ai) in this channel: now funding, leadership change, customer loss "
        "(was funding).")
    assert await ask(core, 'watch "Scale AI"') == (
        "Updated Scale AI (scale-ai) in this channel: now all event types "
        "(was funding, leadership change, customer loss).")
    assert await ask(core, "watch scale ai") == "Already watching Scale AI (scale-ai) in this channel: all event types."


async def test_watch_multi_word_company_with_types(core: CommandCore) -> None:
    assert await ask(core, "watch Thinking Machines Lab leadership") == \
        "Now watching Thinking Machines Lab (thinking-machines) in this channel: leadership change."


async def test_watch_unpauses_and_says_so(core: CommandCore, engine) -> None:  # noqa: ANN001
    await ask(core, "watch openai")
    async with session_scope(engine) as session:
        sub = (await session.exec(select(Subscription))).one()
        sub.paused_reason, sub.paused_at = "channel_not_found", NOW - timedelta(days=1)
        session.add(sub)
    assert await ask(core, "list") == ("This channel watches 1 company:\n"
                                       "- OpenAI (openai): all event types; paused since 2026-11-24 12:00 UTC: "
                                       "channel_not_found")
    assert await ask(core, "watch OpenAI") == (
        "Already watching OpenAI (openai) in this channel: all event types. "
        "Alerts had been paused (channel_not_found) and are on again.")
    async with session_scope(engine) as session:
        sub = (await session.exec(select(Subscription))).one()
    assert sub.paused_reason is None and sub.paused_at is None


async def test_unwatch(core: CommandCore) -> None:
    await ask(core, "watch meta")
    assert await ask(core, "unwatch Facebook") == "Stopped watching Meta (meta) in this channel."
    reply = await core.handle(request("unwatch meta"))
    assert reply.is_error
    assert reply.text == "This channel is not watching Meta (meta); /vendorwatch list shows what it watches."
    reply = await core.handle(request("unwatch meta funding"))
    assert reply.is_error and reply.text.startswith("unwatch takes only a company")


async def test_list_is_per_channel(core: CommandCore) -> None:
    assert await ask(core, "list") == "This channel watches no company yet; try /vendorwatch watch Scale AI."
    await ask(core, "watch openai funding layoffs")
    await ask(core, "watch scale ai")
    await ask(core, "watch mercor", channel_id="C2")
    assert await ask(core, "list") == ("This channel watches 2 companies:\n"
                                       "- OpenAI (openai): funding, layoffs\n"
                                       "- Scale AI (scale-ai): all event types")
    assert await ask(core, "list", channel_id="C2") == "This channel watches 1 company:\n- Mercor (mercor): all event types"
    reply = await core.handle(request("list everything"))
    assert reply.is_error and reply.text == "list takes no arguments; it shows what this channel watches."


async def test_unknown_company_did_you_mean(core: CommandCore) -> None:
    reply = await core.handle(request("watch Scael AI"))
    assert reply.is_error
    assert reply.text.startswith("I don't track \u201cScael AI\u201d. Did you mean Scale AI (scale-ai)")
    assert reply.text.endswith("?") and reply.text.count(" or ") <= 2
    reply = await core.handle(request("lookup Zzyzx Qwv"))
    assert reply.is_error
    assert reply.text == ("I don't track \u201cZzyzx Qwv\u201d; add it with "
                          "/vendorwatch watch new Zzyzx Qwv aka OTHER NAME, ANOTHER.")


async def test_watch_new_company_from_chat(core: CommandCore, engine, settings) -> None:  # noqa: ANN001
    reply = await core.handle(request('watch new Acme Robotics aka Acme, "AcmeBot"'))
    assert not reply.is_error, reply.text
    assert reply.text == ("Added Acme Robotics (acme-robotics) with aliases Acme, AcmeBot; its Google News feed is "
                          "polled from now on. Now watching Acme Robotics (acme-robotics) in this channel: "
                          "all event types.")
    async with session_scope(engine) as session:
        tracked = (await session.exec(select(TrackedCompany))).one()
        feed = (await session.exec(select(Feed))).one()
    assert (tracked.slug, tracked.name, tracked.aliases, tracked.added_by) == (
        "acme-robotics", "Acme Robotics", ["Acme Robotics", "Acme", "AcmeBot"], "U1")
    assert feed.company_slug == "acme-robotics" and feed.origin == "company" and feed.enabled
    assert feed.url.startswith("https://news.google.com/rss/search?") and feed.next_check_at <= NOW
    # another replica, with a registry that does not know the company yet, resolves it by alias
    other = CommandCore(engine, settings, test_registry(), clock=lambda: NOW)
    assert await ask(other, "watch acmebot funding", channel_id="C2") == \
        "Now watching Acme Robotics (acme-robotics) in this channel: funding."
    assert await ask(other, "watch new acme robotics") == (
        "Acme Robotics is already tracked. Already watching Acme Robotics (acme-robotics) in this channel: "
        "all event types.")
    # a misspelling is answered with the company added from chat among the suggestions
    assert "Acme Robotics (acme-robotics)" in await ask(other, 'watch "Acme Robotix"')
    # same name spelled differently gets its own unique slug only when it names no known company
    reply = await core.handle(request("watch new Acme Robotics Inc aka acme"))
    assert reply.is_error and reply.text == ("\u201cacme\u201d already names Acme Robotics (acme-robotics); "
                                             "watch it with /vendorwatch watch acme-robotics.")


async def test_watch_new_refuses_alias_of_a_seed_company(core: CommandCore) -> None:
    reply = await core.handle(request("watch new Remo Labs aka Remotasks"))
    assert reply.is_error
    assert reply.text == ("\u201cRemotasks\u201d already names Scale AI (scale-ai); watch it with "
                          "/vendorwatch watch scale-ai.")


async def test_help(core: CommandCore) -> None:
    text = await ask(core, "help")
    assert text.startswith("/vendorwatch subcommands:\n- watch COMPANY [TYPES...]")
    for name in ("unwatch COMPANY", "list:", "lookup COMPANY", "digest:", "why LINK-OR-HEADLINE", "watch new Acme"):
        assert name in text
    assert (await ask(core, "help unwatch")) == "unwatch COMPANY: stop alerting this channel about a company."
    reply = await core.handle(request("help me please"))
    assert reply.is_error and reply.text.startswith("No help on \u201cme please\u201d")


@pytest.mark.parametrize("text, message", [
    ("", "The command is empty; try /vendorwatch help."),
    ("watch " + "Scale AI " * 1200, "That command is 10,806 characters long; the limit is 2,000."),
    ("watch Scale\x07AI", "The command contains a control character (U+0007); please retype it."),
    ("fetch Scale AI", "Unknown subcommand \u201cfetch\u201d. Did you mean watch? "
                       "Try watch, unwatch, list, lookup, digest, why or help."),
    ("watch Scale AI weather", "Unknown event type \u201cweather\u201d; the types are funding, leadership_change, "
                               "customer_loss, acquisition, layoffs, partnership, legal."),
    ("watch", "Which company? Usage: /vendorwatch watch COMPANY [TYPES...]"),
    ("unwatch", "Which company? Usage: /vendorwatch unwatch COMPANY"),
    ("lookup", "Which company? Usage: /vendorwatch lookup COMPANY"),
    ("lookup openai funding", "lookup takes only a company: /vendorwatch lookup COMPANY"),
    ("why", "Which item? Usage: /vendorwatch why LINK-OR-HEADLINE"),
    ("digest now", "digest takes no arguments; it previews this channel's weekly digest."),
    ("digest", "This channel watches no company, so it has no digest; try /vendorwatch watch Scale AI."),
    ('watch "Scale AI', "A quote is not closed; put the company name between two double quotes."),
])
async def test_bad_input_gets_one_sentence(core: CommandCore, text: str, message: str) -> None:
    reply = await core.handle(request(text))
    assert reply.is_error
    assert reply.text == message
    assert reply.message is None


async def test_unexpected_error_is_logged_and_apologised(engine, settings, caplog) -> None:  # noqa: ANN001
    def broken_registry():  # noqa: ANN202
        raise RuntimeError("registry exploded")

    core = CommandCore(engine, settings, broken_registry, clock=lambda: NOW)
    with caplog.at_level(logging.ERROR, logger="vendorwatch.commands"):
        reply = await core.handle(request("watch Scale AI", channel_id="C9"))
    assert reply.is_error and reply.text == APOLOGY
    record = next(r for r in caplog.records if r.name == "vendorwatch.commands")
    assert record.exc_info and "registry exploded" in str(record.exc_info[1])
    assert (record.channel, record.platform) == ("C9", "slack")


async def test_replicas_answering_at_once_share_one_channel_row(engine, settings) -> None:  # noqa: ANN001
    cores = [CommandCore(engine, settings, test_registry(), clock=lambda: NOW) for _ in range(4)]
    texts = ["watch scale ai", "watch openai", "watch meta", "watch scale ai"]
    replies = await asyncio.gather(*(core.handle(request(text, "C7")) for core, text in zip(cores, texts)))
    assert not any(r.is_error for r in replies), [r.text for r in replies]
    async with session_scope(engine) as session:
        assert len((await session.exec(select(Channel))).all()) == 1
        slugs = sorted(s.company_slug for s in (await session.exec(select(Subscription))).all())
    assert slugs == ["meta", "openai", "scale-ai"]
