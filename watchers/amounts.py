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
# numbers are found first (cheap), then the currency before and the scale or currency after
_NUMBER = re.compile(r"(?<![\w.,])\d{1,4}(?:,\d{3})*(?:\.\d+)?(?![\d,]\d)")
_BEFORE = re.compile(r"(?:(?P<sym>US\$|AU?\$|CA?\$|HK\$|S\$|\$|€|£|¥|₹|₩)|(?P<code>USD|EUR|GBP|AUD|CAD|JPY|CNY|INR|CHF|SEK) ?)"
                     r"(?:up to |about |around |nearly |over |more than )?$")
_AFTER = re.compile(r"(?:\s?(?P<scale>trillion|billion|million|thousand|crore|lakh|bn|mln|mn|tn|[bmkt])\b)?"
                    r"(?:\s(?P<code>usd|eur|euros?|gbp|pounds|aud|cad|jpy|yen|cny|yuan|rmb|inr|rupees|chf|dollars|sek)\b)?",
                    re.IGNORECASE)
_VALUATION_BEFORE = re.compile(r"(?:valu(?:ed|es|ing|e) (?:it |the company |\w+ )?at|valuation of|values? (?:it|the \w+|\S+) at"
                               r"|worth)\s*(?:a |an |about |around |nearly |roughly |over |more than )*$", re.I)
_VALUATION_AFTER = re.compile(r"^\s*(?:post-money |pre-money )?valuation", re.I)
_STAKE = re.compile(r"(\d{1,2}(?:\.\d+)?)\s?(?:%|percent\b|per cent\b)(?=[^.;]{0,40}?\b(?:stake|of|share|owner))", re.I)
_ROUND = re.compile(r"\b(Series [A-K]\d?(?:-\d)?|pre-seed|seed round|seed funding|bridge round|growth round|"
                    r"IPO|tender offer|share placement|convertible note)\b", re.I)
_STATUS = (
    ("denied", re.compile(r"\b(?:den(?:y|ies|ied)|rejects? (?:the )?reports?|no plans? to|not in talks|"
                          r"refutes?|dismiss(?:es|ed)? reports?|calls? (?:the )?reports? (?:false|untrue))\b", re.I)),
    ("in_talks", re.compile(r"\b(?:in (?:early |advanced |final )?(?:talks|discussions|negotiations)|nears?(?: a)? deal|"
                            r"close to (?:a )?deal|explor(?:es|ing)|weighs|considers|mulls|ey(?:es|ing)|seek(?:s|ing)?|"
                            r"courts?|pitch(?:es|ing) investors)\b", re.I)),
    ("rumored", re.compile(r"\b(?:reportedly|report(?:s|ed)? (?:that|says)|sources? (?:say|said)|people familiar|"
                           r"according to (?:a |the )?(?:report|people|sources)|rumou?r)\b", re.I)),
    ("planned", re.compile(r"\b(?:plans? to|to (?:raise|acquire|buy|cut|lay off|invest)|set to|will (?:raise|cut|acquire|"
                           r"buy|invest)|agrees? to)\b", re.I)),
)
_STATUS_PATTERNS = dict(_STATUS)
_ROLE = re.compile(r"\b((?:interim |acting |co-)?(?:chief [a-z]+ officer|chief executive(?: officer)?|chief scientist|"
                   r"chief technologist|CEO|CFO|CTO|COO|CPO|CRO|CMO|CISO|president|"
                   r"(?:executive |board )?chair(?:man|woman|person)?|board member|director|"
                   r"head of [A-Za-z ]{2,30}?(?= |$|,)|co-?founder|founder))\b", re.I)
_NAME = r"(?:[A-Z][a-zA-Z'.-]+|[A-Z]\.)(?: (?:[A-Z][a-zA-Z'.-]+|[A-Z]\.|de|van|von|bin|al)){1,3}"
_NOT_NAMES = {"The", "Former", "Chief", "Co", "Interim", "Board", "Head", "President", "Executive", "Series"}
_NAME_AT = re.compile(_NAME)
_NAME_AFTER_VERB = re.compile(rf"\b(?:hires|hired|names|appoints|taps|poaches|promotes|ousts|fires|replaces|welcomes)"
                              rf"\s+(?:former |ex-)?({_NAME})")
_NAME_BEFORE = re.compile(rf"({_NAME})(?:,| is| to| will| has)?\s+$")
_LEADER_VERB = re.compile(r"\b(?:steps?|resign|quit|leav|depart|exit|join|retire|return|become|take|named|appointed|fired|"
                          r"ousted|replac|hired|moves?)", re.I)
