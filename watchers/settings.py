"""Every setting of Vendorwatch, declared once.

`SETTINGS` is the one table (name, default, type, help). `load_settings` reads the
environment (and `.env` in the working directory) once at start, validates every value and
returns a frozen `Settings` that is passed in to whatever needs it; nothing reads the
environment deeper inside.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from watchers.errors import UsageError


def _int(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError("a whole number") from None
        if low is not None and value < low:
            raise ValueError(f"a whole number >= {low}")
        if high is not None and value > high:
            raise ValueError(f"a whole number <= {high}")
        return value

    parse.expects = "a whole number"  # type: ignore[attr-defined]
    return parse


def _float(low: float = 0.0) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError("a number") from None
        if not math.isfinite(value) or value < low:
            raise ValueError(f"a number >= {low:g}")
        return value

    return parse


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("1 or 0 (true/false, yes/no and on/off work too)")


def _str(text: str) -> str:
    return text.strip()


def _header_text(text: str) -> str:
    """Text sent as an HTTP header value: printable, no line breaks."""
    value = text.strip()
    if not value.isprintable():
        raise ValueError("printable text on one line")
    return value


def _optional_str(text: str) -> str | None:
    return text.strip() or None


def _optional_snowflake(text: str) -> str | None:
    value = text.strip()
    if value and not (value.isdigit() and 15 <= len(value) <= 21):
        raise ValueError("a Discord id (a number of 15 to 21 digits)")
    return value or None


def _url(text: str) -> str:
    value = text.strip()
    scheme, _, rest = value.partition("://")
    if scheme.lower() not in {"http", "https"} or not rest or rest.startswith("/") or not value.isprintable() \
            or " " in value:
        raise ValueError("an http(s) URL with a host, such as https://example.com/api/")
    return value


def _optional_url(text: str) -> str | None:
    return _url(text) if text.strip() else None


def _database_url(text: str) -> str:
    """sqlite or postgresql, any driver spelling (storage.db picks the drivers it uses)."""
    value = text.strip()
    scheme = value.partition("://")[0].lower()
    if "://" not in value or scheme.split("+")[0] not in {"sqlite", "postgresql"}:
        raise ValueError("a SQLAlchemy URL starting with sqlite:// or postgresql+psycopg:// "
                         "(for example sqlite:///data/vendorwatch.db)")
    return value


def _seeds_dir(text: str) -> str | None:
    """A directory that holds the two files every command loads; unset means the bundled seeds."""
    value = text.strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ValueError(f"an existing directory ({path.absolute()} is not one)")
    missing = [name for name in SEED_FILES if not (path / name).is_file()]
    if missing:
        raise ValueError(f"a directory holding {' and '.join(SEED_FILES)} ({path.absolute()} has no "
                         f"{' and no '.join(missing)})")
    return str(path)


def _log_level(text: str) -> str:
    value = text.strip().upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return value


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(text: str) -> int:
    value = text.strip().lower()
    for number, name in enumerate(WEEKDAYS):
        if value in {name, name[:3]}:
            return number
    raise ValueError("a weekday name such as mon or monday")


def _retention_days(text: str) -> int:
    """0 (keep everything) or at least 90 days, the longest window that lookup and the digest read."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError("a whole number of days: 0 (keep everything) or >= 90") from None
    if value != 0 and value < 90:
        raise ValueError("0 (keep everything) or >= 90 (lookup reads the last 90 days)")
    return value


def _timezone(text: str) -> str:
    value = text.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("an IANA time zone such as UTC or Europe/Berlin") from None
    return value


