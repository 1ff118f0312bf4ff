"""What a clause tells no event by: commentary, questions, conditions, running totals, an outlet's
disclosures, earlier news, and hedges inside an event's own words (classify.py, step 4)."""

from __future__ import annotations

import re

# A headline that announces commentary, not news: "Opinion: ...", "Analysis | ...", "Inside ...",
# "A look back at ...", "The case for ...", "... explained"
COMMENTARY = re.compile(r"^(?:opinion|analysis|commentary|column|explainer|editorial|podcast)\s*[:|\-\u2014]"
                        r"|^(?:inside|a look back at|lessons from|the rise and fall of|the case (?:for|against)|in defen[cs]e of)\b"
                        r"|,? explained$", re.I)
# Hedges inside an event's own words: a possibility, an attempt, an intention, a negation or talks that are over
# ("Amazon might invest", "Meta tried to acquire", "Amazon aims to reduce reliance on Nvidia", "Meta weighs
# investment in Scale AI", "Meta couldn't buy", "Meta is not cutting ties", "Meta held talks to buy"). A
# non-renewal is itself the event.
HEDGE = re.compile(r"\b(?:could|might|would|should|may|\w+n't|cannot|not|never|tried|tries|attempted|failed|"
                   r"aims?|aiming|hopes?|hoping|wants?|wanting|intends?|intending|weigh(?:s|ing)?|mull(?:s|ing)?|"
                   r"consider(?:s|ing)?|"
                   r"refused|rejected|declined|turned down|rebuffed|(?:held|had|was in|were in) (?:\w+ )?talks)\b"
                   r"(?! renew| to renew| extend)", re.I)


# A running total, not a new round: "has raised $20 billion to date", "has invested $13 billion since 2019"
_CUMULATIVE = re.compile(r"\b(?:has|have)\s+(?:\w+\s+){0,2}?(?:raised|invested|received)\b.*"
                         r"\b(?:since\s+(?:\d{4}|its|it\s+was)|to\s+date|so\s+far)\b", re.I)


# An outlet's disclosure of its own ties, a standing line under its articles: "(Disclosure: Ziff Davis,
# ZDNET's parent company, filed a lawsuit against OpenAI ...)", "ZDNET's parent Ziff Davis discloses it sued OpenAI"
_DISCLOSURE = re.compile(r"^\(?disclosure\s*:|\bparent(?:\s+company)?\b[^;]{0,40}\bdisclos(?:es|ed)\b", re.I)


_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
# a sentence opening on a past time tells earlier news: "Last year, OpenAI and Microsoft were sued too"
_EARLIER = re.compile(rf"^(?:last (?:year|month|week|spring|summer|fall|autumn|winter)|earlier (?:this|that) "
                      rf"(?:year|month)|(?:back )?in (?:(?:early|late|mid-?)\s*)?(?:{_MONTHS}|(?:19|20)\d\d)|a year ago|"
                      r"years? earlier|previously)\b,?\s", re.IGNORECASE)


def tells_no_event(clause: str) -> bool:
    """A question, a condition, a running total, an outlet's disclosure or earlier news ("Will Meta drop
    Scale AI?", "If OpenAI buys Chrome, ...", "Microsoft has invested $13 billion in OpenAI since 2019",
    "In November, Anthropic partnered with Palantir")."""
    return clause.endswith("?") or clause[:8].lower().startswith(("if ", "what if ", "unless ")) or (
        " ha" in clause and bool(_CUMULATIVE.search(clause))) or (
        "isclos" in clause and bool(_DISCLOSURE.search(clause))) or bool(_EARLIER.match(clause))


def hedged(evidence: str) -> bool:
    return bool(HEDGE.search(evidence))
