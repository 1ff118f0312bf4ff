"""The word gates skip only patterns that could not have matched."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.shared_data import DEV_SET, require
from watchers.rules.classify import RulesEngine, _gates_met
from watchers.rules.clause_words import ALL_PRESENT, ClauseWords
from watchers.rules.gates import folds_oddly, min_literal_count, required_words
from watchers.rules.rulebook import load_rules


def _seeds() -> Path:
    return Path(__file__).resolve().parent.parent / "seeds"


def test_required_words_reads_alternations_runs_and_groups():
    regex = re.compile(r"\b(?:hires|names) (?:the )?(?P<X>\w+) as (?:CEO|chief\s+executive)\b", re.IGNORECASE)
    assert required_words(regex) == (frozenset({"hires", "names"}), frozenset({" as "}),
                                     frozenset({"ceo", "chief"}))


def test_optional_parts_lookarounds_and_short_words_are_not_gates():
    regex = re.compile(r"(?:formerly )?(?<!not )(?!never)(?:raises|in) x(?:funding)*", re.IGNORECASE)
    assert required_words(regex) == ()


def test_a_branch_that_starts_with_no_literal_gives_no_gate():
    regex = re.compile(r"(?:\d+ jobs|layoffs)", re.IGNORECASE)
    assert required_words(regex) == ()


def test_min_literal_count_takes_the_cheapest_branch():
    import re._parser as parser
    assert min_literal_count(parser.parse("a(?:xa|b)a{2,3}"), "a") == 3


def test_odd_folds_are_exactly_the_characters_re_folds_to_ascii_letters_otherwise():
    letter = re.compile("[a-z]", re.IGNORECASE)
    odd = [chr(code) for code in range(sys.maxunicode + 1)
           if letter.fullmatch(chr(code)) and not (len(chr(code).lower()) == 1 and chr(code).lower().isascii())]
    assert odd == ["\u0130", "\u0131", "\u017f"]
    assert all(folds_oddly(f"x{c}y") for c in odd)
    assert not folds_oddly("Scale AI \u27e61\u27e7 names K\u00e9vin CEO")


def test_odd_folds_turn_the_gates_off(rules_engine):
    words = ClauseWords(rules_engine.rules)
    selected, present = words.scan("\u27e60\u27e7 raises $1 bıllion", "\u27e60\u27e7 raises $1 bıllion", False)
    assert selected and present == ALL_PRESENT
    _, present = words.scan("\u27e60\u27e7 raises $1 billion", "\u27e60\u27e7 raises $1 billion", True)
    assert present != ALL_PRESENT and _gates_met(words.patterns[0][0].masks, present)


@pytest.fixture(scope="module")
def rules_engine() -> RulesEngine:
    return RulesEngine.load(_seeds())


def _clauses(rules_engine: RulesEngine) -> list[str]:
    texts = []
    items = [json.loads(line) for line in require(DEV_SET).read_text().splitlines()]
    titles = [(i["title"], i.get("summary") or "") for i in items] + [
        ("Meta takes 49% stake in Scale AI, hires CEO Alexandr Wang", "OpenAI is winding down its work with Scale."),
        ("OpenAI CEO Sam Altman steps down; Google backs Anthropic", ""),
    ]
    for title, summary in titles:
        for text in (title, summary, title.upper(), title.lower()):
            clauses = [t for t in text.split("; ") if t]
            found = rules_engine.matcher.find(clauses, None)
            for clause, hits in zip(clauses, found):
                parts, last = [], 0
                for n, hit in enumerate(h for h in hits if not h.background):
                    parts += [clause[last:hit.start], f"\u27e6{n}\u27e7"]
                    last = hit.end
                texts.append("".join(parts) + clause[last:])
    return texts


def test_no_pattern_that_matches_a_clause_is_gated_off(rules_engine):
    words = ClauseWords(rules_engine.rules)
    checked = 0
    for text in _clauses(rules_engine):
        _, present = words.scan(text.lower(), text, False)
        for index, rule in enumerate(rules_engine.rules):
            for gated in words.patterns[index]:
                if gated.regex.search(text):
                    checked += 1
                    assert _gates_met(gated.masks, present), (rule.id, text)
            if rule.unless is not None and rule.unless.search(text):
                assert _gates_met(words.unless_masks[index], present), (rule.id, text)
    assert checked > 100


def test_every_rule_of_the_bundled_file_has_gates_on_most_patterns():
    rules = load_rules(_seeds() / "rules.toml")
    gated = sum(bool(g) for rule in rules for g in rule.gates)
    total = sum(len(rule.gates) for rule in rules)
    assert gated / total > 0.8


def test_rules_that_only_name_a_known_persons_company_need_a_known_name(rules_engine):
    """'X is the new CEO' makes an event only when X is a known person: without one the rule is not run."""
    index = next(i for i, rule in enumerate(rules_engine.rules) if rule.id == "leadership_change.known-person-role")
    words = ClauseWords(rules_engine.rules, ["jason droege"], {index})
    text = "John Smith is the new CEO."
    _, present = words.scan(text.lower(), text, True)
    assert not all(_gates_met(g.masks, present) for g in words.patterns[index])
    text = "Jason Droege is the new CEO."
    _, present = words.scan(text.lower(), text, True)
    assert all(_gates_met(g.masks, present) for g in words.patterns[index])
    assert {(e.type, e.subject) for e in rules_engine.classify("Meta deal closes", text).events} == {
        ("leadership_change", "scale-ai")}
