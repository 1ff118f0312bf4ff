"""The Discord harness of the platform contract suite: DiscordPlatform against FakeDiscord.

The real discord.py client logs in to the loopback fake, connects to its gateway and sends
through its REST API; what a person sees is read back from the messages the fake stored.
Commands arrive as INTERACTION_CREATE: the suite's command texts ("list", "slow", "boom") that
are not subcommands go in as `/vendorwatch why query:<text>`, and the harness hands the core
the query alone, so the suite's test core sees the text it expects.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from types import SimpleNamespace
from typing import Any

from bot.messages import Reply, Request
from bot.platforms.discord.adapter import DiscordPlatform
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_fixtures import TEST_TOKEN
from tests.fakes.discord_limits import message_errors

SUBCOMMANDS = ("list", "digest", "help")
MENTIONS = re.compile(r"@everyone|@here|<@|<#|<:|<a:|<t:")
_OUR_LINK = re.compile(r"\[([^\[\]]*)\]\((https?://[^\s()]+)\)")
_OUR_BOLD = re.compile(r"\*\*([^*]*)\*\*")
_MARKUP = re.compile(r"[*_~`|\[\]()>#]|^\s*-\s|^\s*\d+\.", re.M)


class SeenText(str):
    """What a person sees of a message; `plain` are the parts Discord shows without markdown (footer)."""

    markdown: list[str]
    plain: list[str]


def discord_settings(fake: FakeDiscord, **extra: Any) -> SimpleNamespace:
    return SimpleNamespace(discord_bot_token=fake.token, discord_api_url=fake.api_url, discord_pace_seconds=0.0,
                           discord_guild_id=fake.guild_id, **extra)


def fast_platform(fake: FakeDiscord, commands: Any = None, **options: Any) -> DiscordPlatform:
    """A DiscordPlatform with test-sized waits, pointed at the fake."""
    options.setdefault("send_bound", 0.5)
    options.setdefault("command_deadline", 0.2)
    options.setdefault("guild_ready_timeout", 0.05)
    options.setdefault("ready_timeout", 5.0)
    return DiscordPlatform(settings=discord_settings(fake), commands=commands, fast_identify=True, **options)


def live_in(text: str, *, markdown: bool = True) -> list[str]:
    """Mentions that would ping or render, and markdown that would format, in one text field."""
    found = MENTIONS.findall(text)
    if markdown:
        bare = re.sub(r"\\.", "", text, flags=re.S)  # a backslash-escaped character is literal
        for label, _ in _OUR_LINK.findall(bare):
            if "://" in label:
                found.append(f"link label that looks like a URL: {label}")
        bare = _OUR_BOLD.sub(r"\1", _OUR_LINK.sub(r"\1", bare))
        found += _MARKUP.findall(bare)
    return found


def seen_text(message: dict[str, Any]) -> SeenText:
    markdown = [message.get("content") or ""]
    plain = []
    for embed in message.get("embeds") or []:
        markdown += [embed.get("title") or "", embed.get("description") or ""]
        for field in embed.get("fields") or []:
            markdown += [field["name"], field["value"]]
        plain.append((embed.get("footer") or {}).get("text") or "")
    seen = SeenText("\n".join(part for part in markdown + plain if part))
    seen.markdown, seen.plain = markdown, plain
    return seen


class DiscordHarness:
    name = "discord"
    can_fail = True
    can_look_up = True
    has_commands = True

    async def setup(self, commands: Any) -> None:
        async def core(request: Request) -> Reply:
            text = request.text.removeprefix("why ")
            return await commands(dataclasses.replace(request, text=text))

        self.fake = FakeDiscord(token=TEST_TOKEN, heartbeat_interval_ms=1000)
        await self.fake.start()
        self.platform = fast_platform(self.fake, core)
        self.channel = self.fake.text_channel_id

    async def teardown(self) -> None:
        await self.platform.stop()
        await self.fake.stop()

    def seen(self, message_id: str) -> str:
        return seen_text(self.fake.state.messages_by_id[message_id])

    def channel_order(self) -> list[str]:
        return [m["id"] for m in self.fake.messages(self.channel)]

    def thread(self, message_id: str) -> list[str]:
        return [m["id"] for m in self.fake.messages(message_id)]

    def files(self) -> list[str]:
        return [a["filename"] for m in self.fake.state.messages_by_id.values() for a in m.get("attachments") or []]

    def fail_next(self, kind: str) -> None:
        pattern = "POST /channels/*/messages"
        if kind == "rate_limited":
            self.fake.fail_next(pattern, 429, retry_after=3.0)
        elif kind == "server_error":
            self.fake.fail_next(pattern, 503)
        else:
            self.fake.fail_next(pattern, 404)

    def limit_violations(self, payload: dict[str, Any]) -> list[str]:
        return [f"{key}: {value}" for key, value in message_errors(payload).items()]

    def live_markup(self, payload: Any) -> list[str]:
        if isinstance(payload, SeenText):
            return [*(p for t in payload.markdown for p in live_in(t)),
                    *(p for t in payload.plain for p in live_in(t, markdown=False))]
        found = []
        for embed in payload.get("embeds") or []:
            texts = [embed.get("title") or "", embed.get("description") or ""]
            texts += [t for f in embed.get("fields") or [] for t in (f["name"], f["value"])]
            found += [p for t in texts for p in live_in(t)]
            found += live_in((embed.get("footer") or {}).get("text") or "", markdown=False)
        if payload.get("allowed_mentions") != {"parse": []}:
            found.append(f"allowed_mentions {payload.get('allowed_mentions')}")
        return found

    async def command(self, text: str) -> list[tuple[str, Reply | None]]:
        answers: list[tuple[str, Reply | None]] = []
        self.platform.on_answer = lambda kind, reply: answers.append((kind, reply))
        if text in SUBCOMMANDS:
            record = await self.fake.send_command("vendorwatch", text)
        else:
            record = await self.fake.send_command("vendorwatch", "why", {"query": text})
        async with asyncio.timeout(5):
            while not answers or answers[-1][0] == "ack":
                await asyncio.sleep(0.01)
        await self.fake.wait_callback(record.id)
        return answers
