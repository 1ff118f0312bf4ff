"""The compiled-rules cache saves time and nothing else: same rules with or without it, whatever its state."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from watchers.rules.classify import RulesEngine
from watchers.errors import ConfigError
from watchers.rules.registry import load_registry
from watchers.rules.rulebook import load_rules

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
HEADLINES = ["Meta to take 49% stake in Scale AI, hire CEO Alexandr Wang", "OpenAI cuts ties with Scale AI",
             "Surge AI in talks to raise $1 billion", "Scale AI sued by Mercor", "Appen CEO steps down"]


def _shape(rules) -> list:
    return [(r.id, [(p.pattern is not None, p.flags, p.groupindex) for p in r.patterns], r.gates, r.unless_gates,
             r.min_tokens) for r in rules]


def _outputs(rules) -> list:
    rules_engine = RulesEngine(load_registry(SEEDS / "companies.toml"), rules)
    return [rules_engine.classify(title) for title in HEADLINES]


def test_a_warm_cache_gives_the_same_rules_and_results(tmp_path: Path) -> None:
    plain = load_rules(SEEDS / "rules.toml")
    cold = load_rules(SEEDS / "rules.toml", tmp_path)
    files = list(tmp_path.glob("rules-*.marshal"))
    assert len(files) == 1
    warm = load_rules(SEEDS / "rules.toml", tmp_path)
    assert [(r.id, r.gates, r.unless_gates, r.min_tokens) for r in plain] == [
        (r.id, r.gates, r.unless_gates, r.min_tokens) for r in warm]
    assert _shape(cold) == _shape(warm)
    assert _outputs(plain) == _outputs(cold) == _outputs(warm)


def test_a_corrupt_cache_is_compiled_again(tmp_path: Path) -> None:
    load_rules(SEEDS / "rules.toml", tmp_path)
    (cache,) = tmp_path.glob("rules-*.marshal")
    cache.write_bytes(b"\x00garbage" * 100)
    assert _outputs(load_rules(SEEDS / "rules.toml", tmp_path)) == _outputs(load_rules(SEEDS / "rules.toml"))
    assert cache.read_bytes()[:8] != b"\x00garbage"  # rewritten


def test_a_changed_rules_file_gets_a_new_cache_and_the_old_one_goes(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    text = (SEEDS / "rules.toml").read_text()
    (seeds / "rules.toml").write_text(text)
    load_rules(seeds / "rules.toml", tmp_path / "cache")
    first = set((tmp_path / "cache").glob("rules-*.marshal"))
    (seeds / "rules.toml").write_text(text + "\n# edited\n")
    load_rules(seeds / "rules.toml", tmp_path / "cache")
    second = set((tmp_path / "cache").glob("rules-*.marshal"))
    assert len(first) == len(second) == 1 and first != second


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_cache_directory_is_no_cache(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        assert _outputs(load_rules(SEEDS / "rules.toml", tmp_path / "cache")) == _outputs(load_rules(SEEDS / "rules.toml"))
    finally:
        tmp_path.chmod(0o700)


def test_a_cache_path_that_is_a_file_is_no_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("not a directory")
    assert _outputs(load_rules(SEEDS / "rules.toml", blocker)) == _outputs(load_rules(SEEDS / "rules.toml"))


def test_a_malformed_pattern_is_still_refused_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text('[[rule]]\nid = "funding.x"\ntype = "funding"\nsubject = "S"\ntriggers = ["raises"]\n'
                   'patterns = ["{S} raises ("]\n')
    with pytest.raises(ConfigError) as caught:
        load_rules(bad, tmp_path / "cache")
    assert "rules.toml:6" in str(caught.value)


def test_a_python_whose_re_compiles_otherwise_gets_the_same_rules_without_a_cache(tmp_path: Path, monkeypatch) -> None:
    """The cache uses re's internal compiler steps; where they differ, rules compile as re.compile does."""
    import types

    import watchers.rules.gates

    def other_signature(*args):
        raise TypeError("compile() takes 5 positional arguments")

    expected = _outputs(load_rules(SEEDS / "rules.toml"))
    monkeypatch.setattr(watchers.rules.gates, "_sre_engine", types.SimpleNamespace(compile=other_signature))
    rules = load_rules(SEEDS / "rules.toml", tmp_path / "cache")
    assert _outputs(rules) == expected
    assert not list((tmp_path / "cache").glob("rules-*.marshal"))
