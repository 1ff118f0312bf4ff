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
   products ("Claude", "Gemini") only with such a sure mention, never on a cue; except a product
   named with its maker ("Claude maker", "the Llama developer", "Gemini's creator"), which names
   the company for sure, the maker noun included in the mention.
A known person of one company followed by "'s AI startup" (or company, lab, venture) names that
company ("Ilya Sutskever's AI startup"): a mention via the person.

A mention right after "former", "ex-" or "who led", or before "veterans" or "alumni", is background
(a person's past employer): it is kept, marked, and does not make the item about that company; except
the employer an executive is hired away from ("OpenAI hires former xAI CFO": a verb of hiring before,
a C-level role after).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import ahocorasick

from watchers.rules.registry import Registry

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
# words after an ambiguous name that make it a verb with its object: "Scale your startup"
_OBJECT_WORDS = {"your", "our", "their", "my", "his", "her", "its", "the", "a", "an", "this", "that", "these", "those",
                 "it", "them", "you", "up", "down", "back", "out"}
_BACKGROUND_CUES = ("former", "ex-", "who ", "previously", "alum")
_BACKGROUND = re.compile(r"(?:\bformer|\bex-|\bformerly (?:of|at|with)|\bwho (?:previously )?(?:led|ran|headed)"
                         r"|\bpreviously (?:at|with)|\balum(?:nus|na)? of)\s*(?:the |a |an )?$", re.IGNORECASE)
_DOUBTFUL = (CONTEXT, PRODUCT)
# after a known person: the AI company they are known for ("Ilya Sutskever's $32 billion AI startup")
_PERSONS_VENTURE = re.compile(r"['\u2019]s\s+(?:(?:new|young|secretive|\$[\d.,]+\s*(?:billion|million|bn)|"
                              r"[\d.,]+\s*(?:billion|million|bn))\s+){0,2}AI\s+(?:startup|start-up|company|lab|venture)\b")
# people named by a past employer after it: "Apple and Google veterans raise $250mn" (background, like "former")
_ALUMNI_AFTER = re.compile(r"(?:,?\s+(?:and|&)\s+[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*)?)?"
                           r"\s+(?:veterans?|alumni|alumnus|alumna|alums?)\b")
# after a product: its maker, which is the company ("Claude maker", "Llama's developer")
_PRODUCT_MAKER = re.compile(r"(?:['\u2019]s)?[\s-]+(?:maker|developer|creator|owner|parent|builder)\b")
_SEPARATOR = "\x00"  # between the texts of one item, scanned as one (see Matcher._mentions)


@dataclass(slots=True)
class Found:
    slug: str
    alias: str
    start: int
    end: int
    via: str = ALIAS
    background: bool = False


@dataclass(frozen=True, slots=True)
class _Key:
    """What one lowercased key of the automaton stands for, split by what a hit on it does.

    `mentions_by_surface` gives, for each way of writing the key that passes some alias's case
    rule, the (slug, kind) of the mentions it passes; any other writing passes only the domains,
    `other_surface`. Mentions come aliases first, in registry order otherwise: the order the
    overlap rule wants for hits of equal span (see Matcher._mentions).
    """
    length: int
    background_cue: bool
    mentions_by_surface: dict[str, tuple[tuple[str, str], ...]]
    other_surface: tuple[tuple[str, str], ...]
    veto_slugs: tuple[str, ...]
    person_slugs: tuple[str, ...]

    @classmethod
    def of(cls, key: str, values: list[tuple[str, str, str, bool]]) -> "_Key":
        mentions = sorted((v for v in values if v[0] not in (VETO, PERSON)), key=lambda v: v[0] != ALIAS)

        def passing(surface: str) -> tuple[tuple[str, str], ...]:
            return tuple((slug, kind) for kind, slug, phrase, exact in mentions if kind == DOMAIN or surface == phrase
                         or (not exact and surface.isupper() and surface == phrase.upper()))

        # a surface passes a non-domain mention only if it is the phrase or the phrase in capitals
        surfaces = {written for _, _, phrase, _ in mentions for written in (phrase, phrase.upper())}
        return cls(len(key), key in _BACKGROUND_CUES, {surface: passing(surface) for surface in surfaces},
                   passing(""), tuple(slug for kind, slug, _, _ in values if kind == VETO),
                   tuple(slug for kind, slug, _, _ in values if kind == PERSON))


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
        self._empty = not entries
        for cue in _BACKGROUND_CUES:  # found in the same pass: the per-hit background look runs only if one is
            entries.setdefault(cue, [])
        for key, values in entries.items():
            self._automaton.add_word(key, _Key.of(key, values))
        self._joinable = not any(_SEPARATOR in key for key in entries)
        if not self._empty:
            self._automaton.make_automaton()

    def scan(self, text: str) -> tuple[list[Found], set[str]]:
        """Mentions in one text (context aliases not yet checked) and the slugs of people named."""
        hits, people, _ = self._mentions([text])
        return hits[0], people or set()

    def _mentions(self, texts: list[str]) -> tuple[list[list[Found]], set[str] | None, bool]:
        """scan() of each text, the people named in any (None for none), whether any hit is doubtful
        (a context alias or a product, which find() must confirm).

        The texts are scanned as one, joined by _SEPARATOR: no key holds it (else __init__ says
        not _joinable) and it is neither a letter nor a digit, so a key found in the joined text
        is a key found in one of the texts, with the same word boundaries; spans, vetoes and
        overlaps of different texts never meet, since each text's offsets are past the previous one's.
        """
        if self._empty:
            return [[] for _ in texts], None, False
        if not self._joinable and len(texts) > 1:
            scanned = [self._mentions([text]) for text in texts]
            people = set().union(*(named for _, named, _ in scanned if named))
            return [hits[0] for hits, _, _ in scanned], people or None, any(d for _, _, d in scanned)
        joined = _SEPARATOR.join(texts)
        # lowering never looks across the separator (neither cased nor case-ignorable), and no character
        # lowers to nothing: same length means every text lowered to its own length, as _lower_same_length wants
        lowered = joined.lower()
        if len(lowered) != len(joined):
            lowered = _SEPARATOR.join([_lower_same_length(text) for text in texts])
        # one entry per key found: (start, -length, end, the text there, its mentions that pass the case rule)
        spans: list[tuple[int, int, int, str, tuple[tuple[str, str], ...]]] = []
        vetoes: list[tuple[int, int, str]] = []
        people: set[str] | None = None
        background_cue = False
        size = len(joined)
        for end_index, key in self._automaton.iter(lowered):
            if key.background_cue:
                background_cue = True
            end = end_index + 1
            start = end - key.length
            if (start > 0 and joined[start - 1].isalnum()) or (end < size and joined[end].isalnum()):
                continue
            if key.veto_slugs:
                vetoes.extend((start, end, slug) for slug in key.veto_slugs)
            if key.person_slugs:
                people = people or set()
                people.update(key.person_slugs)
                if len(key.person_slugs) == 1 and (venture := _PERSONS_VENTURE.match(joined, end)):
                    # "Ilya Sutskever's AI startup" names the company the person is known for
                    spans.append((start, start - venture.end(), venture.end(), joined[start:venture.end()],
                                  ((key.person_slugs[0], PERSON),)))
            surface = joined[start:end]
            passing = key.mentions_by_surface.get(surface, key.other_surface)
            if passing:
                spans.append((start, start - end, end, surface, passing))
        result: list[list[Found]] = [[] for _ in texts]
        if not spans:
            return result, people, False
        # (start, -length) is unique per key found, so this orders exactly like a stable sort of the hits
        # by (start, longest first, aliases first): a key's mentions already come aliases first
        spans.sort()
        doubtful = False
        last_end = -1
        text_index, offset, text_end = 0, 0, len(texts[0])
        for start, _, end, surface, passing in spans:
            if start < last_end:
                continue
            for slug, kind in passing:
                if vetoes and any(s < end and start < e and v == slug for s, e, v in vetoes):
                    continue
                while start >= text_end:  # the span is in a later text
                    text_index += 1
                    offset = text_end + 1
                    text_end = offset + len(texts[text_index])
                hit = Found(slug, surface, start - offset, end - offset, kind)
                # a cue anywhere is needed for one in the 40 characters before the hit (the gate is exact)
                if background_cue and _after_background_cue(texts[text_index], lowered[offset:text_end], hit.start) \
                        and not _executive_hired_away(texts[text_index], hit) \
                        or _ALUMNI_AFTER.match(texts[text_index], hit.end):
                    hit.background = True
                result[text_index].append(hit)
                doubtful = doubtful or kind in _DOUBTFUL
                last_end = end
                break
        return result, people, doubtful

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
        scanned, people, doubtful = self._mentions(texts)
        if not doubtful:
            return scanned  # only aliases and domains, which stay whatever else the item names
        sure = people or set()
        unconfirmed = False
        for text, hits in zip(texts, scanned):
            for hit in hits:
                if hit.via == PRODUCT and (maker := _PRODUCT_MAKER.match(text, hit.end)):
                    hit.via, hit.end, hit.alias = ALIAS, maker.end(), text[hit.start:maker.end()]
                if hit.via not in _DOUBTFUL:
                    sure.add(hit.slug)
        for hits in scanned:
            for hit in hits:
                if hit.via in _DOUBTFUL and hit.slug not in sure:
                    unconfirmed = True
        if unconfirmed:  # else the link's companies would change nothing: every doubtful hit is confirmed
            sure |= self.link_slugs(link)
        return [[h for h in hits if h.via not in _DOUBTFUL or h.slug in sure
                 or (h.via == CONTEXT and _has_cue(text, h))] for text, hits in zip(texts, scanned)]


# "hires former xAI CFO", "poaches Musk's former xAI finance chief": the company an executive was just hired
# away from is part of the news; "hires former OpenAI researcher" or "ex-Google veteran" stays background
_HIRED_FORMER = re.compile(r"\b(?:hire[sd]?|hiring|poach(?:es|ed|ing)?|lure[sd]?|luring|recruit(?:s|ed|ing)?|"
                           r"taps|tapped|names|named|appoints|appointed)\s+(?:[\w.-]+['\u2019]s\s+)?"
                           r"(?:former\s+|ex-)$", re.IGNORECASE)
_EXECUTIVE = re.compile(r"\s+(?:ceo|cfo|cto|coo|president|chair(?:man|woman)?|(?:finance|financial|operating|technology)"
                        r"\s+(?:chief|officer)|chief\s+(?:executive|financial|operating|technology))\b", re.IGNORECASE)


def _executive_hired_away(text: str, hit: Found) -> bool:
    """Whether a mention after "former" is the employer an executive is hired away from ("OpenAI hires
    former xAI CFO"): a verb of hiring right before, a C-level role right after."""
    return bool(_HIRED_FORMER.search(text, max(0, hit.start - 40), hit.start)
                and _EXECUTIVE.match(text, hit.end))


def _after_background_cue(text: str, lowered: str, start: int) -> bool:
    """Whether a mention at `start` follows "former", "ex-", "who led" and the like: a past employer."""
    window = lowered[max(0, start - 40):start]
    return any(cue in window for cue in _BACKGROUND_CUES) and bool(_BACKGROUND.search(text, max(0, start - 40), start))


def _has_cue(text: str, hit: Found) -> bool:
    """A company cue next to an ambiguous name; none when the name is a verb taking an object
    ("Scale your startup", "Surge the power"): a determiner or pronoun right after it."""
    before = text[max(0, hit.start - 40):hit.start].lower().replace("'s", " ").split()[-3:]
    after = text[hit.end:hit.end + 30].lower().lstrip("'s").split()[:2]
    if after and after[0] in _OBJECT_WORDS:
        return False
    return (any(w.strip(",.:;\"'()") in _CUES for w in before + after)
            or bool(after and after[0].strip(",") in _VERB_CUES))
