"""References: the words that stand for a company the item has already named.

News names a company once and then refers to it: "the startup", "the company", "the ChatGPT
maker", "its chief executive", "the chipmaker said it will invest". Rules and frames bind
company tokens only, so a reference found here becomes a token of its company, with
`via = "reference"` (it never adds a company to the item: the antecedent is already there).

What is read, and what it stands for (a reference is kept only when its company is known):
1. An epithet of a company (`epithets` in seeds/companies.toml: "chipmaker", "iPhone maker"),
   after "the" and up to two modifiers ("the US chipmaker"), where the item names that company.
2. A description, "the" with up to two modifiers and a noun of `DESCRIPTION_NOUNS` ("the AI
   start-up", "the San Francisco-based company"); not a plural, not followed by "of" or a name.
3. "its" before a noun (not a relation: "loses its largest customer") and "it", at the start of
   a clause or after a verb of saying ("said on Monday it will", "said its chief executive").
The antecedent:
- at the start of a clause (a reference that is its subject, "The startup said ..."): the
  previous clause's subject; the title has none before it;
- "it" or "its" after a verb of saying: that verb's subject ("Scale AI said its chief
  executive would leave"); elsewhere a pronoun stays a word ("Alphabet raises its dividend");
- a description later in its clause: in a subordinate clause ("as", "after", ", which" ...
  after the subject), the clause's subject unless the subordinate clause names it ("Scale AI
  said ..., as the social media giant takes a stake in the company": Scale AI); else the
  nearest company before it that is not the subject of its own clause ("Google, Scale AI's
  largest customer, cuts ties with the startup": Scale AI) nor followed by a verb ("OpenAI is
  buying the startup"); where its clause names none before it, the company of a known person
  named before it ("Alexandr Wang will leave the company": Scale AI), else the previous
  clause's subject.
  A startup ("the AI start-up") is never an `established` company: then the previous clause's
  next company ("Google invests in Anthropic. ... as the start-up buys ...": Anthropic).
A clause's subject is a company named in its first words (after a dateline such as
"SAN FRANCISCO, June 12 (Reuters) -"), not as a compound ("Amazon-backed Anthropic"); a clause
that starts with another name has none, and a reference at the start of the next stands for
nothing ("The finance ministry told its officers not to use ChatGPT").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from watchers.rules.clause_reading import RELATIONS, SPEECH
from watchers.rules.match import PRODUCT, Found
from watchers.rules.registry import Registry

REFERENCE = "reference"
DESCRIPTION_NOUNS = ("company", "firm", "startup", "start-up", "lab", "vendor", "group", "unicorn", "outfit",
                     "contractor", "business", "developer", "maker", "giant", "provider", "platform", "newcomer")
SUBJECT_WORDS = 3  # a company within the first three words of a clause is its subject
_MODIFIERS = r"(?:[\w$.&'\u2019-]+\s+){0,2}?"
_DESCRIPTION = (rf"\bthe\s+{_MODIFIERS}(?:{'|'.join(map(re.escape, DESCRIPTION_NOUNS))})\b"
                r"(?!['\u2019]?s\b|\s+of\b|\s+(?:behind|that|which|who)\b|-|\s+(?-i:[A-Z]))")
# "its" before a noun, but not "loses its largest customer" (a relation: the words already say whose)
_ITS = rf"\b(?-i:[Ii])ts\b(?=\s+[\w-])(?!\s+(?:[\w-]+\s+)?(?:{'|'.join(sorted(RELATIONS))}|investors?|backers?)\b)"
_IT = (r"\b(?-i:[Ii])t\b(?!['\u2019])(?!\s+(?:is|was|would be|will be|could be|might be|may be|has been|had been|"
       r"seems|seemed|appears|appeared|remains)\s+(?:not\s+)?(?:\w+\s+)?\w+\s+(?:to|that)\b)")  # "it is likely that"
_DATELINE = re.compile(r"^(?:[A-Z][A-Za-z.'/ -]*?[A-Z]{2}[A-Z.'/ -]*|[A-Z][A-Za-z]+)"
                       r"(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?\s*(?:\([^)]{2,40}\))?\s*[-—–:]\s+")
_WORD = re.compile(r"\S+")


@dataclass(slots=True)
class _Clause:
    text: str
    hits: list[Found]  # the clause's companies, its references added as they are found
    subject: str | None  # the slug of the company the clause starts with
    body: int  # where the clause starts after its dateline

    def starts_at(self, at: int) -> bool:
        return not self.text[self.body:at].strip(" ,\"'\u2018\u201c")


class ReferenceFinder:
    """Compiled once per registry: the epithets of its companies, and which are never "startups"."""

    def __init__(self, registry: Registry):
        by_epithet: dict[str, str] = {}
        for company in registry:
            for epithet in company.epithets:
                by_epithet.setdefault(epithet.lower(), company.slug)
        self._slug_of_epithet = by_epithet
        self._established = {company.slug for company in registry if company.established}
        self._people: dict[str, str] = {}  # a known person (lowercased) -> their company, if only one
        for company in registry:
            for person in company.people:
                self._people[person.lower()] = company.slug if person.lower() not in self._people else ""
        self._person = (re.compile(rf"\b(?:{'|'.join(map(re.escape, sorted(self._people, key=len, reverse=True)))})\b",
                                   re.IGNORECASE) if self._people else None)
        names = "|".join(map(re.escape, sorted(by_epithet, key=len, reverse=True))) or "(?!)"  # (?!): none
        epithet = rf"\bthe\s+{_MODIFIERS}(?P<name>{names})\b(?!-|\s+(?-i:[A-Z]))"
        # every kind of reference in one pass: the group that matched says which
        self._candidate = re.compile(
            rf"(?P<epithet>{epithet})|(?P<description>{_DESCRIPTION})|(?P<pronoun>{_ITS}|{_IT})", re.IGNORECASE)

    def find(self, texts: list[str], found: list[list[Found]]) -> list[list[Found]]:
        """Each clause's hits with its references added, in the order of the text."""
        named = {hit.slug for hits in found for hit in hits if not hit.background}
        if not named:
            return found
        previous: list[str | None] = []  # the last clause's subject (None if it has none), then its other companies
        out: list[list[Found]] = []
        for text, hits in zip(texts, found):
            clause = _Clause(text, [hit for hit in hits if not hit.background], None, _body_start(text))
            references = self._references(clause, named, previous)
            out.append(sorted([*hits, *references], key=lambda hit: hit.start) if references else hits)
            if clause.hits:
                others = dict.fromkeys(hit.slug for hit in clause.hits if hit.slug != clause.subject)
                previous = [clause.subject, *others]
        return out

    def _references(self, clause: _Clause, named: set[str], earlier: list[str | None]) -> list[Found]:
        """The references of one clause; sets the clause's subject (which a reference may be). `earlier`:
        the previous clause's subject (None if it has none), then its other companies."""
        before = earlier[0] if earlier else None
        made: list[Found] = []

        def add(start: int, end: int, slug: str | None) -> None:
            if slug is None or any(hit.start < end and start < hit.end for hit in clause.hits):
                return
            reference = Found(slug, clause.text[start:end], start, end, REFERENCE)
            clause.hits = sorted([*clause.hits, reference], key=lambda hit: hit.start)
            made.append(reference)

        clause.subject = _subject_of(clause, clause.hits)
        for match in self._candidate.finditer(clause.text):
            at = match.start()
            if match.lastgroup == "epithet":
                slug = self._slug_of_epithet[match.group("name").lower()]
                slug = slug if slug in named else None
            elif match.lastgroup == "description":
                slug = self._company_of_person(clause.text[:at], named) or _description_antecedent(clause, at, before)
                if slug in self._established and _STARTUP.search(match.group(0)):
                    # "the start-up" is never Google: the previous clause's next company, if it names one
                    slug = next((other for other in earlier[1:] if other not in self._established
                                 and other != clause.subject), None) if slug == before else None
            else:
                slug = _pronoun_antecedent(clause, at, before)
            add(at, match.end(), slug)
            if slug is not None and clause.subject is None and clause.starts_at(at):
                clause.subject = slug
        return made

    def _company_of_person(self, text: str, named: set[str]) -> str | None:
        """The company of the last known person named in `text` ("Alexandr Wang will leave the company")."""
        people = self._person.findall(text) if self._person is not None else []
        slug = self._people[people[-1].lower()] if people else None
        return slug if slug in named else None


