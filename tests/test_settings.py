"""The settings table: defaults, .env, validation with the setting's name, README in step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from watchers.errors import UsageError
from watchers.settings import SETTINGS, inspect_settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_match_the_contract() -> None:
    settings = load_settings({}, dotenv_path=None)
    assert settings.database_url == "sqlite:///data/vendorwatch.db"
    assert settings.seed_feeds is True
    assert settings.poll_interval_seconds == 300
    assert settings.feed_max_bytes == 5_000_000
    assert settings.feed_timeout_seconds == 20
    assert settings.allow_private_feed_urls is False
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.port == 3000 and settings.log_level == "INFO"
    assert not settings.slack_enabled and not settings.discord_enabled
    assert (settings.seeds_path / "companies.toml").name == "companies.toml"


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("POLL_INTERVAL_SECONDS=60\nLOG_LEVEL=debug\n")
    settings = load_settings({"LOG_LEVEL": "warning"}, dotenv_path=dotenv)
    assert settings.poll_interval_seconds == 60
    assert settings.log_level == "WARNING"


@pytest.mark.parametrize(("name", "value", "expects"), [
    ("POLL_INTERVAL_SECONDS", "0", "a whole number >= 1"),
    ("POLL_INTERVAL_SECONDS", "five", "a whole number"),
    ("FEED_MAX_BYTES", "-1", "a whole number >= 1024"),
    ("FEED_TIMEOUT_SECONDS", "nan", "a number"),
    ("ALLOW_PRIVATE_FEED_URLS", "maybe", "1 or 0"),
    ("DATABASE_URL", "mysql://x", "sqlite:// or postgresql"),
    ("SLACK_API_URL", "ftp://x", "an http(s) URL"),
    ("DIGEST_WEEKDAY", "someday", "a weekday name"),
    ("DIGEST_TIMEZONE", "Mars/Base", "an IANA time zone"),
    ("LOG_LEVEL", "loud", "one of DEBUG"),
    ("PORT", "70000", "<= 65535"),
    ("CLASSIFY_WORKERS", "-1", "a whole number >= 0"),
    ("CLASSIFY_WORKERS", "65", "<= 64"),
])
def test_a_bad_value_names_the_setting_and_what_it_expects(name: str, value: str, expects: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_settings({name: value}, dotenv_path=None)
    message = str(caught.value)
    assert name in message and expects in message and "\n" not in message


def test_every_setting_is_documented_in_readme_and_env_example() -> None:
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for setting in SETTINGS:
        assert f"`{setting.name}`" in readme, f"{setting.name} missing from README's configuration table"
        assert setting.name in example, f"{setting.name} missing from .env.example"


def test_seeds_dir_must_exist_and_hold_the_seed_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"SEEDS_DIR=.* is invalid: expected an existing directory"):
        load_settings({"SEEDS_DIR": str(tmp_path / "nope")}, dotenv_path=None)
    (tmp_path / "rules.toml").write_text("")
    with pytest.raises(UsageError, match=r"expected a directory holding companies.toml and rules.toml .*no "
                                         r"companies.toml\)$"):
        load_settings({"SEEDS_DIR": str(tmp_path)}, dotenv_path=None)
    (tmp_path / "companies.toml").write_text("")
    assert load_settings({"SEEDS_DIR": str(tmp_path)}, dotenv_path=None).seeds_path == tmp_path
    assert load_settings({"SEEDS_DIR": " "}, dotenv_path=None).seeds_dir is None  # blank: the bundled seeds


@pytest.mark.parametrize(("text", "value"), [("1", True), ("true", True), ("YES", True), ("on", True),
                                             ("0", False), ("false", False), ("no", False), ("Off", False)])
def test_seed_feeds_accepts_what_its_message_names(text: str, value: bool) -> None:
    assert load_settings({"SEED_FEEDS": text}, dotenv_path=None).seed_feeds is value
    with pytest.raises(UsageError) as caught:
        load_settings({"SEED_FEEDS": "2"}, dotenv_path=None)
    assert text.lower() in re.findall(r"[a-z0-9]+", str(caught.value).split("expected", 1)[1])


@pytest.mark.parametrize(("name", "value", "expects"), [
    ("DIGEST_WEEKDAY", "monkey", "a weekday name"),
    ("FEED_TIMEOUT_SECONDS", "inf", "a number >= 0.1"),
    ("FIRST_POLL_MAX_AGE_HOURS", "-inf", "a number >= 0"),
    ("DISCORD_API_URL", "discord.com/api", "an http(s) URL"),
    ("SLACK_API_URL", "https://", "an http(s) URL with a host"),
    ("FEED_USER_AGENT", "Bot\r\nX-Injected: 1", "printable text on one line"),
    ("DATABASE_URL", "sqlitex:///x.db", "sqlite:// or postgresql"),
])
def test_values_the_help_does_not_promise_are_refused(name: str, value: str, expects: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_settings({name: value}, dotenv_path=None)
    assert expects in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("name", "value", "parsed"), [
    ("DIGEST_WEEKDAY", "Friday", 4), ("DIGEST_WEEKDAY", "sun", 6),
    ("DATABASE_URL", "postgresql://u@h/db", "postgresql://u@h/db"),
    ("DISCORD_API_URL", "http://127.0.0.1:9/api/v10", "http://127.0.0.1:9/api/v10"),
    ("LOG_LEVEL", "critical", "CRITICAL"),
    ("CLASSIFY_WORKERS", "0", 0), ("CLASSIFY_WORKERS", "3", 3),
])
def test_values_the_help_promises_are_accepted(name: str, value: str, parsed: object) -> None:
    assert getattr(load_settings({name: value}, dotenv_path=None), name.lower()) == parsed


def test_log_level_help_names_every_accepted_level() -> None:
    [level] = [s for s in SETTINGS if s.name == "LOG_LEVEL"]
    for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        assert level.parse(name) == name and name in level.help


def test_secrets_and_database_passwords_are_masked() -> None:
    environ = {"SLACK_BOT_TOKEN": "xoxb-very-secret", "DATABASE_URL": "postgresql+psycopg://vw:hunter2@db/vw",
               "POLL_INTERVAL_SECONDS": "soon"}
    shown = {read.setting.name: read for read in inspect_settings(environ, dotenv_path=None)}
    assert shown["SLACK_BOT_TOKEN"].shown == "*** (set)" and shown["SLACK_BOT_TOKEN"].origin == "environment"
    assert shown["DATABASE_URL"].shown == "postgresql+psycopg://vw:***@db/vw"
    assert shown["DISCORD_BOT_TOKEN"].shown == "unset"
    assert shown["POLL_INTERVAL_SECONDS"].error == "a whole number"
    assert shown["SEEDS_DIR"].raw and shown["SEEDS_DIR"].origin == "default"  # the bundled seeds, by path
    assert {s.name for s in SETTINGS if s.secret} == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN",
                                                      "DISCORD_BOT_TOKEN"}
    with pytest.raises(UsageError) as caught:
        load_settings({"DATABASE_URL": "mysql://vw:hunter2@db/vw"}, dotenv_path=None)
    assert "hunter2" not in str(caught.value) and "vw:***@db" in str(caught.value)
