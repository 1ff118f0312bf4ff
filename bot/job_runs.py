"""The scheduler's job runs, ended before what they use is closed.

APScheduler's AsyncIOExecutor runs each job as a task, and at the scheduler's shutdown it cancels
the tasks under way and forgets them: its shutdown is not a coroutine, it cannot wait. A run
cancelled mid-query is then still handing its connection back when the engine is disposed, and
is cancelled a second time when the event loop closes. With aiosqlite that second cancellation
strands SQLAlchemy's close of the connection (aiosqlite's thread stops on the forced stop before
the close queues its own, whose future is never answered) and the loop's close waits for it
forever: the teardown hang of a run whose poll tick was cancelled.

`JobRuns` is that executor keeping its runs until they end; `end_runs` lets runs finish within a
grace period, cancels the rest once and waits for them to end.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Iterable

from apscheduler.executors.asyncio import AsyncIOExecutor

log = logging.getLogger("vendorwatch.app")

CANCELLED_RUN_SECONDS = 3.0  # a cancelled run ends once its query under way returns


def cancel_once(run: asyncio.Future[Any]) -> None:
    """Cancel a run unless a cancellation is already on its way (never twice: see above)."""
    if run.done() or (isinstance(run, asyncio.Task) and run.cancelling()):
        return
    run.cancel()


class JobRuns(AsyncIOExecutor):
    """APScheduler's asyncio executor, whose runs under way can be awaited, even after its shutdown."""

    def shutdown(self, wait: bool = True) -> None:
        """Cancel the runs under way, once each, and keep them until they end (for `end_runs`)."""
        for run in list(getattr(self, "_pending_futures", ())):
            cancel_once(run)  # a run drops out of _pending_futures when it ends

    def under_way(self) -> set[asyncio.Future[Any]]:
        """The runs not ended yet, those cancelled included (none before the scheduler starts)."""
        return {run for run in getattr(self, "_pending_futures", ()) if not run.done()}


async def end_runs(runs: Iterable[asyncio.Future[Any]], grace_seconds: float) -> None:
    """Let `runs` finish within the grace period, cancel the rest once and wait for them to end."""
    pending = {run for run in runs if not run.done()}
    if pending:
        _done, pending = await asyncio.wait(pending, timeout=grace_seconds)
    if not pending:
        return
    log.warning("jobs still under way after the grace period are cancelled", extra={"count": len(pending)})
    for run in pending:
        cancel_once(run)
    _done, stuck = await asyncio.wait(pending, timeout=CANCELLED_RUN_SECONDS)
    if stuck:
        log.error("cancelled jobs did not end; closing without them", extra={"count": len(stuck)})
