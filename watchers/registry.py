"""The registry of tracked companies, loaded from `seeds/companies.toml`.

Each `[[company]]` entry names a company and everything that tells a real mention of it from a
look-alike: `aliases` (matched as written, or in capitals unless `exact_case = true`),
`context_aliases` (ambiguous words such as "Scale" that count only when the item also names
the company for sure, or a company cue such as "startup" stands next to them), `veto` phrases
("Turing test") that cancel an overlapping match, `domains`, well-known `people` (context
evidence, never a mention by themselves) and known `customers` / `investors` for later use.

A malformed file is refused at load with `ConfigError(path, line, reason)`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from watchers.errors import ConfigError

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
KINDS = ("vendor", "lab")
_LIST_FIELDS = ("aliases", "context_aliases", "veto", "domains", "people", "customers", "investors")
_KNOWN_KEYS = {"slug", "name", "kind", "exact_case", "sec_cik", "news_query", "feeds", *_LIST_FIELDS}


@dataclass(frozen=True)
class SeedFeed:
    url: str
    name: str


@dataclass(frozen=True)
class Company:
    slug: str
    name: str
    kind: str = "vendor"
    aliases: tuple[str, ...] = ()
    context_aliases: tuple[str, ...] = ()
    veto: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    investors: tuple[str, ...] = ()
    feeds: tuple[SeedFeed, ...] = ()
    sec_cik: str | None = None
    news_query: str | None = None
    exact_case: bool = False

    @property
    def all_aliases(self) -> tuple[str, ...]:
        """The name and the aliases, without repeats, name first."""
        return tuple(dict.fromkeys((self.name, *self.aliases)))


@dataclass
class Registry:
    companies: dict[str, Company] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_key: dict[str, Company] = {}
        for company in self.companies.values():
            for key in (company.slug, *company.all_aliases):
                self._by_key.setdefault(key.casefold(), company)

    def get(self, slug: str) -> Company | None:
        return self.companies.get(slug)

    def resolve(self, text: str) -> Company | None:
        """A company by slug, name or alias, case-insensitive."""
        return self._by_key.get(text.strip().casefold())

    def suggest(self, text: str, limit: int = 3) -> list[Company]:
        """Did-you-mean: the companies whose slug, name or alias is closest to `text`."""
        from rapidfuzz import fuzz, process

        found = process.extract(text.strip().casefold(), list(self._by_key), scorer=fuzz.WRatio, limit=limit * 4)
        result: list[Company] = []
        for key, score, _ in found:
            company = self._by_key[key]
            if score >= 60 and company not in result:
                result.append(company)
        return result[:limit]

    def __len__(self) -> int:
        return len(self.companies)

    def __iter__(self) -> Iterator[Company]:
        return iter(self.companies.values())


def company_from_user(slug: str, name: str, aliases: Iterable[str], kind: str = "vendor") -> Company:
    """A company added from chat (table tracked_company): plain aliases, no context rules."""
    if not SLUG_RE.match(slug):
        raise ValueError(f"slug {slug!r} must be lowercase letters, digits and dashes")
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} must be vendor or lab")
    return Company(slug=slug, name=name, kind=kind, aliases=tuple(a for a in aliases if a.strip()))


def _entry_lines(text: str, table: str) -> list[int]:
    """Line numbers (1-based) of each `[[table]]` header, in order."""
    header = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
    return [n for n, line in enumerate(text.splitlines(), 1) if header.match(line)]


def key_line(text_lines: list[str], start: int, key: str) -> int:
    """The line of `key = ...` in the entry starting at `start`, else the header line."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for n in range(start, len(text_lines) + 1):
        line = text_lines[n - 1]
        if n > start and line.lstrip().startswith("[["):
            break
        if pattern.match(line):
            return n
    return start


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a seeds TOML file; syntax errors become ConfigError with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        reason = str(exc).split(" (at line")[0]
        if line is None:
            found = re.search(r"at line (\d+)", str(exc))
            line = int(found.group(1)) if found else None
        raise ConfigError(str(path), line, f"invalid TOML: {reason}") from None


def _str_list(entry: dict[str, Any], key: str, fail) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        fail(key, f"{key} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _company(entry: Any, fail) -> Company:
    if not isinstance(entry, dict):
        fail("slug", "each [[company]] must be a table")
    unknown = sorted(set(entry) - _KNOWN_KEYS)
    if unknown:
        fail(unknown[0], f"unknown key {unknown[0]!r}")
    slug = entry.get("slug")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        fail("slug", f"slug {slug!r} must be lowercase letters, digits and dashes")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        fail("name", f"company {slug!r} needs a non-empty name")
    kind = entry.get("kind", "vendor")
    if kind not in KINDS:
        fail("kind", f"kind {kind!r} of {slug!r} must be vendor or lab")
    lists = {key: _str_list(entry, key, fail) for key in _LIST_FIELDS}
    feeds = []
    raw_feeds = entry.get("feeds", [])
    if not isinstance(raw_feeds, list):
        fail("feeds", "feeds must be a list of {url=..., name=...}")
    for feed in raw_feeds:
        if not (isinstance(feed, dict) and isinstance(feed.get("url"), str)
                and feed["url"].startswith(("http://", "https://"))):
            fail("feeds", f"each feed of {slug!r} needs an http(s) url")
        feeds.append(SeedFeed(url=feed["url"], name=str(feed.get("name") or name)))
    for key in ("sec_cik", "news_query"):
        if key in entry and not isinstance(entry[key], str):
            fail(key, f"{key} of {slug!r} must be a string")
    if not isinstance(entry.get("exact_case", False), bool):
        fail("exact_case", "exact_case must be true or false")
    return Company(slug=slug, name=name.strip(), kind=kind, feeds=tuple(feeds), sec_cik=entry.get("sec_cik"),
                   news_query=entry.get("news_query"), exact_case=entry.get("exact_case", False), **lists)


def load_registry(path: Path, extra: Iterable[Company] = ()) -> Registry:
    """Load and check a companies file; `extra` companies (from chat) join unless their slug exists."""
    path = Path(path)
    data, text = read_toml(path)
    lines = text.splitlines()
    headers = _entry_lines(text, "company")
    unknown = sorted(set(data) - {"company"})
    if unknown:
        raise ConfigError(str(path), key_line(lines, 1, unknown[0]), f"unknown top-level key {unknown[0]!r}")
    entries = data.get("company", [])
    if not isinstance(entries, list):
        raise ConfigError(str(path), None, "expected [[company]] entries")
    companies: dict[str, Company] = {}
    for index, entry in enumerate(entries):
        start = headers[index] if index < len(headers) else None

        def fail(key: str, reason: str, _start=start) -> None:
            raise ConfigError(str(path), key_line(lines, _start, key) if _start else None, reason)

        company = _company(entry, fail)
        if company.slug in companies:
            fail("slug", f"duplicate slug {company.slug!r}")
        companies[company.slug] = company
    for company in companies.values():
        for key in ("customers", "investors"):
            for other in getattr(company, key):
                if other not in companies:
                    index = list(companies).index(company.slug)
                    raise ConfigError(str(path), key_line(lines, headers[index], key),
                                      f"{key} of {company.slug!r} names unknown slug {other!r}")
    for company in extra:
        companies.setdefault(company.slug, company)
    return Registry(companies)
