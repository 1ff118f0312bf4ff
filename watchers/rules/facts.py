"""What a reader wants at a glance: money in USD, stake, valuation, round, status, person, role.

Amounts are read from the clause an event was found in: "$14.3 billion", "€600M", "1.5bn euros",
"A$30 million", "EUR 15 million". Other currencies are converted at fixed, rounded rates: the
figure is for a glance, not for accounting.

These extractors run on every clause that holds an event, so their patterns are helped to skip
what cannot match: a word that every match holds is looked for first, case-insensitive patterns
run case-sensitively on the lowercased text (`_twin_safe`), and a search starts where the first
match can start at the earliest. Each shortcut gives the plain pattern's answer; the comment
where it is taken says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick


USD_RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "AUD": 0.66, "CAD": 0.73, "JPY": 0.0067, "CNY": 0.14,
             "INR": 0.012, "CHF": 1.12, "HKD": 0.13, "SGD": 0.74, "KRW": 0.00073, "SEK": 0.095}
_SYMBOLS = {"$": "USD", "US$": "USD", "A$": "AUD", "AU$": "AUD", "C$": "CAD", "CA$": "CAD", "HK$": "HKD",
            "S$": "SGD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW"}
_CODES = {"usd": "USD", "eur": "EUR", "euro": "EUR", "euros": "EUR", "gbp": "GBP", "pounds": "GBP", "aud": "AUD",
          "cad": "CAD", "jpy": "JPY", "yen": "JPY", "cny": "CNY", "yuan": "CNY", "rmb": "CNY", "inr": "INR",
          "rupees": "INR", "chf": "CHF", "dollars": "USD", "sek": "SEK"}
_SCALES = {"trillion": 1e12, "tn": 1e12, "t": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9, "million": 1e6, "mn": 1e6,
           "m": 1e6, "mln": 1e6, "thousand": 1e3, "k": 1e3, "crore": 1e7, "lakh": 1e5}
# numbers are found first (cheap), then the currency before and the scale or currency after. The
# lookbehind (no word character, "." or "," before the number) is read after the first digit, where
# it looks at the character before that digit: a pattern that starts with \d lets re jump to digits.
_NUMBER = re.compile(r"\d(?<![\w.,]\d)\d{0,3}(?:,\d{3})*(?:\.\d+)?(?![\d,]\d)")
# the same for ASCII text, where ASCII \d and \w match what Unicode ones do, and are quicker to test
_NUMBER_ASCII = re.compile(_NUMBER.pattern, re.ASCII)
_BEFORE = re.compile(r"(?:(?P<sym>US\$|AU?\$|CA?\$|HK\$|S\$|\$|€|£|¥|₹|₩)|(?P<code>USD|EUR|GBP|AUD|CAD|JPY|CNY|INR|CHF|SEK) ?)"
                     r"(?:up to |about |around |nearly |over |more than )?$")
# how the symbols of _BEFORE end (the longest is 3 characters), and how any match of it can end: a
# symbol, a code's last letter, a space, or a "\n" (`$` also matches before a final newline)
_SYMBOL_ENDS = frozenset("$€£¥₹₩")
_BEFORE_ENDS = _SYMBOL_ENDS | frozenset("DRPYFK \n")
_AFTER = re.compile(r"(?:\s?(?P<scale>trillion|billion|million|thousand|crore|lakh|bn|mln|mn|tn|[bmkt])\b)?"
                    r"(?:\s(?P<code>usd|eur|euros?|gbp|pounds|aud|cad|jpy|yen|cny|yuan|rmb|inr|rupees|chf|dollars|sek)\b)?",
                    re.IGNORECASE)
_VALUATION_BEFORE = re.compile(r"(?:valu(?:ed|es|ing|e) (?:it |the company |\w+ )?at|valuation of|values? (?:it|the \w+|\S+) at"
                               r"|worth)\s*(?:a |an |about |around |nearly |roughly |over |more than )*$", re.I)
_VALUATION_AFTER = re.compile(r"^\s*(?:post-money |pre-money )?valuation", re.I)
_NOT_RAISED = re.compile(r"\s?(?:a share|per share|an hour|in (?:annual|revenue|sales))", re.I)
_STAKE = re.compile(r"(\d{1,2}(?:\.\d+)?)\s?(?:%|percent\b|per cent\b)(?=[^.;]{0,40}?\b(?:stake|of|share|owner))", re.I)
# Patterns with a lowercase twin are written in lowercase: under IGNORECASE the case of a pattern's
# letters makes no difference, and the twin, without it, runs on lowercased text.
_ROUND_SOURCE = (r"\b(series [a-k]\d?(?:-\d)?|pre-seed|seed round|seed funding|bridge round|growth round|"
                 r"ipo|tender offer|share placement|convertible note)\b")
_ROUND, _ROUND_LOWERED = re.compile(_ROUND_SOURCE, re.I), re.compile(_ROUND_SOURCE)
_ROUND_WORDS = ("series", "seed", "round", "ipo", "tender", "placement", "note")
_STATUS = (
    ("denied", re.compile(r"\b(?:den(?:y|ies|ied)|rejects? (?:the )?reports?|no plans? to|not in talks|"
                          r"refutes?|dismiss(?:es|ed)? reports?|calls? (?:the )?reports? (?:false|untrue)|"
                          r"reports?\b[^;]{0,80}\b(?:is|are|was|were) (?:false|untrue|inaccurate|baseless|wrong)|"
                          r"(?:false|untrue|inaccurate|baseless) reports?|(?:is|are) not (?:planned|happening|on the table)|rul(?:es|ed|ing) out|"
                          # a withdrawal: "Apple pulls out of talks to invest", "exits from OpenAI's funding round"
                          r"no longer (?:in talks|investing|participating|taking part)|"
                          r"(?:pull(?:s|ed)?|back(?:s|ed)?|drop(?:s|ped)?) out of (?:the )?(?:talks|negotiations|round|deal)|"
                          r"(?:withdr(?:aws|ew|awn)|exit(?:s|ed)?|walk(?:s|ed)? away) from\b[^;]{0,40}?\b(?:talks|negotiations|round))\b", re.I)),
    ("in_talks", re.compile(r"\b(?:in (?:early |advanced |final )?(?:talks|discussions|negotiations)|nears?(?: a)? deal|"
                            r"close to (?:a )?deal|explor(?:es|ing)|weighs|considers|mulls|ey(?:es|ing)|seek(?:s|ing)?|"
                            r"courts?|pitch(?:es|ing) investors)\b", re.I)),
    ("rumored", re.compile(r"\b(?:reportedly|report(?:s|ed)? (?:that|says)|sources? (?:say|said)|people familiar|"
                           r"according to (?:a |the )?(?:report|people|sources)|rumou?r)\b", re.I)),
    ("planned", re.compile(r"\b(?:plans? to|to (?:raise|acquire|buy|cut|lay off|invest|leave|step down|depart|retire|"
                           r"join|exit|end|stop|drop)|set to|will (?:raise|cut|acquire|buy|invest|leave|step down|depart|"
                           r"retire|join|exit|end|stop|drop|terminate)|agrees? to)\b", re.I)),
)
_STATUS_PATTERNS = dict(_STATUS)
# the characters IGNORECASE matches to an ASCII letter other than their lower(): "İ", "ı", "ſ"
_ODD_FOLDS = re.compile("[\u0130\u0131\u017f]")


def folds_oddly(text: str) -> bool:
    """True when `text` holds a character that IGNORECASE matches to an ASCII letter other than its lower()."""
    return _ODD_FOLDS.search(text) is not None
_ROLE_SOURCE = (r"\b((?:interim |acting |co-)?(?:chief [a-z]+ officer|chief executive(?: officer)?|chief scientist|"
                r"chief technologist|ceo|cfo|cto|coo|cpo|cro|cmo|ciso|president|"
                r"(?:executive |board )?chair(?:man|woman|person)?|board member|director|"
                r"head of [a-z ]{2,30}?(?= |$|,)|co-?founder|founder))\b")
_ROLE, _ROLE_LOWERED = re.compile(_ROLE_SOURCE, re.I), re.compile(_ROLE_SOURCE)
# every role holds one of these words, at most _ROLE_LEAD characters from its start ("interim executive chair")
_ROLE_WORDS = ("chief", "ceo", "cfo", "cto", "coo", "cpo", "cro", "cmo", "ciso", "president", "chair", "board member",
               "director", "head of", "founder")
_ROLE_LEAD = len("interim executive ")
_NAME = r"(?:[A-Z][a-zA-Z'.-]+|[A-Z]\.)(?: (?:[A-Z][a-zA-Z'.-]+|[A-Z]\.|de|van|von|bin|al)){1,3}"
_NOT_NAMES = {"The", "Former", "Chief", "Co", "Interim", "Board", "Head", "President", "Executive", "Series"}
_NAME_AT = re.compile(_NAME)
_HIRING_VERBS = ("hires", "hired", "names", "appoints", "taps", "poaches", "promotes", "ousts", "fires", "replaces",
                 "welcomes")
_NAME_AFTER_VERB = re.compile(rf"\b(?:{'|'.join(_HIRING_VERBS)})\s+(?:former |ex-)?({_NAME})")
_NAME_BEFORE = re.compile(rf"({_NAME})(?:,| is| to| will| has)?\s+$")
# only where a verb starts is used ("steps" and "step" start alike)
_LEADER_VERBS = ("step", "resign", "quit", "leav", "depart", "exit", "join", "retire", "return", "become", "take",
                 "named", "appointed", "fired", "ousted", "replac", "hired", "move")
_LEADER_VERB = re.compile(rf"\b(?:{'|'.join(_LEADER_VERBS)})", re.I)
_STATUS_WORDS = {
    "denied": ("den", "reject", "no plan", "not in talks", "refut", "dismiss", "report", "not ", " out", "no longer",
               "withdr", "exit", "walk"),
    "in_talks": ("talks", "discussion", "negotiation", "near", "close to", "explor", "weigh", "consider", "mull",
                 "eye", "seek", "court", "pitch"),
    "rumored": ("report", "source", "familiar", "according to", "rumo"),
    "planned": ("plan", "to raise", "to acquire", "to buy", "to cut", "to lay off", "to invest", "set to", "will ",
                "agree", "to leave", "to step down", "to depart", "to retire", "to join", "to exit", "to end", "to stop",
                "to drop"),
}
# one literal alternation per status, for the rare clause that holds a word of a denial or rumour
_STATUS_HINTS = {status: re.compile("|".join(map(re.escape, words))) for status, words in _STATUS_WORDS.items()}


@dataclass(slots=True)
class Facts:
    amount_usd: float | None = None
    valuation_usd: float | None = None
    stake_pct: float | None = None
    round: str | None = None


def _twin_safe(text: str) -> bool:
    """True when a lowercase twin of an IGNORECASE pattern, run on text.lower(), finds the pattern's spans in `text`.

    lower() keeps every position but for "İ" (two characters); IGNORECASE matches a character to an
    ASCII letter exactly when its lower() is that letter but for "İ", "ı" and "ſ"; and lower()
    changes no character's \\w, \\d or \\s class (all three checked over the whole of Unicode).
    """
    return text.isascii() or not folds_oddly(text)


def _currency_before(text: str, start: int) -> tuple[int, str | None, str | None] | None:
    """Where _BEFORE.search(text, max(0, start - 20), start) starts, with its groups "sym" and "code".

    A match ends at `start` or at a "\n" just before it, so that character is one of _BEFORE_ENDS.
    If it is a symbol's last, the match is a symbol alone (the words allowed after a symbol end in
    a space), and the leftmost match is the longest symbol ending there: the symbols of _BEFORE are
    the keys of _SYMBOLS (a test checks it).
    """
    last = text[start - 1] if start else ""
    if last in _SYMBOL_ENDS:
        for size in (3, 2, 1):
            if start >= size and text[start - size:start] in _SYMBOLS:
                return start - size, text[start - size:start], None
    if last and last in _BEFORE_ENDS:
        before = _BEFORE.search(text, max(0, start - 20), start)
        if before:
            return before.start(), *before.groups()  # "sym", "code"
    return None


def money_spans(text: str) -> list[tuple[int, int, float]]:
    """Every amount of money in the text: (start, end, USD). "7B" (a model size) is not money."""
    result = []
    for number in (_NUMBER_ASCII if text.isascii() else _NUMBER).finditer(text):
        start, end = number.span()
        before = _currency_before(text, start)
        after = _AFTER.match(text, end)
        scale, code_after = after.groups()  # the groups in order: "scale", "code"
        scale = (scale or "").lower()
        begin, sym, code = before or (start, None, None)
        code = code or code_after
        if not sym and not code and scale not in ("billion", "million", "trillion", "bn", "mn", "mln", "tn"):
            continue
        currency = _SYMBOLS.get(sym.upper() if sym else "") or _CODES.get((code or "").lower(), "USD")
        value = float(number.group().replace(",", "")) * _SCALES.get(scale, 1.0)
        if value > 0:
            result.append((begin, after.end(), round(value * USD_RATES[currency], 2)))
    return result


def _names_a_round(lowered: str) -> bool:
    """Whether a word of _ROUND_WORDS is in `lowered`, spelled out: a chain of `in` is the quickest
    test (tests check that it holds every word)."""
    return ("series" in lowered or "seed" in lowered or "round" in lowered or "ipo" in lowered
            or "tender" in lowered or "placement" in lowered or "note" in lowered)


def extract_facts(text: str) -> Facts:
    """Amount raised or paid, valuation, stake and round named in one clause."""
    facts = Facts()
    lowered = text.lower()
    spans = money_spans(text)
    # both valuation patterns need "valu" or "worth"; IGNORECASE folds nothing but their lower() to these letters
    may_be_valuation = bool(spans) and ("valu" in lowered or "worth" in lowered)
    for start, end, usd in spans:
        if may_be_valuation and (_VALUATION_BEFORE.search(text[max(0, start - 40):start])
                                 or _VALUATION_AFTER.match(text[end:end + 30])):
            facts.valuation_usd = facts.valuation_usd or usd
        elif facts.amount_usd is None and not _NOT_RAISED.match(text[end:end + 20]):
            facts.amount_usd = usd
    stake = _STAKE.search(text) if ("%" in text or "percent" in lowered or "per cent" in lowered) else None
    if stake:
        facts.stake_pct = float(stake.group(1))
    found = None
    if _names_a_round(lowered):
        if _twin_safe(text):  # then every round holds a word of _ROUND_WORDS, lowercased
            found = _ROUND_LOWERED.search(lowered)
        elif any(word in lowered for word in _ROUND_WORDS):
            found = _ROUND.search(text)
    if found:
        value = text[found.start(1):found.end(1)]
        facts.round = value[0].upper() + value[1:] if value.lower().startswith("series") else value.lower()
    return facts


def _hint_automaton(statuses: tuple[str, ...]) -> ahocorasick.Automaton:
    """Every word of the statuses, each with the statuses it hints; one pass finds all, overlapping or not."""
    hinted: dict[str, set[str]] = {}
    for status in statuses:
        for word in _STATUS_WORDS[status]:
            hinted.setdefault(word, set()).add(status)
    automaton = ahocorasick.Automaton()
    for word, found in hinted.items():
        automaton.add_word(word, frozenset(found))
    automaton.make_automaton()
    return automaton


# a status's full pattern runs only if one of its words is in the lowercased text: for talks and
# plans, read off the words of the event itself, one pass finds them
_SPAN_HINTS = _hint_automaton(("in_talks", "planned"))


def _hinted(automaton: ahocorasick.Automaton, lowered: str) -> set[str]:
    found: set[str] = set()
    for _, statuses in automaton.iter(lowered):
        found |= statuses
    return found


def clause_status(text: str) -> str | None:
    """A denial or a rumour anywhere in the clause: "denied", "rumored" or None."""
    lowered = text.lower()
    for status in ("denied", "rumored"):
        if _STATUS_HINTS[status].search(lowered) and _STATUS_PATTERNS[status].search(text):
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
    hinted = _hinted(_SPAN_HINTS, span.lower())
    if "in_talks" in hinted and _STATUS_PATTERNS["in_talks"].search(span):
        return "in_talks"
    if found:
        return found
    return "planned" if "planned" in hinted and _STATUS_PATTERNS["planned"].search(span) else "done"


_ROLE_WORD, _HIRING_VERB, _LEADING_VERB = "role", "hiring", "leader"


def _person_automaton() -> ahocorasick.Automaton:
    """The role words and both kinds of verbs, each with its length and kinds ("hired" is of both verbs)."""
    kinds: dict[str, set[str]] = {}
    for kind, words in ((_ROLE_WORD, _ROLE_WORDS), (_HIRING_VERB, _HIRING_VERBS), (_LEADING_VERB, _LEADER_VERBS)):
        for word in words:
            kinds.setdefault(word, set()).add(kind)
    automaton = ahocorasick.Automaton()
    for word, found in kinds.items():
        automaton.add_word(word, (len(word), frozenset(found)))
    automaton.make_automaton()
    return automaton


_PERSON_WORDS = _person_automaton()


def _person_words(text: str, lowered: str) -> tuple[int, bool, list[int]]:
    """One pass over the lowercased clause (`_twin_safe` text): where the first role word starts (-1
    if none), whether a hiring verb is there, and where the leader verbs start that a space precedes.

    The leader verbs are those _LEADER_VERB finds: a verb preceded by a space starts at a word
    boundary, and a match never hides the next one (a verb is all letters). Only those preceded by
    whitespace are kept: a name before a verb ends in whitespace (_NAME_BEFORE).
    """
    role_at, hiring, verb_starts = -1, False, set()
    for end, (length, kinds) in _PERSON_WORDS.iter(lowered):
        start = end - length + 1
        if _ROLE_WORD in kinds and (role_at < 0 or start < role_at):
            role_at = start
        if _HIRING_VERB in kinds:
            hiring = True
        if _LEADING_VERB in kinds and start and text[start - 1].isspace():
            verb_starts.add(start)
    return role_at, hiring, sorted(verb_starts)


def _named_people(text: str, role_found: re.Match | None, hiring: bool, verb_starts):
    """The names a clause may give the person, in order of trust: after the role, after a hiring
    verb, before a leaving or joining verb. Lazy: the first good one is usually the first.
    `hiring` False says no hiring verb is in the clause."""
    if role_found and (after := _NAME_AT.match(text, role_found.end() + 1)):
        yield after.group()
    if hiring:
        for found in _NAME_AFTER_VERB.finditer(text):
            yield found.group(1)
    for start in verb_starts:
        if before := _NAME_BEFORE.search(text, max(0, start - 60), start):
            yield before.group(1)


def extract_person_role(text: str) -> tuple[str | None, str | None]:
    """The person and role of a leadership change, when the clause names them."""
    if _twin_safe(text):
        lowered = text.lower()
        role_at, hiring, verb_starts = _person_words(text, lowered)
        role_found = _ROLE_LOWERED.search(lowered, max(0, role_at - _ROLE_LEAD)) if role_at >= 0 else None
    else:
        role_found, hiring = _ROLE.search(text), True
        # a name before a verb ends in whitespace (_NAME_BEFORE)
        verb_starts = (verb.start() for verb in _LEADER_VERB.finditer(text)
                       if verb.start() and text[verb.start() - 1].isspace())
    role = text[role_found.start(1):role_found.end(1)] if role_found else None
    for name in _named_people(text, role_found, hiring, verb_starts):
        words = name.split()
        while words and words[0] in _NOT_NAMES:
            words.pop(0)
        if len(words) >= 2 and "\u27e6" not in name:
            return " ".join(words), role
    return None, role
