"""Slack rendering (bot/platforms/slack/render.py): Block Kit validated by slack-sdk's own models,
Slack's limits met by truncation, and feed text that never reaches Slack as markup."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from slack_sdk.models.blocks import Block as SdkBlock

from bot.messages import Block, Field, Link, Message, Reply, Strong
from bot.platforms.slack.render import (ELLIPSIS, ZWSP, escape, escape_mrkdwn, render_message, render_reply,
                                        safe_url, truncate)

HOSTILE = [
    "<!channel> <!here> <!everyone> <!subteam^S123|@team>",
    "<@U0123ABC> <#C0123|general> <https://evil.example|https://trusted.example>",
    "*bold* _it_ ~strike~ `code` ```block``` > quote",
    "&amp; &lt;b&gt; \x1b[2J\u2028",
]


def validate(payload: dict[str, Any]) -> None:
    """What Slack would refuse: more than 50 blocks, 40,000 text, or a block slack-sdk rejects."""
    assert len(payload["blocks"]) <= 50
    assert len(payload["text"]) <= 40_000
    for raw in payload["blocks"]:
        parsed = SdkBlock.parse(raw)
        assert parsed is not None, raw
        parsed.validate_json()
        assert parsed.to_dict()["type"] == raw["type"]
        if raw["type"] == "section":
            assert len(raw.get("text", {}).get("text", "")) <= 3000
            assert len(raw.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in raw.get("fields", []))
        if raw["type"] == "header":
            assert len(raw["text"]["text"]) <= 150
        if raw["type"] == "context":
            assert len(raw["elements"]) <= 10 and all(len(e["text"]) <= 2000 for e in raw["elements"])


def strings(payload: Any, kind: str = "mrkdwn") -> list[tuple[str, str]]:
    """(kind, text) of every string Slack reads: plain_text objects, mrkdwn objects, the fallback."""
    if isinstance(payload, str):
        return [(kind, payload)]
    if isinstance(payload, dict):
        kind = "plain_text" if payload.get("type") == "plain_text" else kind
        return [s for key, value in payload.items() if key not in ("url", "action_id", "value", "block_id", "type")
                for s in strings(value, kind)]
    if isinstance(payload, list):
        return [s for item in payload for s in strings(item, kind)]
    return []


OUR_LINK = re.compile(r"<https://(?:example\.com|e\.example)/[^|<>\s]*\|[^<>]*>")


def live_markup(payload: Any) -> list[str]:
    """Markup Slack would act on, in any string of the payload, other than our own links."""
    found = []
    for kind, text in strings(payload):
        rest = OUR_LINK.sub("", text)
        found += re.findall(r"[<>]", rest)
        found += re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", rest)
        if kind == "mrkdwn":  # a formatting marker of feed text is fenced by zero-width spaces
            found += [m.group(0) for m in re.finditer(r"(?<!\u200b)[_~`](?!\u200b)", rest)]
    return found


def full_message(text: str) -> Message:
    return Message(title=text, url="https://example.com/a", blocks=(
        Block.of(text), Block.of(text, Strong(text), Link(text, "https://e.example/b"))),
        fields=(Field(text, text),), footer=text, flag=text)


def test_a_message_is_header_link_paragraphs_fields_and_footer() -> None:
    message = Message(title="Scale AI raises $1B", url="https://example.com/a",
                      blocks=(Block.of("Led by ", Strong("Accel"), " ", Link("TechCrunch", "https://e.example/t")),
                              Block.of("Why: rule funding-raise matched \"raises\"")),
                      fields=(Field("Amount", "$1B"), Field("Round", "Series F")), footer="1 source",
                      flag="new event type")
    payload = render_message(message)
    validate(payload)
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds == ["context", "header", "section", "section", "section", "section", "context"]
    assert payload["blocks"][1]["text"]["text"] == "Scale AI raises $1B"
    assert payload["blocks"][2]["text"]["text"] == ":link: <https://example.com/a|example.com>"
    assert payload["blocks"][3]["text"]["text"] == "Led by *Accel* <https://e.example/t|TechCrunch>"
    assert payload["blocks"][4]["text"]["type"] == "plain_text"  # no links: no mrkdwn at all
    assert [f["text"] for f in payload["blocks"][5]["fields"]] == ["*Amount*\n$1B", "*Round*\nSeries F"]
    assert payload["text"].startswith("[new event type] Scale AI raises $1B\nhttps://example.com/a")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_feed_text_is_escaped_everywhere(text: str) -> None:
    payload = render_message(full_message(text))
    validate(payload)
    assert live_markup(payload) == []
    dumped = json.dumps(payload)
    for markup in ("<!channel>", "<!here>", "<!everyone>", "<!subteam", "<@U", "<#C", "<https://evil"):
        assert markup not in dumped


def test_escaping_is_exactly_amp_lt_gt() -> None:
    assert escape("a & b < c > d \"q\" 'x'") == "a &amp; b &lt; c &gt; d \"q\" 'x'"
    assert escape("&amp;") == "&amp;amp;"
    assert escape_mrkdwn("*hi*") == f"{ZWSP}*{ZWSP}hi{ZWSP}*{ZWSP}"


def test_urls_from_feeds_cannot_break_out_of_a_link() -> None:
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://x.example/a|<!channel>") == "https://x.example/a%7C%3C!channel%3E"
    assert safe_url("https://x.example/?a=1&b=2") == "https://x.example/?a=1&amp;b=2"
    payload = render_message(Message(title="t", blocks=(Block.of(Link("label", "javascript:alert(1)")),)))
    validate(payload)
    assert "<javascript" not in json.dumps(payload)


def test_limits_met_by_truncation_with_an_ellipsis() -> None:
    long = "x" * 10_000
    message = Message(title=long, url="https://example.com/" + "a" * 100,
                      blocks=tuple(Block.of(long, Strong(long), Link(long, "https://e.example/b")) for _ in range(80)),
                      fields=tuple(Field(long, long) for _ in range(40)), footer=long)
    payload = render_message(message)
    validate(payload)
    assert len(payload["blocks"]) == 50
    assert payload["blocks"][0]["text"]["text"].endswith(ELLIPSIS) and len(payload["blocks"][0]["text"]["text"]) == 150
    assert "more not shown" in payload["blocks"][-2]["elements"][0]["text"]
    assert payload["blocks"][-1]["elements"][0]["text"].endswith(ELLIPSIS)  # the footer
    assert len(payload["text"]) == 40_000 and payload["text"].endswith(ELLIPSIS)


def test_escaped_text_is_measured_and_never_cut_inside_an_entity() -> None:
    payload = render_message(Message(title="&" * 200))
    validate(payload)
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("&amp;" + ELLIPSIS)
    assert truncate("ab&amp;cd", 5) == "ab" + ELLIPSIS


def test_many_fields_are_split_ten_per_section() -> None:
    payload = render_message(Message(title="t", fields=tuple(Field(f"n{i}", "v") for i in range(23))))
    validate(payload)
    assert [len(b["fields"]) for b in payload["blocks"] if "fields" in b] == [10, 10, 3]


@dataclass(frozen=True)
class FakeAction:
    kind: str
    label: str
    url: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class MessageWithActions(Message):
    actions: tuple[FakeAction, ...] = ()


def test_buttons_only_when_the_message_carries_actions() -> None:
    assert all(b["type"] != "actions" for b in render_message(Message(title="t"))["blocks"])
    message = MessageWithActions(title="t", actions=(
        FakeAction("open", "Open article <!here>", url="https://example.com/a?x=1&y=2"),
        FakeAction("mute", "Mute this story", value="story:42"),
        FakeAction("not_relevant", "Not relevant", value="story:42"),
        FakeAction("open", "bad", url="javascript:alert(1)")))
    payload = render_message(message)
    validate(payload)
    (actions,) = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert [e["action_id"].split(":")[0] for e in actions["elements"]] == [
        "vendorwatch_open", "vendorwatch_mute", "vendorwatch_not_relevant"]
    assert actions["elements"][0]["url"] == "https://example.com/a?x=1&y=2"
    assert actions["elements"][0]["text"]["text"] == "Open article &lt;!here&gt;"
    assert actions["elements"][1]["value"] == "story:42"


def test_replies_are_plain_text_sections_and_errors_are_marked() -> None:
    long = "\n".join(f"line {n} <!channel> *x*" for n in range(2000))
    payload = render_reply(Reply(text=long))
    validate(payload)
    assert live_markup(payload) == []
    error = render_reply(Reply(text="Unknown company acme", is_error=True))
    validate(error)
    assert error["text"].startswith(":warning: ")
    card = render_reply(Reply(text="intro", message=Message(title="Scale AI")))
    validate(card)
    assert card["blocks"][0]["text"]["text"] == "intro"
