"""How event types and people read wherever a user sees them (alerts, digest, lookup card, why).

Event types are identifiers in the data (`leadership_change`) and words for people
("leadership change"). A leadership event names a person when the coverage does; when it does
not, the role alone would read as if it were what changed ("Leadership change at Meta: founder"),
so it is qualified ("unnamed founder").
"""

from __future__ import annotations

from typing import Iterable, Mapping

TYPE_WORDS = {
    "funding": "funding", "leadership_change": "leadership change", "customer_loss": "customer loss",
    "acquisition": "acquisition", "layoffs": "layoffs", "partnership": "partnership", "legal": "legal",
}


def type_words(event_type: str) -> str:
    """"leadership change" for leadership_change (lower case, for inside a sentence)."""
    return TYPE_WORDS.get(event_type, event_type.replace("_", " "))


def type_label(event_type: str) -> str:
    """"Leadership change": a title or the start of a line."""
    words = type_words(event_type)
    return words[:1].upper() + words[1:]


def types_text(types: Iterable[str]) -> str:
    return ", ".join(type_words(t) for t in types)


def counts_text(counts: Mapping[str, int]) -> str:
    """"funding 1, leadership change 2"."""
    return ", ".join(f"{type_words(kind)} {n}" for kind, n in counts.items())


def person_text(person: str | None, role: str | None) -> str:
    """"Alexandr Wang (CEO)", "Alexandr Wang", "unnamed founder", or "unnamed person"."""
    if person:
        return person + (f" ({role})" if role else "")
    return f"unnamed {role}" if role else "unnamed person"
