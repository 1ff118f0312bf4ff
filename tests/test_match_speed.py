"""The matcher's and the cleaner's fast paths give what the plain versions gave, on many texts.

The reference functions below are the straightforward code the fast paths replaced; each test
draws texts from a small alphabet of the tricky pieces (aliases in every case, vetoes, cues,
entities, odd white space, characters whose lowercase is longer) and compares outputs.
"""

from __future__ import annotations

import html
import random
import re
from pathlib import Path

import pytest

from watchers.rules import match
from watchers.rules import textnorm
from watchers.rules.match import ALIAS, CONTEXT, DOMAIN, PERSON, PRODUCT, VETO, Found, Matcher
from watchers.rules.registry import Company, Registry, load_registry

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def reference_scan(matcher: Matcher, text: str) -> tuple[list[Found], set[str]]:
    """Matcher.scan as it was: one automaton pass per text, every hit a Found, then sort and overlaps."""
    entries: dict[str, list] = {}
    for company in matcher.registry:
        for kind, phrases, exact in ((ALIAS, company.all_aliases, company.exact_case),
                                     (CONTEXT, company.context_aliases, company.exact_case),
                                     (PRODUCT, company.products, True), (VETO, company.veto, False),
                                     (DOMAIN, [d.lower() for d in company.domains], False),
                                     (PERSON, company.people, False)):
            for phrase in phrases:
                key = match._lower_same_length(phrase)
                if len(key) == len(phrase) and key.strip():
                    entries.setdefault(key, []).append((kind, company.slug, phrase, exact))
    if not entries or not text:
        return [], set()
    lowered = match._lower_same_length(text)
    hits, vetoes, people = [], [], set()
    for key, values in entries.items():
        for found in re.finditer(f"(?={re.escape(key)})", lowered):
            start, end = found.start(), found.start() + len(key)
            if (start > 0 and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum()):
                continue
            surface = text[start:end]
            for kind, slug, phrase, exact in values:
                if kind == VETO:
                    vetoes.append((start, end, slug))
                elif kind == PERSON:
                    people.add(slug)
                elif kind == DOMAIN or surface == phrase or (
                        not exact and surface.isupper() and surface == phrase.upper()):
                    hits.append(Found(slug, surface, start, end, kind))
    hits = [h for h in hits if not any(s < h.end and h.start < e and v == h.slug for s, e, v in vetoes)]
    hits.sort(key=lambda h: (h.start, h.start - h.end, h.via != ALIAS))
    kept, last_end = [], -1
    for hit in hits:
        if hit.start >= last_end:
            kept.append(hit)
            last_end = hit.end
    for hit in kept:
        window = lowered[max(0, hit.start - 40):hit.start]
        if any(cue in window for cue in match._BACKGROUND_CUES) and match._BACKGROUND.search(
                text, max(0, hit.start - 40), hit.start):
            hit.background = True
    return kept, people


def reference_find(matcher: Matcher, texts: list[str], link: str | None) -> list[list[Found]]:
    scanned = [reference_scan(matcher, t) for t in texts]
    sure = matcher.link_slugs(link)
    for hits, people in scanned:
        sure |= people
        sure.update(h.slug for h in hits if h.via not in (CONTEXT, PRODUCT))
    return [[h for h in hits if h.slug in sure or h.via in (ALIAS, DOMAIN)
             or (h.via == CONTEXT and match._has_cue(text, h))] for text, (hits, _) in zip(texts, scanned)]


def _pieces(registry: Registry) -> list[str]:
    phrases = [p for c in registry for p in (*c.all_aliases, *c.context_aliases, *c.products, *c.veto,
                                              *c.domains, *c.people)]
    cased = [f(p) for p in phrases for f in (str, str.upper, str.lower, str.title)]
    return cased + [" ", " ", ", ", ". ", "-", "'s ", "x", "9", "_", "\x00", "former ", "ex-", "who led ",
                    "previously at ", "alumnus of the ", "startup ", " raises", "İ", "Σ", "ς ", "ß", "\u2019"]


def _texts(rnd: random.Random, pieces: list[str], count: int) -> list[str]:
    return ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8))) for _ in range(count)]


def _as_tuples(found: list[list[Found]]) -> list[list[tuple]]:
    return [[(h.slug, h.alias, h.start, h.end, h.via, h.background) for h in hits] for hits in found]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_registry(SEEDS / "companies.toml"))


