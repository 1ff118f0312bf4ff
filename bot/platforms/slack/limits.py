"""Slack's 429s, remembered by the adapter: what each one holds, and for how long.

Slack rate-limits every Web API method per workspace (its tier), and chat.postMessage also per
channel (about one message a second) and per workspace. One adapter is one bot token, so one
workspace. From the 429s it gets:

- A 429 on a method other than chat.postMessage holds that method for the workspace until
  Retry-After: later calls of it, in any channel, raise RateLimited without reaching Slack, while
  every other method goes on (a held chat.update does not stop posting). The outbox is told
  scope "channel": the row that met the limit and that channel's later rows wait (the channel
  keeps its order); another channel's row that needs the held method learns of it here, with no
  request.
- A 429 on chat.postMessage is that channel's limit: scope "channel", the outbox holds the
  channel. When WORKSPACE_BURST different channels get one within WORKSPACE_WINDOW_SECONDS, it is
  the workspace-wide limit instead: that 429 is reported with scope "workspace" (its own
  Retry-After), and chat.postMessage is held here for every channel until then. The outbox holds
  every channel of the workspace in the database, so every replica waits (edits and uploads of
  those channels too: the outbox holds channels, not methods).
  Why 3 in 2 s: the outbox paces each channel (SLACK_PACE_SECONDS, 1 s by default) and sends to
  all due channels at once, so the per-channel limit is rare and hits one channel; the workspace
  limit refuses several channels of the same cycle. Two channels can still be bad luck; three
  within one cycle and the next (2 s) are not.

The holds here are in this process; another replica learns of a method's limit from its own
first 429 (the outbox's holds are in the database and cover every replica).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

POST_METHOD = "chat.postMessage"
WORKSPACE_BURST = 3  # channels with a chat.postMessage 429...
WORKSPACE_WINDOW_SECONDS = 2.0  # ...within this many seconds: the workspace-wide limit


class RateLimits:
    """The holds of one workspace: per method, and chat.postMessage workspace-wide."""

    def __init__(self, *, burst: int = WORKSPACE_BURST, window_seconds: float = WORKSPACE_WINDOW_SECONDS):
        self.burst = burst
        self.window = timedelta(seconds=window_seconds)
        self._held: dict[str, datetime] = {}  # method -> held until (chat.postMessage: workspace-wide)
        self._post_429s: deque[tuple[datetime, str]] = deque()  # (when, channel) of recent chat.postMessage 429s

    def held(self, method: str, now: datetime) -> float | None:
        """Seconds `method` is still held for the workspace, or None when it may be called."""
        until = self._held.get(method)
        if until is None:
            return None
        if until <= now:
            del self._held[method]
            return None
        return (until - now).total_seconds()

    def limited(self, method: str, channel: str | None, retry_after: float, now: datetime) -> str:
        """Record a 429 on `method` (in `channel`); returns the scope the outbox should hold."""
        until = now + timedelta(seconds=retry_after)
        if method != POST_METHOD:
            self._hold(method, until)
            return "channel"
        while self._post_429s and now - self._post_429s[0][0] > self.window:
            self._post_429s.popleft()
        self._post_429s.append((now, channel or "?"))
        if len({c for _, c in self._post_429s}) < self.burst:
            return "channel"
        self._post_429s.clear()
        self._hold(method, until)
        return "workspace"

    def _hold(self, method: str, until: datetime) -> None:
        self._held[method] = max(until, self._held.get(method, until))
