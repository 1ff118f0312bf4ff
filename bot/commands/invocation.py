"""What every subcommand handler gets: the database, settings, companies and the request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands.companies import CompanyDirectory
from bot.commands.parsing import CommandError
from bot.messages import Request
from watchers.rules.registry import Company
from watchers.settings import Settings
from watchers.storage.delivery import Channel


@dataclass
class Context:
    engine: AsyncEngine
    settings: Settings
    directory: CompanyDirectory
    request: Request
    now: datetime

    def unknown_company(self, text: str) -> CommandError:
        """The did-you-mean answer for a company nobody tracks."""
        suggestions = self.directory.suggest(text, limit=3)
        shown = text if len(text) <= 40 else text[:39] + "\u2026"
        if suggestions:
            names = " or ".join(f"{c.name} ({c.slug})" for c in suggestions)
            return CommandError(f"I don't track \u201c{shown}\u201d. Did you mean {names}?")
        return CommandError(f"I don't track \u201c{shown}\u201d; add it with "
                            f"/vendorwatch watch new {shown} aka OTHER NAME, ANOTHER.")

    def resolve(self, text: str) -> Company:
        company = self.directory.resolve(text)
        if company is None:
            raise self.unknown_company(text)
        return company


async def find_channel(session: AsyncSession, request: Request) -> Channel | None:
    return (await session.exec(select(Channel).where(Channel.platform == request.platform,
                                                     Channel.channel_id == request.channel_id))).first()


async def ensure_channel(session: AsyncSession, request: Request, now: datetime) -> Channel:
    """The request's channel row, created on first use (safe when two replicas race)."""
    channel = await find_channel(session, request)
    if channel is None:
        try:
            async with session.begin_nested():
                channel = Channel(platform=request.platform, workspace=request.workspace,
                                  channel_id=request.channel_id, name=request.channel_name, created_at=now)
                session.add(channel)
        except IntegrityError:
            channel = await find_channel(session, request)
            assert channel is not None
    elif request.channel_name and channel.name != request.channel_name:
        channel.name = request.channel_name
        session.add(channel)
    return channel
