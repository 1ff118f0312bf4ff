"""Neutral `Message`s and `Reply`s as Slack Block Kit, with a plain `text` fallback.

Every string of a Message may be feed text. Slack reads `&`, `<` and `>` as markup (mentions,
broadcasts, `<url|label>` links) in mrkdwn and in the `text` fallback, so all three are escaped
everywhere, plain_text objects included (Slack shows the entities as the characters). Feed text
is put in plain_text objects wherever Block Kit allows it (header, paragraphs without links,
footer, buttons); where mrkdwn is needed (a paragraph with links or bold text, fields, the
fallback), the formatting markers `*`, `_`, `~` and the backtick in feed text are fenced by
zero-width spaces so that they stay literal characters.

Slack's limits are met by truncation with an ellipsis, never by an API error: 50 blocks, 3,000
characters a section, 150 a header, 2,000 a field or context element, 10 fields a section, 10
elements a context block, 25 buttons, 75 a button label, 40,000 the text. Lengths count the
escaped text, which is what Slack counts; an entity is never cut in half.
"""

from __future__ import annotations

import re
from typing import Any, Iterable
from urllib.parse import quote, urlsplit

from bot.messages import Block, Link, Message, Reply, Strong

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_ELEMENT = 2000
MAX_TEXT = 40_000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTONS = 25
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
ELLIPSIS = "\u2026"
ZWSP = "\u200b"
ERROR_PREFIX = ":warning: "

# Button action ids, as the interactivity handlers (commands.py) register them.
ACTION_IDS = {"open": "vendorwatch_open", "mute": "vendorwatch_mute", "not_relevant": "vendorwatch_not_relevant"}

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_MARKERS = re.compile(r"[*_~`]")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")


