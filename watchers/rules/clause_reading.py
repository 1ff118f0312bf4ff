"""The words of a clause as event frames read them (watchers/rules/frames.py): a company token with its
possessive is one word, punctuation is a word; and the word classes that steer role binding
(prepositions, determiners, list joins, clause breaks, relation and kind nouns, verbs of saying)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from watchers.rules.lexicon import inflect

PREPOSITIONS = frozenset({"for", "with", "from", "by", "of", "to", "at", "into", "onto", "off", "on", "against", "in",
                          "over", "as", "below", "above", "behind", "under", "using", "inside", "through", "via",
                          "across", "within", "between", "among"})
DETERMINERS = frozenset({"the", "its", "their", "a", "an", "rival", "rivals", "startup", "giant", "partner",
                         "longtime", "former", "key", "major", "top", "biggest", "largest", "backer", "investor"})
LIST_JOINS = frozenset({",", "and", "&", "/"})
BREAKS = frozenset({";", ":", "—", "–", "(", ")", '"', "?", "!"})
# nouns after a company that make it the descriptor of another company ("a Meta contractor")
RELATIONS = frozenset({"contractor", "contractors", "subcontractor", "subcontractors", "supplier", "suppliers",
                       "vendor", "vendors", "partner", "partners", "client", "clients", "customer", "customers", "rival",
                       "rivals", "competitor", "competitors", "subsidiary", "affiliate", "spinoff", "spin-off"})
# "Y's largest customer", "Facebook's No. 1 advertiser": Y is the vendor of the one described
CUSTOMER_NOUNS = frozenset({"customer", "client", "advertiser", "buyer"})
# nouns of a company's kind that stand right before its name ("AI startup Hugging Face")
KINDS = frozenset({"startup", "start-up", "firm", "company", "maker", "developer", "lab", "giant", "app", "platform",
                   "provider", "outsourcer", "chipmaker", "unicorn", "group", "vendor", "supplier", "contractor"})
# verbs of saying: the words after them are another clause
SPEECH = frozenset({"says", "said", "say", "tells", "told", "claims", "claimed", "argues", "argued", "warns", "warned"})
# a company's stock or worth: the verb after it is a price move ("Meta stock drops after ...")
PRICE_NOUNS = frozenset({"stock", "stocks", "shares", "valuation", "value", "cap", "capitalization", "price"})
BACKGROUND_TIMES = frozenset({"days", "weeks", "months", "years", "shortly", "year", "month", "week"})
# verbs whose particle "back" is, not a trigger: "scales back its spend", "pulls back" are no backing
PARTICLE_VERBS = frozenset(form for verb in ("scale", "pull", "cut", "step", "roll", "dial", "claw", "ramp", "hold",
                                             "fight", "push", "bounce") for form in inflect(verb))
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


def names_vendor(words: list[Word], k: int) -> bool:
    """Whether the company at `k` is named as the vendor of a customer in an apposition:
    "Google, Scale AI's largest customer, ..." or "Google, the biggest client of Scale AI, ..."."""
    if words[k].possessive:
        return any(w.text in CUSTOMER_NOUNS for w in words[k + 1:k + 6])
    return k >= 2 and words[k - 1].text == "of" and words[k - 2].text.removesuffix("s") in CUSTOMER_NOUNS


def vendor_apposition(words: list[Word], at: int) -> bool:
    """Whether an apposition naming a vendor ends right before the trigger at `at` (over a few words
    of status: "Google, Scale AI's largest customer, plans to exit"): it names what the trigger ends."""
    closing = next((k for k in range(at - 1, max(-1, at - 5), -1) if words[k].text == ","), None)
    return closing is not None and any(words[k].company is not None and names_vendor(words, k)
                                       for k in range(max(0, closing - 8), closing))


def another_use(previous: str, first: str, noun: bool) -> bool:
    """Whether the word before a trigger makes the trigger's first word another word than the frame's:
    a compound adjective ("Amazon-backed Anthropic" is no backing), a price move ("Meta stock drops"), a
    verb's form after an article that is a noun ("raises the bar", "a cut"; not "the ousting of"), a
    prevented action ("bars Nvidia from selling"), or a particle ("scales back its spend")."""
    if previous == "-" or previous == "from" and first.endswith("ing"):
        return True
    return not noun and (previous in PRICE_NOUNS or previous in ("the", "a", "an") and not first.endswith("ing")
                         or previous in PARTICLE_VERBS and first == "back")


AMOUNT_WORDS = frozenset({"billion", "million", "trillion", "bn", "mn", "thousand", "hundreds", "thousands",
                          "millions", "billions", "dozens", "worth"})


def is_amount(text: str) -> bool:
    """Whether a word ends an amount ("$250", "billion", "10,000", "worth"): "$250 billion of Azure" is goods."""
    return text in AMOUNT_WORDS or text[:1] in "$€£¥" or text.replace(",", "").replace(".", "").isdigit()


def title_case(words: list[Word]) -> bool:
    """Whether most longer words are capitalised ("Anthropic Joins White House Pledge"): then
    capitals say nothing of names."""
    longer = [w for w in words if w.company is None and len(w.text) > 3 and w.text.isalpha()]
    return len(longer) >= 3 and sum(w.capital for w in longer) * 5 >= len(longer) * 3


def person_before(words: list[Word], at: int, stops: frozenset[str], roles: frozenset[str]) -> bool:
    """A role word, "he" or "she", or a person's name (two capitalised words, neither a company) in the
    trigger's clause before it, or a trigger that is itself a role word ("foundation-models head to Meta")."""
    first = next((k + 1 for k in range(at - 1, max(-1, at - 7), -1) if words[k].text in stops
                  or words[k].text in BREAKS), max(0, at - 6))
    before = words[first:at + 1]
    if any(w.text in roles or w.text in ("he", "she", "his", "her") for w in before):
        return True
    return any(a.capital and b.capital and a.company is None and b.company is None and a.text.isalpha()
               and b.text.isalpha() for a, b in zip(before, before[1:-1]))


