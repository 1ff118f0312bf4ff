"""`lookup COMPANY` (the company card) and `digest` (this channel's digest preview)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.commands.invocation import Context, find_channel
from bot.commands.parsing import Command, CommandError, CompanyArgs, parse_company_args
from bot.commands.company_card import company_card
from bot.digest.build import build_digest, week_start_for
from bot.messages import Reply
from watchers.storage.db import session_scope
from watchers.storage.delivery import Subscription

LOOKUP_USAGE = "/vendorwatch lookup COMPANY"


async def lookup(ctx: Context, command: Command) -> Reply:
    async with session_scope(ctx.engine) as session:
        await ctx.directory.refresh(session)
    parsed = parse_company_args(command.args, ctx.directory.resolve, LOOKUP_USAGE)
    if not isinstance(parsed, CompanyArgs):
        raise ctx.unknown_company(parsed)
    if parsed.types:
        raise CommandError(f"lookup takes only a company: {LOOKUP_USAGE}")
    card = await company_card(ctx.engine, parsed.company, ctx.directory.name_of, now=ctx.now)
    return Reply(message=card)


async def digest_preview(ctx: Context, command: Command) -> Reply:
    """The digest of the week in progress, as the weekly job will post it (so far)."""
    if command.args:
        raise CommandError("digest takes no arguments; it previews this channel's weekly digest.")
    async with session_scope(ctx.engine) as session:
        await ctx.directory.refresh(session)
        channel = await find_channel(session, ctx.request)
        watched = channel is not None and (await session.exec(select(Subscription.id).where(
            Subscription.channel_pk == channel.id))).first() is not None
    if not watched:
        raise CommandError("This channel watches no company, so it has no digest; try /vendorwatch watch Scale AI.")
    week_start = week_start_for(ctx.now, ctx.settings) + timedelta(days=7)
    message = await build_digest(ctx.engine, channel.id, week_start, ctx.settings, ctx.directory)
    return Reply(message=message)
