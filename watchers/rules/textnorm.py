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
# the characters _TABLE maps (see _translate)
_USUAL_MAPPED = "\u2019\u2018\u201c\u201d\u2014\u2013\u00a0"  # curly quotes, dashes, no-break space
_TRANSLATED = re.compile("[" + "".join(re.escape(chr(code)) for code in _TABLE) + "]")
_SPACES = re.compile(r" {2,}")
# " - Reuters", " | TechCrunch": a Google News style outlet suffix, not part of the headline
_OUTLET_SUFFIX = re.compile(r"\s+[-|]\s+([^-|]{1,40})$")
_NOT_AN_OUTLET = re.compile(r"\d|\b(?:to|says|as|in|of|for|and)\b")  # "- 3 more", "- what it means for you"


def clean(text: str, limit: int) -> str:
    """Decode entities (twice, for double-encoded feeds), drop tags and invisibles, unify quotes, and
    undo a page's escaped dollar sign ("secures \\$72 million")."""
    text = text[: limit * 4]
    if text.isascii() and "&" not in text and "<" not in text and "  " not in text and "\\" not in text and (
            "\t" not in text and "\n" not in text and "\r" not in text):
        return text.strip()[:limit]  # the usual headline: nothing to decode, drop or unify
    if "\\$" in text:
        text = text.replace("\\$", "$")
    for _ in range(2):
        if "&" not in text:
            break
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    text = _translate(text)
    if "  " in text:
        text = _SPACES.sub(" ", text)
    return text.strip()[:limit]


def _translate(text: str) -> str:
    """text.translate(_TABLE), several times faster on text that is not plain ASCII.

    Replacing the mapped characters one by one gives the same text, since what they become
    (quotes, dashes, spaces, brackets, nothing) is never one of them.
    """
    for char in _USUAL_MAPPED:  # the usual ones by a quick look each, before a character by character one
        if char in text:
            text = text.replace(char, _TABLE[ord(char)])
    if text.isascii():  # in ASCII only tab, newline and carriage return are mapped
        if "\t" in text or "\n" in text or "\r" in text:
            text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
        return text
    for char in set(_TRANSLATED.findall(text)):
        text = text.replace(char, _TABLE[ord(char)] or "")
    return text


def strip_outlet(title: str, source: str | None = None) -> str:
    """The headline without a trailing " - Outlet" of at most five words."""
    # _OUTLET_SUFFIX's [-|] is the last - or | of the title (nothing after it may hold one), with white space
    # on both sides; its match starts where the white space run before that dash starts.
    dash = max(title.rfind("-"), title.rfind("|"))
    if dash < 1 or dash + 1 == len(title) or not (title[dash - 1].isspace() and title[dash + 1].isspace()):
        return title
    start = dash - 1
    while start > 0 and title[start - 1].isspace():
        start -= 1
    found = _OUTLET_SUFFIX.match(title, start)  # what search(title) finds: no match can start earlier
    if not found:
        return title
    outlet = found.group(1).strip()
    if source and outlet.casefold() == source.strip().casefold():
        return title[: found.start()]
    if len(outlet.split()) <= 5 and not _NOT_AN_OUTLET.search(outlet):
        return title[: found.start()]
    return title


_ABBREVIATIONS = {"u.s", "u.k", "inc", "corp", "ltd", "co", "mr", "ms", "mrs", "dr", "st", "jr", "sr", "vs", "no",
                  "e.g", "i.e", "gen", "sen", "rep", "gov", "lt", "col", "dept"}
_SENTENCE_END = re.compile(r"[.!?]\s+(?=[\"'(]?[A-Z0-9])")
_CLAUSE_BREAK = re.compile(r";\s+")
_MAYBE_END = re.compile(r"[.!?]\s")
_PERIOD_END = re.compile(r"\.\s")  # most of _MAYBE_END, and a literal start makes it several times faster


def sentences(text: str) -> list[str]:
    """Sentences and ;-clauses of a summary, not cut after abbreviations such as U.S. or Inc."""
    if ";" not in text and not _PERIOD_END.search(text) and (
            ("!" not in text and "?" not in text) or not _MAYBE_END.search(text)):
        text = text.strip()
        return [text] if text else []  # one sentence: nothing to split
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
