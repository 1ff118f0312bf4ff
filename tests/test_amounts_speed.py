"""The fast paths of watchers.rules.facts give what the plain patterns give.

Each extractor is compared with a plain reference (the patterns run as written, on every
position, with no gate) over clauses built from the words the patterns look for, in mixed case,
with the characters IGNORECASE folds oddly ("İ", "ı", "ſ") and the Kelvin sign mixed in.
"""

from __future__ import annotations

import random
import re

from watchers.rules import facts as A

_PLAIN_NUMBER = re.compile(r"(?<![\w.,])\d{1,4}(?:,\d{3})*(?:\.\d+)?(?![\d,]\d)")
_PLAIN_LEADER_VERB = re.compile(r"\b(?:steps?|resign|quit|leav|depart|exit|join|retire|return|become|take|named|"
                                r"appointed|fired|ousted|replac|hired|moves?)", re.I)
_PLAIN_NOT_RAISED = r"\s?(?:a share|per share|an hour|in (?:annual|revenue|sales))"


def plain_money_spans(text: str) -> list[tuple[int, int, float]]:
    result = []
    for number in _PLAIN_NUMBER.finditer(text):
        start, end = number.span()
        before = A._BEFORE.search(text, max(0, start - 20), start)
        after = A._AFTER.match(text, end)
        scale = (after.group("scale") or "").lower()
        sym = before.group("sym") if before else None
        code = (before.group("code") if before else None) or after.group("code")
        if not sym and not code and scale not in ("billion", "million", "trillion", "bn", "mn", "mln", "tn"):
            continue
        currency = A._SYMBOLS.get(sym.upper() if sym else "") or A._CODES.get((code or "").lower(), "USD")
        value = float(number.group().replace(",", "")) * A._SCALES.get(scale, 1.0)
        if value > 0:
            result.append((before.start() if before else start, after.end(), round(value * A.USD_RATES[currency], 2)))
    return result


def plain_facts(text: str) -> A.Facts:
    facts = A.Facts()
    lowered = text.lower()
    for start, end, usd in plain_money_spans(text):
        if A._VALUATION_BEFORE.search(text[max(0, start - 40):start]) or A._VALUATION_AFTER.match(text[end:end + 30]):
            facts.valuation_usd = facts.valuation_usd or usd
        elif facts.amount_usd is None and not re.match(_PLAIN_NOT_RAISED, text[end:end + 20], re.I):
            facts.amount_usd = usd
    stake = A._STAKE.search(text) if ("%" in text or "percent" in lowered or "per cent" in lowered) else None
    if stake:
        facts.stake_pct = float(stake.group(1))
    found = A._ROUND.search(text) if any(w in lowered for w in A._ROUND_WORDS) else None
    if found:
        value = found.group(1)
        facts.round = value[0].upper() + value[1:] if value.lower().startswith("series") else value.lower()
    return facts


def _plain_shows(status: str, text: str) -> bool:
    return A._STATUS_HINTS[status].search(text.lower()) is not None and A._STATUS_PATTERNS[status].search(text) is not None


def plain_clause_status(text: str) -> str | None:
    return next((status for status in ("denied", "rumored") if _plain_shows(status, text)), None)


def plain_status(text: str, span: str | None = None, clause: str | None = "") -> str:
    span = text if span is None else span
    found = plain_clause_status(text) if clause == "" else clause
    if found == "denied":
        return found
    if _plain_shows("in_talks", span):
        return "in_talks"
    if found:
        return found
    return "planned" if _plain_shows("planned", span) else "done"


def plain_person_role(text: str) -> tuple[str | None, str | None]:
    role_found = A._ROLE.search(text)
    role = role_found.group(1) if role_found else None
    candidates = []
    if role_found and (after := A._NAME_AT.match(text, role_found.end() + 1)):
        candidates.append(after.group())
    candidates.extend(found.group(1) for found in A._NAME_AFTER_VERB.finditer(text))
    for verb in _PLAIN_LEADER_VERB.finditer(text):
        before = A._NAME_BEFORE.search(text, max(0, verb.start() - 60), verb.start())
        if before:
            candidates.append(before.group(1))
    for name in candidates:
        words = name.split()
        while words and words[0] in A._NOT_NAMES:
            words.pop(0)
        if len(words) >= 2 and "\u27e6" not in name:
            return " ".join(words), role
    return None, role


