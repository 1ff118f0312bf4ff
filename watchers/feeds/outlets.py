"""The outlet of an article: one site is one outlet, however its feeds call themselves.

`outlet_name(link, source)` is the one place an outlet is named; stories count the names it
gives (`Story.outlets`, "Sources: 3 outlets") and thread replies show them.

- From the link's registered domain (public suffix list: www.bloomberg.com and
  feeds.bloomberg.com are bloomberg.com; bbc.co.uk stays bbc.co.uk) when seeds/outlets.toml
  names it ("Bloomberg"), whatever the feed calls itself.
- Else from the name the feed gives (Google News' <source>, else the feed's title), matched
  against the table's names, aliases and domains, also without a section ("Bloomberg:
  Technology", "Bloomberg.com" and "Bloomberg" are all "Bloomberg"); an unknown name is kept
  without its section ("Example Daily: AI" is "Example Daily"). So it goes for links on
  news.google.com (a redirect), on an address, or missing.
- Else (a site the table does not know, whose feed gives no name) the registered domain.

The public suffix list is the one bundled with `publicsuffixlist` (no fetching at run time).
The table is read from SEEDS_DIR/outlets.toml when that exists, else from the bundled seeds.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

# Links on these hosts lead elsewhere: the outlet is the one the feed names.
REDIRECT_HOSTS = frozenset({"news.google.com", "feedproxy.google.com", "feeds.feedburner.com", "t.co"})
_SECTION = re.compile(r"\s*(?::|\s[-\u2013\u2014|]\s).*$")  # "Bloomberg: Technology", "CNBC - Tech"


@dataclass(frozen=True)
class OutletTable:
    by_domain: dict[str, str]  # registered domain -> display name
    by_name: dict[str, str]  # casefolded name, alias or domain -> display name

    @classmethod
    def from_mapping(cls, outlets: dict[str, str | list[str]]) -> "OutletTable":
        by_domain: dict[str, str] = {}
        by_name: dict[str, str] = {}
        for domain, value in outlets.items():
            names = [value] if isinstance(value, str) else list(value)
            if not names or not all(isinstance(n, str) and n.strip() for n in names):
                raise ValueError(f"outlets.toml: {domain!r} needs a name (a string or a list of strings)")
            domain = domain.strip().lower()
            display = names[0].strip()
            by_domain[domain] = display
            for name in (*names, domain, domain.split(".")[0]):
                by_name.setdefault(name.strip().casefold(), display)
        return cls(by_domain, by_name)

    def name_for_source(self, source: str) -> str:
        """A feed's own name for an outlet, as the table names it when it knows it."""
        text = source.strip()
        for candidate in (text, _SECTION.sub("", text)):
            key = candidate.casefold()
            if key in self.by_name:
                return self.by_name[key]
            domain = registered_domain(key) if "." in key and " " not in key else None
            if domain and domain in self.by_domain:
                return self.by_domain[domain]
        return _SECTION.sub("", text) or text


@lru_cache(maxsize=1)
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()


def registered_domain(host: str) -> str | None:
    """"bloomberg.com" for "www.bloomberg.com"; None for an address, a bare name or a public suffix."""
    host = host.strip().lower().rstrip(".")
    if not host or "." not in host:
        return None
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    return _suffix_list().privatesuffix(host)


def load_outlet_table(path: Path) -> OutletTable:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return OutletTable.from_mapping(data.get("outlets", {}))


@lru_cache(maxsize=4)
def _table_at(path: str) -> OutletTable:
    return load_outlet_table(Path(path))


def default_table() -> OutletTable:
    """SEEDS_DIR/outlets.toml when there is one, else the bundled table."""
    from watchers.settings import default_seeds_dir

    custom = os.environ.get("SEEDS_DIR")
    if custom and (Path(custom) / "outlets.toml").is_file():
        return _table_at(str(Path(custom) / "outlets.toml"))
    bundled = default_seeds_dir() / "outlets.toml"
    return _table_at(str(bundled)) if bundled.is_file() else OutletTable({}, {})


def outlet_name(link: str | None, source: str | None = None, table: OutletTable | None = None) -> str | None:
    """The outlet of an article with this link, whose feed names its outlet `source` (see the module)."""
    table = table or default_table()
    host = ""
    if link:
        try:
            host = (urlsplit(link).hostname or "").lower().rstrip(".")
        except ValueError:
            host = ""
    domain = registered_domain(host) if host and host not in REDIRECT_HOSTS else None
    if domain and domain in table.by_domain:
        return table.by_domain[domain]
    if source and source.strip():
        return table.name_for_source(source)
    return domain or host or None
