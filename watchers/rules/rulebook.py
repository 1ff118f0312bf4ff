"""Loading `seeds/rules.toml`: event rules with company slots, compiled once.

A rule:

    [[rule]]
    id = "customer_loss.cuts-ties"          # unique; shown with every event it makes
    type = "customer_loss"                  # one of watchers.models.EVENT_TYPES
    triggers = ["cuts ties with", "drops"]  # words that must occur; {T} in a pattern is their alternation
    patterns = ["{C} {w2}{T} {S}"]          # regular expressions over the clause's slot text
    subject = "S"                           # slot that binds the subject ("primary": see classify.py)
    counterparty = "C"                      # optional slot of the counterparty (a pattern may lack it)
    also = [{type = "layoffs", subject = "S"}]   # optional further events of the same match
    overrides = ["partnership"]             # optional: drop these types for the same subject in the clause
    orient = true                           # optional: wording says nothing of who is the vendor (classify.py)
    scope = "any"                           # any | title | summary
    unless = "regex"                        # optional: the clause matching it is skipped

In a pattern `{X}` is one company ("⟦3⟧" in the slot text), `{X!}` one company not right after
a preposition ("for Meta" is nobody's subject), `{X+}` a list of companies ("A, B and C"),
`{X*}` any stretch of the clause whose companies all bind, `{T}` the triggers,
and `{name}` a macro of the `[macros]` table. Patterns are case-insensitive.
A group named `P` (written `(?P<P>...)`) is a person: it binds the companies whose known `people`
(seeds/companies.toml) it names, and its rules also see clauses naming no company.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchers.errors import ConfigError
from watchers.models import EVENT_TYPES
from watchers.rules.registry import key_line, read_toml

PERSON_SLOT = "P"
TOKEN = re.compile(r"\u27e6(\d+)\u27e7")
_ONE = r"\u27e6\d+\u27e7"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)([+*!]?)\}")
_PREPOSITIONS = ("for", "with", "from", "by", "of", "to", "at", "into", "on", "against")
_RULE_KEYS = {"id", "type", "triggers", "patterns", "subject", "counterparty", "also", "overrides", "scope", "unless",
              "confidence", "orient"}
SCOPES = ("any", "title", "summary")


@dataclass(frozen=True)
class EventSpec:
    type: str
    subject: str
    counterparty: str | None = None


@dataclass(frozen=True)
class Needs:
    """What every match of a pattern holds, read from the pattern's source text (`needs_of`): at
    least `tokens` companies, and a word of each of `words` (lowercase). A clause without them is
    not tried: that changes what is run, never what is found."""

    tokens: int = 0
    words: tuple[frozenset[str], ...] = ()

    def met(self, tokens: int, lowered: str) -> bool:
        return tokens >= self.tokens and all(any(word in lowered for word in words) for words in self.words)


_PLAIN_ALTERNATION = re.compile(r"\((?:\?:|\?P<\w+>)([\w' -]+(?:\|[\w' -]+)*)\)")
_SLOT = re.compile(r"\{([A-SU-Z])[+!]?\}")  # a company slot that binds one company at least ({T} is the triggers)
MIN_NEED_WORD = 3  # shorter words ("in", "at") are in nearly every clause: looking for them costs more than it saves


def needs_of(source: str) -> Needs:
    """The needs of a pattern as written in rules.toml: its slots and plain alternations of words
    that stand at its top level (outside any group, class or lookaround) and are not optional.

    >>> needs_of(r"{C} {w2}(?:acquires|buys) {S}(?: in (?:talks|a deal))?")
    Needs(tokens=2, words=(frozenset({'acquires', 'buys'}),))
    >>> needs_of(r"(?:{S} sells|{C} buys)") == Needs()
    True
    """
    tokens, words, depth, at = 0, [], 0, 0
    while at < len(source):
        char = source[at]
        if char == "\\":
            at += 2
            continue
        if char == "[":  # a character class: to its closing bracket
            at = source.index("]", at + 2 if source[at + 1:at + 2] in ("]", "^") else at + 1) + 1
            continue
        if depth == 0:
            if char == "|":
                return Needs()  # a top-level alternative: nothing is needed by every match
            slot = _SLOT.match(source, at)
            optional = source[(slot or _PLAIN_ALTERNATION.match(source, at) or re.match("", "")).end():][:2]
            if slot and not optional.startswith(("?", "*", "{0")):
                tokens += 1
            group = _PLAIN_ALTERNATION.match(source, at)
            if group and not optional.startswith(("?", "*", "{0")):
                found = frozenset(word.strip().lower() for word in group.group(1).split("|"))
                if all(len(word) >= MIN_NEED_WORD for word in found):
                    words.append(found)
        depth += (char == "(") - (char == ")")
        at += 1
    return Needs(tokens, tuple(words))


@dataclass
class Rule:
    id: str
    type: str
    triggers: tuple[str, ...]
    patterns: tuple[re.Pattern, ...]
    needs: tuple[Needs, ...]  # per pattern
    emits: tuple[EventSpec, ...]
    overrides: tuple[str, ...] = ()
    scope: str = "any"
    unless: re.Pattern | None = None
    confidence: float = 0.9
    line: int = 0
    uses_primary: bool = field(default=False)
    uses_people: bool = False  # a slot of the rule is the person group P
    orient: bool = False


def _expand(pattern: str, triggers: str, macros: dict[str, str], fail, depth: int = 0) -> str:
    def replace(found: re.Match) -> str:
        name, mark = found.group(1), found.group(2)
        if name == "T":
            return triggers
        if name.isupper():
            if mark == "+":
                return rf"(?P<{name}>{_ONE}(?:(?:,? and |, | & | and the |/){_ONE})*)"
            if mark == "*":
                return rf"(?P<{name}>[^;]{{0,90}}?)"
            if mark == "!":
                not_after = "".join(rf"(?<!\b{p} \u27e6)" for p in _PREPOSITIONS)
                return rf"(?P<{name}>\u27e6{not_after}\d+\u27e7)"
            return rf"(?P<{name}>{_ONE})"
        if name not in macros:
            fail(f"unknown macro {{{name}}}")
        if depth > 5:
            fail("macros nest too deep")
        return _expand(macros[name], triggers, macros, fail, depth + 1)

    return _PLACEHOLDER.sub(replace, pattern)


def _triggers_regex(triggers: tuple[str, ...]) -> str:
    words = sorted(triggers, key=len, reverse=True)
    return r"\b(?:" + "|".join(r"\s+".join(map(re.escape, t.split())) for t in words) + r")\b"


def _spec(raw: Any, fail) -> EventSpec:
    if not isinstance(raw, dict) or raw.get("type") not in EVENT_TYPES or not isinstance(raw.get("subject"), str):
        fail(f"each event needs a type (one of {', '.join(EVENT_TYPES)}) and a subject slot")
    counterparty = raw.get("counterparty")
    if counterparty is not None and not isinstance(counterparty, str):
        fail("counterparty must name a slot")
    return EventSpec(raw["type"], raw["subject"], counterparty)


def _rule(raw: Any, macros: dict[str, str], fail) -> Rule:
    if not isinstance(raw, dict):
        fail("each [[rule]] must be a table")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        fail(f"unknown key {unknown[0]!r}", unknown[0])
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not re.fullmatch(r"[a-z_]+\.[a-z0-9_.-]+", rule_id):
        fail(f"id {rule_id!r} must look like type.name", "id")
    triggers = raw.get("triggers")
    if not isinstance(triggers, list) or not triggers or not all(isinstance(t, str) and t.strip() for t in triggers):
        fail(f"rule {rule_id}: triggers must be a non-empty list of words", "triggers")
    patterns = raw.get("patterns")
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
        fail(f"rule {rule_id}: patterns must be a non-empty list of strings", "patterns")
    main = _spec({"type": raw.get("type"), "subject": raw.get("subject"), "counterparty": raw.get("counterparty")},
                 lambda reason: fail(f"rule {rule_id}: {reason}", "type"))
    also = raw.get("also", [])
    if not isinstance(also, list):
        fail(f"rule {rule_id}: also must be a list of events", "also")
    emits = (main, *(_spec(a, lambda reason: fail(f"rule {rule_id}: {reason}", "also")) for a in also))
    overrides = raw.get("overrides", [])
    if not isinstance(overrides, list) or any(o not in EVENT_TYPES for o in overrides):
        fail(f"rule {rule_id}: overrides must list event types", "overrides")
    scope = raw.get("scope", "any")
    if scope not in SCOPES:
        fail(f"rule {rule_id}: scope must be one of {', '.join(SCOPES)}", "scope")
    confidence = raw.get("confidence", 0.9)
    if not isinstance(confidence, (int, float)) or not 0 < confidence <= 1:
        fail(f"rule {rule_id}: confidence must be a number in (0, 1]", "confidence")
    trigger_tuple = tuple(t.strip().lower() for t in triggers)
    trigger_re = _triggers_regex(trigger_tuple)
    compiled = []
    for pattern in patterns:
        expanded = _expand(pattern, trigger_re, macros, lambda reason: fail(f"rule {rule_id}: {reason}", "patterns"))
        try:
            regex = re.compile(expanded, re.IGNORECASE)
        except re.error as exc:
            fail(f"rule {rule_id}: pattern {pattern!r} is not a valid regular expression: {exc}", "patterns")
        slots = set(regex.groupindex)
        if main.subject != "primary" and main.subject not in slots:
            fail(f"rule {rule_id}: pattern {pattern!r} has no subject slot {{{main.subject}}}", "patterns")
        compiled.append(regex)
    for spec in emits[1:]:
        if spec.subject != "primary" and not any(spec.subject in r.groupindex for r in compiled):
            fail(f"rule {rule_id}: no pattern has the slot {{{spec.subject}}}", "also")
    unless = None
    if raw.get("unless") is not None:
        try:
            unless = re.compile(str(raw["unless"]), re.IGNORECASE)
        except re.error as exc:
            fail(f"rule {rule_id}: unless is not a valid regular expression: {exc}", "unless")
    if not isinstance(raw.get("orient", False), bool):
        fail(f"rule {rule_id}: orient must be true or false", "orient")
    return Rule(id=rule_id, orient=raw.get("orient", False), type=main.type, triggers=trigger_tuple, patterns=tuple(compiled),
                needs=tuple(needs_of(pattern) for pattern in patterns), emits=emits,
                overrides=tuple(overrides), scope=scope, unless=unless, confidence=float(confidence),
                uses_primary=any(s.subject == "primary" for s in emits),
                uses_people=any(s.subject == PERSON_SLOT for s in emits))


def load_rules(path: Path) -> list[Rule]:
    """Read, check and compile a rules file; a problem raises ConfigError with file and line."""
    path = Path(path)
    data, text = read_toml(path)
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines, 1) if re.match(r"^\s*\[\[\s*rule\s*\]\]", line)]
    unknown = sorted(set(data) - {"rule", "macros"})
    if unknown:
        raise ConfigError(str(path), key_line(lines, 1, unknown[0]), f"unknown top-level key {unknown[0]!r}")
    macros = data.get("macros", {})
    if not isinstance(macros, dict) or not all(isinstance(v, str) for v in macros.values()):
        raise ConfigError(str(path), None, "[macros] must map names to strings")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(data.get("rule", [])):
        start = headers[index] if index < len(headers) else None

        def fail(reason: str, key: str = "id", _start=start) -> None:
            raise ConfigError(str(path), key_line(lines, _start, key) if _start else None, reason)

        rule = _rule(raw, macros, fail)
        if rule.id in seen:
            fail(f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)
        rule.line = start or 0
        rules.append(rule)
    if not rules:
        raise ConfigError(str(path), None, "no [[rule]] entries")
    return rules
