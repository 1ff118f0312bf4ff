"""Discord's size limits on a message payload, reported the way Discord reports them.

`message_errors(payload)` returns the `errors` tree of a 400 "Invalid Form Body" (code 50035),
or an empty dict. Modelled: content 2,000; 10 embeds; title 256; description 4,096; 25 fields
(name 256, value 1,024); footer 2,048; author name 256; 6,000 characters over all embeds; nonce
25. Not modelled: components, polls, stickers, attachment sizes, URL and colour validation.
"""

from __future__ import annotations

from typing import Any

CONTENT_MAX = 2000
EMBEDS_MAX = 10
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_NAME_MAX = 256
EMBED_TOTAL_MAX = 6000
NONCE_MAX = 25


def _too_long(limit: int) -> dict[str, Any]:
    return {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}]}


def _check_length(errors: dict[str, Any], key: str, value: Any, limit: int) -> None:
    if value is not None and len(str(value)) > limit:
        errors[key] = _too_long(limit)


def _embed_text(embed: dict[str, Any]) -> int:
    parts = [embed.get("title"), embed.get("description"),
             (embed.get("footer") or {}).get("text"), (embed.get("author") or {}).get("name")]
    for field in embed.get("fields") or []:
        parts += [field.get("name"), field.get("value")]
    return sum(len(str(part)) for part in parts if part)


def _embed_errors(embed: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    _check_length(errors, "title", embed.get("title"), TITLE_MAX)
    _check_length(errors, "description", embed.get("description"), DESCRIPTION_MAX)
    footer = embed.get("footer") or {}
    if footer.get("text") is not None and len(footer["text"]) > FOOTER_MAX:
        errors["footer"] = {"text": _too_long(FOOTER_MAX)}
    author = embed.get("author") or {}
    if author.get("name") is not None and len(author["name"]) > AUTHOR_NAME_MAX:
        errors["author"] = {"name": _too_long(AUTHOR_NAME_MAX)}
    fields = embed.get("fields") or []
    if len(fields) > FIELDS_MAX:
        errors["fields"] = _too_long(FIELDS_MAX)
    field_errors: dict[str, Any] = {}
    for index, field in enumerate(fields):
        one: dict[str, Any] = {}
        _check_length(one, "name", field.get("name"), FIELD_NAME_MAX)
        _check_length(one, "value", field.get("value"), FIELD_VALUE_MAX)
        if one:
            field_errors[str(index)] = one
    if field_errors and "fields" not in errors:
        errors["fields"] = field_errors
    return errors


def message_errors(payload: dict[str, Any]) -> dict[str, Any]:
    """The `errors` tree Discord would answer for this message payload ({} when valid)."""
    errors: dict[str, Any] = {}
    _check_length(errors, "content", payload.get("content"), CONTENT_MAX)
    _check_length(errors, "nonce", payload.get("nonce"), NONCE_MAX)
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        errors["embeds"] = _too_long(EMBEDS_MAX)
        return errors
    per_embed = {str(i): found for i, embed in enumerate(embeds) if (found := _embed_errors(embed))}
    if per_embed:
        errors["embeds"] = per_embed
    elif sum(_embed_text(embed) for embed in embeds) > EMBED_TOTAL_MAX:
        errors["embeds"] = {"_errors": [{"code": "MAX_EMBED_SIZE_EXCEEDED",
                                         "message": f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}"}]}
    return errors


def is_empty(payload: dict[str, Any], has_files: bool) -> bool:
    """True when Discord would refuse the message as empty (code 50006)."""
    keys = ("content", "embeds", "components", "sticker_ids", "poll")
    return not has_files and not any(payload.get(key) for key in keys)
