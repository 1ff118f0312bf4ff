"""What a reader wants at a glance: money in USD, stake, valuation, round, status, person, role.

Amounts are read from the clause an event was found in: "$14.3 billion", "€600M", "1.5bn euros",
"A$30 million", "EUR 15 million". Other currencies are converted at fixed, rounded rates: the
figure is for a glance, not for accounting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

USD_RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "AUD": 0.66, "CAD": 0.73, "JPY": 0.0067, "CNY": 0.14,
             "INR": 0.012, "CHF": 1.12, "HKD": 0.13, "SGD": 0.74, "KRW": 0.00073, "SEK": 0.095}
_SYMBOLS = {"$": "USD", "US$": "USD", "A$": "AUD", "AU$": "AUD", "C$": "CAD", "CA$": "CAD", "HK$": "HKD",
            "S$": "SGD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW"}
_CODES = {"usd": "USD", "eur": "EUR", "euro": "EUR", "euros": "EUR", "gbp": "GBP", "pounds": "GBP", "aud": "AUD",
          "cad": "CAD", "jpy": "JPY", "yen": "JPY", "cny": "CNY", "yuan": "CNY", "rmb": "CNY", "inr": "INR",
          "rupees": "INR", "chf": "CHF", "dollars": "USD", "sek": "SEK"}
_SCALES = {"trillion": 1e12, "tn": 1e12, "t": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9, "million": 1e6, "mn": 1e6,
           "m": 1e6, "mln": 1e6, "thousand": 1e3, "k": 1e3, "crore": 1e7, "lakh": 1e5}
_SYMBOL = r"(?P<sym>US\$|AU?\$|CA?\$|HK\$|S\$|\$|€|£|¥|₹|₩)"
_CODE_BEFORE = r"(?P<code1>USD|EUR|GBP|AUD|CAD|JPY|CNY|INR|CHF|SEK)\s?"
_NUMBER = r"(?P<num>\d{1,4}(?:,\d{3})*(?:\.\d+)?)"
_SCALE = r"(?:\s?(?P<scale>trillion|billion|million|thousand|crore|lakh|bn|mln|mn|tn|[bmkt])\b)?"
_CODE_AFTER = r"(?:\s(?P<code2>usd|eur|euros?|gbp|pounds|aud|cad|jpy|yen|cny|yuan|rmb|inr|rupees|chf|dollars|sek)\b)?"
MONEY = re.compile(rf"(?:{_SYMBOL}\s?|{_CODE_BEFORE}|\b)(?:up to |about |around |nearly |over |more than )?"
                   rf"{_NUMBER}{_SCALE}{_CODE_AFTER}", re.IGNORECASE)
_VALUATION_BEFORE = re.compile(r"(?:valued? (?:it |the company |\w+ )?at|valuation of|values? (?:it|the \w+|\S+) at"
                               r"|worth)\s*(?:a |an |about |around |nearly |roughly |over |more than )*$", re.I)
_VALUATION_AFTER = re.compile(r"^\s*(?:post-money |pre-money )?valuation", re.I)
_STAKE = re.compile(r"(\d{1,2}(?:\.\d+)?)\s?(?:%|percent\b|per cent\b)(?=[^.;]{0,40}?\b(?:stake|of|share|owner))", re.I)
_ROUND = re.compile(r"\b(Series [A-K]\d?(?:-\d)?|pre-seed|seed round|seed funding|bridge round|growth round|"
                    r"IPO|tender offer|share placement|convertible note)\b", re.I)
_STATUS = (
    ("denied", re.compile(r"\b(?:den(?:y|ies|ied)|rejects? (?:the )?reports?|no plans? to|not in talks|"
                          r"refutes?|dismiss(?:es|ed)? reports?|calls? (?:the )?reports? (?:false|untrue))\b", re.I)),
    ("in_talks", re.compile(r"\b(?:in (?:early |advanced |final )?(?:talks|discussions|negotiations)|nears?(?: a)? deal|"
                            r"close to (?:a )?deal|explor(?:es|ing)|weighs|considers|mulls|eyes|seeks?|"
                            r"courts?|pitch(?:es|ing) investors)\b", re.I)),
    ("rumored", re.compile(r"\b(?:reportedly|report(?:s|ed)? (?:that|says)|sources? (?:say|said)|people familiar|"
                           r"according to (?:a |the )?(?:report|people|sources)|rumou?r)\b", re.I)),
    ("planned", re.compile(r"\b(?:plans? to|to (?:raise|acquire|buy|cut|lay off|invest)|set to|will (?:raise|cut|acquire|"
                           r"buy|invest)|agrees? to)\b", re.I)),
)
_ROLE = re.compile(r"\b((?:interim |acting |co-)?(?:chief [a-z]+ officer|chief executive(?: officer)?|chief scientist|"
                   r"chief technologist|CEO|CFO|CTO|COO|CPO|CRO|CMO|CISO|president|"
                   r"(?:executive |board )?chair(?:man|woman|person)?|board member|director|"
                   r"head of [A-Za-z ]{2,30}?(?= |$|,)|co-?founder|founder))\b", re.I)
_NAME = r"(?:[A-Z][a-zA-Z'.-]+|[A-Z]\.)(?: (?:[A-Z][a-zA-Z'.-]+|[A-Z]\.|de|van|von|bin|al)){1,3}"
_NOT_NAMES = {"The", "Former", "Chief", "Co", "Interim", "Board", "Head", "President", "Executive", "Series"}
_PERSON_AFTER_ROLE = re.compile(rf"(?:{_ROLE.pattern})\s+({_NAME})")
_PERSON_BEFORE_VERB = re.compile(rf"({_NAME})(?:,| is| to| will| has)?\s+(?:steps?|resign|quit|leav|depart|exit|join|"
                                 rf"retire|return|become|take|named|appointed|fired|ousted|replac|hired|moves?)", re.I)


@dataclass(slots=True)
class Facts:
    amount_usd: float | None = None
    valuation_usd: float | None = None
    stake_pct: float | None = None
    round: str | None = None


def _usd(found: re.Match) -> float | None:
    sym, code = found.group("sym"), found.group("code1") or found.group("code2")
    scale = (found.group("scale") or "").lower()
    if not sym and not code and not scale:
        return None
    if not sym and not code and scale in ("b", "m", "k", "t"):
        return None  # "7B" is a model size, "5m" a distance
    if not sym and not code and scale not in ("billion", "million", "trillion", "bn", "mn", "mln", "tn"):
        return None
    currency = _SYMBOLS.get(sym.upper() if sym else "", None) or _CODES.get((code or "").lower(), "USD")
    value = float(found.group("num").replace(",", "")) * _SCALES.get(scale, 1.0)
    return round(value * USD_RATES[currency], 2)


def money_spans(text: str) -> list[tuple[int, int, float]]:
    """Every amount of money in the text: (start, end, USD)."""
    result = []
    for found in MONEY.finditer(text):
        usd = _usd(found)
        if usd is not None and usd > 0:
            result.append((found.start(), found.end(), usd))
    return result


def extract_facts(text: str) -> Facts:
    """Amount raised or paid, valuation, stake and round named in one clause."""
    facts = Facts()
    for start, end, usd in money_spans(text):
        if _VALUATION_BEFORE.search(text[max(0, start - 40):start]) or _VALUATION_AFTER.match(text[end:end + 30]):
            facts.valuation_usd = facts.valuation_usd or usd
        elif facts.amount_usd is None and not re.match(r"\s?(?:a share|per share|an hour|in (?:annual|revenue|sales))",
                                                       text[end:end + 20], re.I):
            facts.amount_usd = usd
    stake = _STAKE.search(text)
    if stake:
        facts.stake_pct = float(stake.group(1))
    found = _ROUND.search(text)
    if found:
        value = found.group(1)
        facts.round = value[0].upper() + value[1:] if value.lower().startswith("series") else value.lower()
    return facts


def extract_status(text: str) -> str:
    """done, in_talks, rumored, denied or planned: the first that the clause's wording shows."""
    for status, pattern in _STATUS:
        if pattern.search(text):
            return status
    return "done"


def extract_person_role(text: str) -> tuple[str | None, str | None]:
    """The person and role of a leadership change, when the clause names them."""
    role_found = _ROLE.search(text)
    role = role_found.group(1) if role_found else None
    person = None
    for pattern in (_PERSON_AFTER_ROLE, _PERSON_BEFORE_VERB):
        for found in pattern.finditer(text):
            name = found.group(found.lastindex or 1).strip()
            words = name.split()
            while words and words[0] in _NOT_NAMES:
                words.pop(0)
            if len(words) >= 2 and "\u27e6" not in name:
                person = " ".join(words)
                break
        if person:
            break
    return person, role