# first words of capitalised pairs that name a place or an institution, not a person ("Wall Street", "White House")
PLACE_HEADS = frozenset({"wall", "silicon", "white", "supreme", "new", "san", "los", "las", "hong", "united", "european",
                         "federal", "south", "north", "east", "west", "middle", "big", "prime", "saudi", "abu"})


def name_after(words: list[Word], end: int) -> bool:
    """A person's name among the four words after a trigger written in lower case (not a Title Case headline,
    where capitals say nothing): two capitalised words, neither a company ("hires AI educator Andrej
    Karpathy", "poaches OpenAI's Lucas Beyer")."""
    after = words[end:end + 5]
    return not words[end - 1].capital and any(
        a.capital and b.capital and a.company is None and b.company is None and a.text.isalpha() and b.text.isalpha()
        and a.text not in PLACE_HEADS for a, b in zip(after, after[1:]))


# words that describe a company after "to" ("defects to rival Meta"); any other one word there is a verb ("to match X")
BEFORE_RIVAL = frozenset({"rival", "archrival", "fellow", "sister", "parent", "former", "longtime", "embattled",
                          "struggling", "troubled"})
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


def after_aside(words: list[Word], k: int) -> int:
    """The last word of a parenthesis right after word `k` ("Alphabet (Nasdaq: GOOG)"), else `k`."""
    if k + 1 < len(words) and words[k + 1].text == "(":
        return next((j for j in range(k + 2, min(len(words), k + 9)) if words[j].text == ")"), k)
    return k


def next_in_list(words: list[Word], k: int) -> int | None:
    """The next company of a list after the company at `k` ("A, B and C", "A (Nasdaq: A), B"), over the
    untracked names between ("A, Snap Inc. and B": at most four capitalised words each)."""
    k = after_aside(words, k)
    for _ in range(4):  # untracked names skipped
        if k + 2 >= len(words) or words[k + 1].text not in LIST_JOINS:
            return None
        k += 2 if words[k + 2].text != "and" or words[k + 1].text != "," else 3  # ", and"
        if k >= len(words):
            return None
        if words[k].company is not None:
            return k
        name_end = k
        while name_end + 1 < len(words) and name_end - k < 3 and (words[name_end + 1].capital
                                                                  or words[name_end + 1].text == "."):
            name_end += 1
        if not words[k].capital:
            return None
        if words[name_end].text.endswith(("'s", "\u2019s")) and name_end + 1 < len(words) \
                and words[name_end + 1].company is not None:
            return name_end + 1  # a person's company: "and Elon Musk's xAI"
        k = after_aside(words, name_end)
    return None


def previous_in_list(words: list[Word], k: int) -> int | None:
    """The company before the company at `k` in a list ("A, B and C invest"), over untracked names
    between ("A, Salesforce and C": at most three capitalised words each) and their parentheses."""
    for _ in range(4):  # untracked names skipped
        owner = k - 1  # a person's company: "OpenAI and Elon Musk's xAI"
        while owner > 0 and k - owner < 3 and words[owner].capital and (
                owner < k - 1 or words[owner].text.endswith(("'s", "\u2019s"))):
            owner -= 1
        if owner < k - 1 and words[owner].text in LIST_JOINS:
            k = owner + 1
        if k < 2 or words[k - 1].text not in LIST_JOINS:
            return None
        k -= 2 if not (words[k - 1].text == "and" and words[k - 2].text == ",") or k < 3 else 3
        if words[k].text == ")":
            k = next((j - 1 for j in range(k - 1, max(-1, k - 8), -1) if words[j].text == "("), -1)
            if k < 0:
                return None
        if words[k].company is not None:
            return None if words[k].possessive else k
        name_start = k
        while name_start - 1 >= 0 and k - name_start < 2 and (words[name_start - 1].capital
                                                               and words[name_start - 1].company is None):
            name_start -= 1
        if not words[k].capital and words[k].text not in (".",):
            return None
        k = name_start
    return None


def list_before_name(words: list[Word], k: int) -> list[int]:
    """The companies of a list whose last name, untracked and capitalised, ends at word `k`."""
    start = k
    while start > 0 and k - start < 2 and words[start - 1].capital and words[start - 1].company is None:
        start -= 1
    join = start - 1
    if join < 1 or words[join].text not in LIST_JOINS:
        return []
    last = join - 1 if words[join - 1].text != "," or words[join].text != "and" else join - 2
    if last < 0 or words[last].company is None or words[last].possessive:
        return []
    group = [last]
    while (earlier := previous_in_list(words, group[0])) is not None:
        group.insert(0, earlier)
    return group
