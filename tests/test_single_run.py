"""SQLite: one `vendorwatch run` per database file (watchers/storage/single_run.py).

Real processes: the first `run` holds the lock beside the database; a second on the same file is
refused with one line and exit 1; once the first is gone (SIGTERM, or SIGKILL: the kernel drops
the lock) a new `run` starts. A `run` on another file is not affected.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.shared_data import VENDORWATCH
from tests.test_run import free_port, run_env, wait_for_health
from watchers.storage.single_run import AlreadyRunning, hold_single_run, sqlite_file


def start(tmp_path: Path, database: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = run_env(tmp_path, port) | {"DATABASE_URL": f"sqlite:///{database}"}
    proc = subprocess.Popen([str(VENDORWATCH), "run"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return proc, port


@pytest.fixture
def processes():
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_a_second_run_on_the_same_file_is_refused_in_one_line(tmp_path: Path, processes) -> None:
    database = tmp_path / "vw.db"
    first, port = start(tmp_path, database)
    processes.append(first)
    wait_for_health(first, port)

    second, _ = start(tmp_path, database)
    processes.append(second)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 1, err
    assert err.splitlines()[-1] == (f"vendorwatch: another `vendorwatch run` (process {first.pid}) is already using "
                                    f"{database.resolve()}; on SQLite one run at a time (use PostgreSQL for "
                                    f"several replicas)")
    assert "Traceback" not in err
    assert first.poll() is None  # the first run is untouched

    other, other_port = start(tmp_path, tmp_path / "other.db")  # another file: its own run
    processes.append(other)
    wait_for_health(other, other_port)

    first.send_signal(signal.SIGTERM)
    _, first_err = first.communicate(timeout=30)
    assert first.returncode == 0
    assert f"database: {database.resolve()} (SQLite)" in first_err  # said at start, one line

    again, again_port = start(tmp_path, database)
    processes.append(again)
    wait_for_health(again, again_port)


def test_a_killed_run_leaves_no_stale_lock(tmp_path: Path, processes) -> None:
    database = tmp_path / "vw.db"
    first, port = start(tmp_path, database)
    processes.append(first)
    wait_for_health(first, port)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)

    second, second_port = start(tmp_path, database)
    processes.append(second)
    wait_for_health(second, second_port)


def test_the_lock_in_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'vw.db'}"
    lock = hold_single_run(url)
    try:
        assert (tmp_path / "sub" / "vw.db.run.lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(AlreadyRunning, match=r"process \d+"):
            hold_single_run(url)  # flock is per open file: a second descriptor conflicts, as another process does
    finally:
        lock.release()
    hold_single_run(url).release()
    lock.release()  # idempotent
    hold_single_run("postgresql+psycopg://u:p@db.example/vw").release()  # nothing to hold
    assert sqlite_file("sqlite://") is None and sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("sqlite:///rel/vw.db") == Path("rel/vw.db").resolve()
