"""The words of a clause as event frames read them (watchers/rules/frames.py): a company token with its
possessive is one word, punctuation is a word; and the word classes that steer role binding
(prepositions, determiners, list joins, clause breaks, relation and kind nouns, verbs of saying)."""

from __future__ import annotations

import re
from dataclasses import dataclass

PREPOSITIONS = frozenset({"for", "with", "from", "by", "of", "to", "at", "into", "on", "against", "in", "over", "as",
                          "below", "above", "behind", "under", "using", "inside", "through", "via", "across", "within"})
DETERMINERS = frozenset({"the", "its", "their", "a", "an", "rival", "rivals", "startup", "giant", "partner",
                         "longtime", "former", "key", "major", "top", "biggest", "largest", "backer", "investor"})
LIST_JOINS = frozenset({",", "and", "&", "/"})
BREAKS = frozenset({";", ":", "—", "–", "(", ")", '"', "?", "!"})
# nouns after a company that make it the descriptor of another company ("a Meta contractor")
RELATIONS = frozenset({"contractor", "contractors", "supplier", "suppliers", "vendor", "vendors", "partner", "partners",
                       "client", "clients", "customer", "customers", "rival", "rivals", "competitor", "competitors",
                       "subsidiary", "affiliate", "spinoff", "spin-off"})
# nouns of a company's kind that stand right before its name ("AI startup Hugging Face")
KINDS = frozenset({"startup", "start-up", "firm", "company", "maker", "developer", "lab", "giant", "app", "platform",
                   "provider", "outsourcer", "chipmaker", "unicorn", "group", "vendor", "supplier", "contractor"})
# verbs of saying: the words after them are another clause
SPEECH = frozenset({"says", "said", "say", "tells", "told", "claims", "claimed", "argues", "argued", "warns", "warned"})
BACKGROUND_TIMES = frozenset({"days", "weeks", "months", "years", "shortly", "year", "month", "week"})
# a word as words_of reads it (a company token, a word, a mark of punctuation), and the plain words alone
PLAIN_WORD = re.compile(r"[\w$€£¥][\w$€£¥.,%&'\u2019-]*[\w%]|[\w$€£¥%]")
WORD = re.compile(r"\u27e6(\d+)\u27e7(?:['\u2019]s?)?|" + PLAIN_WORD.pattern + r"|[^\w\s]")


@dataclass(slots=True)
class Word:
    text: str  # lowercased; a company token's text is "⟦n⟧"
    start: int
    end: int
    company: int | None = None  # the token number of a company
    possessive: bool = False
    capital: bool = False


def words_of(slot_text: str) -> list[Word]:
    out = []
    for found in WORD.finditer(slot_text):
        text = found.group(0)
        if found.group(1) is not None:
            out.append(Word(text, found.start(), found.end(), int(found.group(1)), len(text) > len(found.group(1)) + 2))
        else:
            out.append(Word(text.lower(), found.start(), found.end(), capital=text[0].isupper()))
    return out


def title_case(words: list[Word]) -> bool:
    """Whether most longer words are capitalised ("Anthropic Joins White House Pledge"): then
    capitals say nothing of names."""
    longer = [w for w in words if w.company is None and len(w.text) > 3 and w.text.isalpha()]
    return len(longer) >= 3 and sum(w.capital for w in longer) * 5 >= len(longer) * 3


BEFORE_REACH = 10  # most words walked back from a trigger to the company before it ("Amazon's hardware boss
# running Alexa and Echo plans to retire")
SEPARABLE_REACH = 5  # most words between a separable verb and its tail ("shuts xAI out", "takes Scale AI to court")


def follows(words: list[Word], end: int, tail: tuple[str, ...]) -> bool:
    """Whether `tail` follows within SEPARABLE_REACH words of `end`, before a clause break."""
    texts = [w.text for w in words[end:end + SEPARABLE_REACH + len(tail)]]
    for at in range(1, len(texts) - len(tail) + 1):
        if texts[at - 1] in BREAKS:
            return False
        if tuple(texts[at:at + len(tail)]) == tail:
            return True
    return False
