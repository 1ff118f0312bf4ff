"""Development helper (`make migration`): rewrite the initial migration from the tables.

Until the first release the schema has one migration, `0001_initial`; after a release, add
new revisions with `alembic revision --autogenerate` instead.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from watchers.storage.db import MIGRATIONS_DIR


def main() -> None:
    versions = MIGRATIONS_DIR / "versions"
    for old in versions.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["database_url"] = f"sqlite:///{tmp}/empty.db"
        command.revision(config, message="initial", autogenerate=True, rev_id="0001")
    for new in versions.glob("0001_*.py"):
        new.rename(versions / "0001_initial.py")
    print(f"wrote {versions / '0001_initial.py'}")


if __name__ == "__main__":
    main()
