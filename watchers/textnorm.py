"""Plain text for the rules: entities decoded, tags, invisible and direction characters gone.

The matcher and the rules work on this cleaned text (their offsets point into it). Inputs are
cut to a bounded length first, so that a 1 MB title costs no more than a long one.
"""

from __future__ import annotations

import html
import re

MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 3_000

_TAG = re.compile(r"<[^<>]{0,500}>")
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x034F, 0x061C, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070),
     0xFEFF], None)
_TABLE = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u3000": " ", "\t": " ", "\r": " ", "\n": " ",
    "\u27e6": "[", "\u27e7": "]",  # reserved for company tokens in the rules' slot text
})
_TABLE.update(_INVISIBLE)
_SPACES = re.compile(r" {2,}")
# " - Reuters", " | TechCrunch": a Google News style outlet suffix, not part of the headline
_OUTLET_SUFFIX = re.compile(r"\s+[-|]\s+([^-|]{1,40})$")


def clean(text: str, limit: int) -> str:
    """Decode entities (twice, for double-encoded feeds), drop tags and invisibles, unify quotes."""
    text = text[: limit * 4]
    if text.isascii() and "&" not in text and "<" not in text and "  " not in text and (
            "\t" not in text and "\n" not in text and "\r" not in text):
        return text.strip()[:limit]  # the usual headline: nothing to decode, drop or unify
    for _ in range(2):
        if "&" not in text:
            break
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    text = text.translate(_TABLE)
    if "  " in text:
        text = _SPACES.sub(" ", text)
    return text.strip()[:limit]


def strip_outlet(title: str, source: str | None = None) -> str:
    """The headline without a trailing " - Outlet" of at most five words."""
    if "-" not in title and "|" not in title:
        return title
    found = _OUTLET_SUFFIX.search(title)
    if not found:
        return title
    outlet = found.group(1).strip()
    if source and outlet.casefold() == source.strip().casefold():
        return title[: found.start()]
    if len(outlet.split()) <= 5 and not re.search(r"\d|\b(?:to|says|as|in|of|for|and)\b", outlet):
        return title[: found.start()]
    return title


_ABBREVIATIONS = {"u.s", "u.k", "inc", "corp", "ltd", "co", "mr", "ms", "mrs", "dr", "st", "jr", "sr", "vs", "no",
                  "e.g", "i.e", "gen", "sen", "rep", "gov", "lt", "col", "dept"}
_SENTENCE_END = re.compile(r"[.!?]\s+(?=[\"'(]?[A-Z0-9])")
_CLAUSE_BREAK = re.compile(r";\s+")
_MAYBE_END = re.compile(r"[.!?]\s")


def sentences(text: str) -> list[str]:
    """Sentences and ;-clauses of a summary, not cut after abbreviations such as U.S. or Inc."""
    if ";" not in text and not _MAYBE_END.search(text):
        return [text.strip()] if text.strip() else []  # one sentence: nothing to split
    parts: list[str] = []
    start = 0
    for found in _SENTENCE_END.finditer(text):
        word = text[start:found.start()].rsplit(" ", 1)[-1].lower()
        if text[found.start()] == "." and (word in _ABBREVIATIONS or len(word) == 1):
            continue
        parts.append(text[start:found.start() + 1])
        start = found.end()
    parts.append(text[start:])
    return [c.strip() for p in parts for c in _CLAUSE_BREAK.split(p) if c.strip()]
