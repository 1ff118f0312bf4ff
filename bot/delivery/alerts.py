"""Stories as neutral messages: the parent alert, thread replies, the new-event-type reply.

Every string taken from a feed (headlines, outlets, evidence, people) goes into the message
as plain text; the platform renderers escape it. Nothing here builds markup.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from bot.company_activity import format_usd
from bot.messages import Action, Block, Field, Link, Message
from bot.wording import person_text, type_label
from watchers.models import Event
from watchers.storage.stories import Story

NameOf = Callable[[str], str]

STATUS_LABELS = {"in_talks": "in talks", "rumored": "rumored", "denied": "denied", "planned": "planned"}
MAX_OUTLETS_SHOWN = 8
MAX_REASONS_SHOWN = 4


def label(event_type: str) -> str:
    return type_label(event_type)


def name_resolver(registry: Any | None) -> NameOf:
    """Company names from a registry (slug when unknown or without a registry)."""
    def name_of(slug: str) -> str:
        company = registry.get(slug) if registry is not None else None
        return company.name if company is not None else slug
    return name_of


def event_line(event: Event, name_of: NameOf) -> str:
    """One event with its facts: "Funding of Scale AI from Meta: $14.3B, 49% stake"."""
    kind, subject = event.type, name_of(event.subject or "?")
    other = name_of(event.counterparty) if event.counterparty else None
    head = {
        "funding": f"Funding of {subject}" + (f" from {other}" if other else ""),
        "leadership_change": f"Leadership change at {subject}",
        "customer_loss": f"{subject} loses {other} as a customer" if other else f"Customer loss at {subject}",
        "acquisition": f"{subject} acquired" + (f" by {other}" if other else ""),
        "layoffs": f"Layoffs at {subject}",
        "partnership": f"Partnership: {subject}" + (f" with {other}" if other else ""),
        "legal": f"Legal action against {subject}",
    }.get(kind, f"{label(kind)}: {subject}" + (f" with {other}" if other else ""))
    facts = []
    if event.amount_usd is not None:
        facts.append(format_usd(event.amount_usd))
    if event.stake_pct is not None:
        facts.append(f"{event.stake_pct:g}% stake")
    if event.valuation_usd is not None:
        facts.append(f"valuation {format_usd(event.valuation_usd)}")
    if event.round:
        facts.append(event.round)
    if event.person or event.role:
        facts.append(person_text(event.person, event.role))  # never a bare role in a person's place
    status = STATUS_LABELS.get(event.status or "done")
    text = head + (": " + ", ".join(facts) if facts else "")
    return text + (f" [{status}]" if status else "")


def why_line(events: Iterable[Event], watched: Sequence[str], name_of: NameOf) -> str:
    reasons = []
    for event in events:
        if event.rule or event.evidence:
            text = f"rule {event.rule or '?'}"
            if event.evidence:
                text += f": \u201c{event.evidence}\u201d"
            reasons.append(text)
    reasons = list(dict.fromkeys(reasons))
    if len(reasons) > MAX_REASONS_SHOWN:
        reasons = [*reasons[:MAX_REASONS_SHOWN], f"{len(reasons) - MAX_REASONS_SHOWN} more rules"]
    if watched:
        reasons.append("this channel watches " + ", ".join(name_of(s) for s in watched))
    return "; ".join(reasons) or "an event of a watched company"


def outlets_line(outlets: Sequence[str]) -> str:
    shown = list(outlets[:MAX_OUTLETS_SHOWN])
    more = len(outlets) - len(shown)
    text = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    return f"{len(outlets)} outlet{'s' if len(outlets) != 1 else ''}: {text}" if outlets else "1 source"


def headline_block(title: str, link: str | None, outlet: str | None = None) -> Block:
    parts: list[Any] = [Link(title, link) if link else title]
    if outlet:
        parts.append(f" \u2014 {outlet}")
    return Block(tuple(parts))


def story_actions(story: Story) -> tuple[Action, ...]:
    """The buttons of a parent alert: open the article, mute the story here, not relevant."""
    value = f"story:{story.id}"
    opened = (Action("open", "Open article", url=story.link),) if story.link else ()
    return (*opened, Action("mute", "Mute this story", value=value),
            Action("not_relevant", "Not relevant", value=value))


def story_alert(story: Story, *, watched: Sequence[str], name_of: NameOf) -> Message:
    """The parent message of a story in one channel: company, event types, facts, best headline, outlets, why."""
    subjects = list(dict.fromkeys([story.subject, *(e.subject for e in story.events if e.subject)]))
    types = ", ".join(label(t) for t in story.event_types)
    title = f"{' / '.join(name_of(s) for s in subjects)}: {types}"
    fields = [
        Field("What", "\n".join(dict.fromkeys(event_line(e, name_of) for e in story.events))),
        Field("Sources", outlets_line(story.outlets)),
        Field("Why", why_line(story.events, watched, name_of)),
    ]
    return Message(title=title, url=story.link, blocks=(headline_block(story.title, story.link),),
                   fields=tuple(fields), footer=f"story {story.id} \u00b7 first seen {story.first_seen_at:%Y-%m-%d %H:%M} UTC",
                   accent=story.event_types[0] if story.event_types else "info", actions=story_actions(story))


def coverage_reply(items: Sequence[dict[str, Any]]) -> Message:
    """A thread reply listing later coverage: one line per item (headline, link, outlet)."""
    count = len(items)
    title = f"More coverage: {count} more source{'s' if count != 1 else ''}"
    blocks = tuple(headline_block(i["title"], i.get("link"), i.get("outlet")) for i in items)
    return Message(title=title, blocks=blocks, accent="info")


def new_type_reply(item: dict[str, Any], events: Sequence[Event], new_types: Sequence[str],
                   name_of: NameOf) -> Message:
    """A flagged reply: the story has a new event type (the hire announced after the investment)."""
    title = "New in this story: " + ", ".join(label(t) for t in new_types)
    new = [e for e in events if e.type in new_types]
    fields = (Field("What", "\n".join(dict.fromkeys(event_line(e, name_of) for e in new))),
              Field("Why", why_line(new, (), name_of)))
    return Message(title=title, blocks=(headline_block(item["title"], item.get("link"), item.get("outlet")),),
                   fields=fields, accent=new_types[0], flag="new event type")
