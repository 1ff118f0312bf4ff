"""A disk cache of the rules' compiled patterns, as Python keeps bytecode in __pycache__.

Parsing and compiling the ~120 long patterns of seeds/rules.toml is most of the rules' load
time and a third of `vendorwatch classify`'s start-up. An entry keeps what re's compiler makes
of one expanded pattern (its code, groups and group names) and the pattern's word gates; a
start-up with every entry at hand builds the patterns from them without parsing.

The file is named after the rules file's text, the Python version and re's MAGIC, so a change
of any of them is a new file; inside, entries are keyed by the expanded pattern and its flags.
It is read and written with marshal (no code runs on load; re checks compiled code before use).
Anything unexpected (no file, a corrupt one, an unwritable directory, another re) means
compiling as without a cache: the cache only ever saves time.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import re
import sys
import tempfile
from pathlib import Path

from watchers.rules.gates import compile_parts, pattern_from_parts, required_words

log = logging.getLogger("vendorwatch.rules")

FORMAT = 1  # bump when the entries' layout changes
Gates = tuple[frozenset[str], ...]


class PatternCache:
    def __init__(self, directory: Path | None, rules_text: str):
        self.path: Path | None = None
        self._entries: dict[tuple[str, int], tuple] = {}
        self._dirty = False
        if directory is None:
            return
        key = hashlib.sha256("\0".join((str(FORMAT), sys.version, str(re._constants.MAGIC), rules_text))
                             .encode("utf-8", "surrogatepass")).hexdigest()[:24]
        self.path = Path(directory) / f"rules-{key}.marshal"
        try:
            entries = marshal.loads(self.path.read_bytes())
            if isinstance(entries, dict):
                self._entries = entries
        except (OSError, ValueError, EOFError, TypeError):
            pass

    def compile(self, source: str, flags: int) -> tuple[re.Pattern, Gates]:
        """The compiled pattern and its gates, from the cache when it has them."""
        entry = self._entries.get((source, int(flags)))
        if entry is not None:
            try:
                parts, gates = entry
                return pattern_from_parts(source, parts), gates
            except Exception:  # a damaged entry: compile it again
                log.debug("rules cache entry unusable", exc_info=True)
        try:
            parts, gates = compile_parts(source, flags)
            regex = pattern_from_parts(source, parts)
        except re.error:  # a bad pattern: load_rules names its rule and line
            raise
        except Exception:  # this re keeps its compiler otherwise: no cache, same patterns
            log.debug("rules cache cannot build patterns here", exc_info=True)
            self.path = None
            regex = re.compile(source, flags)
            return regex, required_words(regex)
        self._entries[(source, int(flags))] = (parts, gates)
        self._dirty = True
        return regex, gates

    def save(self) -> None:
        """Write new entries (best effort: a directory we cannot write means no cache)."""
        if self.path is None or not self._dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.path.parent, prefix=".rules-", delete=False) as out:
                out.write(marshal.dumps(self._entries))
            os.replace(out.name, self.path)
            for stale in self.path.parent.glob("rules-*.marshal"):
                if stale != self.path:
                    stale.unlink(missing_ok=True)
            self._dirty = False
        except (OSError, ValueError) as exc:
            log.debug("rules cache not written: %s", exc)
