"""The console sink: alerts printed as they would appear in a channel.

Parents are printed flush left, thread replies indented under a "thread of #N" marker, edits
as "(updated #N)" with the new text. It never fails and cannot look up earlier sends.
"""

from __future__ import annotations

import itertools
import sys
from typing import TextIO

from bot.messages import Message

RULE = "-" * 72


class ConsolePlatform:
    name = "console"

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream
        self._ids = itertools.count(1)

    def _print(self, text: str) -> None:
        stream = self.stream or sys.stdout
        print(text, file=stream, flush=True)

    async def post(self, channel_id: str, message: Message, *, thread_id: str | None = None,
                   idempotency_key: str | None = None) -> str:
        message_id = str(next(self._ids))
        text = message.to_text()
        if thread_id is None:
            self._print(f"{RULE}\n#{message_id} [{channel_id}]\n{text}")
        else:
            indented = "\n".join("    " + line for line in text.splitlines())
            self._print(f"    \u21b3 in the thread of #{thread_id}:\n{indented}")
        return message_id

    async def edit(self, channel_id: str, message_id: str, message: Message) -> None:
        indented = "\n".join("    " + line for line in message.to_text().splitlines())
        self._print(f"    (updated #{message_id})\n{indented}")

    async def find_sent(self, channel_id: str, idempotency_key: str) -> str | None:
        return None
