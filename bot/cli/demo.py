"""`vendorwatch demo`: the offline demo (bot/demo/run.py)."""

from __future__ import annotations

import argparse

from watchers.settings import Settings


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run as demo

    return await demo.run(args, settings)
