"""Discord rendering alone: embeds, colours, limits by truncation, hostile feed text disarmed."""

from __future__ import annotations

import re

import pytest

from bot.messages import Attachment, Block, Field, Link, Message, Reply, Strong
from bot.platforms.discord.render import COLOURS, ZWSP, escape, render, render_reply, truncate
from tests.fakes.discord_limits import message_errors

MENTIONS = re.compile(r"@everyone|@here|<@|<#|<:|<a:|<t:")


def visible(text: str) -> str:
    """What Discord shows of escaped text: every `\\x` pair as `x` dropped (it is literal), ZWSP kept."""
    return re.sub(r"\\.", "", text, flags=re.S)


def test_an_alert_as_an_embed() -> None:
    message = Message(title="Scale AI: Funding", url="https://news.example/a",
                      blocks=(Block.of(Link("Scale AI raises $1B", "https://news.example/a"), " \u2014 Reuters"),),
                      fields=(Field("What", "Funding of Scale AI: $1B"), Field("Sources", "2 outlets: Reuters, FT"),
                              Field("Why", "rule funding-1: \u201craises\u201d")),
                      footer="story 7 \u00b7 first seen 2026-05-01 12:30 UTC", accent="funding")
    payload = render(message)
    embed = payload["embeds"][0]
    assert payload["allowed_mentions"] == {"parse": []}
    assert embed["title"] == "Scale AI: Funding" and embed["url"] == "https://news.example/a"
    assert embed["color"] == COLOURS["funding"] != COLOURS["layoffs"]
    assert embed["description"].startswith("[Scale AI raises $1B](https://news.example/a)")
    assert [f["name"] for f in embed["fields"]] == ["What", "Sources"]
    assert embed["footer"]["text"].startswith("Why: rule funding-1") and "story 7" in embed["footer"]["text"]
    assert embed["timestamp"].startswith("2026-05-01T12:30:00")
    assert message_errors(payload) == {}


def test_every_limit_is_met_by_truncation() -> None:
    long = "x" * 10_000
    message = Message(title=long, blocks=tuple(Block.of(long) for _ in range(80)),
                      fields=tuple(Field(long, long) for _ in range(40)), footer=long)
    payload = render(message)
    embed = payload["embeds"][0]
    assert message_errors(payload) == {}
    assert len(embed["title"]) == 256 and embed["title"].endswith("\u2026")
    assert len(embed["footer"]["text"]) <= 2048 and len(embed.get("fields", [])) <= 25
    total = len(embed["title"]) + len(embed.get("description", "")) + len(embed["footer"]["text"]) + sum(
        len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    assert total <= 6000


def test_many_short_fields_stop_at_25() -> None:
    payload = render(Message(title="t", fields=tuple(Field(f"f{n}", "v") for n in range(40))))
    assert len(payload["embeds"][0]["fields"]) == 25 and message_errors(payload) == {}


def test_truncation_never_leaves_half_an_escape() -> None:
    text = escape("*" * 300)
    cut = truncate(text, 256)
    assert len(cut) <= 256 and not cut[:-1].endswith("\\") or cut[:-1].endswith("\\\\")
    assert (len(cut[:-1]) - len(cut[:-1].rstrip("\\"))) % 2 == 0


def test_hostile_title_pings_no_one() -> None:
    hostile = "Scale AI raises @everyone @here <@123456789012345678> <@&123> <#42> <:pwn:1>"
    payload = render(Message(title=hostile, blocks=(Block.of(hostile, Strong(hostile), Link(hostile, "https://x.example")),),
                             fields=(Field(hostile, hostile),), footer=hostile))
    assert payload["allowed_mentions"] == {"parse": []}
    embed = payload["embeds"][0]
    for text in [embed["title"], embed["description"], embed["footer"]["text"], *embed["fields"][0].values()]:
        if isinstance(text, str):
            assert not MENTIONS.search(text), text
            assert "@" + ZWSP + "everyone" in text


@pytest.mark.parametrize("text", ["[trusted](https://evil.example)", "**bold** __u__ ~~s~~ `c` ||spoiler||",
                                  "> quote", "# heading", "- item", "1. item", "\\*escaped\\*"])
def test_feed_markdown_stays_literal(text: str) -> None:
    embed = render(Message(title=text, blocks=(Block.of(text),)))["embeds"][0]
    for rendered in (embed["title"], embed["description"]):
        left = visible(rendered)
        assert not re.search(r"[*_~`|\[\]()>#]", left), (rendered, left)
        assert not re.match(r"\s*\d+\.", left)


def test_a_link_label_that_looks_like_a_url_is_broken_and_bad_schemes_dropped() -> None:
    embed = render(Message(title="t", url="javascript:alert(1)",
                           blocks=(Block.of(Link("https://trusted.example", "https://evil.example/(x)")),
                                   Block.of(Link("click", "javascript:alert(1)")))))["embeds"][0]
    assert "url" not in embed
    assert "https://trusted" not in embed["description"]
    assert "(https://evil.example/%28x%29)" in embed["description"]
    assert "javascript" not in embed["description"]


def test_a_chart_attachment_is_the_embed_image() -> None:
    embed = render(Message(title="Digest", attachments=(Attachment("chart week.png", b"png"),)))["embeds"][0]
    assert embed["image"]["url"] == "attachment://chart_week.png"


def test_replies_errors_ephemeral_and_public_watch() -> None:
    error = render_reply(Reply(text="Unknown company @everyone", is_error=True))
    assert error["flags"] == 64 and error["content"].startswith("\u26a0") and "@everyone" not in error["content"]
    assert error["allowed_mentions"] == {"parse": []}
    public = render_reply(Reply(text="Watching Scale AI", ephemeral=False))
    assert "flags" not in public
    card = render_reply(Reply(message=Message(title="Scale AI"), ephemeral=False))
    assert card["embeds"][0]["title"] == "Scale AI"
    assert len(render_reply(Reply(text="y" * 5000))["content"]) == 2000
