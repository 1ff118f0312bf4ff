"""On SQLite, one `vendorwatch run` per database file.

`run` holds an exclusive `flock` on `<database file>.run.lock`, beside the database, for as long as
it runs; a second `run` on the same file finds the lock held and stops with one line (exit 1).
The kernel drops the lock when the process ends, however it ends (SIGKILL too), so a crash
leaves no stale lock to clean up. On PostgreSQL there is nothing to hold: replicas share the work
through leases. The file names the holder's process id, for the refusal message.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy import make_url

from watchers.storage.db import database_location

try:
    import fcntl
except ImportError:  # not a POSIX system: no guard (the contract's platforms are POSIX)
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("vendorwatch.storage")


class AlreadyRunning(Exception):
    """Another `run` holds this SQLite database: a runtime failure, one line for a person."""


def sqlite_file(database_url: str) -> Path | None:
    """The absolute database file of a SQLite URL; None for PostgreSQL and in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser().resolve()


class RunLock:
    """The held lock (or nothing to hold); `release` is idempotent."""

    def __init__(self, path: Path | None, fd: int | None):
        self.path, self._fd = path, fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def hold_single_run(database_url: str) -> RunLock:
    """Say where the database is (one log line) and, on SQLite, take the one-run lock or raise AlreadyRunning."""
    log.info("database: %s", database_location(database_url))
    database = sqlite_file(database_url)
    if database is None or fcntl is None:
        return RunLock(None, None)
    lock_path = database.with_name(database.name + ".run.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        who = f" (process {holder})" if holder.isdigit() else ""
        raise AlreadyRunning(f"another `vendorwatch run`{who} is already using {database}; on SQLite one run "
                             f"at a time (use PostgreSQL for several replicas)") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return RunLock(lock_path, fd)
