"""What Slack sends to an app over HTTP: signed request headers and the bodies of slash commands
and block_actions interactions.

`signed_headers` computes `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">` as Slack
does. The body builders return the form-encoded bytes Slack POSTs (`payload=<json>` for
interactions); the `*_fields` / `*_payload` variants return the same content as a dict, which is
what a Socket Mode envelope carries.

No default response_url: pass one from `FakeSlack.response_url()` so nothing can reach Slack.
Not modelled: the deprecated verification `token` is a fixed dummy; enterprise fields, view
submissions, shortcuts, the Events API envelope.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

DUMMY_VERIFICATION_TOKEN = "fake-verification-token"


def signature(body: bytes, secret: str, timestamp: int) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds to a request with this raw body (timestamp: now by default)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature(body, secret, timestamp)}


def new_trigger_id() -> str:
    return f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**11)}.{secrets.token_hex(16)}"


def slash_command_fields(command: str = "/vendorwatch", text: str = "", *, channel_id: str = "C0FAKE0001",
                         user_id: str = "U0FAKEUSR1", team_id: str = "T0FAKE0001", response_url: str,
                         trigger_id: str | None = None, channel_name: str = "general",
                         user_name: str = "someone", team_domain: str = "vendorwatch-test",
                         api_app_id: str = "A0FAKEAPP1") -> dict[str, str]:
    """A slash command's fields, all strings, in the order Slack sends them."""
    return {"token": DUMMY_VERIFICATION_TOKEN, "team_id": team_id, "team_domain": team_domain,
            "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id, "user_name": user_name,
            "command": command, "text": text, "api_app_id": api_app_id, "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": trigger_id or new_trigger_id()}


def slash_command_body(command: str = "/vendorwatch", text: str = "", **fields: Any) -> bytes:
    """The form-encoded body of a slash command (see slash_command_fields for the keywords)."""
    return urlencode(slash_command_fields(command, text, **fields)).encode()


def block_actions_payload(action_id: str, value: str, *, channel_id: str = "C0FAKE0001",
                          user_id: str = "U0FAKEUSR1", message_ts: str, response_url: str,
                          team_id: str = "T0FAKE0001", block_id: str = "actions",
                          api_app_id: str = "A0FAKEAPP1") -> dict[str, Any]:
    """A block_actions interaction: one button clicked on a message."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": api_app_id, "token": DUMMY_VERIFICATION_TOKEN,
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False},
        "trigger_id": new_trigger_id(), "team": {"id": team_id, "domain": "vendorwatch-test"},
        "enterprise": None, "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "general"},
        "message": {"type": "message", "ts": message_ts, "text": ""},
        "state": {"values": {}}, "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": block_id, "value": value, "type": "button",
                     "text": {"type": "plain_text", "text": value}, "action_ts": f"{time.time():.6f}"}],
    }


def block_actions_body(action_id: str, value: str, channel_id: str = "C0FAKE0001", user_id: str = "U0FAKEUSR1",
                       *, message_ts: str, response_url: str, **more: Any) -> bytes:
    """The form-encoded body of a block_actions interaction: `payload=<json>`."""
    payload = block_actions_payload(action_id, value, channel_id=channel_id, user_id=user_id,
                                    message_ts=message_ts, response_url=response_url, **more)
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
