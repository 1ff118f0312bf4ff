"""Development helper (`make migration`): rewrite the initial migration from the tables.

Only while the schema had one migration, `0001_initial`. Now that later revisions exist
(0002: story feedback), databases at 0001 are out there: this helper refuses, and a schema change
is a new revision (written by hand, or `alembic revision --autogenerate` against a database at head).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from watchers.storage.db import MIGRATIONS_DIR


def main() -> None:
    versions = MIGRATIONS_DIR / "versions"
    later = sorted(p.name for p in versions.glob("0*.py") if not p.name.startswith("0001_"))
    if later:
        raise SystemExit(f"not rewriting 0001: later revisions exist ({', '.join(later)}); add a new revision instead")
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
