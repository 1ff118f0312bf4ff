"""The platform-neutral message model.

Alerts, thread replies, company cards, digests and command replies are built once as a
`Message`; each platform adapter renders it (Slack: Block Kit, Discord: embeds, console and
memory: plain text). Every string in here is plain text, possibly written by a feed: the
renderers, never the builders, escape it for their platform.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Union


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Strong:
    text: str


Inline = Union[str, Link, Strong]


@dataclass(frozen=True)
class Block:
    """A paragraph made of plain text, bold text and links."""

    parts: tuple[Inline, ...]

    @classmethod
    def of(cls, *parts: Inline) -> "Block":
        return cls(tuple(parts))

    def text(self) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, Link):
                out.append(f"{part.label} <{part.url}>")
            elif isinstance(part, Strong):
                out.append(part.text)
            else:
                out.append(part)
        return "".join(out)


@dataclass(frozen=True)
class Field:
    name: str
    value: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the bytes in base64), as stored in the outbox."""
        return {"filename": self.filename, "title": self.title, "data": base64.b64encode(self.data).decode()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Attachment":
        return cls(data["filename"], base64.b64decode(data["data"]), data.get("title", ""))


@dataclass(frozen=True)
class Action:
    """A button under a message. `kind` says what a click does: "open" follows `url`; "mute" and
    "not_relevant" come back to the bot with `value` (such as "story:42") for bot.feedback."""

    kind: str  # open | mute | not_relevant
    label: str
    url: str | None = None
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "url": self.url, "value": self.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Action":
        return cls(kind=data["kind"], label=data["label"], url=data.get("url"), value=data.get("value"))


@dataclass(frozen=True)
class Message:
    title: str
    url: str | None = None
    blocks: tuple[Block, ...] = ()
    fields: tuple[Field, ...] = ()
    footer: str | None = None
    accent: str = "info"  # an event type, or info | warning | error
    flag: str | None = None  # a short marker such as "new event type"
    attachments: tuple[Attachment, ...] = ()
    actions: tuple[Action, ...] = ()  # buttons; the console has none, so to_text() leaves them out

    def to_text(self) -> str:
        """Plain text, as the console and in-memory platforms show it."""
        lines = []
        head = f"[{self.flag}] {self.title}" if self.flag else self.title
        lines.append(head + (f" <{self.url}>" if self.url else ""))
        lines.extend(block.text() for block in self.blocks)
        lines.extend(f"{f.name}: {f.value}" for f in self.fields)
        if self.footer:
            lines.append(self.footer)
        lines.extend(f"(attached: {a.filename})" for a in self.attachments)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, as stored in the outbox."""
        return {
            "title": self.title, "url": self.url, "footer": self.footer, "accent": self.accent, "flag": self.flag,
            "blocks": [[_inline_to_json(p) for p in b.parts] for b in self.blocks],
            "fields": [[f.name, f.value] for f in self.fields],
            "attachments": [a.to_dict() for a in self.attachments],
            "actions": [a.to_dict() for a in self.actions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Message":
        return cls(
            title=data["title"], url=data.get("url"), footer=data.get("footer"), accent=data.get("accent", "info"),
            flag=data.get("flag"),
            blocks=tuple(Block(tuple(_inline_from_json(p) for p in parts)) for parts in data.get("blocks", [])),
            fields=tuple(Field(name, value) for name, value in data.get("fields", [])),
            attachments=tuple(Attachment.from_dict(a) for a in data.get("attachments", [])),
            actions=tuple(Action.from_dict(a) for a in data.get("actions", [])),
        )


def _inline_to_json(part: Inline) -> Any:
    if isinstance(part, Link):
        return {"link": part.label, "url": part.url}
    if isinstance(part, Strong):
        return {"strong": part.text}
    return part


def _inline_from_json(data: Any) -> Inline:
    if isinstance(data, dict) and "url" in data:
        return Link(data["link"], data["url"])
    if isinstance(data, dict):
        return Strong(data["strong"])
    return str(data)


@dataclass(frozen=True)
class Request:
    """A slash command as any platform delivers it."""

    platform: str
    channel_id: str
    text: str
    user: str = ""
    workspace: str | None = None
    channel_name: str | None = None


@dataclass(frozen=True)
class Reply:
    """The answer to a command: a short text, or a whole message (a card, a digest)."""

    text: str = ""
    message: Message | None = None
    ephemeral: bool = True
    is_error: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        return self.message.to_text() if self.message else self.text
