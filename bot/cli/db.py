"""`vendorwatch db upgrade`: says what it did (created, migrated, nothing to do) and where."""

from __future__ import annotations

import argparse

from watchers.settings import Settings

SAID = {
    "created": "created the database schema",
    "migrated": "migrated the database schema",
    "current": "the database schema was already current",
}


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from watchers.storage.db import database_location, upgrade

    result = await upgrade(settings.database_url)
    revision = ", ".join(result.after) or "none"
    detail = f" (from {', '.join(result.before)} to {revision})" if result.action == "migrated" else \
        f" (revision {revision})"
    print(f"{SAID[result.action]}{detail} in {database_location(settings.database_url)}")
    return 0
