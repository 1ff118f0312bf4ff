"""The `/vendorwatch` slash command, platform-neutral: `CommandCore.handle(Request) -> Reply`."""

from bot.commands.core import CommandCore

__all__ = ["CommandCore"]
