"""`vendorwatch chat [--channel PLATFORM:ID] [--user NAME] TEXT...`: one `/vendorwatch` command
typed from the terminal.

The command goes to the same `CommandCore` the platforms hand their slash commands to, with the
registry `run` uses (the seeds plus the companies added from chat), as if typed in that channel
(default `console:local`). A console user may do anything: the core has no per-user rights, and
platforms that check rights do it before the core. The reply is printed as the console renders
it; a failed command (`Reply.is_error`) is its one line on stderr and exit status 1.

A channel subscribed here with platform `console` is the channel `vendorwatch run` prints alerts
for when it runs with the console sink: outbox rows go to the platform named by the channel.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.cli.channels import parse_channel_arg
from bot.messages import Reply, Request
from bot.platforms.console import ConsolePlatform
from bot.platforms.plain_text import clean_line
from watchers.errors import UsageError
from watchers.settings import Settings

DEFAULT_CHANNEL = "console:local"
COMMAND_NAME = "/vendorwatch"


def default_user() -> str:
    """Who typed the command, as recorded on subscriptions (`created_by`)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in this container
        return "console"


def command_text(words: list[str]) -> str:
    """The words after `/vendorwatch` (typing the command name itself is forgiven)."""
    text = " ".join(words).strip()
    if text.split(" ", 1)[0].lower() in {COMMAND_NAME, COMMAND_NAME[1:]}:
        text = text.split(" ", 1)[1].strip() if " " in text else ""
    if not text:
        raise UsageError("chat needs a command, for example `vendorwatch chat watch scale-ai` "
                         "(see `vendorwatch chat help`)")
    return text


def render(reply: Reply) -> str:
    """The reply as the console platform shows it (control characters dropped, long lines cut)."""
    if reply.message is not None:
        return ConsolePlatform().render(reply.message)
    return "\n".join(clean_line(line) for line in reply.text.split("\n"))


async def run(args: argparse.Namespace, settings: Settings) -> int:
    platform, channel_id = parse_channel_arg(args.channel)
    text = command_text(args.text)
    user = (args.user or "").strip() or default_user()
    from bot.cli.common import database, load_current_registry
    from bot.commands.core import CommandCore

    async with database(settings) as engine:
        core = CommandCore(engine, settings, await load_current_registry(settings, engine))
        reply = await core.handle(Request(platform=platform, channel_id=channel_id, text=text, user=user))
    shown = render(reply)
    if reply.is_error:
        print(f"vendorwatch: {' '.join(shown.split())}", file=sys.stderr)
        return 1
    print(shown)
    return 0