_WORDS = (
    "$ US$ A$ AU$ C$ CA$ HK$ S$ € £ ¥ ₹ ₩ USD EUR GBP AUD CAD JPY CNY INR CHF SEK usd Euros yen up to about around "
    "nearly over more than 1 12 1,234 12.5 1,000,000 2024 0 7 99.9 1.2.3 ,5 5, ١٢ trillion billion million thousand "
    "crore lakh bn mln mn tn b m k t B M valued valuing values value it the company at valuation of worth a an "
    "roughly post-money % percent per cent stake share owner . ; Series A K L seed pre-seed round funding bridge "
    "growth IPO tender offer placement convertible note per an hour in annual revenue sales deny denies denied "
    "rejects reports report no plans not talks refutes dismisses calls false early advanced discussions negotiations "
    "nears deal close explores weighs considers mulls eyes seeks courts pitches investors reportedly that says "
    "sources say said people familiar according rumor rumour raise acquire buy cut lay off invest set will agrees "
    "interim acting co- chief financial officer executive scientist technologist CEO CFO cto CISO president board "
    "chair chairman chairperson member director head of AI research , co-founder cofounder founder hires hired "
    "names appoints taps poaches promotes ousts fires replaces welcomes former ex- John Smith Mary O'Neil J. de van "
    "The Former Chief Co Interim Board Head is has steps step resign quit leaves depart exit joins retire returns "
    "become takes named appointed fired ousted replaced moves ⟦0⟧ \n \t"
).split(" ")
_PHRASES = ("plans to", "to raise", "will invest", "agrees to", "set to", "valued at", "valuing it at", "valuation of",
            "at a post-money valuation", "worth about", "15% stake", "a 10 percent stake", "per cent of", "$5 billion",
            "€600M", "1.5bn euros", "A$30 million", "EUR 15 million", "$2 a share", "in talks", "sources say",
            "denies reports", "Jane Doe steps down", "hires former John Smith as", "Series B round")
_ODD = ("İ", "ı", "ſ", "\u212a", "é", "\u00a0")


def _clauses(count: int, seed: int = 7):
    rng = random.Random(seed)
    for _ in range(count):
        parts = [rng.choice(_PHRASES if rng.random() < 0.2 else _WORDS) for _ in range(rng.randint(1, 14))]
        if rng.random() < 0.3:
            index = rng.randrange(len(parts))
            word = parts[index]
            cut = rng.randrange(len(word) + 1)
            parts[index] = word[:cut] + rng.choice(_ODD) + word[cut + 1:]
        text = rng.choice((" ", " ", "  ", ", ", "")).join(parts)
        yield text.upper() if rng.random() < 0.15 else text.title() if rng.random() < 0.15 else text


def test_in_chains_hold_every_word() -> None:
    for word in A._ROUND_WORDS:
        assert A._names_a_round(word) and A._names_a_round(f"x {word.upper().lower()} y")
    for word in A._STATUS_WORDS["denied"] + A._STATUS_WORDS["rumored"]:
        assert A._may_deny_or_rumour(word)
    assert not A._names_a_round("nothing to see") and not A._may_deny_or_rumour("nothing to see")


def test_money_groups_in_the_order_read() -> None:
    assert A._AFTER.groupindex == {"scale": 1, "code": 2} and A._BEFORE.groupindex == {"sym": 1, "code": 2}


def test_symbols_are_those_of_before() -> None:
    symbols = {match.group("sym") for match in map(A._BEFORE.fullmatch, A._SYMBOLS) if match}
    assert symbols == set(A._SYMBOLS) and max(map(len, symbols)) <= 3
    assert {symbol[-1] for symbol in symbols} == A._SYMBOL_ENDS
    assert {A._BEFORE.search(f"x{s}5", 0, len(s) + 1).group("sym") for s in symbols} == symbols


def test_twin_safe_only_without_odd_folds() -> None:
    assert A._twin_safe("Acme raises $5 million") and A._twin_safe("Société Générale \u212a")
    assert not any(A._twin_safe(f"Serıes A {odd}") for odd in ("İ", "ı", "ſ"))


def test_extractors_agree_with_plain_patterns() -> None:
    for text in _clauses(20000):
        assert A.money_spans(text) == plain_money_spans(text), text
        assert A.extract_facts(text) == plain_facts(text), text
        assert A.extract_person_role(text) == plain_person_role(text), text
        assert A.clause_status(text) == plain_clause_status(text), text
        half = text[: len(text) // 2]
        assert A.extract_status(text) == plain_status(text), text
        assert A.extract_status(text, half, None) == plain_status(text, half, None), text


def test_longest_leads_are_found() -> None:
    for text in ("Acme named Jane Doe interim executive chairperson", "now interim co-founder Jane Doe left",
                 "raised US$5 million", "raised USD more than 5 million", "a convertible note"):
        assert A.extract_person_role(text) == plain_person_role(text)
        assert A.extract_facts(text) == plain_facts(text)
