"""Harnesses for the platform contract suite (tests/test_platform_contract.py).

A harness builds one platform against what it talks to (nothing, a stream, a loopback fake of
the platform's API) and reads back what a person in the channel would see. Each platform that
joins the suite adds one harness class here and its name to HARNESSES.
"""

from __future__ import annotations

import io
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


HARNESSES = {"memory": MemoryHarness, "console": ConsoleHarness}