def escape(text: str) -> str:
    """Feed text for any Slack text field: control characters dropped, `& < >` as entities."""
    text = _CONTROL.sub("", str(text))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_mrkdwn(text: str) -> str:
    """Feed text for a mrkdwn field: escaped, and its formatting markers kept literal."""
    return _MARKERS.sub(lambda m: f"{ZWSP}{m.group(0)}{ZWSP}", escape(text))


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, never inside an entity or link."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    tail = _ENTITY_TAIL.search(cut)
    if tail:
        cut = cut[: tail.start()]
    open_link = cut.rfind("<")
    if open_link > cut.rfind(">"):  # never leave half of a `<url|label>` of ours
        cut = cut[:open_link]
    return cut + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for `<url|label>` and button urls, or None."""
    if not url:
        return None
    url = _CONTROL.sub("", str(url)).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
        return None
    # `|`, `<`, `>` and spaces would end the link early: percent-encode them; `&` becomes &amp;.
    return quote(url, safe="/:?#[]@!$&'()*+,;=%~-._").replace("&", "&amp;")


def _link(url: str, label: str) -> str | None:
    target = safe_url(url)
    if target is None:
        return None
    return f"<{target}|{escape_mrkdwn(label) or target}>"


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(escape(text), limit) or " ", "emoji": False}


def _mrkdwn(text: str, limit: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, limit) or " ", "verbatim": True}


def _paragraph(block: Block, limit: int = MAX_SECTION) -> dict[str, Any]:
    """A section of one neutral paragraph: plain_text when it has no links or bold text."""
    if all(isinstance(part, str) for part in block.parts):
        return {"type": "section", "text": _plain("".join(block.parts), limit)}  # type: ignore[arg-type]
    out, used = [], 0
    for part in block.parts:
        if isinstance(part, Link):
            piece = _link(part.url, part.label) or escape_mrkdwn(f"{part.label} ({part.url})")
        elif isinstance(part, Strong):
            piece = f"*{escape_mrkdwn(part.text)}*" if part.text.strip() else escape_mrkdwn(part.text)
        else:
            piece = escape_mrkdwn(part)
        if used + len(piece) > limit - 1:  # one character kept for the ellipsis
            if not isinstance(part, Link) and not isinstance(part, Strong):
                out.append(truncate(piece, limit - used))
            else:
                out.append(ELLIPSIS)
            break
        out.append(piece)
        used += len(piece)
    return {"type": "section", "text": _mrkdwn("".join(out), limit)}


def _fields(message: Message) -> list[dict[str, Any]]:
    sections = []
    fields = list(message.fields)
    for start in range(0, len(fields), MAX_FIELDS):
        chunk = fields[start:start + MAX_FIELDS]
        sections.append({"type": "section", "fields": [
            _mrkdwn(f"*{truncate(escape_mrkdwn(f.name), 200)}*\n{escape_mrkdwn(f.value)}", MAX_ELEMENT)
            for f in chunk]})
    return sections


def _actions(message: Message) -> dict[str, Any] | None:
    actions = tuple(getattr(message, "actions", ()) or ())
    buttons = []
    for action in actions[:MAX_BUTTONS]:
        kind = getattr(action, "kind", "")
        if kind not in ACTION_IDS:
            continue
        button: dict[str, Any] = {"type": "button", "action_id": f"{ACTION_IDS[kind]}:{len(buttons)}",
                                  "text": _plain(getattr(action, "label", kind) or kind, MAX_BUTTON_LABEL)}
        url = getattr(action, "url", None)
        if kind == "open":
            target = safe_url(url)
            if target is None:
                continue
            button["url"] = target.replace("&amp;", "&")  # a JSON field, not mrkdwn
        value = getattr(action, "value", None)
        if value:
            button["value"] = str(value)[:MAX_BUTTON_VALUE]
        buttons.append(button)
    return {"type": "actions", "block_id": "vendorwatch_actions", "elements": buttons} if buttons else None


def render_blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if message.flag:
        blocks.append({"type": "context", "elements": [_plain(message.flag.upper(), MAX_ELEMENT)]})
    blocks.append({"type": "header", "text": _plain(message.title or " ", MAX_HEADER)})
    link = _link(message.url, urlsplit(message.url).netloc or "the article") if message.url else None
    if link:
        blocks.append({"type": "section", "text": _mrkdwn(f":link: {link}", MAX_SECTION)})
    blocks.extend(_paragraph(block) for block in message.blocks)
    blocks.extend(_fields(message))
    tail = []
    if message.footer:
        tail.append({"type": "context", "elements": [_plain(message.footer, MAX_ELEMENT)]})
    actions = _actions(message)
    if actions:
        tail.append(actions)
    room = MAX_BLOCKS - len(tail)
    if len(blocks) > room:
        left = len(blocks) - (room - 1)
        blocks = blocks[: room - 1] + [{"type": "context", "elements": [
            _plain(f"{ELLIPSIS} {left} more not shown", MAX_ELEMENT)]}]
    return blocks + tail


def render_text(message: Message) -> str:
    """The `text` fallback (notifications, screen readers): mrkdwn-safe, at most 40,000 characters."""
    head = f"[{message.flag}] {message.title}" if message.flag else message.title
    lines = [escape_mrkdwn(head)]
    if safe_url(message.url):
        lines.append(safe_url(message.url) or "")
    lines.extend(escape_mrkdwn(_block_plain(block)) for block in message.blocks)
    lines.extend(escape_mrkdwn(f"{f.name}: {f.value}") for f in message.fields)
    if message.footer:
        lines.append(escape_mrkdwn(message.footer))
    return truncate("\n".join(lines), MAX_TEXT)


def _block_plain(block: Block) -> str:
    return "".join(part.label if isinstance(part, Link) else part.text if isinstance(part, Strong) else part
                   for part in block.parts)


def render_message(message: Message) -> dict[str, Any]:
    """What chat.postMessage / chat.update take: `text` and `blocks`."""
    return {"text": render_text(message), "blocks": render_blocks(message)}


def render_reply(reply: Reply) -> dict[str, Any]:
    """A command's answer as a slash-command response body (without response_type)."""
    if reply.message is not None:
        payload = render_message(reply.message)
        if reply.text:
            payload["blocks"] = ([{"type": "section", "text": _plain(reply.text, MAX_SECTION)}]
                                 + payload["blocks"])[:MAX_BLOCKS]
        return payload
    text = reply.text or " "
    chunks = list(_chunks(text, MAX_SECTION - 20))[:MAX_BLOCKS]
    prefix = ERROR_PREFIX if reply.is_error else ""
    blocks = [{"type": "section", "text": _plain(chunk, MAX_SECTION)} for chunk in chunks]
    if prefix:
        blocks.insert(0, {"type": "context", "elements": [{"type": "mrkdwn", "text": ":warning: error"}]})
        blocks = blocks[:MAX_BLOCKS]
    return {"text": truncate(prefix + escape_mrkdwn(text), MAX_TEXT), "blocks": blocks}


def _chunks(text: str, size: int) -> Iterable[str]:
    """Pieces of at most `size` escaped characters, split at line ends where possible."""
    piece = ""
    for line in text.split("\n"):
        candidate = f"{piece}\n{line}" if piece else line
        if len(escape(candidate)) <= size:
            piece = candidate
            continue
        if piece:
            yield piece
        while len(escape(line)) > size:
            yield line[: size // 5]
            line = line[size // 5:]
        piece = line
    if piece or not text:
        yield piece
