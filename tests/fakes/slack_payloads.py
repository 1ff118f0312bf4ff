"""Parameter parsing and message-content checks as the Slack Web API makes them.

Models: form and JSON values alike (JSON-encoded `blocks`, `attachments`, `metadata`, `files`
in form bodies; "1"/"true" flags), `no_text`, `msg_too_long` (40,000 characters),
`invalid_blocks` (not a list of objects, an unknown type, more than 50 blocks, or a block that
slack-sdk's own Block Kit models reject: section text 3,000, 10 fields, header 150, context 10
elements, actions 25 elements, ...), `invalid_attachments` and `invalid_metadata_format`.

Not modelled: Slack's exact JSON-pointer wording in `errors`, `invalid_blocks_format`, block
kinds slack-sdk does not know, attachment field limits, metadata size limits, mrkdwn parsing.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from tests.fakes.slack_state import SlackError

MAX_TEXT = 40_000
MAX_BLOCKS = 50
JSON_FIELDS = ("blocks", "attachments", "metadata", "files")


def decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Form bodies carry structured values as JSON strings; decode them (bad JSON stays a string)."""
    out = dict(params)
    for name in JSON_FIELDS:
        if isinstance(out.get(name), str):
            try:
                out[name] = json.loads(out[name])
            except ValueError:
                pass
    return out


def flag(params: dict[str, Any], name: str) -> bool:
    return str(params.get(name, "")).lower() in ("1", "true")


def limit(params: dict[str, Any], default: int, most: int) -> int:
    try:
        wanted = int(params.get("limit") or default)
    except ValueError:
        raise SlackError("invalid_limit") from None
    return max(1, min(wanted, most))


def message_content(params: dict[str, Any]) -> dict[str, Any]:
    """The content fields present in `params`, each checked."""
    fields: dict[str, Any] = {}
    if params.get("text") is not None:
        fields["text"] = str(params["text"])
        if len(fields["text"]) > MAX_TEXT:
            raise SlackError("msg_too_long")
    if params.get("blocks") is not None:
        fields["blocks"] = check_blocks(params["blocks"])
    if params.get("attachments") is not None:
        fields["attachments"] = check_attachments(params["attachments"])
    if params.get("metadata") is not None:
        fields["metadata"] = check_metadata(params["metadata"])
    return fields


def require_content(message: dict[str, Any]) -> None:
    if not (message.get("text") or message.get("blocks") or message.get("attachments")):
        raise SlackError("no_text")


def check_blocks(blocks: Any) -> list[dict[str, Any]]:
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise SlackError("invalid_blocks", errors=["must be an array of block objects [json-pointer:/blocks]"])
    if len(blocks) > MAX_BLOCKS:
        raise SlackError("invalid_blocks", errors=[f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]"])
    for index, raw in enumerate(blocks):
        problem = _block_problem(raw)
        if problem:
            raise SlackError("invalid_blocks", errors=[f"{problem} [json-pointer:/blocks/{index}]"])
    return blocks


def _block_problem(raw: dict[str, Any]) -> str | None:
    try:
        block = Block.parse(raw)
        if block is None:
            return f"unknown block type {raw.get('type')!r}"
        block.validate_json()
    except SlackObjectFormationError as exc:
        return str(exc)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        return f"malformed block: {exc}"
    return None


def check_attachments(attachments: Any) -> list[dict[str, Any]]:
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        raise SlackError("invalid_attachments")
    return attachments


def check_metadata(metadata: Any) -> dict[str, Any]:
    if (not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str)
            or not metadata["event_type"] or not isinstance(metadata.get("event_payload", {}), dict)):
        raise SlackError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": metadata.get("event_payload", {})}
