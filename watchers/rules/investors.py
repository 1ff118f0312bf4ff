"""Investors named beside a round: one funding event per tracked investor.

A funding event whose investor the rules and frames left open ("OpenAI raises $110 billion") takes as
its counterparty every tracked company the item names as a backer in a clause about money, one event
each (shared/eval/README.md: the counterparty of a funding is a tracked investor):
- a list after a cue ("from" after money, "led by", "backed by", "including", "such as", "alongside", "joined by",
  over determiners, "existing investors" and an amount: "$30 billion from Nvidia", "investors including
  Salesforce, Alphabet's Google and Nvidia");
- a list before "among its backers", "also invested", "participated", "contributed", "joined".
Not an investor: the event's subject, a company that raises money itself in the item, a company named
in a list that a cue does not open ("competes with Google").
"""

from __future__ import annotations

import copy

from watchers.models import Event
from watchers.rules.clause_reading import LIST_JOINS, Word, next_in_list, previous_in_list, words_of
from watchers.rules.lexicon import inflect
from watchers.rules.match import Found

CUES_BEFORE = frozenset({"including", "alongside", "like"})
# "from" names an investor after money ("$30 billion from Nvidia", "raised $450 million from"), not a seller
MONEY_BEFORE_FROM = frozenset({"billion", "million", "bn", "mn", "investment", "funding", "backing", "capital", "money",
                               "raised", "raises", "raising", "round", "financing", "cash"})
CUES_BY = frozenset({"led", "co-led", "backed", "funded", "joined"})  # "led by X"
# after a list: "among" its backers, "also" invested, or an investor's verb in any form ("Amazon, Nvidia and SoftBank
# contributed", "Alphabet, Nvidia invest in SSI")
CUES_AFTER = frozenset({"among", "also"}) | {form for verb in ("invest", "participate", "contribute", "join", "put",
                                                               "chip", "commit", "pledge", "add", "pour")
                                             for form in inflect(verb)}
# words between an investor list and its verb: "Alphabet and Nvidia have joined", "Nvidia will put in"
AUXILIARIES = frozenset({"will", "would", "have", "has", "had", "are", "is", "were", "was", "each", "both",
                         "reportedly", "to", "set", "plan", "plans", "agreed"})
SKIPPED = frozenset({"the", "its", "their", "existing", "new", "other", "investors", "investor", "backers", "backer",
                     "such", "as", "participation", "a", "an", "both", "strategic", "$", "€", "£", "billion",
                     "million", "bn", "mn", "up", "to", "about", "around", "some", "nearly", "more", "than", ","})
MONEY = ("round", "rais", "funding", "invest", "backer", "valuation", "financing", "$", "€", "£", "billion", "million")


def with_investors(events: list[Event], slot_texts: list[str], tokens: list[Found]) -> list[Event]:
    """`events` with each open funding event repeated once per investor the item names."""
    def is_open(event: Event) -> bool:
        return event.type == "funding" and event.counterparty is None

    if not any(is_open(e) for e in events):
        return events
    raising = {e.subject for e in events if e.type == "funding"}
    investors: list[str] = []
    for slot_text in slot_texts:
        lowered = slot_text.lower()
        if "\u27e6" in slot_text and any(word in lowered for word in MONEY):
            investors += [tokens[k].slug for k in _named_as_investors(words_of(slot_text))]
    investors = [slug for slug in dict.fromkeys(investors) if slug not in raising]
    if not investors:
        return events
    out: list[Event] = []
    for event in events:
        if not is_open(event):
            out.append(event)
            continue
        for slug in investors:
            made = copy.copy(event)
            made.counterparty = slug
            out.append(made)
    return out


def _named_as_investors(words: list[Word]) -> list[int]:
    """Token numbers of the companies of a clause that a cue names as investors."""
    found: list[int] = []
    for k, word in enumerate(words):
        if word.company is None or word.company in found:
            continue
        first = last = k
        while (before := previous_in_list(words, first)) is not None:
            first = before
        while (after := next_in_list(words, last)) is not None:
            last = after
        if _cue_before(words, _list_edge(words, first, -1)) or _cue_after(words, _list_edge(words, last, 1)):
            found.append(word.company)
    return found


def _list_edge(words: list[Word], k: int, step: int) -> int:
    """The outermost word of the list around the company at `k`, walking back (`step` -1) or on (+1) over
    the untracked names in it ("including Andreessen Horowitz, Lightspeed, Nvidia", "Amazon, Nvidia and
    SoftBank contributed"): at most four names of three words each."""
    edge = k
    for _ in range(4):
        j = edge + step
        joins = 0
        while 0 <= j < len(words) and words[j].text in LIST_JOINS and joins < 2:  # ",", "and" or ", and"
            j, joins = j + step, joins + 1
        name = j
        while 0 <= j < len(words) and abs(j - name) < 3 and words[j].company is None and (
                words[j].capital or words[j].text == "."):
            j += step
        if not joins or j == name:
            return edge
        edge = j - step
    return edge


def _cue_before(words: list[Word], first: int) -> bool:
    k = first - 1
    while k >= 0 and (words[k].text in SKIPPED or words[k].text[:1] in "$€£" or words[k].text[:1].isdigit()):
        k -= 1
    if k < 0:
        return False
    if words[k].text == "by":
        return k > 0 and words[k - 1].text in CUES_BY
    if words[k].text == "from":
        return k > 0 and (words[k - 1].text in MONEY_BEFORE_FROM or words[k - 1].text[:1] in "$€£")
    return words[k].text in CUES_BEFORE


def _cue_after(words: list[Word], last: int) -> bool:
    ahead = [w.text for w in words[last + 1:last + 6] if w.text not in AUXILIARIES][:3]
    return bool(ahead) and (ahead[0] in CUES_AFTER or ahead[:2] in (["are", "among"], ["were", "among"],
                                                                   ["is", "among"], ["also", "invested"]))

