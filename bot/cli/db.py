"""`vendorwatch db upgrade`."""

from __future__ import annotations

import argparse

from watchers.settings import Settings
from watchers.storage.db import upgrade


async def run(args: argparse.Namespace, settings: Settings) -> int:
    await upgrade(settings.database_url)
    print(f"database schema is up to date ({settings.database_url.split('@')[-1]})")
    return 0
