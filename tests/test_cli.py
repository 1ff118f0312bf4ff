"""The console script: --help, usage errors as one line with exit 2, db upgrade."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

VENDORWATCH = str(Path(sys.executable).with_name("vendorwatch"))


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    full_env.update(env or {})
    return subprocess.run([VENDORWATCH, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=60)


@pytest.mark.parametrize("args", [["--help"], ["classify", "--help"], ["poll", "--help"], ["feeds", "add", "--help"],
                                  ["digest", "--help"], ["db", "upgrade", "--help"], ["run", "--help"]])
def test_help_exits_zero(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert "usage: vendorwatch" in result.stdout


@pytest.mark.parametrize("args", [[], ["bogus"], ["poll"], ["feeds"], ["digest"], ["feeds", "remove", "x"]])
def test_usage_errors_are_one_line_and_exit_2(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vendorwatch: ")
    assert "Traceback" not in result.stderr


def test_bad_setting_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", env={"POLL_INTERVAL_SECONDS": "soon"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == ("vendorwatch: setting POLL_INTERVAL_SECONDS='soon' is invalid: "
                                     "expected a whole number")


def test_db_upgrade_creates_the_sqlite_file(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", env={"DATABASE_URL": f"sqlite:///{tmp_path}/sub/vw.db"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sub" / "vw.db").is_file()


@pytest.mark.postgres
def test_db_upgrade_on_postgres(postgres_server_url: str, tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", env={"DATABASE_URL": postgres_server_url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_unreachable_database_is_a_runtime_failure(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", env={"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
                     cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("vendorwatch: cannot use the database:")
    assert len(result.stderr.strip().splitlines()) == 1
