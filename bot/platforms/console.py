"""The console sink: alerts printed as they would appear in a channel.

Parents are printed flush left, thread replies indented under a "thread of #N" marker, edits
as "(updated #N)" with the new text. It never fails and cannot look up earlier sends.
"""

from __future__ import annotations

import itertools
import sys
from typing import TYPE_CHECKING, TextIO

from bot.messages import Attachment, Message
from bot.platforms.contract import Health, Pace
from bot.platforms.plain_text import clean_line, render_plain

if TYPE_CHECKING:
    from aiohttp import web

RULE = "-" * 72


class ConsolePlatform:
    name = "console"
    pace = Pace()
    uploads_separately = False  # a file is one printed line like any message

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream
        self._ids = itertools.count(1)

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        """Nothing to let go of."""

    async def health(self) -> Health:
        return Health(connected=True, authenticated=True, identity="console (standard output)")

    def add_routes(self, app: web.Application) -> None:
        """No HTTP routes."""

    def render(self, message: Message) -> str:
        return render_plain(message)

    def _print(self, text: str) -> None:
        print(text, file=self.stream or sys.stdout, flush=True)

    def _show(self, channel: str, text: str, thread: str | None) -> str:
        message_id = str(next(self._ids))
        if thread is None:
            self._print(f"{RULE}\n#{message_id} [{clean_line(channel)}]\n{text}")
        else:
            self._print(f"    \u21b3 in the thread of #{thread}:\n{_indented(text)}")
        return message_id

    async def post(self, channel: str, message: Message, *, thread: str | None = None,
                   key: str | None = None) -> str:
        return self._show(channel, self.render(message), thread)

    async def edit(self, channel: str, message_id: str, message: Message, *, thread: str | None = None) -> None:
        self._print(f"    (updated #{message_id})\n{_indented(self.render(message))}")

    async def upload(self, channel: str, attachment: Attachment, *, thread: str | None = None,
                     key: str | None = None) -> str:
        return self._show(channel, clean_line(f"(file: {attachment.filename}, {len(attachment.data)} bytes)"), thread)

    async def find_sent(self, channel: str, key: str, *, thread: str | None = None) -> str | None:
        return None


def _indented(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
