"""The Slack app manifests in deploy/slack/ parse, and declare what the adapter uses.

The bot scopes are derived from the Web API methods bot/platforms/slack/ calls (every
`self.client.<method>(` and `platform.client.<method>(` in its source, mapped through
METHOD_SCOPES), plus `commands` for the slash command: a manifest that lacks one breaks a
feature with missing_scope, one that has more asks a workspace for access the bot never uses.
A method called but absent from METHOD_SCOPES fails the test, so that a new call gets its scope
decided here and in both manifests.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = {"http": ROOT / "deploy/slack/manifest.yml", "socket": ROOT / "deploy/slack/manifest-socket-mode.yml"}
SLACK_SOURCES = sorted((ROOT / "bot/platforms/slack").glob("*.py"))

# slack-sdk client method -> the bot scopes it needs (https://api.slack.com/methods).
METHOD_SCOPES: dict[str, set[str]] = {
    "auth_test": set(),
    "apps_connections_open": set(),  # the app-level token's connections:write, not a bot scope
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "conversations_info": {"channels:read", "groups:read"},  # public and private channels
    "conversations_join": {"channels:join"},
    "conversations_history": {"channels:history", "groups:history"},
    "conversations_replies": {"channels:history", "groups:history"},
    "files_upload_v2": {"files:write"},  # files.getUploadURLExternal + files.completeUploadExternal
    "users_info": {"users:read"},
}
EXPECTED_SCOPES = {"chat:write", "commands", "channels:read", "groups:read", "channels:join", "channels:history",
                   "groups:history", "files:write", "users:read"}


def load(variant: str) -> dict[str, Any]:
    manifest = yaml.safe_load(MANIFESTS[variant].read_text(encoding="utf-8"))
    assert isinstance(manifest, dict), f"{MANIFESTS[variant].name} is not a mapping"
    return manifest


def called_methods() -> set[str]:
    found: set[str] = set()
    for path in SLACK_SOURCES:
        found |= set(re.findall(r"(?<![\w.])(?:self|platform)\.client\.(\w+)\(", path.read_text(encoding="utf-8")))
    return found


def adapter_scopes() -> set[str]:
    methods = called_methods()
    unknown = methods - set(METHOD_SCOPES)
    assert not unknown, f"bot/platforms/slack/ calls {sorted(unknown)}: add their scopes to METHOD_SCOPES"
    scopes = {"commands"} if any("@app.command(" in p.read_text(encoding="utf-8") for p in SLACK_SOURCES) else set()
    for method in methods:
        scopes |= METHOD_SCOPES[method]
    return scopes


def test_the_adapter_calls_the_methods_we_map() -> None:
    methods = called_methods()
    assert {"chat_postMessage", "chat_update", "conversations_history", "conversations_join", "users_info",
            "files_upload_v2"} <= methods, methods
    assert adapter_scopes() == EXPECTED_SCOPES


@pytest.mark.parametrize("variant", sorted(MANIFESTS))
def test_manifest_declares_the_slash_command_and_interactivity(variant: str) -> None:
    manifest = load(variant)
    assert manifest["display_information"]["name"] == "Vendorwatch"
    assert manifest["features"]["bot_user"]["display_name"]
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/vendorwatch"]
    assert commands[0]["description"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


@pytest.mark.parametrize("variant", sorted(MANIFESTS))
def test_manifest_requests_exactly_the_bot_scopes_the_adapter_needs(variant: str) -> None:
    scopes = load(variant)["oauth_config"]["scopes"]
    assert set(scopes) == {"bot"}, "no user scopes: the bot acts with its bot token only"
    bot = scopes["bot"]
    assert len(bot) == len(set(bot)), f"a scope listed twice: {bot}"
    assert set(bot) == adapter_scopes()


def test_http_manifest_sends_commands_and_clicks_to_slack_events() -> None:
    manifest = load("http")
    assert manifest["settings"]["socket_mode_enabled"] is False
    urls = [manifest["features"]["slash_commands"][0]["url"], manifest["settings"]["interactivity"]["request_url"]]
    for url in urls:
        assert url.startswith("https://") and url.endswith("/slack/events"), url


def test_socket_mode_manifest_enables_socket_mode_and_has_no_request_urls() -> None:
    manifest = load("socket")
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert "request_url" not in manifest["settings"]["interactivity"]


def test_the_two_manifests_differ_only_in_how_slack_reaches_the_bot() -> None:
    http, socket = load("http"), load("socket")
    del http["features"]["slash_commands"][0]["url"], http["settings"]["interactivity"]["request_url"]
    http["settings"]["socket_mode_enabled"] = True
    assert http == socket