SEED_FILES = ("companies.toml", "rules.toml")


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    parse: Callable[[str], Any]
    help: str
    secret: bool = False  # `vendorwatch settings` shows whether it is set, never the value


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "sqlite:///data/vendorwatch.db", _database_url,
            "SQLAlchemy URL; postgresql+psycopg://... for several replicas"),
    Setting("SEEDS_DIR", None, _seeds_dir, "tracked companies, rules, seed feeds (default: bundled seeds/)"),
    Setting("SEED_FEEDS", "1", _bool, "0: poll only the feeds stored in the database"),
    Setting("POLL_INTERVAL_SECONDS", "300", _int(1), "base poll interval; a healthy feed is polled at least every 4 intervals"),
    Setting("FEED_MAX_BYTES", "5000000", _int(1024), "largest feed body accepted, also after decompression"),
    Setting("FEED_TIMEOUT_SECONDS", "20", _float(0.1), "the whole fetch of one feed, connect to last byte"),
    Setting("FEED_CONNECT_TIMEOUT_SECONDS", "5", _float(0.1), "TCP and TLS connect timeout of one fetch"),
    Setting("FEED_CONCURRENCY", "32", _int(1, 1000), "feeds fetched at once, in all"),
    Setting("FEED_HOST_CONCURRENCY", "4", _int(1, 100), "feeds fetched at once from one host"),
    Setting("FEED_MAX_BACKOFF_SECONDS", "86400", _int(1), "longest wait after repeated errors of one feed"),
    Setting("FEED_USER_AGENT", "Vendorwatch/0.1 (+https://github.com/vendorwatch/vendorwatch)", _header_text,
            "User-Agent of every fetch; SEC EDGAR asks for a contact in it"),
    Setting("PARSE_TIMEOUT_SECONDS", "10", _float(0.1), "longest parse of one feed before its worker is killed"),
    Setting("PARSE_WORKERS", "2", _int(1, 64), "worker processes that parse feeds"),
    Setting("CLASSIFY_WORKERS", "0", _int(0, 64),
            "processes of `vendorwatch classify` for a long input (0: one per usable CPU; 1: no pool)"),
    Setting("FIRST_POLL_MAX_AGE_HOURS", "48", _float(0), "on a feed's first poll, older items are kept as history, never alerted"),
    Setting("ALLOW_PRIVATE_FEED_URLS", "0", _bool, "1: allow feed URLs on loopback and private ranges (tests, demo)"),
    Setting("WEBSUB_CALLBACK_URL", None, _optional_url,
            "public base URL of this bot's PORT (e.g. https://bot.example.com): feeds that name a WebSub hub are "
            "subscribed for push at {url}/websub/...; unset: no WebSub, polling only"),
    Setting("WEBSUB_LEASE_SECONDS", "432000", _int(300, 31_536_000),
            "subscription lease asked of WebSub hubs; renewed before it ends"),
    Setting("STORY_WINDOW_HOURS", "72", _float(1), "coverage within this window of a story's last item can join it"),
    Setting("THREAD_BATCH_SECONDS", "15", _float(0), "outlets arriving within this window become one thread reply"),
    Setting("SLACK_PACE_SECONDS", "1", _float(0), "least time between two messages to one Slack channel"),
    Setting("DISCORD_PACE_SECONDS", "1", _float(0), "least time between two messages to one Discord channel (5 per 5 s)"),
    Setting("DIGEST_WEEKDAY", "mon", _weekday, "day of the weekly digest"),
    Setting("DIGEST_HOUR", "9", _int(0, 23), "hour of the weekly digest, in DIGEST_TIMEZONE"),
    Setting("DIGEST_TIMEZONE", "UTC", _timezone, "time zone of the weekly digest"),
    Setting("RETENTION_DAYS", "180", _retention_days,
            "items and stories older than this are pruned daily (0: keep everything; else >= 90)"),
    Setting("SLACK_BOT_TOKEN", None, _optional_str, "Slack is on when this and SLACK_SIGNING_SECRET are set",
            secret=True),
    Setting("SLACK_SIGNING_SECRET", None, _optional_str, "verifies Slack's signed requests", secret=True),
    Setting("SLACK_APP_TOKEN", None, _optional_str, "set: Socket Mode; unset: HTTP mode on PORT at /slack/events",
            secret=True),
    Setting("SLACK_API_URL", "https://slack.com/api/", _url, "Slack Web API base (a loopback fake in tests)"),
    Setting("SLACK_ADMINS_ONLY", "0", _bool, "1: only workspace admins and owners may change a channel's subscriptions"),
    Setting("DISCORD_BOT_TOKEN", None, _optional_str, "Discord is on when set", secret=True),
    Setting("DISCORD_API_URL", None, _optional_url, "Discord REST base; the gateway is what GET {url}/gateway/bot returns"),
    Setting("DISCORD_GUILD_ID", None, _optional_snowflake,
            "sync /vendorwatch to this one guild at once (development); unset: globally"),
    Setting("PORT", "3000", _int(0, 65535), "HTTP port: /slack/events, /healthz, /metrics"),
    Setting("LOG_LEVEL", "INFO", _log_level, "DEBUG, INFO, WARNING, ERROR or CRITICAL"),
)


