"""The platform-neutral `/vendorwatch` command core: a Request in, a Reply out.

Adapters (Slack, Discord, console) only convert their payloads to a `Request` and render the
`Reply`. A user's mistake is answered in one sentence (`is_error=True`); anything unexpected is
logged with its traceback and answered with a short apology: `handle` never raises.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands import help as help_cmd
from bot.commands import lookup as lookup_cmd
from bot.commands import why as why_cmd
from bot.commands import subscriptions
from bot.commands.companies import CompanyDirectory, RegistryProvider
from bot.commands.invocation import Context
from bot.commands.parsing import Command, parse_command
from bot.messages import Reply, Request
from watchers.errors import UsageError
from watchers.rules.registry import Registry
from watchers.settings import Settings
from watchers.storage.types import utcnow

log = logging.getLogger("vendorwatch.commands")

Handler = Callable[[Context, Command], Awaitable[Reply]]

HANDLERS: dict[str, Handler] = {
    "watch": subscriptions.watch,
    "unwatch": subscriptions.unwatch,
    "list": subscriptions.list_subscriptions,
    "lookup": lookup_cmd.lookup,
    "digest": lookup_cmd.digest_preview,
    "why": why_cmd.why,
    "help": help_cmd.show_help,
}

APOLOGY = "Sorry, something went wrong while answering that; it has been logged for the operators."


class CommandCore:
    """Answers `/vendorwatch` commands from any platform.

    `registry` is the seeds registry, or a function returning the current one (the app reloads
    it when companies are added); companies added from chat are read from the database.
    `clock` returns the current aware UTC time (tests pass a fixed one).
    """

    def __init__(self, engine: AsyncEngine, settings: Settings, registry: Registry | RegistryProvider, *,
                 clock: Callable[[], datetime] = utcnow):
        self.engine = engine
        self.settings = settings
        self.directory = CompanyDirectory(registry)
        self.clock = clock

    async def handle(self, request: Request) -> Reply:
        try:
            command = parse_command(request.text if isinstance(request.text, str) else "")
            context = Context(self.engine, self.settings, self.directory, request, self.clock())
            return await HANDLERS[command.name](context, command)
        except UsageError as exc:
            return Reply(text=str(exc), is_error=True)
        except Exception:
            log.exception("command failed", extra={"channel": request.channel_id, "platform": request.platform})
            return Reply(text=APOLOGY, is_error=True)
