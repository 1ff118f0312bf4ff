"""The companies registry: the bundled seeds, lookups, and malformed files refused with file:line: reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchers.errors import ConfigError
from watchers.rules.registry import Company, company_from_user, load_registry
from watchers.rules.rulebook import load_rules

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
EVAL_SLUGS = ("scale-ai mercor surge-ai turing invisible labelbox snorkel-ai handshake appen toloka sama imerit "
              "prolific micro1 openai anthropic google meta xai microsoft amazon apple nvidia mistral cohere "
              "deepseek ssi thinking-machines perplexity").split()


@pytest.fixture(scope="module")
def registry():
    return load_registry(SEEDS / "companies.toml")


def test_bundled_registry_tracks_every_eval_company(registry) -> None:
    assert set(EVAL_SLUGS) <= set(registry.companies)
    assert registry.get("meta").sec_cik == "0001326801"
    assert registry.get("microsoft").sec_cik == "0000789019"
    assert all(f.url.startswith("https://") for c in registry for f in c.feeds)


def test_resolve_by_slug_name_or_alias_in_any_case(registry) -> None:
    assert registry.resolve("SCALE-AI").slug == "scale-ai"
    assert registry.resolve("remotasks").slug == "scale-ai"
    assert registry.resolve("Amazon Web Services").slug == "amazon"
    assert registry.resolve("scale").slug == "scale-ai"
    assert registry.resolve("Turing").slug == "turing"
    assert registry.resolve("no such company") is None


def test_suggest_did_you_mean(registry) -> None:
    assert registry.suggest("antropic")[0].slug == "anthropic"
    assert registry.suggest("mercr")[0].slug == "mercor"


def test_extra_companies_from_chat_join_without_replacing(registry) -> None:
    extra = company_from_user("acme-labs", "Acme Labs", ["Acme"], kind="lab")
    loaded = load_registry(SEEDS / "companies.toml", [extra, company_from_user("openai", "Other", [])])
    assert loaded.get("acme-labs") == extra
    assert loaded.get("openai").name == "OpenAI"
    assert len(loaded) == len(registry) + 1
    with pytest.raises(ValueError):
        company_from_user("Bad Slug", "x", [])


def test_bundled_rules_load() -> None:
    rules = load_rules(SEEDS / "rules.toml")
    assert len({r.id for r in rules}) == len(rules)


BAD_COMPANIES = [
    ("syntax", '[[company]]\nslug = "a"\nname = "A\n', 3, "invalid TOML"),
    ("missing name", '[[company]]\nslug = "a"\nname = "A"\n\n[[company]]\nslug = "b"\nkind = "lab"\n', 5,
     "needs a non-empty name"),
    ("bad slug", '[[company]]\nslug = "Not OK"\nname = "A"\n', 2, "slug"),
    ("duplicate", '[[company]]\nslug = "a"\nname = "A"\n[[company]]\nslug = "a"\nname = "B"\n', 5, "duplicate slug"),
    ("bad kind", '[[company]]\nslug = "a"\nname = "A"\nkind = "bank"\n', 4, "kind"),
    ("aliases not list", '[[company]]\nslug = "a"\nname = "A"\naliases = "A"\n', 4, "aliases must be a list"),
    ("unknown key", '[[company]]\nslug = "a"\nname = "A"\nalias = ["x"]\n', 4, "unknown key 'alias'"),
    ("unknown investor", '[[company]]\nslug = "a"\nname = "A"\ninvestors = ["zz"]\n', 4, "unknown slug 'zz'"),
    ("bad feed", '[[company]]\nslug = "a"\nname = "A"\nfeeds = [{url = "ftp://x"}]\n', 4, "http(s) url"),
]


@pytest.mark.parametrize("text,line,reason", [c[1:] for c in BAD_COMPANIES], ids=[c[0] for c in BAD_COMPANIES])
def test_malformed_companies_file_names_file_line_and_reason(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = tmp_path / "companies.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_registry(path)
    assert caught.value.line == line
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_missing_companies_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_registry(tmp_path / "nope.toml")


RULE_HEAD = '[[rule]]\nid = "funding.x"\ntype = "funding"\nsubject = "S"\ntriggers = ["raises"]\n'
BAD_RULES = [
    ("bad regex", RULE_HEAD + 'patterns = ["{S} (raises"]\n', 6, "not a valid regular expression"),
    ("no subject slot", RULE_HEAD + 'patterns = ["{C} raises"]\n', 6, "no subject slot"),
    ("unknown macro", RULE_HEAD + 'patterns = ["{S} {nope}"]\n', 6, "unknown macro"),
    ("bad type", RULE_HEAD.replace('"funding"\n', '"merger"\n') + 'patterns = ["{S}"]\n', 3, "each event needs a type"),
    ("no triggers", RULE_HEAD.replace('["raises"]', '[]') + 'patterns = ["{S}"]\n', 5, "triggers"),
    ("duplicate id", RULE_HEAD + 'patterns = ["{S}"]\n' + RULE_HEAD + 'patterns = ["{S}"]\n', 8, "duplicate rule id"),
]


@pytest.mark.parametrize("text,line,reason", [c[1:] for c in BAD_RULES], ids=[c[0] for c in BAD_RULES])
def test_malformed_rules_file_names_file_line_and_reason(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    assert (caught.value.line, caught.value.path) == (line, str(path))
    assert reason in caught.value.reason


def test_company_defaults() -> None:
    company = Company(slug="x", name="X")
    assert company.all_aliases == ("X",) and company.kind == "vendor"
