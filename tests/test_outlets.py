"""Outlets: one site is one outlet, named from the link's registered domain (watchers.feeds.outlets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchers.feeds.outlets import OutletTable, load_outlet_table, outlet_name, registered_domain
from watchers.settings import default_seeds_dir

TABLE = OutletTable.from_mapping({"bloomberg.com": ["Bloomberg", "Bloomberg News"], "reuters.com": "Reuters",
                                  "bbc.co.uk": "BBC"})


@pytest.mark.parametrize("host, domain", [
    ("www.bloomberg.com", "bloomberg.com"), ("feeds.bloomberg.com", "bloomberg.com"),
    ("news.bbc.co.uk", "bbc.co.uk"), ("someone.github.io", "someone.github.io"),
    ("127.0.0.1", None), ("[::1]", None), ("localhost", None), ("co.uk", None),
])
def test_registered_domain_follows_the_public_suffix_list(host: str, domain: str | None) -> None:
    assert registered_domain(host) == domain


def test_bloomberg_com_and_bloomberg_technology_are_one_outlet() -> None:
    names = {
        outlet_name("https://www.bloomberg.com/news/articles/x", "Bloomberg: Technology", TABLE),
        outlet_name("https://news.google.com/rss/articles/abc?oc=5", "Bloomberg.com", TABLE),
        outlet_name("https://feeds.bloomberg.com/technology.rss", None, TABLE),
        outlet_name(None, "Bloomberg News", TABLE),
        outlet_name(None, "bloomberg", TABLE),
    }
    assert names == {"Bloomberg"}


def test_the_link_wins_over_the_feed_s_name() -> None:
    assert outlet_name("https://www.reuters.com/technology/x", "Some Aggregator", TABLE) == "Reuters"
    assert outlet_name("https://news.bbc.co.uk/x", "BBC: Tech", TABLE) == "BBC"


def test_an_unknown_site_is_named_by_its_feed_without_the_section_else_by_its_domain() -> None:
    assert outlet_name("https://www.example-news.com/a", "Example News: AI", TABLE) == "Example News"
    assert outlet_name("https://blog.example-news.com/b", "Example News - Funding", TABLE) == "Example News"
    assert outlet_name("https://blog.example-news.com/b", None, TABLE) == "example-news.com"
    assert outlet_name("https://cnbc.example/b", "CNBC", OutletTable.from_mapping({"cnbc.com": "CNBC"})) == "CNBC"


def test_a_redirect_or_missing_link_falls_back_to_the_feed_s_name() -> None:
    assert outlet_name("https://news.google.com/rss/articles/abc", "Reuters", TABLE) == "Reuters"
    assert outlet_name("https://news.google.com/rss/articles/abc", "The Information", TABLE) == "The Information"
    assert outlet_name(None, "Reuters - World", TABLE) == "Reuters"
    assert outlet_name("http://127.0.0.1:8080/a", "Local Wire", TABLE) == "Local Wire"
    assert outlet_name("http://127.0.0.1:8080/a", None, TABLE) == "127.0.0.1"
    assert outlet_name(None, None, TABLE) is None
    assert outlet_name("not a link", "  ", TABLE) is None


def test_the_bundled_table_names_the_major_outlets() -> None:
    table = load_outlet_table(default_seeds_dir() / "outlets.toml")
    for domain, name in [("techcrunch.com", "TechCrunch"), ("theverge.com", "The Verge"), ("cnbc.com", "CNBC"),
                         ("reuters.com", "Reuters"), ("bloomberg.com", "Bloomberg"), ("ft.com", "Financial Times")]:
        assert table.by_domain[domain] == name
    assert outlet_name("https://www.theverge.com/news/x", "The Verge: AI") == "The Verge"
    assert outlet_name("https://news.google.com/rss/articles/x", "FT") == "Financial Times"


def test_seeds_dir_may_bring_its_own_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "outlets.toml").write_text('[outlets]\n"example.org" = ["Example Daily", "ED"]\n')
    monkeypatch.setenv("SEEDS_DIR", str(tmp_path))
    assert outlet_name("https://www.example.org/x", None) == "Example Daily"
    assert outlet_name(None, "ED") == "Example Daily"


def test_a_table_entry_without_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a name"):
        OutletTable.from_mapping({"a.com": []})
