"""Where the default database is, so that it does not depend on the working directory by surprise.

`DATABASE_URL` left unset means `sqlite:///data/vendorwatch.db`, a path relative to the working
directory. That is kept where it is meant: in a Vendorwatch checkout (the working directory holds
pyproject.toml and seeds/, as for `make run`), or where `data/vendorwatch.db` already exists (a
database is never left behind). Anywhere else (an installed `vendorwatch` called from a home
directory, a cron job) the default database is the per-user data file
`$XDG_DATA_HOME/vendorwatch/vendorwatch.db` (`~/.local/share/vendorwatch/vendorwatch.db`).
A `DATABASE_URL` that is set, in the environment or `.env`, is used as given.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from watchers.settings import SETTINGS, Settings, inspect_settings

DEFAULT_URL = next(s.default for s in SETTINGS if s.name == "DATABASE_URL")
CHECKOUT_FILE = Path("data") / "vendorwatch.db"


def is_checkout(directory: Path) -> bool:
    return (directory / "pyproject.toml").is_file() and (directory / "seeds").is_dir()


def user_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME/vendorwatch, else ~/.local/share/vendorwatch (the XDG convention, as CACHE_DIR)."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".local" / "share")
    return Path(base) / "vendorwatch"


def default_database_url(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The URL the unset DATABASE_URL stands for, from `cwd` (the working directory)."""
    cwd = Path.cwd() if cwd is None else cwd
    if is_checkout(cwd) or (cwd / CHECKOUT_FILE).exists():
        return DEFAULT_URL
    return f"sqlite:///{user_data_dir(environ) / 'vendorwatch.db'}"


def with_default_database(settings: Settings) -> Settings:
    """`settings` with an unset DATABASE_URL replaced by `default_database_url()`; a set one kept."""
    if settings.database_url != DEFAULT_URL:
        return settings
    origin = next(read.origin for read in inspect_settings() if read.setting.name == "DATABASE_URL")
    if origin != "default":
        return settings
    return settings.replace(database_url=default_database_url())
