"""Harnesses for the platform contract suite (tests/test_platform_contract.py).

A harness builds one platform against what it talks to (nothing, a stream, a loopback fake of
the platform's API) and reads back what a person in the channel would see. Each platform that
joins the suite adds one harness class here and its name to HARNESSES.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import re
from typing import Any

from bot.messages import Reply, Request
from bot.platforms.console import ConsolePlatform
from bot.platforms.contract import PermanentError, RateLimited, TransientError
from bot.platforms.memory import MemoryPlatform
from bot.platforms.plain_text import MAX_LINE

ERRORS = {
    "rate_limited": RateLimited(2.0),
    "server_error": TransientError("500 from the platform"),
    "channel_gone": PermanentError("channel_not_found"),
}
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


class PlainTextChecks:
    """Limits and markup of a plain-text platform: no control characters, no overlong line."""

    def limit_violations(self, payload: str) -> list[str]:
        return [f"line of {len(line)} characters" for line in payload.split("\n") if len(line) > MAX_LINE]

    def live_markup(self, payload: str) -> list[str]:
        return _CONTROL.findall(payload)


class MemoryHarness(PlainTextChecks):
    name = "memory"
    channel = "C-contract"
    can_fail = True
    can_look_up = True
    has_commands = True

    async def setup(self, commands: Any) -> None:
        self.platform = MemoryPlatform(commands=commands, command_deadline=0.2)

    async def teardown(self) -> None:
        await self.platform.stop()

    def seen(self, message_id: str) -> str:
        return self.platform.render(self.platform.messages[message_id].current)

    def channel_order(self) -> list[str]:
        return [m.id for m in self.platform.parents(self.channel)]

    def thread(self, message_id: str) -> list[str]:
        return [m.id for m in self.platform.thread(message_id)]

    def files(self) -> list[str]:
        return [m.attachment.filename for m in self.platform.messages.values() if m.attachment is not None]

    def fail_next(self, kind: str) -> None:
        self.platform.fail_next(ERRORS[kind])

    async def command(self, text: str) -> list[tuple[str, Reply | None]]:
        self.platform.answers.clear()
        await self.platform.command(Request(platform="memory", channel_id=self.channel, text=text, user="U1"))
        return [(answer.kind, answer.reply) for answer in self.platform.answers]


class ConsoleHarness(PlainTextChecks):
    name = "console"
    channel = "console:local"
    can_fail = False  # printing never fails
    can_look_up = False  # the console cannot tell what it printed before
    has_commands = False  # `vendorwatch chat` drives the command core directly

    async def setup(self, commands: Any) -> None:
        self.stream = io.StringIO()
        self.platform = ConsolePlatform(self.stream)

    async def teardown(self) -> None:
        await self.platform.stop()

    def _blocks(self) -> list[tuple[str, str]]:
        """(message id, text) of every print, parents and thread replies alike."""
        found, current, lines = [], None, []
        for line in self.stream.getvalue().split("\n"):
            header = re.fullmatch(r"#(\d+) \[.*\]|    \u21b3 in the thread of #\d+:|    \(updated #(\d+)\)", line)
            if header or line.startswith("-" * 72):
                if current is not None:
                    found.append((current, "\n".join(lines)))
                current, lines = (header.group(1) or header.group(2) or "?") if header else None, []
                continue
            lines.append(line.removeprefix("    "))
        if current is not None:
            found.append((current, "\n".join(lines)))
        return found

    def seen(self, message_id: str) -> str:
        texts = [text for found, text in self._blocks() if found == message_id]
        return texts[-1] if texts else ""

    def channel_order(self) -> list[str]:
        return [m for m in re.findall(r"^#(\d+) \[", self.stream.getvalue(), re.M)]

    def thread(self, message_id: str) -> list[str]:
        return re.findall(rf"\u21b3 in the thread of #{message_id}:", self.stream.getvalue())

    def files(self) -> list[str]:
        return re.findall(r"\(file: ([^,]+),", self.stream.getvalue())


class BlockKitChecks:
    """Limits and markup of a Slack payload ({"text", "blocks"}), or of its JSON as the fake stored it."""

    OUR_LINK = re.compile(r"<https://(?:example\.com|e\.example)/[^|<>\s]*\|[^<>]*>")

    def limit_violations(self, payload: Any) -> list[str]:
        from slack_sdk.errors import SlackObjectFormationError
        from slack_sdk.models.blocks import Block as SdkBlock

        payload = json.loads(payload) if isinstance(payload, str) else payload
        found = [f"{len(payload['blocks'])} blocks"] if len(payload["blocks"]) > 50 else []
        found += [f"text of {len(payload['text'])}"] if len(payload["text"]) > 40_000 else []
        for raw in payload["blocks"]:
            try:
                parsed = SdkBlock.parse(raw)
                if parsed is None:
                    found.append(f"unknown block {raw.get('type')}")
                else:
                    parsed.validate_json()
            except SlackObjectFormationError as exc:
                found.append(str(exc))
            texts = [raw.get("text") or {}] + list(raw.get("fields") or []) + list(raw.get("elements") or [])
            if raw["type"] == "header" and len(raw["text"]["text"]) > 150:
                found.append("header over 150")
            found += [f"{raw['type']} text over limit" for t in texts
                      if len(t.get("text", "") if isinstance(t.get("text"), str) else "") > 3000]
            found += ["field over 2000" for f in raw.get("fields") or [] if len(f["text"]) > 2000]
        return found

    def live_markup(self, payload: Any) -> list[str]:
        """Markup Slack would act on, other than our own links: mentions, broadcasts, link labels,
        control characters; in mrkdwn, formatting markers not fenced by zero-width spaces."""
        payload = json.loads(payload) if isinstance(payload, str) else payload
        found = []
        for kind, text in slack_strings(payload):
            rest = self.OUR_LINK.sub("", text)
            found += re.findall(r"[<>]", rest)
            found += _CONTROL.findall(rest)
            if kind == "mrkdwn":
                found += [m.group(0) for m in re.finditer(r"(?<!\u200b)[_~`](?!\u200b)", rest)]
        return found


def slack_strings(payload: Any, kind: str = "mrkdwn") -> list[tuple[str, str]]:
    """(kind, text) of every string Slack reads: plain_text objects, mrkdwn objects, the fallback."""
    if isinstance(payload, str):
        return [(kind, payload)]
    if isinstance(payload, dict):
        kind = "plain_text" if payload.get("type") == "plain_text" else kind
        return [s for key, value in payload.items()
                if key not in ("url", "action_id", "value", "block_id", "type", "ts", "metadata", "user", "team",
                               "bot_id", "app_id", "thread_ts", "channel", "files", "emoji", "verbatim")
                for s in slack_strings(value, kind)]
    if isinstance(payload, list):
        return [s for item in payload for s in slack_strings(item, kind)]
    return []


class SlackHarness(BlockKitChecks):
    """The Slack adapter against FakeSlack (the real slack-sdk client over loopback HTTP); commands
    are signed slash-command requests to the real bolt endpoint on an aiohttp app."""

    name = "slack"
    channel = "C0CONTRACT1"
    can_fail = True
    can_look_up = True
    has_commands = True
    secret = "contract-signing-secret"

    async def setup(self, commands: Any) -> None:
        from aiohttp import web
        from aiohttp.test_utils import TestClient, TestServer

        from bot.platforms.slack.adapter import SlackPlatform
        from tests.fakes.slack_api import FakeSlack
        from watchers.settings import load_settings

        self.fake = await FakeSlack().start()
        self.fake.add_channel(self.channel, "contract")
        self.fake.add_user("U1")
        settings = load_settings({"SLACK_BOT_TOKEN": self.fake.bot_token, "SLACK_SIGNING_SECRET": self.secret,
                                  "SLACK_API_URL": self.fake.base_url, "SLACK_PACE_SECONDS": "0"}, dotenv_path=None)
        self.platform = SlackPlatform(settings=settings, commands=commands, command_deadline=0.2)
        app = web.Application()
        self.platform.add_routes(app)
        self.http = TestClient(TestServer(app))
        await self.http.start_server()

    async def teardown(self) -> None:
        await self.platform.stop()
        await self.http.close()
        await self.fake.stop()

    def _message(self, ts: str) -> dict[str, Any]:
        return self.fake.workspace.channels[self.channel].by_ts[ts]

    def seen(self, message_id: str) -> str:
        found = self._message(message_id)
        return json.dumps({"text": found.get("text", ""), "blocks": found.get("blocks", [])}, ensure_ascii=False)

    def channel_order(self) -> list[str]:
        return [m["ts"] for m in self.fake.messages(self.channel) if m.get("subtype") != "thread_broadcast"]

    def thread(self, message_id: str) -> list[str]:
        return [m["ts"] for m in self.fake.thread(self.channel, message_id)[1:]]

    def files(self) -> list[str]:
        return [u.filename for u in self.fake.uploads if u.completed]

    def fail_next(self, kind: str) -> None:
        method = "chat.postMessage"
        if kind == "rate_limited":
            self.fake.fail_next(method, status=429, retry_after=2)
        elif kind == "server_error":
            self.fake.fail_next(method, status=500)
        else:
            self.fake.fail_next(method, error="channel_not_found")

    async def command(self, text: str) -> list[tuple[str, Reply | None]]:
        from tests.fakes.slack_signing import signed_headers, slash_command_body

        url = self.fake.response_url()
        body = slash_command_body("/vendorwatch", text, channel_id=self.channel, user_id="U1", response_url=url)
        response = await self.http.post("/slack/events", data=body, headers={
            **signed_headers(body, self.secret), "Content-Type": "application/x-www-form-urlencoded"})
        assert response.status == 200, await response.text()
        first = await response.json()
        if first["text"] != "Working on it\u2026":
            return [("now", slack_reply(first))]
        async with asyncio.timeout(5):
            while not self.fake.responses(url):
                await asyncio.sleep(0.01)
        return [("ack", None), ("later", slack_reply(self.fake.responses(url)[0]))]


def slack_reply(body: dict[str, Any]) -> Reply:
    """What the user saw of a command's answer, back as a neutral Reply."""
    sections = [b["text"]["text"] for b in body.get("blocks", []) if b["type"] == "section" and "text" in b]
    return Reply(text=html.unescape("\n".join(sections)), ephemeral=body.get("response_type") != "in_channel",
                 is_error=body.get("text", "").startswith(":warning: "))


HARNESSES = {"memory": MemoryHarness, "console": ConsoleHarness, "slack": SlackHarness}

from tests.discord_harness import DiscordHarness  # noqa: E402 - Discord joins the suite

HARNESSES["discord"] = DiscordHarness
