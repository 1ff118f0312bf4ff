"""`help`: what each subcommand does, with examples."""

from __future__ import annotations

from bot.commands.invocation import Context
from bot.commands.parsing import Command, CommandError
from bot.messages import Reply
from watchers.models import EVENT_TYPES

TOPICS: dict[str, str] = {
    "watch": ("watch COMPANY [TYPES...]: alert this channel about a company, optionally only some event types "
              "(watching again changes the types and turns paused alerts back on). "
              "Example: /vendorwatch watch Scale AI funding leadership. "
              "A company nobody tracks yet: /vendorwatch watch new Acme Robotics aka Acme, AcmeBot "
              "(aliases after aka, separated by commas; its news feed starts at once)."),
    "unwatch": "unwatch COMPANY: stop alerting this channel about a company.",
    "list": "list: the companies this channel watches, their event types and any paused alerts with the reason.",
    "lookup": "lookup COMPANY: a card with the company's last 90 days: events by type, funding, leadership, "
              "customers gained and lost, top stories and known relationships.",
    "digest": "digest: a preview of this channel's weekly digest, as it will be posted.",
    "why": "why LINK-OR-HEADLINE: which feed brought an item, what the rules found, which story it joined "
           "and why this channel got it or not.",
    "help": "help [SUBCOMMAND]: this text.",
}


def help_text() -> str:
    lines = ["/vendorwatch subcommands:"]
    lines += [f"- {text}" for text in TOPICS.values()]
    lines.append(f"COMPANY is a slug, name or alias (quotes allowed). TYPES: {', '.join(EVENT_TYPES)} "
                 "(also leadership, customer-loss and similar spellings).")
    return "\n".join(lines)


async def show_help(ctx: Context, command: Command) -> Reply:
    if not command.args:
        return Reply(text=help_text())
    topic = command.args[0].text.lower()
    if len(command.args) > 1 or topic not in TOPICS:
        raise CommandError(f"No help on \u201c{command.raw_args[:40]}\u201d; the subcommands are "
                           f"{', '.join(TOPICS)}.")
    return Reply(text=TOPICS[topic])
