"""An in-memory platform for tests and benchmarks (like errbot's test backend).

It keeps every post, reply and edit per channel, shows them as plain text, and can be told to
fail: `fail_next(error)` makes the next call raise that error (a RateLimited, a TransientError,
a PermanentError). `find_sent` answers from what it holds unless `lookup=False`, which plays a
platform that cannot be asked.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from bot.messages import Message


@dataclass
class SentMessage:
    id: str
    channel_id: str
    message: Message
    thread_id: str | None = None
    idempotency_key: str | None = None
    edits: list[Message] = field(default_factory=list)

    @property
    def current(self) -> Message:
        return self.edits[-1] if self.edits else self.message


class MemoryPlatform:
    def __init__(self, name: str = "memory", *, lookup: bool = True):
        self.name = name
        self.lookup = lookup
        self.messages: dict[str, SentMessage] = {}
        self.calls: list[tuple[str, str]] = []  # (operation, channel_id), successful or not
        self._failures: deque[tuple[str | None, Exception]] = deque()
        self._ids = itertools.count(1)
        self.after_post: Callable[[SentMessage], None] | None = None

    def fail_next(self, error: Exception, *, times: int = 1, channel_id: str | None = None) -> None:
        """The next `times` calls (to `channel_id`, or any channel) raise `error`."""
        for _ in range(times):
            self._failures.append((channel_id, error))

    def _maybe_fail(self, channel_id: str) -> None:
        for index, (target, error) in enumerate(self._failures):
            if target is None or target == channel_id:
                del self._failures[index]
                raise error

    async def post(self, channel_id: str, message: Message, *, thread_id: str | None = None,
                   idempotency_key: str | None = None) -> str:
        self.calls.append(("post", channel_id))
        self._maybe_fail(channel_id)
        if thread_id is not None and thread_id not in self.messages:
            raise LookupError(f"no message {thread_id} to reply to")
        sent = SentMessage(f"m{next(self._ids)}", channel_id, message, thread_id, idempotency_key)
        self.messages[sent.id] = sent
        if self.after_post is not None:
            self.after_post(sent)
        return sent.id

    async def edit(self, channel_id: str, message_id: str, message: Message) -> None:
        self.calls.append(("edit", channel_id))
        self._maybe_fail(channel_id)
        self.messages[message_id].edits.append(message)

    async def find_sent(self, channel_id: str, idempotency_key: str) -> str | None:
        self.calls.append(("find_sent", channel_id))
        if not self.lookup:
            return None
        for sent in self.messages.values():
            if sent.channel_id == channel_id and sent.idempotency_key == idempotency_key:
                return sent.id
        return None

    def parents(self, channel_id: str) -> list[SentMessage]:
        return [m for m in self.messages.values() if m.channel_id == channel_id and m.thread_id is None]

    def thread(self, message_id: str) -> list[SentMessage]:
        return [m for m in self.messages.values() if m.thread_id == message_id]

    def transcript(self, channel_id: str) -> str:
        """The channel as a reader sees it: parents (current text) with their threads indented."""
        lines = []
        for parent in self.parents(channel_id):
            lines.append(parent.current.to_text())
            for reply in self.thread(parent.id):
                lines.extend("    " + line for line in reply.current.to_text().splitlines())
        return "\n".join(lines)