@dataclass(frozen=True)
class Settings:
    database_url: str
    seeds_dir: str | None
    seed_feeds: bool
    poll_interval_seconds: int
    feed_max_bytes: int
    feed_timeout_seconds: float
    feed_connect_timeout_seconds: float
    feed_concurrency: int
    feed_host_concurrency: int
    feed_max_backoff_seconds: int
    feed_user_agent: str
    parse_timeout_seconds: float
    parse_workers: int
    classify_workers: int
    first_poll_max_age_hours: float
    allow_private_feed_urls: bool
    websub_callback_url: str | None
    websub_lease_seconds: int
    story_window_hours: float
    thread_batch_seconds: float
    slack_pace_seconds: float
    discord_pace_seconds: float
    digest_weekday: int
    digest_hour: int
    digest_timezone: str
    retention_days: int
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    slack_admins_only: bool
    discord_bot_token: str | None
    discord_api_url: str | None
    discord_guild_id: str | None
    port: int
    log_level: str

    @property
    def seeds_path(self) -> Path:
        return Path(self.seeds_dir) if self.seeds_dir else default_seeds_dir()


    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_bot_token)

    def replace(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


assert [f.name for f in fields(Settings)] == [s.name.lower() for s in SETTINGS], "settings table and Settings differ"


def default_seeds_dir() -> Path:
    """The seeds installed as package data (watchers/seeds, a wheel), else the checkout's seeds/.

    setup.py maps the checkout's seeds/ onto the package `watchers.seeds`; an editable install or a
    checkout on sys.path has no watchers/seeds, and the packages' parent holds seeds/ instead."""
    import importlib.resources

    bundled = importlib.resources.files("watchers") / "seeds"
    if isinstance(bundled, Path) and (bundled / "companies.toml").is_file():
        return bundled
    return Path(__file__).resolve().parent.parent / "seeds"


@dataclass(frozen=True)
class SettingValue:
    """One setting as read: the text in effect, where it came from, and its parsed value or error."""

    setting: Setting
    raw: str | None  # None: unset
    origin: str  # "environment", ".env" or "default"
    value: Any = None
    error: str | None = None  # what the setting expects, when `raw` is invalid

    @property
    def shown(self) -> str:
        """The text for a person: secrets masked, a URL's password replaced by ***."""
        if self.raw is None:
            return "unset"
        if self.setting.secret:
            return "*** (set)"
        return mask_password(self.raw)


_URL_PASSWORD = re.compile(r"(://[^/@:\s]*):[^/@\s]*@")


def mask_password(text: str) -> str:
    """`scheme://user:secret@host` -> `scheme://user:***@host`; other text unchanged."""
    return _URL_PASSWORD.sub(r"\1:***@", text)


def _merged_source(environ: Mapping[str, str] | None, dotenv_path: str | Path | None) -> tuple[dict[str, str], set[str]]:
    """The environment over `.env`, and the names that came from `.env`."""
    source: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        source.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    from_dotenv = set(source)
    environment = os.environ if environ is None else environ
    source.update(environment)
    return source, from_dotenv - set(environment)


def _read(source: Mapping[str, str], from_dotenv: set[str]) -> list[SettingValue]:
    read = []
    for setting in SETTINGS:
        raw = source.get(setting.name)
        origin = ".env" if setting.name in from_dotenv else "environment"
        if raw is None or (raw.strip() == "" and setting.default is not None):
            raw, origin = setting.default, "default"
        if raw is None:
            read.append(SettingValue(setting, None, origin))
            continue
        try:
            read.append(SettingValue(setting, raw, origin, value=setting.parse(raw)))
        except ValueError as exc:
            read.append(SettingValue(setting, raw, origin, error=str(exc)))
    return read


def inspect_settings(environ: Mapping[str, str] | None = None,
                     dotenv_path: str | Path | None = ".env") -> list[SettingValue]:
    """Every setting as read, invalid ones included (`vendorwatch settings` shows them all).

    SEEDS_DIR left unset shows the directory used in its place."""
    source, from_dotenv = _merged_source(environ, dotenv_path)
    computed = {"SEEDS_DIR": str(default_seeds_dir())}
    return [replace(read, raw=computed[read.setting.name]) if read.raw is None and read.setting.name in computed
            else read for read in _read(source, from_dotenv)]


def invalid_message(read: SettingValue) -> str:
    return f"setting {read.setting.name}={read.shown!r} is invalid: expected {read.error}"


def load_settings(environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env") -> Settings:
    """Read and validate every setting; the first bad value raises UsageError naming it."""
    source, from_dotenv = _merged_source(environ, dotenv_path)
    values: dict[str, Any] = {}
    for read in _read(source, from_dotenv):
        if read.error is not None:
            raise UsageError(invalid_message(read))
        values[read.setting.name.lower()] = read.value
    return Settings(**values)


def settings_table_markdown() -> str:
    """The configuration table of the README, from the one declaration."""
    rows = ["| name | default | meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default is not None else "unset"
        rows.append(f"| `{s.name}` | {default} | {s.help} |")
    return "\n".join(rows)
