"""`vendorwatch run`: the bot itself (bot/runner.py)."""

from __future__ import annotations

import argparse

from watchers.settings import Settings


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot import runner

    return await runner.run(args, settings)
