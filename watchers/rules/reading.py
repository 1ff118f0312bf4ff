"""How the rules engine read one item: its clauses, companies and slot texts (classify.py, steps 1-3)."""

from __future__ import annotations

from dataclasses import dataclass

from watchers.models import Mention
from watchers.rules.match import Found


@dataclass(slots=True)
class ItemReading:
    texts: list[str]  # the cleaned clauses: the title's first, then the summary's sentences
    titles: int  # how many of `texts` are the title's
    slot_texts: list[str]  # each clause with a token "⟦n⟧" for each company that has a role in it
    tokens: list[Found]  # the company of each token, by its number
    by_token: dict[str, str]  # "⟦n⟧" -> the slug of tokens[n]
    companies: list[str]  # the item's companies, in order of appearance
    mentions: list[Mention]
