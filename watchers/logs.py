"""Structured logs: one line per record, `key=value` pairs with fixed field names.

Pass context through `extra=` with the fixed names (`feed_id`, `feed_url`, `story_id`,
`channel`, `platform`, and a few more such as `error_kind`); they are printed after the message.
"""

from __future__ import annotations

import json
import logging
import sys

FIELDS = ("feed_id", "feed_url", "story_id", "item_id", "channel", "platform", "error_kind", "status",
          "elapsed_ms", "count", "company")


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"ts={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')}",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={json.dumps(record.getMessage(), ensure_ascii=False)}",
        ]
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                text = value if isinstance(value, (int, float)) else json.dumps(str(value), ensure_ascii=False)
                parts.append(f"{name}={text}")
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