def _pronoun_antecedent(clause: _Clause, at: int, before: str | None) -> str | None:
    """"it" and "its": at the clause's start the previous clause's subject, after a verb of saying
    the subject of that verb ("Scale AI said its chief executive would leave"). Elsewhere a pronoun
    stays a word: "Alphabet raises its dividend" needs no other reading, and "Alphabet backs
    Sutskever's startup, raising its valuation" would read wrong."""
    if clause.starts_at(at):
        return before
    if _after_speech(clause.text, at):
        return clause.subject or (before if not _names_before(clause, at) else None)
    return None


def _description_antecedent(clause: _Clause, at: int, before: str | None) -> str | None:
    """"the startup" and the like (the order of the module's docstring)."""
    if clause.starts_at(at):
        return before if not _names_before(clause, at) else None
    if _after_speech(clause.text, at):
        return clause.subject or before
    opened = _subordinate_start(clause, at)
    if opened is not None and not _RELATIVE.match(clause.text, opened):
        # "..., as the social media giant takes a stake in the company": the main subject (but in "X, which put
        # money into the model maker, ..." the relative clause is the subject's own: the description is another)
        local = {hit.slug for hit in clause.hits if opened <= hit.start < at}
        if clause.subject is not None and clause.subject not in local:
            return clause.subject
    else:
        local = {clause.subject}
    # a product is a thing, no company the words refer back to ("said in a LinkedIn post that he is leaving the company")
    others = [hit.slug for hit in clause.hits if hit.start < at and hit.slug not in local and hit.via != PRODUCT
              and not _ACTS.match(clause.text, hit.end)]
    if others:
        return others[-1]
    return before if before not in local and not _names_before(clause, at) else None


