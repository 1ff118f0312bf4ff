"""Neutral `Message`s and `Reply`s as Discord message payloads (embeds), feed text escaped.

`render(message)` returns the JSON body of a message create (`embeds`, `allowed_mentions`,
`components`), which the adapter sends as it is, so that it can be tested alone.

Every string of a Message may be feed text. Discord reads markdown (`* _ ~ ` | > #`, masked
links `[label](url)`), mentions (`@everyone`, `@here`, `<@id>`, `<@&id>`, `<#id>`) and emoji
(`<:name:id>`) in titles, descriptions, field values and footers. So every markdown character is
escaped with a backslash, and `@` and `<` are followed by a zero-width space, which keeps a
mention from forming even where a client ignores the backslash. Every message also carries
`allowed_mentions: {"parse": []}`: nothing pings, whatever the text says.

Discord's limits are met by truncation with an ellipsis, never by an API error: title 256,
description 4,096, 25 fields (name 256, value 1,024), footer 2,048, 6,000 characters over all
embeds, 10 embeds, content 2,000. Lengths count the escaped text, which is what Discord counts;
an escape is never cut in half.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

from bot.messages import Block, Link, Message, Reply, Strong

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
EMBEDS_MAX = 10
CONTENT_MAX = 2000
URL_MAX = 2048
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100
ELLIPSIS = "\u2026"
ZWSP = "\u200b"
NO_MENTIONS: dict[str, Any] = {"parse": []}
EPHEMERAL = 1 << 6

# One colour per event type (and the neutral accents), as 0xRRGGBB.
COLOURS = {
    "funding": 0x2ECC71, "leadership_change": 0x3498DB, "customer_loss": 0xE67E22, "acquisition": 0x9B59B6,
    "layoffs": 0xE74C3C, "partnership": 0x1ABC9C, "legal": 0xF1C40F,
    "info": 0x95A5A6, "warning": 0xF39C12, "error": 0xC0392B,
}

# Buttons: custom ids that persistent views (commands.py) route, whatever message they are on.
BUTTON_PREFIX = "vw"

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_MARKDOWN = re.compile(r"([\\*_~`|>#\-\[\]()])")
_ORDERED = re.compile(r"^(\s*\d+)\.", re.M)
_FIRST_SEEN = re.compile(r"first seen (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC")


def escape(text: str) -> str:
    """Feed text for any Discord text field: no control characters, no markdown, no mentions."""
    text = _CONTROL.sub("", str(text))
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _ORDERED.sub(r"\1\\.", text)
    return _unmention(text)


def escape_plain(text: str) -> str:
    """Feed text for a footer, which Discord shows without markdown: only mentions are disarmed."""
    return _unmention(_CONTROL.sub("", str(text)))


def _unmention(text: str) -> str:
    return text.replace("@", "@" + ZWSP).replace("<", "<" + ZWSP)


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis; never a dangling escape backslash."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for an embed or a masked link; anything else is dropped."""
    if not url:
        return None
    url = _CONTROL.sub("", url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    url = quote(url, safe="/:?#[]@!$&'*+,;=%~-._")  # spaces, quotes, brackets of markup percent-encoded
    url = url.replace("(", "%28").replace(")", "%29").replace("[", "%5B").replace("]", "%5D")
    return url if len(url) <= URL_MAX else None


def inline(block: Block) -> str:
    """A paragraph: plain text escaped, bold kept as our own markdown, links as masked links."""
    out = []
    for part in block.parts:
        if isinstance(part, Link):
            url = safe_url(part.url)
            label = escape(part.label).replace("://", ":" + ZWSP + "//") or "link"
            out.append(f"[{label}]({url})" if url else label)
        elif isinstance(part, Strong):
            out.append(f"**{escape(part.text)}**" if part.text.strip() else "")
        else:
            out.append(escape(part))
    return "".join(out)


def colour(accent: str) -> int:
    return COLOURS.get(accent, COLOURS["info"])


def timestamp_of(message: Message) -> str | None:
    """The item's time: `message.timestamp` when the model has one, else the footer's "first seen"."""
    value = getattr(message, "timestamp", None)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    found = _FIRST_SEEN.search(message.footer or "")
    if found:
        return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc).isoformat()
    return None


