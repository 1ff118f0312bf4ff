"""The `--channel PLATFORM:CHANNEL_ID` argument of `chat` and `digest`."""

from __future__ import annotations

import re

from watchers.errors import UsageError

PLATFORMS = ("slack", "discord", "console", "memory")
_CHANNEL_ARG = re.compile(r"^([a-z]+):(\S{1,100})$")


def parse_channel_arg(text: str) -> tuple[str, str]:
    """`PLATFORM:CHANNEL_ID` -> (platform, channel id); a usage error otherwise."""
    match = _CHANNEL_ARG.match(text.strip())
    if not match or match.group(1) not in PLATFORMS:
        raise UsageError(f"--channel {text!r} must be PLATFORM:CHANNEL_ID with PLATFORM one of "
                         f"{', '.join(PLATFORMS)} (for example slack:C0123456)")
    return match.group(1), match.group(2)
