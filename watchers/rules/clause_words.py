"""Which rules a clause selects: one Aho-Corasick pass over the lowercased clause finds the
triggers (seeds/rules.toml `triggers`) it holds as whole words; each selects the rules that
list it."""

from __future__ import annotations

import ahocorasick

from watchers.rules.rulebook import Rule


class ClauseWords:
    def __init__(self, rules: list[Rule]):
        selects: dict[str, set[int]] = {}
        for index, rule in enumerate(rules):
            for trigger in rule.triggers:
                selects.setdefault(" ".join(trigger.split()), set()).add(index)
        self._automaton = ahocorasick.Automaton()
        for word, indexes in selects.items():
            self._automaton.add_word(word, (len(word), frozenset(indexes), word[0].isalnum(), word[-1].isalnum()))
        self._empty = not selects
        if not self._empty:
            self._automaton.make_automaton()

    def scan(self, lowered: str) -> set[int]:
        """The indexes of the rules whose triggers the lowercased clause holds as whole words."""
        selected: set[int] = set()
        if self._empty:
            return selected
        size = len(lowered)
        for end, (length, indexes, word_start, word_end) in self._automaton.iter(lowered):
            start = end - length + 1  # a trigger's letters or digits at either end may not run on into others
            if (not word_start or start == 0 or not lowered[start - 1].isalnum()) and (
                    not word_end or end + 1 == size or not lowered[end + 1].isalnum()):
                selected |= indexes
        return selected
