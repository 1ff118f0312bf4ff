"""The console script: --help, usage errors as one line with exit 2, db upgrade."""

from __future__ import annotations

import argparse
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
                                  ["digest", "--help"], ["db", "upgrade", "--help"], ["run", "--help"],
                                  ["chat", "--help"], ["settings", "--help"]])
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
    assert result.stdout.startswith("the database schema was already current (revision ")  # the fixture made it
    from watchers.storage.db import database_location

    assert result.stdout.strip().endswith(f" in {database_location(postgres_server_url)}")
    assert "@" not in result.stdout and "/vw_test_" in result.stdout  # no user name, no password


def test_unreachable_database_is_a_runtime_failure(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", env={"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
                     cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("vendorwatch: cannot use the database:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_version_is_the_package_version() -> None:
    from importlib import metadata

    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"vendorwatch {metadata.version('vendorwatch')}"


def test_version_falls_back_to_pyproject_when_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import tomllib
    from importlib import metadata

    from bot import version as version_module

    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(version_module.metadata, "version", not_installed)
    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    assert version_module.version() == pyproject["project"]["version"]


def test_help_points_to_settings_instead_of_listing_them() -> None:
    result = run_cli("--help")
    assert "vendorwatch settings" in result.stdout
    assert "POLL_INTERVAL_SECONDS" not in result.stdout and "DATABASE_URL" not in result.stdout
    for command in ("run", "demo", "classify", "poll", "feeds", "digest", "chat", "settings", "db"):
        assert f"    {command} " in result.stdout


def _parsers(parser: argparse.ArgumentParser, prog: str = "vendorwatch"):  # noqa: ANN202
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{prog} {name}")


def test_every_argument_of_every_command_has_help() -> None:
    from bot.cli.main import build_parser

    missing = [f"{prog}: {action.dest}" for prog, parser in _parsers(build_parser())
               for action in parser._actions
               if not isinstance(action, argparse._SubParsersAction) and not action.help]
    assert missing == []
    subcommands = [(prog, choice) for prog, parser in _parsers(build_parser()) for action in parser._actions
                   if isinstance(action, argparse._SubParsersAction) for choice in action._choices_actions]
    assert [f"{prog} {choice.dest}" for prog, choice in subcommands if not choice.help] == []


def test_settings_lists_every_setting_with_secrets_masked(tmp_path: Path) -> None:
    from watchers.settings import SETTINGS

    (tmp_path / ".env").write_text("SLACK_SIGNING_SECRET=from-dotenv-secret\nPOLL_INTERVAL_SECONDS=60\n")
    result = run_cli("settings", cwd=tmp_path, env={
        "SLACK_BOT_TOKEN": "xoxb-very-secret", "DATABASE_URL": "postgresql+psycopg://vw:hunter2@db.example/vw"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for setting in SETTINGS:
        assert f"\n{setting.name} = " in out and setting.help in out
    assert "very-secret" not in out and "from-dotenv-secret" not in out and "hunter2" not in out
    assert "SLACK_BOT_TOKEN = *** (set)  [from environment; default unset]" in out
    assert "SLACK_SIGNING_SECRET = *** (set)  [from .env; default unset]" in out
    assert "POLL_INTERVAL_SECONDS = 60  [from .env; default 300]" in out
    assert "DATABASE_URL = postgresql+psycopg://vw:***@db.example/vw  [from environment; " in out
    assert "LOG_LEVEL = INFO  [default]" in out


def test_settings_marks_invalid_values_and_exits_2(tmp_path: Path) -> None:
    result = run_cli("settings", cwd=tmp_path, env={"POLL_INTERVAL_SECONDS": "soon", "PORT": "http"})
    assert result.returncode == 2
    assert "POLL_INTERVAL_SECONDS = soon  [INVALID, expected a whole number; from environment" in result.stdout
    assert "LOG_LEVEL = " in result.stdout  # the rest is still listed
    assert result.stderr.strip() == ("vendorwatch: setting POLL_INTERVAL_SECONDS='soon' is invalid: expected a whole "
                                     "number (and 1 more, marked INVALID above)")


@pytest.mark.parametrize("argv", [["run"], ["demo"], ["classify"], ["poll", "--once"], ["feeds", "list"],
                                  ["digest", "--channel", "console:local"], ["chat", "list"], ["db", "upgrade"]])
def test_every_command_checks_seeds_dir_first(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/never.db")
    monkeypatch.setenv("SEEDS_DIR", str(tmp_path / "missing"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (f"vendorwatch: setting SEEDS_DIR='{tmp_path / 'missing'}' is invalid: expected an existing "
                   f"directory ({tmp_path / 'missing'} is not one)\n")
    assert not (tmp_path / "never.db").exists()


def test_db_upgrade_says_what_it_did_and_where(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "sqlite:///data/vw.db"}  # relative: shown as the absolute path it is
    first = run_cli("db", "upgrade", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    where = f"in {tmp_path.resolve() / 'data' / 'vw.db'} (SQLite)"
    assert first.stdout.startswith("created the database schema (revision ") and first.stdout.strip().endswith(where)
    again = run_cli("db", "upgrade", env=env, cwd=tmp_path)
    assert again.stdout.startswith("the database schema was already current (revision ")
    assert again.stdout.strip().endswith(where)


def test_upgrade_result_names_the_three_cases() -> None:
    from watchers.storage.db import UpgradeResult, database_location

    assert UpgradeResult((), ("0001",)).action == "created"
    assert UpgradeResult(("0001",), ("0002",)).action == "migrated"
    assert UpgradeResult(("0002",), ("0002",)).action == "current"
    assert database_location("postgresql+psycopg://vw:hunter2@db.example:5432/vw") == \
        "postgresql+psycopg://db.example:5432/vw"


def test_settings_shows_the_database_an_unset_url_stands_for(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "XDG_DATA_HOME"}}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    result = subprocess.run([VENDORWATCH, "settings"], capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert (f"DATABASE_URL = sqlite:///{tmp_path / 'xdg' / 'vendorwatch' / 'vendorwatch.db'}  "
            "[default; sqlite:///data/vendorwatch.db in a checkout]") in result.stdout
