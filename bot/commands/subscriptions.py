"""`watch`, `unwatch` and `list`: a channel's subscriptions."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.commands.feed_health import failing_feeds, failing_note
from bot.commands.invocation import Context, ensure_channel, find_channel
from bot.commands.parsing import Command, CommandError, CompanyArgs, parse_company_args, parse_new_company
from bot.messages import Reply
from bot.wording import types_text
from watchers.rules.registry import Company
from watchers.storage.db import session_scope
from watchers.storage.delivery import Subscription

WATCH_USAGE = "/vendorwatch watch COMPANY [TYPES...]"
UNWATCH_USAGE = "/vendorwatch unwatch COMPANY"
MAX_LISTED = 50  # lines of `list`, to stay within one chat message


def describe_types(types: list[str] | tuple[str, ...]) -> str:
    return types_text(types) if types else "all event types"


async def watch(ctx: Context, command: Command) -> Reply:
    async with session_scope(ctx.engine) as session:
        await ctx.directory.refresh(session)
        added_note = ""
        if command.args and command.args[0].text.lower() == "new" and not command.args[0].quoted:
            new = parse_new_company(command.args)
            company = ctx.directory.resolve(new.name)
            if company is None:
                company = await ctx.directory.add(session, new, added_by=ctx.request.user or None, now=ctx.now)
                aliases = f" with aliases {', '.join(new.aliases)}" if new.aliases else ""
                added_note = (f"Added {company.name} ({company.slug}){aliases}; "
                              "its Google News feed is polled from now on. ")
            else:
                added_note = f"{company.name} is already tracked. "
            types: tuple[str, ...] = ()
        else:
            parsed = parse_company_args(command.args, ctx.directory.resolve, WATCH_USAGE)
            if not isinstance(parsed, CompanyArgs):
                raise ctx.unknown_company(parsed)
            company, types = parsed.company, parsed.types
        # a new subscription concerns everyone in the channel: confirmed in public
        return Reply(text=added_note + await _subscribe(ctx, session, company, types), ephemeral=False)


async def _subscribe(ctx: Context, session, company: Company, types: tuple[str, ...]) -> str:  # noqa: ANN001
    channel = await ensure_channel(session, ctx.request, ctx.now)
    subscription = (await session.exec(select(Subscription).where(
        Subscription.channel_pk == channel.id, Subscription.company_slug == company.slug))).first()
    who = f"{company.name} ({company.slug})"
    if subscription is None:
        try:
            async with session.begin_nested():
                session.add(Subscription(channel_pk=channel.id, company_slug=company.slug, event_types=list(types),
                                         created_by=ctx.request.user or None, created_at=ctx.now))
            return f"Now watching {who} in this channel: {describe_types(types)}."
        except IntegrityError:  # the same watch from another replica a moment ago
            subscription = (await session.exec(select(Subscription).where(
                Subscription.channel_pk == channel.id, Subscription.company_slug == company.slug))).one()
    before = list(subscription.event_types)
    was_paused = subscription.paused_reason
    subscription.event_types = list(types)
    subscription.paused_reason = None
    subscription.paused_at = None
    session.add(subscription)
    if before == list(types):
        text = f"Already watching {who} in this channel: {describe_types(types)}."
    else:
        text = f"Updated {who} in this channel: now {describe_types(types)} (was {describe_types(before)})."
    if was_paused:
        text += f" Alerts had been paused ({was_paused}) and are on again."
    return text


async def unwatch(ctx: Context, command: Command) -> Reply:
    async with session_scope(ctx.engine) as session:
        await ctx.directory.refresh(session)
        parsed = parse_company_args(command.args, ctx.directory.resolve, UNWATCH_USAGE)
        if not isinstance(parsed, CompanyArgs):
            raise ctx.unknown_company(parsed)
        if parsed.types:
            raise CommandError(f"unwatch takes only a company; to narrow the types use {WATCH_USAGE}.")
        company = parsed.company
        channel = await find_channel(session, ctx.request)
        subscription = None if channel is None else (await session.exec(select(Subscription).where(
            Subscription.channel_pk == channel.id, Subscription.company_slug == company.slug))).first()
        if subscription is None:
            raise CommandError(f"This channel is not watching {company.name} ({company.slug}); "
                               "/vendorwatch list shows what it watches.")
        await session.delete(subscription)
        return Reply(text=f"Stopped watching {company.name} ({company.slug}) in this channel.")


async def list_subscriptions(ctx: Context, command: Command) -> Reply:
    if command.args:
        raise CommandError("list takes no arguments; it shows what this channel watches.")
    async with session_scope(ctx.engine) as session:
        await ctx.directory.refresh(session)
        channel = await find_channel(session, ctx.request)
        subscriptions = [] if channel is None else list((await session.exec(select(Subscription).where(
            Subscription.channel_pk == channel.id))).all())
        failing = await failing_feeds(session, [s.company_slug for s in subscriptions], ctx.now) \
            if subscriptions else []
    if not subscriptions:
        return Reply(text="This channel watches no company yet; try /vendorwatch watch Scale AI.")
    lines = []
    for sub in sorted(subscriptions, key=lambda s: ctx.directory.name_of(s.company_slug).lower()):
        line = f"- {ctx.directory.name_of(sub.company_slug)} ({sub.company_slug}): {describe_types(sub.event_types)}"
        if sub.paused_reason:
            since = f" since {sub.paused_at:%Y-%m-%d %H:%M} UTC" if sub.paused_at else ""
            line += f"; paused{since}: {sub.paused_reason}"
        lines.append(line)
    count = len(subscriptions)
    head = f"This channel watches {count} {'company' if count == 1 else 'companies'}:"
    if count > MAX_LISTED:
        lines = lines[:MAX_LISTED] + [f"and {count - MAX_LISTED} more."]
    note = failing_note(failing)  # feeds failing for a while: one line, never a message of its own
    return Reply(text="\n".join([head, *lines, *([note] if note else [])]))
