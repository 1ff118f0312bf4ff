"""Plain typed models passed between the pipeline's steps.

fetch -> FetchResult; parse -> ParsedFeed of RawEntry; normalize -> NewsItem;
match + classify -> Classification (Mention, Event); cluster -> story ids.
None of them touches storage: the orchestrator alone writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any, Collection, Literal, Mapping

EVENT_TYPES = ("funding", "leadership_change", "customer_loss", "acquisition", "layoffs", "partnership", "legal")
EventType = Literal["funding", "leadership_change", "customer_loss", "acquisition", "layoffs", "partnership", "legal"]
EventStatus = Literal["done", "in_talks", "rumored", "denied", "planned"]

ERROR_KINDS = ("dns", "connect", "timeout", "tls", "http_4xx", "http_429", "http_5xx", "too_large", "not_a_feed",
               "refused_address", "redirect", "parse_timeout")


@dataclass(frozen=True, slots=True)
class FeedSource:
    """A feed to poll, as the scheduler hands it to a worker."""

    id: int
    url: str
    name: str
    etag: str | None = None
    last_modified: str | None = None
    company_slug: str | None = None
    polled_once: bool = False
    error_count: int = 0


@dataclass(slots=True)
class FetchResult:
    """The outcome of one conditional GET. `status` is ok, not_modified or error."""

    url: str
    final_url: str
    status: Literal["ok", "not_modified", "error"]
    http_status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after_seconds: float | None = None
    max_age_seconds: float | None = None
    error_kind: str | None = None
    error_message: str | None = None
    elapsed_seconds: float = 0.0
    hub_url: str | None = None  # WebSub links of the HTTP Link header (rel=hub, rel=self)
    self_url: str | None = None


@dataclass(slots=True)
class RawEntry:
    """One entry as the feed wrote it (untrusted text, maybe HTML)."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    source_title: str | None = None
    source_url: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None


@dataclass(slots=True)
class ParsedFeed:
    title: str
    entries: list[RawEntry]
    ttl_minutes: int | None = None
    bozo: bool = False
    bozo_reason: str | None = None
    hub_url: str | None = None  # WebSub links of the document (<link rel="hub">, atom:link rel=self)
    self_url: str | None = None


@dataclass(slots=True)
class NewsItem:
    """A normalized news item: plain text, canonical link, UTC time, stable key."""

    key: str
    title: str
    outlet: str | None
    link: str | None
    summary: str
    published: datetime | None
    content_hash: str
    feed_id: int | None = None


@dataclass(slots=True)
class Mention:
    slug: str
    alias: str
    start: int
    end: int
    via: str = "alias"  # alias | domain | person


@dataclass(slots=True)
class Event:
    type: str
    subject: str
    counterparty: str | None = None
    status: str = "done"
    amount_usd: float | None = None
    stake_pct: float | None = None
    valuation_usd: float | None = None
    round: str | None = None
    person: str | None = None
    role: str | None = None
    evidence: str = ""
    rule: str = ""
    confidence: float = 1.0

    def to_json(self, keep_empty: Collection[str] = ()) -> dict[str, Any]:
        """The event as a JSON object: fields in declaration order, those None or "" left out
        (but the ones named in `keep_empty`). The one serialisation of an event: the stored
        columns (watchers.storage.types.EventList), Classification.to_dict and the classify CLI."""
        return {name: value for name, value in zip(EVENT_FIELDS, _event_values(self))
                if value is not None and value != "" or name in keep_empty}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Event:
        """The event of a JSON object written by to_json, now or by an older version: unknown keys
        are ignored, a missing field takes its default, and a value of the wrong kind (a number
        where text belongs, text where a number does) is read as missing rather than trusted."""
        values: dict[str, Any] = {}
        for name in _TEXT_FIELDS:
            value = data.get(name)
            if isinstance(value, str):
                values[name] = value
        for name in _NUMBER_FIELDS:
            value = data.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values[name] = float(value)
        return cls(type=values.pop("type", ""), subject=values.pop("subject", ""), **values)


EVENT_FIELDS = tuple(f.name for f in fields(Event))
_event_values = attrgetter(*EVENT_FIELDS)
_NUMBER_FIELDS = ("amount_usd", "stake_pct", "valuation_usd", "confidence")
_TEXT_FIELDS = tuple(name for name in EVENT_FIELDS if name not in _NUMBER_FIELDS)


@dataclass(frozen=True, slots=True)
class FeatureWeight:
    """One feature of an item and what it added to a learned score."""

    feature: str
    weight: float


@dataclass(frozen=True, slots=True)
class LearnedDecision:
    """What the learned event model (watchers/rules/learned.py) decided, and the features that carried it:
    an event it added (`vetoed` False) or the events of an item it judged eventless (`vetoed` True)."""

    type: str  # an event type, or "any" for a veto
    subject: str | None
    score: float
    threshold: float
    carried_by: tuple[FeatureWeight, ...]
    vetoed: bool = False


@dataclass(slots=True)
class Classification:
    companies: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    learned: list[LearnedDecision] = field(default_factory=list)  # not serialized: for `--explain`

    def to_dict(self) -> dict[str, Any]:
        return {"companies": list(self.companies), "events": [e.to_json() for e in self.events]}