# a company followed by a verb acts in its clause ("reports that OpenAI is buying the startup"): not the startup
_ACTS = re.compile(r"\s+(?:is|was|are|were|has|had|have|will|would|can|could|may|might|should|must|plans|agreed|"
                   r"says|said|announced)\b")
_STARTUP = re.compile(r"\b(?:startup|start-up|unicorn|newcomer)\b", re.IGNORECASE)
_RELATIVE = re.compile(r",\s*(?:which|who)\b", re.IGNORECASE)
_SUBORDINATE = re.compile(r"\b(?:as|after|while|when|because|since|following|before|although|though|whereas|but)\b"
                          r"|,\s*(?:which|who|where)\b", re.IGNORECASE)


def _subordinate_start(clause: _Clause, at: int) -> int | None:
    """Where the subordinate clause holding `at` starts, if one opens after the clause's subject."""
    subject_end = next((hit.end for hit in clause.hits if hit.slug == clause.subject), 0)
    starts = [found.start() for found in _SUBORDINATE.finditer(clause.text, subject_end, at)]
    return starts[-1] if starts else None


def slot_form(hit: Found, token: str) -> str:
    """How a hit stands in the slot text: "its" is the company's possessive ("⟦0⟧'s chief executive")."""
    return token + "'s" if hit.via == REFERENCE and hit.alias.lower() == "its" else token


def _names_before(clause: _Clause, at: int) -> bool:
    return any(hit.start < at for hit in clause.hits)


def _subject_of(clause: _Clause, hits: Iterable[Found]) -> str | None:
    for hit in hits:
        if clause.text[hit.end:hit.end + 1] == "-":  # "Amazon-backed Anthropic": a descriptor
            continue
        if hit.start >= clause.body and len(_WORD.findall(clause.text, clause.body, hit.start)) < SUBJECT_WORDS:
            return hit.slug
    return None


def _body_start(text: str) -> int:
    dateline = _DATELINE.match(text)
    return dateline.end() if dateline else 0


_SPEECH_BEFORE = re.compile(rf"\b(?:{'|'.join(SPEECH)})(?:\s+(?:on|in|late|early)\s+\w+)?(?:\s+that)?\s+$",
                            re.IGNORECASE)


def _after_speech(text: str, at: int) -> bool:
    return bool(_SPEECH_BEFORE.search(text[max(0, at - 40):at]))
