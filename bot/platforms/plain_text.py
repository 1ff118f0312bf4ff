"""Plain-text rendering for the console and in-memory platforms.

A terminal has markup of its own: escape sequences. Feed text could carry them (an ESC byte
that recolours, clears or retitles the terminal), so every control character but the newline
is dropped; an overlong line is cut with an ellipsis, as the chat platforms cut theirs.
"""

from __future__ import annotations

import re

from bot.messages import Message

MAX_LINE = 2000
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def clean_line(line: str, limit: int = MAX_LINE) -> str:
    line = _CONTROL.sub("", line)
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


def render_plain(message: Message) -> str:
    return "\n".join(clean_line(line) for line in message.to_text().split("\n"))