def test_find_matches_the_reference(matcher: Matcher) -> None:
    rnd = random.Random(7)
    pieces = _pieces(matcher.registry)
    links = [None, "https://www.surgehq.ai/x", "https://scale.com/blog", "https://news.google.com/x"]
    for _ in range(1500):
        texts = _texts(rnd, pieces, rnd.randint(1, 4))
        link = rnd.choice(links)
        assert _as_tuples(matcher.find(texts, link)) == _as_tuples(reference_find(matcher, texts, link)), texts
        text = texts[0]
        hits, people = matcher.scan(text)
        expected_hits, expected_people = reference_scan(matcher, text)
        assert (_as_tuples([hits]), people) == (_as_tuples([expected_hits]), expected_people), text


def test_a_key_holding_the_separator_is_scanned_text_by_text() -> None:
    company = Company(slug="odd", name="Odd Co", aliases=("Odd\x00Co", "Odd"))
    matcher = Matcher(Registry({"odd": company}))
    texts = ["Odd", "Co and Odd\x00Co", ""]
    assert _as_tuples(matcher.find(texts)) == _as_tuples(reference_find(matcher, texts, None))


def test_lowering_never_crosses_the_separator() -> None:
    rnd = random.Random(3)
    alphabet = ["Σ", "σ", "A", "a", " ", "'", "\u0345", "\u00ad", "İ", "ẞ", ".", "1"]
    for _ in range(3000):
        texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 5))) for _ in range(3)]
        assert match._SEPARATOR.join(texts).lower() == match._SEPARATOR.join(t.lower() for t in texts)


def reference_clean(text: str, limit: int) -> str:
    text = text[: limit * 4]
    for _ in range(2):
        if "&" not in text:
            break
        text = html.unescape(text)
    text = textnorm._TAG.sub(" ", text).translate(textnorm._TABLE)
    return textnorm._SPACES.sub(" ", text).strip()[:limit]


def reference_strip_outlet(title: str, source: str | None = None) -> str:
    found = textnorm._OUTLET_SUFFIX.search(title)
    if not found:
        return title
    outlet = found.group(1).strip()
    if source and outlet.casefold() == source.strip().casefold():
        return title[: found.start()]
    if len(outlet.split()) <= 5 and not re.search(r"\d|\b(?:to|says|as|in|of|for|and)\b", outlet):
        return title[: found.start()]
    return title


def reference_sentences(text: str) -> list[str]:
    parts, start = [], 0
    for found in textnorm._SENTENCE_END.finditer(text):
        word = text[start:found.start()].rsplit(" ", 1)[-1].lower()
        if text[found.start()] == "." and (word in textnorm._ABBREVIATIONS or len(word) == 1):
            continue
        parts.append(text[start:found.start() + 1])
        start = found.end()
    parts.append(text[start:])
    return [c.strip() for p in parts for c in textnorm._CLAUSE_BREAK.split(p) if c.strip()]


CLEANING_PIECES = ["Scale AI", " raises", " ", "  ", "a", "Z", "9", ".", "!", "?", ";", "-", "|", " - ", " | ",
                   "Reuters", "&", "&amp;", "&#8217;", "&amp;#8217;", "&quot", "<b>", "</b>", "<", ">", "\t", "\n",
                   "\r", "\x0b", "\x1c", "\u2019", "\u201c", "\u2014", "\u00a0", "\u200b", "\u2028", "\u3000",
                   "\u27e6", "İ", "U.S. ", "Inc. ", "says", "(", '"']


def test_cleaning_matches_the_reference() -> None:
    rnd = random.Random(11)
    for _ in range(20000):
        text = "".join(rnd.choice(CLEANING_PIECES) for _ in range(rnd.randint(0, 14)))
        for limit in (1000, 7):
            assert textnorm.clean(text, limit) == reference_clean(text, limit), text
        cleaned = reference_clean(text, 1000)
        for title in (text, cleaned):
            for source in (None, "Reuters", "reuters "):
                assert textnorm.strip_outlet(title, source) == reference_strip_outlet(title, source), title
            assert textnorm.sentences(title) == reference_sentences(title), title


def test_translated_characters_never_become_translated_ones() -> None:
    """Why textnorm._translate may replace one character at a time."""
    made = {value for value in textnorm._TABLE.values() if value}
    assert not {ord(c) for value in made for c in value} & set(textnorm._TABLE)
