"""The registry of tracked companies, loaded from `seeds/companies.toml`.

Each `[[company]]` entry names a company and everything that tells a real mention of it from a
look-alike: `aliases` (matched as written, or in capitals unless `exact_case = true`),
`context_aliases` (ambiguous words such as "Scale" that count only when the item also names
the company for sure, or a company cue such as "startup" stands next to them), `products`
("Claude": only next to a sure mention of the company, exact case), `veto` phrases
("Turing test") that cancel an overlapping match, `domains`, well-known `people` (context
evidence, never a mention by themselves), known `customers` / `investors`, and `epithets`: what
news calls the company once it has named it ("the chipmaker", references.py).

A malformed file is refused at load with `ConfigError(path, line, reason)`.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from watchers.errors import ConfigError

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
KINDS = ("vendor", "lab")
_LIST_FIELDS = ("aliases", "context_aliases", "products", "veto", "domains", "people", "customers", "investors",
                "epithets", "sells")
_KNOWN_KEYS = {"slug", "name", "kind", "exact_case", "established", "sec_cik", "news_query", "feeds", *_LIST_FIELDS}


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
    products: tuple[str, ...] = ()
    epithets: tuple[str, ...] = ()  # what news calls it once named ("chipmaker"): watchers/rules/references.py
    veto: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    investors: tuple[str, ...] = ()
    sells: tuple[str, ...] = ()  # what it provides others ("cloud", "chips"): the provider of a deal for it (classify.py)
    feeds: tuple[SeedFeed, ...] = ()
    sec_cik: str | None = None
    news_query: str | None = None
    exact_case: bool = False
    established: bool = False  # never called a "startup" (references.py)

    @property
    def all_aliases(self) -> tuple[str, ...]:
        """The name and the aliases, without repeats, name first; a name that is also a context
        alias or product ("Turing") is matched only as that."""
        weak = {*self.context_aliases, *self.products}
        return tuple(dict.fromkeys(a for a in (self.name, *self.aliases) if a not in weak))


@dataclass
class Registry:
    companies: dict[str, Company] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_key: dict[str, Company] = {}
        for company in self.companies.values():
            for key in (company.slug, *company.all_aliases):
                self._by_key.setdefault(key.casefold(), company)
        for company in self.companies.values():  # "Scale" in chat means Scale AI, after every sure name
            for key in company.context_aliases:
                self._by_key.setdefault(key.casefold(), company)

    def get(self, slug: str) -> Company | None:
        return self.companies.get(slug)

    def resolve(self, text: str) -> Company | None:
        """A company by slug, name or alias (or context alias), case-insensitive."""
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


_SIMPLE_LINE = re.compile(r"^([A-Za-z0-9_-]+) = (.+)$")


def _simple_entry(lines: list[str]) -> dict[str, Any] | None:
    """One entry in the plain shape (one-line `key = value`, the value also valid JSON), or None."""
    entry: dict[str, Any] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        found = _SIMPLE_LINE.match(line)
        if found is None or found.group(1) in entry:
            return None
        try:
            value = json.loads(found.group(2))
        except ValueError:
            return None
        if isinstance(value, (dict, float)) or value is None or (
                isinstance(value, list) and not all(isinstance(v, str) for v in value)):
            return None
        entry[found.group(1)] = value
    return entry


def _plain_file(lines: list[str], table: str) -> list[dict[str, Any]] | None:
    """All entries at once when every line has the plain shape: one json.loads for the file."""
    header = f"[[{table}]]"
    entries: list[list[str]] = []
    for raw in lines:
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        if line == header:
            entries.append([])
            continue
        found = _SIMPLE_LINE.match(line)
        if found is None or not entries:
            return None
        entries[-1].append(f'"{found.group(1)}":{found.group(2)}')
    try:
        parsed = json.loads("[" + ",".join("{" + ",".join(e) + "}" for e in entries) + "]")
    except ValueError:
        return None
    for entry, keys in zip(parsed, entries):
        if len(entry) != len(keys) or not all(
                isinstance(v, (str, bool, int)) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
                for v in entry.values()):
            return None
    return parsed


def _toml_error(path: Path, exc: tomllib.TOMLDecodeError, offset: int = 0) -> ConfigError:
    line = getattr(exc, "lineno", None)
    if line is None:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
    reason = str(exc).split(" (at line")[0]
    return ConfigError(str(path), line + offset if line else None, f"invalid TOML: {reason}")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc}") from None


def read_toml(path: Path, table: str | None = None) -> tuple[dict[str, Any], str]:
    """Parse a seeds TOML file; syntax errors become ConfigError with the line.

    With `table`, a file made only of `[[table]]` entries is parsed entry by entry: an entry in
    the plain shape of generated registries takes a fast path, any other goes through tomllib
    (which alone takes seconds on 10,000 entries).
    """
    text = _read_text(path)
    lines = text.splitlines()
    headers = _entry_lines(text, table) if table else []
    preamble = lines[: headers[0] - 1] if headers else lines
    if not headers or any(x.strip() and not x.lstrip().startswith("#") for x in preamble):
        try:
            return tomllib.loads(text), text
        except tomllib.TOMLDecodeError as exc:
            raise _toml_error(path, exc) from None
    fast = _plain_file(lines, table)
    if fast is not None:
        return {table: fast}, text
    entries = []
    for index, start in enumerate(headers):
        body = lines[start: headers[index + 1] - 1 if index + 1 < len(headers) else len(lines)]
        entry = _simple_entry(body)
        if entry is None:
            try:
                entry = tomllib.loads("\n".join(body))
            except tomllib.TOMLDecodeError:
                try:  # the whole file gives the error its true line
                    tomllib.loads(text)
                except tomllib.TOMLDecodeError as exc:
                    raise _toml_error(path, exc) from None
                raise
            if any(isinstance(v, (dict, list)) and not isinstance(v, list) for v in entry.values()) or any(
                    isinstance(v, list) and v and isinstance(v[0], dict) and k != "feeds" for k, v in entry.items()):
                raise ConfigError(str(path), start, f"unexpected table inside [[{table}]]")
        entries.append(entry)
    return {table: entries}, text


def _str_list(entry: dict[str, Any], key: str, fail) -> tuple[str, ...]:
    value = entry.get(key)
    if not value:
        if value is None or value == []:
            return ()
        fail(key, f"{key} must be a list of non-empty strings")
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
    for key in ("exact_case", "established"):
        if not isinstance(entry.get(key, False), bool):
            fail(key, f"{key} must be true or false")
    return Company(slug=slug, name=name.strip(), kind=kind, feeds=tuple(feeds), sec_cik=entry.get("sec_cik"),
                   news_query=entry.get("news_query"), exact_case=entry.get("exact_case", False),
                   established=entry.get("established", False), **lists)


def load_registry(path: Path, extra: Iterable[Company] = ()) -> Registry:
    """Load and check a companies file; `extra` companies (from chat) join unless their slug exists."""
    path = Path(path)
    data, text = read_toml(path, "company")
    lines: list[str] = []
    headers: list[int] = []

    def where(index: int | None, key: str) -> int | None:
        """The line of `key` in entry `index` (found only when there is an error to report)."""
        if not lines:
            lines.extend(text.splitlines())
            headers.extend(_entry_lines(text, "company"))
        if index is None:
            return key_line(lines, 1, key)
        return key_line(lines, headers[index], key) if index < len(headers) else None

    unknown = sorted(set(data) - {"company"})
    if unknown:
        raise ConfigError(str(path), where(None, unknown[0]), f"unknown top-level key {unknown[0]!r}")
    entries = data.get("company", [])
    if not isinstance(entries, list):
        raise ConfigError(str(path), None, "expected [[company]] entries")
    companies: dict[str, Company] = {}
    for index, entry in enumerate(entries):

        def fail(key: str, reason: str, _index=index) -> None:
            raise ConfigError(str(path), where(_index, key), reason)

        company = _company(entry, fail)
        if company.slug in companies:
            fail("slug", f"duplicate slug {company.slug!r}")
        companies[company.slug] = company
    for index, company in enumerate(companies.values()):
        for key in ("customers", "investors"):
            for other in getattr(company, key):
                if other not in companies:
                    raise ConfigError(str(path), where(index, key),
                                      f"{key} of {company.slug!r} names unknown slug {other!r}")
    for company in extra:
        companies.setdefault(company.slug, company)
    return Registry(companies)