_STATUS_WORDS = {
    "denied": ("den", "reject", "no plan", "not in talks", "refut", "dismiss", "report"),
    "in_talks": ("talks", "discussion", "negotiation", "near", "close to", "explor", "weigh", "consider", "mull",
                 "eye", "seek", "court", "pitch"),
    "rumored": ("report", "source", "familiar", "according to", "rumo"),
    "planned": ("plan", "to raise", "to acquire", "to buy", "to cut", "to lay off", "to invest", "set to", "will ",
                "agree"),
}
_ROUND_WORDS = ("series", "seed", "round", "ipo", "tender", "placement", "note")


@dataclass(slots=True)
class Facts:
    amount_usd: float | None = None
    valuation_usd: float | None = None
    stake_pct: float | None = None
    round: str | None = None


def money_spans(text: str) -> list[tuple[int, int, float]]:
    """Every amount of money in the text: (start, end, USD). "7B" (a model size) is not money."""
    result = []
    for number in _NUMBER.finditer(text):
        start, end = number.span()
        before = _BEFORE.search(text, max(0, start - 20), start)
        after = _AFTER.match(text, end)
        scale = (after.group("scale") or "").lower()
        sym = before.group("sym") if before else None
        code = (before.group("code") if before else None) or after.group("code")
        if not sym and not code and scale not in ("billion", "million", "trillion", "bn", "mn", "mln", "tn"):
            continue
        currency = _SYMBOLS.get(sym.upper() if sym else "") or _CODES.get((code or "").lower(), "USD")
        value = float(number.group().replace(",", "")) * _SCALES.get(scale, 1.0)
        if value > 0:
            result.append((before.start() if before else start, after.end(), round(value * USD_RATES[currency], 2)))
    return result


def extract_facts(text: str) -> Facts:
    """Amount raised or paid, valuation, stake and round named in one clause."""
    facts = Facts()
    lowered = text.lower()
    for start, end, usd in money_spans(text) if _DIGIT.search(text) else ():
        if _VALUATION_BEFORE.search(text[max(0, start - 40):start]) or _VALUATION_AFTER.match(text[end:end + 30]):
            facts.valuation_usd = facts.valuation_usd or usd
        elif facts.amount_usd is None and not re.match(r"\s?(?:a share|per share|an hour|in (?:annual|revenue|sales))",
                                                       text[end:end + 20], re.I):
            facts.amount_usd = usd
    stake = _STAKE.search(text) if ("%" in text or "percent" in lowered or "per cent" in lowered) else None
    if stake:
        facts.stake_pct = float(stake.group(1))
    found = _ROUND.search(text) if any(w in lowered for w in _ROUND_WORDS) else None
    if found:
        value = found.group(1)
        facts.round = value[0].upper() + value[1:] if value.lower().startswith("series") else value.lower()
    return facts


# one literal alternation per status: a C-speed look for its words before the full pattern runs
_STATUS_HINTS = {status: re.compile("|".join(map(re.escape, words))) for status, words in _STATUS_WORDS.items()}
_DIGIT = re.compile(r"\d")


def _shows(status: str, text: str, lowered: str) -> bool:
    return _STATUS_HINTS[status].search(lowered) is not None and _STATUS_PATTERNS[status].search(text) is not None


def clause_status(text: str) -> str | None:
    """A denial or a rumour anywhere in the clause: "denied", "rumored" or None."""
    lowered = text.lower()
    for status in ("denied", "rumored"):
        if _shows(status, text, lowered):
            return status
    return None


def extract_status(text: str, span: str | None = None, clause: str | None = "") -> str:
    """done, in_talks, rumored, denied or planned (in that priority: denied first). A denial or a
    rumour anywhere in the clause counts; talks and plans only in the words of the event itself
    (`span`, default the clause). `clause` is clause_status(text) when already known."""
    span = text if span is None else span
    found = clause_status(text) if clause == "" else clause
    if found == "denied":
        return found
    lowered = span.lower()
    if _shows("in_talks", span, lowered):
        return "in_talks"
    if found:
        return found
    return "planned" if _shows("planned", span, lowered) else "done"


def extract_person_role(text: str) -> tuple[str | None, str | None]:
    """The person and role of a leadership change, when the clause names them."""
    role_found = _ROLE.search(text)
    role = role_found.group(1) if role_found else None
    candidates = []
    if role_found and (after := _NAME_AT.match(text, role_found.end() + 1)):
        candidates.append(after.group())
    candidates.extend(found.group(1) for found in _NAME_AFTER_VERB.finditer(text))
    for verb in _LEADER_VERB.finditer(text):
        before = _NAME_BEFORE.search(text, max(0, verb.start() - 60), verb.start())
        if before:
            candidates.append(before.group(1))
    person = None
    for name in candidates:
        words = name.split()
        while words and words[0] in _NOT_NAMES:
            words.pop(0)
        if len(words) >= 2 and "\u27e6" not in name:
            person = " ".join(words)
            break
    return person, role
