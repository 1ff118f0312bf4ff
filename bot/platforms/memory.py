"""An in-memory platform for tests and benchmarks (like errbot's test backend).

It keeps every post, reply, edit and upload per channel, shows them as plain text, and can be
told to fail: `fail_next(error)` makes the next call raise that error (a RateLimited, a
TransientError, a PermanentError). `find_sent` answers from what it holds unless
`lookup=False`, which plays a platform that cannot be asked. `uploads_separately=True` plays a
platform that sends files apart from their message, as Slack does (the outbox then uploads them). Commands go through the same
`answer_in_time` path as the real platforms: `await memory.command(request)` records what a
user would have seen in `answers`.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from aiohttp import web

from bot.messages import Attachment, Message, Reply, Request
from bot.platforms.contract import CommandHandler, Health, Pace, answer_in_time
from bot.platforms.plain_text import render_plain

COMMAND_DEADLINE_SECONDS = 3.0


@dataclass
class SentMessage:
    id: str
    channel_id: str
    message: Message
    thread_id: str | None = None
    idempotency_key: str | None = None
    edits: list[Message] = field(default_factory=list)
    attachment: Attachment | None = None

    @property
    def current(self) -> Message:
        return self.edits[-1] if self.edits else self.message


@dataclass(frozen=True)
class Answer:
    """What a user saw in answer to a command: `kind` is now, ack or later."""

    kind: str
    reply: Reply | None


class MemoryPlatform:
    def __init__(self, name: str = "memory", *, lookup: bool = True, pace: Pace = Pace(),
                 commands: CommandHandler | None = None, command_deadline: float = COMMAND_DEADLINE_SECONDS,
                 uploads_separately: bool = False):
        self.name = name
        self.pace = pace
        self.uploads_separately = uploads_separately
        self.lookup = lookup
        self.commands = commands
        self.command_deadline = command_deadline
        self.messages: dict[str, SentMessage] = {}
        self.calls: list[tuple[str, str]] = []  # (operation, channel_id), successful or not
        self.answers: list[Answer] = []
        self.started = False
        self._failures: deque[tuple[str | None, Exception]] = deque()
        self._ids = itertools.count(1)
        self.after_post: Callable[[SentMessage], None] | None = None

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def health(self) -> Health:
        return Health(connected=self.started, authenticated=self.started, identity=f"{self.name} (in memory)",
                      detail=None if self.started else "not started")

    def add_routes(self, app: web.Application) -> None:
        """No HTTP routes."""

    def render(self, message: Message) -> str:
        return render_plain(message)

    def fail_next(self, error: Exception, *, times: int = 1, channel_id: str | None = None) -> None:
        """The next `times` calls (to `channel_id`, or any channel) raise `error`."""
        for _ in range(times):
            self._failures.append((channel_id, error))

    def _maybe_fail(self, channel_id: str) -> None:
        for index, (target, error) in enumerate(self._failures):
            if target is None or target == channel_id:
                del self._failures[index]
                raise error

    def _keep(self, channel: str, message: Message, thread: str | None, key: str | None,
              attachment: Attachment | None = None) -> SentMessage:
        if thread is not None and thread not in self.messages:
            raise LookupError(f"no message {thread} to reply to")
        sent = SentMessage(f"m{next(self._ids)}", channel, message, thread, key, attachment=attachment)
        self.messages[sent.id] = sent
        if self.after_post is not None:
            self.after_post(sent)
        return sent

    async def post(self, channel: str, message: Message, *, thread: str | None = None,
                   key: str | None = None) -> str:
        self.calls.append(("post", channel))
        if self.uploads_separately and message.attachments:
            raise ValueError("this platform sends files apart from their message: upload each attachment")
        self._maybe_fail(channel)
        return self._keep(channel, message, thread, key).id

    async def edit(self, channel: str, message_id: str, message: Message, *, thread: str | None = None) -> None:
        self.calls.append(("edit", channel))
        self._maybe_fail(channel)
        self.messages[message_id].edits.append(message)

    async def upload(self, channel: str, attachment: Attachment, *, thread: str | None = None,
                     key: str | None = None) -> str:
        self.calls.append(("upload", channel))
        self._maybe_fail(channel)
        return self._keep(channel, Message(title=attachment.title or attachment.filename), thread, key, attachment).id

    async def find_sent(self, channel: str, key: str, *, thread: str | None = None) -> str | None:
        self.calls.append(("find_sent", channel))
        if not self.lookup:
            return None
        for sent in self.messages.values():
            if sent.channel_id == channel and sent.idempotency_key == key and sent.thread_id == thread:
                return sent.id
        return None

    async def command(self, request: Request) -> Reply:
        """A user types `/vendorwatch ...`: the answer goes through the deadline path of every platform."""
        assert self.commands is not None, "built without a command core"

        async def now(reply: Reply) -> None:
            self.answers.append(Answer("now", reply))

        async def ack(reply: Reply | None) -> None:
            self.answers.append(Answer("ack", reply))

        async def later(reply: Reply) -> None:
            self.answers.append(Answer("later", reply))

        return await answer_in_time(self.commands, request, deadline=self.command_deadline,
                                    answer_now=now, acknowledge=ack, answer_later=later)

    def parents(self, channel_id: str) -> list[SentMessage]:
        return [m for m in self.messages.values() if m.channel_id == channel_id and m.thread_id is None]

    def thread(self, message_id: str) -> list[SentMessage]:
        return [m for m in self.messages.values() if m.thread_id == message_id]

    def transcript(self, channel_id: str) -> str:
        """The channel as a reader sees it: parents (current text) with their threads indented."""
        lines = []
        for parent in self.parents(channel_id):
            lines.append(self.render(parent.current))
            for reply in self.thread(parent.id):
                lines.extend("    " + line for line in self.render(reply.current).splitlines())
        return "\n".join(lines)
