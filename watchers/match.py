"""The entity matcher: which tracked companies a piece of text names.

One Aho-Corasick automaton holds every alias, context alias, veto phrase, domain and person of
the registry (lowercased), so a text is scanned once whatever the registry's size. A hit then
has to pass, in this order:

1. word boundaries: no letter or digit right before or after it;
2. case: an alias matches as written, or in capitals unless the company says `exact_case`
   (so "Apple" and "APPLE", never "apple"); veto phrases, domains and people match in any case;
3. vetoes: a hit overlapping one of its company's veto phrases ("Turing Award") is dropped;
4. overlaps: the longest hit wins ("Google DeepMind" over "Google", "Scale AI" over "Scale");
5. context aliases ("Scale", "Surge") stay only when the same item also names the company by a
   plain alias, domain or known person, or a company cue ("startup", "CEO") stands next to them;
   products ("Claude", "Gemini") only with such a sure mention, never on a cue.

A mention right after "former", "ex-" or "who led" is background (a person's past employer): it
is kept, marked, and does not make the item about that company.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import ahocorasick

from watchers.registry import Registry

ALIAS, CONTEXT, PRODUCT, VETO, DOMAIN, PERSON = "alias", "context", "product", "veto", "domain", "person"
_CUES = {"startup", "firm", "company", "vendor", "labeling", "data-labeling", "annotation", "contractor", "rival",
         "ceo", "founder", "co-founder", "cofounder", "backed", "unicorn"}
# hosts on company domains that serve other people's content: not the company's own voice
# a company's own verbs right after an ambiguous name: "Turing raises", "Surge names"
_VERB_CUES = {"raises", "secures", "names", "appoints", "hires", "lays", "acquires", "partners", "signs", "sues",
              "valued", "poaches", "taps", "closes", "lands", "bags"}
_THIRD_PARTY_HOSTS = {"news.google.com", "www.google.com", "google.com", "feedproxy.google.com", "play.google.com",
                      "podcasts.apple.com", "apps.apple.com", "www.amazon.com", "amazon.com", "www.facebook.com",
                      "m.facebook.com", "facebook.com"}
_BACKGROUND_CUES = ("former", "ex-", "who ", "previously", "alum")
_BACKGROUND = re.compile(r"(?:\bformer|\bex-|\bformerly (?:of|at|with)|\bwho (?:previously )?(?:led|ran|headed)"
                         r"|\bpreviously (?:at|with)|\balum(?:nus|na)? of)\s*(?:the |a |an )?$", re.IGNORECASE)


@dataclass(slots=True)
class Found:
    slug: str
    alias: str
    start: int
    end: int
    via: str = ALIAS
    background: bool = False


def _lower_same_length(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class Matcher:
    def __init__(self, registry: Registry):
        self.registry = registry
        self._automaton = ahocorasick.Automaton()
        self._domains: list[tuple[str, str]] = []
        entries: dict[str, list[tuple[str, str, str, bool]]] = {}

        def add(phrase: str, kind: str, slug: str, exact: bool) -> None:
            key = _lower_same_length(phrase)
            if len(key) != len(phrase) or not key.strip():
                return
            entries.setdefault(key, []).append((kind, slug, phrase, exact))

        for company in registry:
            for alias in company.all_aliases:
                add(alias, ALIAS, company.slug, company.exact_case)
            for alias in company.context_aliases:
                add(alias, CONTEXT, company.slug, company.exact_case)
            for alias in company.products:
                add(alias, PRODUCT, company.slug, True)
            for phrase in company.veto:
                add(phrase, VETO, company.slug, False)
            for domain in company.domains:
                add(domain.lower(), DOMAIN, company.slug, False)
                self._domains.append((domain.lower(), company.slug))
            for person in company.people:
                add(person, PERSON, company.slug, False)
        for key, values in entries.items():
            self._automaton.add_word(key, tuple(values))
        self._empty = not entries
        if not self._empty:
            self._automaton.make_automaton()

    def scan(self, text: str) -> tuple[list[Found], set[str]]:
        """Mentions in one text (context aliases not yet checked) and the slugs of people named."""
        if self._empty or not text:
            return [], set()
        lowered = _lower_same_length(text)
        hits: list[Found] = []
        vetoes: list[tuple[int, int, str]] = []
        people: set[str] = set()
        size = len(text)
        for end_index, values in self._automaton.iter(lowered):
            end = end_index + 1
            start = end - len(values[0][2])
            if (start > 0 and text[start - 1].isalnum()) or (end < size and text[end].isalnum()):
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
        if vetoes:
            hits = [h for h in hits if not any(s < h.end and h.start < e and v == h.slug for s, e, v in vetoes)]
        hits.sort(key=lambda h: (h.start, h.start - h.end, h.via != ALIAS))
        kept: list[Found] = []
        last_end = -1
        for hit in hits:
            if hit.start >= last_end:
                kept.append(hit)
                last_end = hit.end
        if any(cue in lowered for cue in _BACKGROUND_CUES):  # most texts have none: skip the per-hit look
            for hit in kept:
                window = lowered[max(0, hit.start - 40):hit.start]
                if any(cue in window for cue in _BACKGROUND_CUES) and _BACKGROUND.search(
                        text, max(0, hit.start - 40), hit.start):
                    hit.background = True
        return kept, people

    def link_slugs(self, link: str | None) -> set[str]:
        """Companies whose own domain serves the link (their blog or press room)."""
        if not link or not self._domains:
            return set()
        try:
            host = (urlsplit(link).hostname or "").lower()
        except ValueError:
            return set()
        if host in _THIRD_PARTY_HOSTS:
            return set()
        return {slug for domain, slug in self._domains if host == domain or host.endswith("." + domain)}

    def find(self, texts: list[str], link: str | None = None) -> list[list[Found]]:
        """Mentions in each text of one item, context aliases decided for the item as a whole."""
        scanned = [self.scan(t) for t in texts]
        sure = self.link_slugs(link)
        for hits, people in scanned:
            sure |= people
            sure.update(h.slug for h in hits if h.via not in (CONTEXT, PRODUCT))
        result = []
        for text, (hits, _) in zip(texts, scanned):
            result.append([h for h in hits if h.slug in sure or h.via == ALIAS or h.via == DOMAIN
                           or (h.via == CONTEXT and _has_cue(text, h))])
        return result


def _has_cue(text: str, hit: Found) -> bool:
    before = text[max(0, hit.start - 40):hit.start].lower().replace("'s", " ").split()[-3:]
    after = text[hit.end:hit.end + 30].lower().lstrip("'s").split()[:2]
    return (any(w.strip(",.:;\"'()") in _CUES for w in before + after)
            or bool(after and after[0].strip(",") in _VERB_CUES))
