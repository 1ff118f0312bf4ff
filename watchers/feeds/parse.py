"""Feed parsing in a pool of persistent worker processes, each parse under a time limit.

feedparser is pure Python and has inputs that take seconds (the author e-mail regex of feedparser
issue #562 takes over a second per 16 KB <author>, per item). A thread cannot be stopped, so each
parse runs in a worker process: when a parse passes `timeout_seconds` its worker is killed
(SIGKILL) and a new one is started in the background, and the caller gets
ParseError("parse_timeout"). Workers are long-lived (one per slot, not one per feed) and talk
over their stdin/stdout with length-prefixed pickles, fully async.

They are plain `python -m watchers.feeds.parse_worker` subprocesses rather than multiprocessing
children, so no caller's __main__ module is ever re-imported in them. Each runs under an
address-space limit, so a memory bomb fails inside the worker and not in the bot.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import struct
import sys
from pathlib import Path
from typing import Any

from watchers.models import ParsedFeed

log = logging.getLogger(__name__)

WORKER_MEMORY_LIMIT_BYTES = 1536 * 1024 * 1024
RESPAWN_DELAY_SECONDS = 1.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


class ParseError(Exception):
    """A body that gave no feed: kind is "not_a_feed" or "parse_timeout"."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process

    @classmethod
    async def start(cls) -> "_Worker":
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "watchers.feeds.parse_worker", str(WORKER_MEMORY_LIMIT_BYTES),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env)
        worker = cls(process)
        try:
            async with asyncio.timeout(60):
                await process.stdout.readexactly(1)  # type: ignore[union-attr]
        except BaseException:
            await worker.kill()
            raise
        return worker

    @property
    def pid(self) -> int:
        return self.process.pid

    async def call(self, job: tuple[bytes, str | None, str], timeout: float) -> tuple[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        self.process.stdin.write(struct.pack(">Q", len(payload)) + payload)
        async with asyncio.timeout(timeout):
            await self.process.stdin.drain()
            (size,) = struct.unpack(">Q", await self.process.stdout.readexactly(8))
            reply = await self.process.stdout.readexactly(size)
        return pickle.loads(reply)

    async def kill(self) -> None:
        """Stop at once (the worker may be stuck in a regex) and reap it."""
        if self.process.returncode is None:
            try:
                self.process.kill()
            except ProcessLookupError:
                pass
        await self.process.wait()

    async def stop(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            async with asyncio.timeout(2):
                await self.process.wait()
        except TimeoutError:
            pass
        await self.kill()


class FeedParser:
    """`parse` runs one body through a free worker; at most `workers` parses run at once."""

    def __init__(self, workers: int, timeout_seconds: float):
        self._size = max(1, workers)
        self._timeout = timeout_seconds
        self._idle: asyncio.Queue[_Worker] | None = None
        self._workers: set[_Worker] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._first: list[asyncio.Task[None]] = []
        self._closed = False

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        return sorted(w.pid for w in self._workers)

    def _start(self) -> asyncio.Queue[_Worker]:
        if self._idle is None:
            self._idle = asyncio.Queue()
            self._first = [self._in_background(self._spawn()) for _ in range(self._size)]
        return self._idle

    async def start(self) -> None:
        """Start the workers and wait until all are ready (optional: `parse` starts them too)."""
        self._start()
        await asyncio.gather(*self._first, return_exceptions=True)

    def _in_background(self, coro: Any) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _spawn(self) -> None:
        """Start one worker (off the loop: process start blocks) and make it available."""
        while not self._closed:
            try:
                worker = await _Worker.start()
            except Exception:  # noqa: BLE001 - e.g. out of processes; try again soon
                log.exception("cannot start a parse worker; retrying")
                await asyncio.sleep(RESPAWN_DELAY_SECONDS)
                continue
            if self._closed:
                await worker.stop()
                return
            self._workers.add(worker)
            assert self._idle is not None
            self._idle.put_nowait(worker)
            return

    async def _retire(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        await worker.kill()

    async def parse(self, body: bytes, *, content_type: str | None, url: str) -> ParsedFeed:
        if self._closed:
            raise RuntimeError("FeedParser is closed")
        worker = await self._start().get()
        while worker.process.returncode is not None:  # died while idle (OOM killer, operator): not this feed's fault
            self._in_background(self._replace(worker))
            worker = await self._start().get()
        healthy = False
        try:
            kind, value = await worker.call((body, content_type, url), self._timeout)
            healthy = True
        except TimeoutError:
            raise ParseError("parse_timeout", f"parsing took longer than {self._timeout:g} s; "
                                              "the parser was stopped") from None
        except (asyncio.IncompleteReadError, EOFError, OSError, pickle.UnpicklingError) as exc:
            raise ParseError("not_a_feed", f"the parser process died on this feed ({exc.__class__.__name__})") from None
        finally:
            if healthy:
                self._idle.put_nowait(worker)  # type: ignore[union-attr]
            else:  # timed out, died, or the caller was cancelled mid-parse: replace the worker
                self._in_background(self._replace(worker))
        if kind == "ok":
            return value
        raise ParseError("not_a_feed", str(value))

    async def _replace(self, worker: _Worker) -> None:
        await self._retire(worker)
        await self._spawn()

    async def aclose(self) -> None:
        self._closed = True
        if self._tasks:  # let starting workers finish starting, so that they are stopped, not orphaned
            _done, pending = await asyncio.wait(list(self._tasks), timeout=10)
            for task in pending:
                task.cancel()
        workers, self._workers = list(self._workers), set()
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