def render_embed(message: Message) -> dict[str, Any]:
    """One embed within every per-embed limit and the 6,000-character total."""
    budget = EMBED_TOTAL_MAX
    head = f"[{message.flag}] {message.title}" if message.flag else message.title
    title = truncate(escape(head) or "Vendorwatch", TITLE_MAX)
    budget -= len(title)
    embed: dict[str, Any] = {"type": "rich", "title": title, "color": colour(message.accent)}
    url = safe_url(message.url)
    if url:
        embed["url"] = url
    why = [f for f in message.fields if f.name.strip().lower() == "why"]
    fields = [f for f in message.fields if f not in why]
    footer_parts = [f"Why: {f.value}" for f in why] + ([message.footer] if message.footer else [])
    if footer_parts:
        footer = truncate(escape_plain(" \u00b7 ".join(footer_parts)), min(FOOTER_MAX, budget))
        if footer:
            embed["footer"] = {"text": footer}
            budget -= len(footer)
    when = timestamp_of(message)
    if when:
        embed["timestamp"] = when
    description = "\n".join(text for text in (inline(b) for b in message.blocks) if text)
    if description:
        description = truncate(description, min(DESCRIPTION_MAX, max(0, budget - 200)))
        if len(description) > 1:
            embed["description"] = description
            budget -= len(description)
    rendered = []
    for field in fields[:FIELDS_MAX]:
        name = truncate(escape(field.name) or "\u2014", FIELD_NAME_MAX)
        value = truncate(escape(field.value) or "\u2014", FIELD_VALUE_MAX)
        if len(name) + len(value) > budget:
            room = budget - len(name)
            if room < 2:
                break
            value = truncate(value, room)
        rendered.append({"name": name, "value": value, "inline": len(value) <= 40})
        budget -= len(name) + len(value)
    if len(fields) > FIELDS_MAX and rendered:
        last = rendered[-1]
        last["value"] = truncate(last["value"], FIELD_VALUE_MAX - 2) if len(last["value"]) >= FIELD_VALUE_MAX \
            else last["value"]
    if rendered:
        embed["fields"] = rendered
    for attachment in message.attachments:
        if attachment.filename.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".webp")):
            embed["image"] = {"url": f"attachment://{attachment_name(attachment.filename)}"}
            break
    return embed


def attachment_name(filename: str) -> str:
    """A file name Discord keeps as it is (it rewrites anything but letters, digits, `._-`)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100]
    return name or "file"


def components(message: Message) -> list[dict[str, Any]]:
    """The message's buttons (`message.actions`, where the model has them), one action row."""
    buttons = []
    for action in list(getattr(message, "actions", ()) or ())[:5]:
        label = truncate(_CONTROL.sub("", str(action.label)) or action.kind, BUTTON_LABEL_MAX)
        if action.kind == "open":
            url = safe_url(getattr(action, "url", None))
            if url:
                buttons.append({"type": 2, "style": 5, "label": label, "url": url})
            continue
        value = str(getattr(action, "value", "") or "")
        custom_id = f"{BUTTON_PREFIX}:{action.kind}:{value}"
        if len(custom_id) <= CUSTOM_ID_MAX:
            style = 4 if action.kind == "not_relevant" else 2
            buttons.append({"type": 2, "style": style, "label": label, "custom_id": custom_id})
    return [{"type": 1, "components": buttons}] if buttons else []


def render(message: Message) -> dict[str, Any]:
    """The JSON body of a message create: one embed, no pings, the message's buttons."""
    payload: dict[str, Any] = {"embeds": [render_embed(message)][:EMBEDS_MAX], "allowed_mentions": NO_MENTIONS}
    rows = components(message)
    if rows:
        payload["components"] = rows
    return payload


def render_reply(reply: Reply) -> dict[str, Any]:
    """A command's answer: a whole message as an embed, else the text; ephemeral unless public."""
    if reply.message is not None:
        payload = render(reply.message)
        if reply.text:
            payload["content"] = truncate(escape(reply.text), CONTENT_MAX)
    else:
        text = escape(reply.text) or "Done."
        payload = {"content": truncate(("\u26a0\ufe0f " if reply.is_error else "") + text, CONTENT_MAX),
                   "allowed_mentions": NO_MENTIONS}
    if reply.ephemeral:
        payload["flags"] = EPHEMERAL
    return payload
