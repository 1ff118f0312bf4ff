"""Behaviour of the rules' text, facts and matcher helpers, as plain cases (kept from the speed
tests that compared them with reference copies of older code)."""

from __future__ import annotations

import re
import sys

import pytest

from watchers.rules import facts, textnorm
from watchers.rules.classify import RulesEngine
from watchers.rules.match import Matcher
from watchers.rules.registry import Company, Registry
from watchers.settings import default_seeds_dir


@pytest.mark.parametrize("text, person, role", [
    ("Acme named Jane Doe interim executive chairperson", None, "interim executive chairperson"),
    ("now interim co-founder Jane Doe left", "Jane Doe", "interim co-founder"),
])
def test_the_longest_role_is_read(text: str, person: str | None, role: str) -> None:
    assert facts.extract_person_role(text) == (person, role)


@pytest.mark.parametrize("text, amount, valuation, stake, round_", [
    ("raised US$5 million", 5e6, None, None, None),
    ("raised USD more than 5 million", 5e6, None, None, None),
    ("a convertible note", None, None, None, "convertible note"),
    ("Mistral raises €600M at a $6 billion valuation", 648e6, 6e9, None, None),
    ("buys 49% stake", None, None, 49.0, None),
])
def test_money_facts(text: str, amount, valuation, stake, round_) -> None:
    assert facts.extract_facts(text) == facts.Facts(amount, valuation, stake, round_)


def test_odd_folds_are_exactly_the_characters_re_folds_to_ascii_letters_otherwise() -> None:
    letter = re.compile("[a-z]", re.IGNORECASE)
    odd = [chr(code) for code in range(sys.maxunicode + 1)
           if letter.fullmatch(chr(code)) and not (len(chr(code).lower()) == 1 and chr(code).lower().isascii())]
    assert odd == ["\u0130", "\u0131", "\u017f"]
    assert all(facts.folds_oddly(f"x{c}y") for c in odd)
    assert not facts.folds_oddly("Scale AI \u27e61\u27e7 names K\u00e9vin CEO")


def test_text_cleaning_outlets_and_sentences() -> None:
    assert textnorm.clean("Scale&amp;#8217;s <b>deal</b>\u200b  ends", 1000) == "Scale's deal ends"
    # a page's escaped dollar sign is a dollar sign, so the words after it stay in a frame's reach
    assert textnorm.clean("SoftBank to spend \\$3 billion a year on OpenAI tools", 1000) == \
        "SoftBank to spend $3 billion a year on OpenAI tools"
    assert textnorm.strip_outlet("Scale AI raises $1B - Reuters") == "Scale AI raises $1B"
    assert textnorm.strip_outlet("Scale AI cuts ties - as it says") == "Scale AI cuts ties - as it says"
    assert textnorm.sentences("Scale AI lost U.S. work. Meta left; OpenAI too! Why?") == [
        "Scale AI lost U.S. work.", "Meta left", "OpenAI too!", "Why?"]


def test_a_key_holding_the_separator_is_found_text_by_text() -> None:
    company = Company(slug="odd", name="Odd Co", aliases=("Odd\x00Co", "Odd"))
    found = Matcher(Registry({"odd": company})).find(["Odd", "Co and Odd\x00Co", ""])
    assert [[(hit.slug, hit.start, hit.end) for hit in hits] for hits in found] == [[("odd", 0, 3)], [("odd", 7, 13)], []]


def test_a_role_without_a_company_is_news_only_for_a_known_person() -> None:
    rules_engine = RulesEngine.load(default_seeds_dir())
    assert {(e.type, e.subject) for e in rules_engine.classify("Meta deal closes", "Jason Droege is the new CEO.").events} \
        == {("leadership_change", "scale-ai")}
    assert not [e for e in rules_engine.classify("Meta deal closes", "John Smith is the new CEO.").events
                if e.type == "leadership_change"]
