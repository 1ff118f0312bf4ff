"""The settings table: defaults, .env, validation with the setting's name, README in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchers.errors import UsageError
from watchers.settings import SETTINGS, load_settings

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


def test_cache_dir_follows_xdg_then_home_and_off_turns_it_off() -> None:
    assert load_settings({"XDG_CACHE_HOME": "/x/cache"}, dotenv_path=None).cache_path == Path("/x/cache/vendorwatch")
    assert load_settings({"HOME": "/home/u"}, dotenv_path=None).cache_path == Path("/home/u/.cache/vendorwatch")
    assert load_settings({"CACHE_DIR": "/srv/vw"}, dotenv_path=None).cache_path == Path("/srv/vw")
    assert load_settings({"CACHE_DIR": "off"}, dotenv_path=None).cache_path is None
