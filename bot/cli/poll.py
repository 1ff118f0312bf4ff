"""`vendorwatch poll --once [--all]`: one poll cycle of every due (or every) feed, then a table.

Progress goes to stderr while the cycle runs (every PROGRESS_EVERY feeds or PROGRESS_SECONDS,
whichever comes first), the table to stdout at the end, then one summary line. Some failed feeds
are counted in the summary and do not change the exit status; when every feed polled failed
(the network is down, a proxy refuses everything) the summary is the error line on stderr, such
as "3 of 3 feeds failed: 2 dns, 1 timeout", and the exit status is 1. No feed due is a success.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, TextIO

from watchers.settings import Settings

if TYPE_CHECKING:
    from watchers.orchestrator import FeedOutcome

PROGRESS_EVERY = 50
PROGRESS_SECONDS = 5.0
NAME_WIDTH = 40


class ProgressLine:
    """Counts outcomes and writes `polled N feeds (E failed, I new items)` now and then."""

    def __init__(self, stream: TextIO, *, every: int = PROGRESS_EVERY, seconds: float = PROGRESS_SECONDS):
        self.stream, self.every, self.seconds = stream, every, seconds
        self.done = self.failed = self.new_items = 0
        self._last_time = time.monotonic()
        self._last_count = 0

    def __call__(self, outcome: FeedOutcome) -> None:
        self.done += 1
        self.failed += outcome.status == "error"
        self.new_items += outcome.new_items
        now = time.monotonic()
        if self.done - self._last_count >= self.every or now - self._last_time >= self.seconds:
            self._last_time, self._last_count = now, self.done
            print(f"polled {self.done} feeds ({self.failed} failed, {self.new_items} new items)",
                  file=self.stream, flush=True)


def _cell(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def format_table(outcomes: list[FeedOutcome]) -> str:
    """One line per feed: id, name, status (with the error kind), new items, next check (UTC)."""
    header = f"{'ID':>6}  {'NAME':<{NAME_WIDTH}}  {'STATUS':<22}  {'NEW':>5}  NEXT CHECK (UTC)"
    lines = [header]
    for outcome in sorted(outcomes, key=lambda o: o.feed_id):
        status = outcome.status
        if outcome.status == "error":
            status = f"error: {outcome.error_kind}"
            if outcome.http_status:
                status += f" {outcome.http_status}"
        when = outcome.next_check_at.strftime("%Y-%m-%d %H:%M:%S") if outcome.next_check_at else "-"
        lines.append(f"{outcome.feed_id:>6}  {_cell(outcome.name or outcome.url, NAME_WIDTH):<{NAME_WIDTH}}  "
                     f"{_cell(status, 22):<22}  {outcome.new_items:>5}  {when}")
    return "\n".join(lines)


def failure_kinds(outcomes: list[FeedOutcome]) -> str:
    """`2 dns, 1 timeout`: the failed feeds by error kind, most common first."""
    kinds = Counter((o.error_kind or "unknown").replace("_", " ") for o in outcomes if o.status == "error")
    return ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))


def summary_line(outcomes: list[FeedOutcome]) -> str:
    failed = sum(o.status == "error" for o in outcomes)
    unchanged = sum(o.status == "not_modified" for o in outcomes)
    new = sum(o.new_items for o in outcomes)
    why = f" ({failure_kinds(outcomes)})" if failed else ""
    return (f"{len(outcomes)} feeds polled: {len(outcomes) - failed - unchanged} changed, {unchanged} not modified, "
            f"{failed} failed{why}; {new} new items")


def all_failed_line(outcomes: list[FeedOutcome]) -> str | None:
    """The error line when every feed polled failed, else None."""
    if not outcomes or any(o.status != "error" for o in outcomes):
        return None
    return f"{len(outcomes)} of {len(outcomes)} feeds failed: {failure_kinds(outcomes)}"


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from watchers.orchestrator import Orchestrator
    from watchers.storage.db import make_engine, upgrade

    await upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    orchestrator = Orchestrator(settings, engine)
    try:
        outcomes = await orchestrator.poll_due(everything=bool(getattr(args, "all", False)),
                                               progress=ProgressLine(sys.stderr))
    finally:
        await orchestrator.aclose()
        await engine.dispose()
    if outcomes:
        print(format_table(outcomes), flush=True)
    failure = all_failed_line(outcomes)
    if failure is not None:
        print(f"vendorwatch: {failure}", file=sys.stderr)
        return 1
    print(summary_line(outcomes) if outcomes else "no feeds due")
    return 0
