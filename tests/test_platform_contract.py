"""The platform contract (bot/platforms/contract.py), checked on every platform.

Each test runs once per harness of tests/platform_harness.py: order, threads, edits, uploads,
limits, escaping of hostile feed text, idempotent re-send, error mapping, lifecycle and the
command deadline. A platform that cannot do something by its nature (the console cannot fail
or look back) says so in its harness, and the test says so when it skips.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.messages import Attachment, Block, Field, Link, Message, Reply, Request, Strong
from bot.platforms.contract import PermanentError, RateLimited, TransientError
from tests.platform_harness import HARNESSES

HOSTILE = [
    "<!channel> <!here> <!everyone> <!subteam^S123>",
    "@everyone @here <@U1> <@&123> <#C42> <@!99>",
    "<https://evil.example|https://trusted.example> [trusted](https://evil.example)",
    "**bold** _it_ ~strike~ `code` ```block``` > quote || spoiler ||",
    "\x1b[2J\x1b]0;pwned\x07 &amp; &lt;b&gt;",
]


@pytest.fixture(params=sorted(HARNESSES))
async def harness(request):  # noqa: ANN001, ANN201
    async def commands(req: Request) -> Reply:
        if req.text == "slow":
            await asyncio.sleep(0.5)
        if req.text == "boom":
            raise RuntimeError("a bug")
        return Reply(text=f"you said {req.text}", ephemeral=req.text != "watch")

    built = HARNESSES[request.param]()
    await built.setup(commands)
    await built.platform.start()
    try:
        yield built
    finally:
        await built.teardown()


def hostile_message(text: str) -> Message:
    return Message(title=text, url="https://example.com/a", blocks=(Block.of(text, Strong(text), Link(text, "https://example.com/b")),),
                   fields=(Field(text, text),), footer=text)


async def test_health_after_start(harness) -> None:  # noqa: ANN001
    health = await harness.platform.health()
    assert health.ok and health.identity


async def test_messages_arrive_in_order(harness) -> None:  # noqa: ANN001
    ids = [await harness.platform.post(harness.channel, Message(title=f"alert {n}")) for n in range(3)]
    assert len(set(ids)) == 3
    assert harness.channel_order()[-3:] == ids
    assert "alert 1" in harness.seen(ids[1])


async def test_replies_go_into_the_parents_thread(harness) -> None:  # noqa: ANN001
    parent = await harness.platform.post(harness.channel, Message(title="parent"))
    await harness.platform.post(harness.channel, Message(title="more coverage"), thread=parent)
    assert len(harness.thread(parent)) == 1
    assert harness.channel_order()[-1] == parent  # a reply is not a new parent


async def test_edit_replaces_the_text(harness) -> None:  # noqa: ANN001
    parent = await harness.platform.post(harness.channel, Message(title="1 outlet"))
    await harness.platform.edit(harness.channel, parent, Message(title="2 outlets"))
    assert "2 outlets" in harness.seen(parent)


async def test_upload_sends_a_file(harness) -> None:  # noqa: ANN001
    parent = await harness.platform.post(harness.channel, Message(title="digest"))
    await harness.platform.upload(harness.channel, Attachment("chart.png", b"\x89PNG...", "Chart"), thread=parent)
    assert "chart.png" in harness.files()


async def test_limits_met_by_truncation(harness) -> None:  # noqa: ANN001
    long = "x" * 10_000
    message = Message(title=long, blocks=tuple(Block.of(long) for _ in range(80)),
                      fields=tuple(Field(long, long) for _ in range(40)), footer=long)
    assert harness.limit_violations(harness.platform.render(message)) == []
    assert await harness.platform.post(harness.channel, message)


@pytest.mark.parametrize("text", HOSTILE)
async def test_feed_text_never_reaches_the_platform_as_markup(harness, text: str) -> None:  # noqa: ANN001
    assert harness.live_markup(harness.platform.render(hostile_message(text))) == []
    message_id = await harness.platform.post(harness.channel, hostile_message(text))
    assert harness.live_markup(harness.seen(message_id)) == []


async def test_a_sent_key_is_found_again(harness) -> None:  # noqa: ANN001
    if not harness.can_look_up:
        pytest.skip(f"{harness.name} cannot look up earlier sends (documented: one duplicate possible)")
    parent = await harness.platform.post(harness.channel, Message(title="once"), key="alert:1")
    reply = await harness.platform.post(harness.channel, Message(title="reply"), thread=parent, key="more:1")
    assert await harness.platform.find_sent(harness.channel, "alert:1") == parent
    assert await harness.platform.find_sent(harness.channel, "more:1", thread=parent) == reply
    assert await harness.platform.find_sent(harness.channel, "never-sent") is None


async def test_a_sent_upload_is_found_again_in_its_thread(harness) -> None:  # noqa: ANN001
    assert isinstance(harness.platform.uploads_separately, bool)  # the outbox reads it to split attachments
    if not harness.can_look_up:
        pytest.skip(f"{harness.name} cannot look up earlier sends (documented: one duplicate possible)")
    parent = await harness.platform.post(harness.channel, Message(title="digest"), key="digest:9")
    sent = await harness.platform.upload(harness.channel, Attachment("chart.png", b"\x89PNG...", "Chart"),
                                         thread=parent, key="digest:9:file:0")
    assert await harness.platform.find_sent(harness.channel, "digest:9:file:0", thread=parent) == sent
    assert await harness.platform.find_sent(harness.channel, "digest:9:file:1", thread=parent) is None


@pytest.mark.parametrize("kind, error", [("rate_limited", RateLimited), ("server_error", TransientError),
                                         ("channel_gone", PermanentError)])
async def test_errors_map_to_the_three_kinds(harness, kind: str, error: type) -> None:  # noqa: ANN001
    if not harness.can_fail:
        pytest.skip(f"{harness.name} never fails")
    harness.fail_next(kind)
    with pytest.raises(error) as raised:
        await harness.platform.post(harness.channel, Message(title="x"))
    if error is RateLimited:
        assert raised.value.retry_after > 0


async def test_quick_command_answered_at_once(harness) -> None:  # noqa: ANN001
    if not harness.has_commands:
        pytest.skip(f"{harness.name} has no slash command")
    seen = await harness.command("list")
    assert [kind for kind, _ in seen] == ["now"]
    assert seen[0][1].text == "you said list" and seen[0][1].ephemeral


async def test_slow_command_acknowledged_then_answered(harness) -> None:  # noqa: ANN001
    if not harness.has_commands:
        pytest.skip(f"{harness.name} has no slash command")
    seen = await harness.command("slow")
    assert [kind for kind, _ in seen] == ["ack", "later"]
    assert seen[1][1].text == "you said slow"


async def test_a_failing_command_gets_an_apology(harness) -> None:  # noqa: ANN001
    if not harness.has_commands:
        pytest.skip(f"{harness.name} has no slash command")
    seen = await harness.command("boom")
    assert seen[-1][1].is_error and "sorry" in seen[-1][1].text.lower()
