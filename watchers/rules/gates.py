"""Cheap necessary conditions read from a rule's compiled patterns, so that most patterns that
cannot match a clause are skipped without running them.

Two kinds, both exact (a pattern skipped by them could not have matched):
- `min_tokens`: how many company tokens ("⟦n⟧") any match holds at least;
- `required_words`: sets of words of which every match contains one of each set, as written
  in the pattern, in any case ("(?:hires|names) ... (?:CEO|CFO)" gives {hires, names} and
  {ceo, cfo}). They are looked up in the lowercased clause by one Aho-Corasick pass.

Lowercasing agrees with the patterns' IGNORECASE for every text but those holding "İ", "ı" or
"ſ" (which `re` folds to "i" and "s" while str.lower() does not): on such a clause the word
gates are not used (`folds_oddly`).
"""

from __future__ import annotations

import _sre as _sre_engine
import re
import re._compiler as _sre_compile
import re._constants as _sre
import re._parser as _sre_parse

_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)
# shorter words ("in", "at") are in nearly every clause: as gates they cost more than they save
MIN_GATE_WORD = 3
_ODD_FOLDS = re.compile("[\u0130\u0131\u017f]")


def folds_oddly(text: str) -> bool:
    """True when `text` holds a character that IGNORECASE matches to an ASCII letter other than its lower()."""
    return _ODD_FOLDS.search(text) is not None


def min_literal_count(parsed, char: str) -> int:
    """How many times `char` occurs at least in any match of a parsed pattern (lookarounds count 0)."""
    code = ord(char)

    def count(items) -> int:
        total = 0
        for op, arg in items:
            if op is _sre.LITERAL:
                total += arg == code
            elif op is _sre.SUBPATTERN:
                total += count(arg[-1])
            elif op is _sre.ATOMIC_GROUP:
                total += count(arg)
            elif op is _sre.BRANCH:
                total += min(count(branch) for branch in arg[1])
            elif op in _REPEATS:
                total += arg[0] * count(arg[2])
        return total

    return count(parsed)


def _literal_prefix(items) -> str:
    prefix = []
    for op, arg in items:
        if op is not _sre.LITERAL:
            break
        prefix.append(chr(arg))
    return "".join(prefix)


def _branch_words(branches) -> set[str] | None:
    """The words one of which starts every branch, or None when a branch starts otherwise."""
    words = set()
    for branch in branches:
        prefix = _literal_prefix(branch)
        if not prefix:
            return None
        words.add(prefix)
    return words


def _sequence_words(items) -> list[set[str]]:
    """Word sets that every match of the sequence `items` contains one of."""
    found: list[set[str]] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            found.append({"".join(run)})
            run.clear()

    for op, arg in items:
        if op is _sre.LITERAL:
            run.append(chr(arg))
            continue
        close_run()
        if op is _sre.SUBPATTERN:
            found.extend(_sequence_words(arg[-1]))
        elif op is _sre.ATOMIC_GROUP:
            found.extend(_sequence_words(arg))
        elif op is _sre.BRANCH:
            words = _branch_words(arg[1])
            if words:
                found.append(words)
        elif op in _REPEATS and arg[0] >= 1:
            found.extend(_sequence_words(arg[2]))
    close_run()
    return found


def compile_parts(source: str, flags: int) -> tuple[tuple, tuple[frozenset[str], ...]]:
    """What re's compiler makes of `source` (code, flags, groups, group names: plain data that
    watchers/rules/cache.py keeps on disk) and the pattern's word gates. The steps are those of
    re._compiler.compile, kept apart so that the code can be stored; one parse serves both (parsing
    is half of compiling, and the rules' patterns are long)."""
    flags = int(flags)  # as re.compile does: RegexFlag arithmetic in the compiler is slow
    parsed = _sre_parse.parse(source, flags)
    gates = _gates(parsed)
    code = [int(op) for op in _sre_compile._code(parsed, flags)]  # plain ints: some are named constants
    groupindex = dict(parsed.state.groupdict)
    indexgroup = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    return (code, flags | parsed.state.flags, parsed.state.groups - 1, groupindex, tuple(indexgroup)), gates


def pattern_from_parts(source: str, parts: tuple) -> re.Pattern:
    """The compiled pattern from `compile_parts`' data; re checks the code before accepting it."""
    code, flags, groups, groupindex, indexgroup = parts
    return _sre_engine.compile(source, flags, code, groups, groupindex, indexgroup)


def required_words(regex: re.Pattern) -> tuple[frozenset[str], ...]:
    """The word sets of a compiled pattern worth a look-up (see `_gates`)."""
    return _gates(_sre_parse.parse(regex.pattern, regex.flags))


def _gates(parsed) -> tuple[frozenset[str], ...]:
    """Lowercased, ASCII, each word at least MIN_GATE_WORD long."""
    gates: list[frozenset[str]] = []
    for words in _sequence_words(parsed):
        lowered = frozenset(word.lower() for word in words)
        if all(word.isascii() and len(word) >= MIN_GATE_WORD for word in lowered) and lowered not in gates:
            gates.append(lowered)
    return tuple(gates)
