"""`vendorwatch settings`: every setting with the value in effect (secrets masked), default, meaning.

It reads the settings itself instead of taking them from the dispatcher, so that it still
shows everything when a value is invalid: that is when a person looks. Invalid values are marked
in the listing and the first one is the error line (exit 2), as for every other command.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from watchers.errors import UsageError
from watchers.settings import SettingValue, inspect_settings, invalid_message
from watchers.storage.location import default_database_url


def describe(read: SettingValue) -> str:
    """Two lines: `NAME = value  [origin; default D]`, then the meaning, indented."""
    setting = read.setting
    default = "unset" if setting.default is None else setting.default
    if read.origin == "default":
        # DATABASE_URL's default is a relative file only in a checkout (watchers/storage/location.py)
        where = "default" if read.raw == setting.default or setting.default is None else \
            f"default; {default} in a checkout"
    else:
        where = f"from {read.origin}; default {default}"
    if read.error is not None:
        where = f"INVALID, expected {read.error}; {where}"
    return f"{setting.name} = {read.shown}  [{where}]\n    {setting.help}"


def in_effect(values: list[SettingValue]) -> list[SettingValue]:
    """An unset DATABASE_URL stands for a file that depends on where the command runs: show that one."""
    return [replace(read, raw=default_database_url())
            if read.setting.name == "DATABASE_URL" and read.origin == "default" else read for read in values]


def run(args: argparse.Namespace, settings: object = None) -> int:
    values = in_effect(inspect_settings())
    print(f"Settings are read from the environment, then from {Path('.env').absolute()} "
          "(the environment wins).\n")
    print("\n".join(describe(read) for read in values))
    invalid = [read for read in values if read.error is not None]
    if invalid:
        sys.stdout.flush()
        more = f" (and {len(invalid) - 1} more, marked INVALID above)" if len(invalid) > 1 else ""
        raise UsageError(invalid_message(invalid[0]) + more)
    return 0
