"""One Aho-Corasick pass over a clause finds both what selects rules and what gates their patterns.

- Triggers (seeds/rules.toml `triggers`) count as whole words only; each selects the rules that
  list it.
- Gate words (watchers/rules/gates.py) count anywhere in the text; each is one bit of an int,
  so a pattern's gate "one of these words" is one AND with a mask.

A pattern whose gates are not all met cannot match the clause and is not run. The gates hold for
the lowercased text unless the clause has a character that IGNORECASE folds oddly; there every
bit is set (ALL_PRESENT) and only the triggers select.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Collection, Iterable

import ahocorasick

from watchers.rules.gates import folds_oddly
from watchers.rules.rulebook import Rule

ALL_PRESENT = -1  # every bit set: no gate skips anything


@dataclass(frozen=True, slots=True)
class GatedPattern:
    regex: re.Pattern
    min_tokens: int  # company tokens a clause needs before the pattern can match
    masks: tuple[int, ...]  # each: the bits of one word set; a clause needs one of each


class ClauseWords:
    def __init__(self, rules: list[Rule], people: Iterable[str] = (), person_rules: Collection[int] = ()):
        """`person_rules`: indexes of rules that can make an event only for a known person (their
        other slots cannot bind here): their patterns also need one of `people` (lowercased names)."""
        bits: dict[str, int] = {}
        people_gate = (frozenset(people),) if people else ()

        def masks(word_sets) -> tuple[int, ...]:
            result = []
            for words in word_sets:
                mask = 0
                for word in sorted(words):
                    mask |= bits.setdefault(word, 1 << len(bits))
                result.append(mask)
            return tuple(result)

        self.patterns: list[tuple[GatedPattern, ...]] = [
            tuple(GatedPattern(regex, needs, masks(gates + people_gate if index in person_rules else gates))
                  for regex, needs, gates in zip(rule.patterns, rule.min_tokens, rule.gates))
            for index, rule in enumerate(rules)]
        self.unless_masks: list[tuple[int, ...]] = [masks(rule.unless_gates) for rule in rules]
        selects: dict[str, set[int]] = {}
        for index, rule in enumerate(rules):
            for trigger in rule.triggers:
                selects.setdefault(" ".join(trigger.split()), set()).add(index)
        self._automaton = ahocorasick.Automaton()
        for word in selects.keys() | bits.keys():
            rule_indexes = frozenset(selects[word]) if word in selects else None
            self._automaton.add_word(word, (len(word), rule_indexes, word[0].isalnum(), word[-1].isalnum(),
                                            bits.get(word, 0)))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def scan(self, lowered: str, text: str, plain: bool) -> tuple[set[int], int]:
        """The rules a clause selects and the bits of the gate words it holds. `lowered` is the
        slot text lowercased, `text` the slot text, `plain` True when the clause is ASCII (its
        tokens aside), which rules out odd case folds without a look."""
        selected: set[int] = set()
        present = 0
        if self._empty:
            return selected, ALL_PRESENT
        size = len(lowered)
        for end, (length, rule_indexes, word_start, word_end, bit) in self._automaton.iter(lowered):
            present |= bit
            if rule_indexes is None:
                continue
            start = end - length + 1
            if (not word_start or start == 0 or not lowered[start - 1].isalnum()) and (
                    not word_end or end + 1 == size or not lowered[end + 1].isalnum()):
                selected |= rule_indexes
        if selected and not plain and folds_oddly(text):
            present = ALL_PRESENT
        return selected, present
