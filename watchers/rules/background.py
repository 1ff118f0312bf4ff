"""Background inside a clause (classify.py, step 3): the spans where a company is named but takes
no role in the clause's events."""

from __future__ import annotations

import re

from watchers.models import Event
from watchers.rules.match import Found
from watchers.rules.rulebook import TOKEN

# Background inside a clause: a relative clause that tells the past or a standing role of
# someone already named ("Microsoft, which invested $13 billion in OpenAI, ...", "Wang, who left
# Scale AI for Meta in June, ...", "authors who sued Anthropic"), up to the next comma or break;
# and a company named only as the relation of the clause's subject ("Meta's contractor cuts jobs",
# "Telus, a vendor to Meta, ..."). Companies there are companies of the item with no role in
# its events. So is a company that describes another or a person by a tie ("Google-backed Verdantix",
# "founded by a Meta veteran", "Meta's former AI chief raises funding": a past employer, except in the
# clause that tells the person's move, "OpenAI's former executive joins Anthropic"). "OpenAI alumni" and
# "Apple and Google veterans" never get here: the matcher marks those mentions background (match.py).
BACKGROUND_SPAN = re.compile(r"""
    \b(?:who|which|that)\s+
    (?:(?:had|has|have|once|previously|earlier|also|recently|first|then|just|already)\s+)*
    (?!(?:departed|resigned|retired|exited|stepped)\b)     # a person's move is part of the news
    (?:[a-z]+ed|bought|took|won|led|sold|quit|lost|ran|made|held|paid|brought|sought|
       put|leads|runs|heads|oversees|counts|includes)\b
    [^,;:\u2014()]*                                      # to the end of the relative clause
  | ^(?:the\s+|a\s+)?\u27e6\d+\u27e7['\u2019]s\s+(?:[\w-]+\s+){0,3}?  # "Meta's content moderation contractor"
    (?:contractor|supplier|vendor|partner|rival|competitor|investor|backer)s?\b  # (its customers' moves are its news)
  | \u27e6\d+\u27e7\s+(?:co-?founder|founder|ceo|cto|cfo|chief\s+\w+|executive|exec|researcher|veteran|alum)
    ['\u2019]s\b                                       # a person's descriptor: "OpenAI co-founder's start-up"
  | \u27e6\d+\u27e7(?:['\u2019]s)?\s+(?:rival|competitor|challenger)\s+(?=\S)  # a comparison: "OpenAI rival Anthropic"
  | \b(?:rivals?|competitors?|challengers?|alternatives?)\s+(?:to|of)\s+(?:the\s+)?\u27e6\d+\u27e7  # "challengers to OpenAI"
  | \u27e6\d+\u27e7\s+(?:Startup\s+)?Fund\b               # a fund named after a company: "OpenAI Startup Fund"
  | (?:\bex-|\bformer\s+)\w[\w. -]{0,30}?\s(?:and|&|or)\s\u27e6\d+\u27e7  # "ex-Microsoft and Google veteran"
  | \b(?:days|weeks|months|years|hours|shortly|soon)\s+(?:after|before)\b[^,;]*  # the time of other news
  | \bbefore\s+(?:its|their|his|her|the)\b[^,;]*
  | \u27e6\d+\u27e7-(?:backed|funded|financed|owned|supported|founded|incubated)\b  # a compound: "Google-backed Verdantix"
  | ^(?i:backed|funded|financed|owned|founded|co-?founded|started|created)\s+by\b[^,;]*,  # "Backed by Nvidia, Foundry ..."
  | \b(?i:founded|co-?founded|started|created)\s+by\s+   # "a startup founded by a Meta veteran"
    (?:(?:a|an|the|two|three|four|several|former|ex-)\s*)*\u27e6\d+\u27e7
  | \u27e6\d+\u27e7['\u2019]s\s+(?:former|ex-)(?![^,;]*\b(?:joins?|joined|joining|leaves|left|leaving|quits|departs|
    defects|moves|rejoins|returns)\b)                  # "Meta's former AI chief raises", unless the clause tells the move
  | ,\s+(?:a|an|the|its)\s+(?:[\w-]+\s+){0,2}?        # ", a longtime vendor to Meta," (not ", the largest
    (?:contractor|supplier|vendor|partner|rival|competitor|investor|backer)s?  # customer of Y,": frames.py, 4e)
    \s+(?:of|to|for)\s+[^,;]*
""", re.VERBOSE)
BACKGROUND_CUE = re.compile(r"\b(?:who|which|that|rivals?|competitors?|challengers?|alternatives?|after|before|ex-|former|by|"
                            r"veterans?|alum\w*|Fund)\b"
                            r"|-(?:backed|funded|financed|owned|supported|founded|incubated)\b"
                             r"|['\u2019]s\b|, (?:a|an|the|its) ")


def without_background_roles(slot_text: str, tokens: list[Found]) -> str:
    """The slot text with each token inside a background span written back as the company's name."""
    spans = [(found.start(), found.end()) for found in BACKGROUND_SPAN.finditer(slot_text)]
    if not spans:
        return slot_text
    return TOKEN.sub(lambda token: tokens[int(token.group(1))].alias
                     if any(start <= token.start() < end for start, end in spans) else token.group(0), slot_text)


# A deal told as the cause or the time of other news told before it: "Google cuts ties with Scale AI after
# Meta took a 49% stake". Only deals (money, control, a partnership) are read so: a move or a loss after
# "after" is often the news itself.
CAUSE = re.compile(r"\b(?:after|following|before|since|because|in the wake of|on the heels of)\s+", re.IGNORECASE)
CAUSE_REACH = 40  # most characters between the cause word and the event's evidence ("after rival Meta agreed to")
CAUSE_TYPES = frozenset({"funding", "acquisition", "partnership"})


def without_causes(events: list[Event], texts: list[str]) -> list[Event]:
    """The events but a deal whose evidence follows a cause word when another event's evidence comes
    before that word (in its clause or an earlier one): it is background to the news (shared/eval/README.md)."""
    if len(events) < 2 or not any(event.type in CAUSE_TYPES for event in events):
        return events
    placed = [(event, _place(event, texts)) for event in events]
    kept = []
    for event, (text, at) in placed:
        cause = _cause_before(texts[text], at) if text is not None and event.type in CAUSE_TYPES else None
        if cause is not None and any(other is not event and where is not None and (where, other_at) < (text, cause)
                                     and (other.type, other.subject) != (event.type, event.subject)
                                     for other, (where, other_at) in placed):
            continue
        kept.append(event)
    return kept


def _place(event: Event, texts: list[str]) -> tuple[int | None, int]:
    """The clause an event's evidence comes from and where in it (None: not found word for word)."""
    for index, text in enumerate(texts):
        at = text.find(event.evidence) if event.evidence else -1
        if at >= 0:
            return index, at
    return None, -1


def _cause_before(text: str, at: int) -> int | None:
    """Where the last cause word before position `at` of `text` stands, if it opens the stretch holding `at`
    (close before it, no comma or semicolon between)."""
    causes = list(CAUSE.finditer(text, 0, at + 1))
    if not causes:
        return None
    gap = text[causes[-1].end():at]
    return causes[-1].start() if len(gap) <= CAUSE_REACH and not any(mark in gap for mark in ",;:") else None
