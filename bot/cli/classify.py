"""`vendorwatch classify [PATH|-] [--companies PATH] [--explain]`: JSONL news items in, results out.

Each input line is `{"title": str, "summary": str?, "source": str?, "link": str?, ...}`; each
output line, in input order, is `{"companies": [...], "events": [...]}`, or `{"error": "..."}`
for a line that is not a JSON object with a string title (the run goes on; exit status 1 at the
end). Input is read as a stream and output written one flush per batch, so a long file or a
pipe costs constant memory. `--explain` prints, for a person, why each event was found.
A malformed rules or companies file is a usage error (exit 2) naming file, line and reason.

From the second batch on, batches are classified by a pool of forked worker processes: one per
CPU the process may use, or CLASSIFY_WORKERS (classifying is pure computation, and the forked workers
share the engine copy-on-write). Output stays in input order, at most two batches a worker are in
flight, and a single batch never starts the pool. Where fork is unavailable, or with one CPU, one
process does it all; a worker killed from outside ends the run with an error.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import sys
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import BinaryIO, Iterator

import orjson

from watchers.rules.classify import RulesEngine
from watchers.errors import UsageError

BATCH_LINES = 512
_KEEP_EMPTY = frozenset({"counterparty"})  # the contract's events always name one, null when none
_stdlib_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def _dumps(value: dict) -> bytes:
    """One output line. orjson does the JSON (several times faster than the standard library: the
    I/O was a third of the CLI's time); text orjson refuses (lone surrogates from an escaped input
    string) is written by the standard library, escaped."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _stdlib_dumps(value).encode("ascii")


def _item(line: bytes, number: int) -> dict | str:
    """The parsed item, or the reason it cannot be classified. orjson parses, and the standard library
    what orjson refuses but JSON allows (integers beyond 64 bits, escaped lone surrogates), so that
    the same lines are accepted as before."""
    if not line.strip():
        return f"line {number}: empty line, expected a JSON object"
    try:
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError:
            item = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return f"line {number}: not valid JSON ({str(exc).split(':')[0]})"
    if not isinstance(item, dict):
        return f"line {number}: expected a JSON object, got {type(item).__name__}"
    if not isinstance(item.get("title"), str):
        return f"line {number}: the object needs a string \"title\""
    return item


def result_dict(result) -> dict:
    """The contract's output object: Classification.to_dict, but with each event's counterparty
    written even when there is none."""
    return {"companies": result.companies, "events": [event.to_json(_KEEP_EMPTY) for event in result.events]}


def _lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Every input line, numbered from 1: an empty one too, so that output lines stay aligned."""
    yield from enumerate(stream, 1)


def classify_batch(rules_engine: RulesEngine, batch: list[tuple[int, bytes]], explain: bool) -> tuple[bytes, int]:
    """The output of one batch of numbered lines, and how many of them were errors."""
    errors = 0
    chunk: list[bytes] = []
    for number, line in batch:
        item = _item(line, number)
        if isinstance(item, str):
            errors += 1
            chunk.append(f"error: {item}\n".encode("utf-8", "backslashreplace") if explain
                         else _dumps({"error": item}))
            continue
        summary, link, source = item.get("summary"), item.get("link"), item.get("source")
        result = rules_engine.classify(item["title"], summary if isinstance(summary, str) else "",
                                       link=link if isinstance(link, str) else None,
                                       source=source if isinstance(source, str) else None)
        if explain:
            text = f"# line {number}: {item['title'][:200]}\n{rules_engine.explain(result)}\n"
            chunk.append(text.encode("utf-8", "backslashreplace"))
        else:
            chunk.append(_dumps(result_dict(result)))
    return b"\n".join(chunk) + b"\n", errors


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_worker_engine: RulesEngine | None = None  # the engine a forked worker inherits (set before the fork)


def _worker_batch(batch: list[tuple[int, bytes]], explain: bool) -> tuple[bytes, int]:
    assert _worker_engine is not None
    return classify_batch(_worker_engine, batch, explain)


def classify_stream(rules_engine: RulesEngine, stream: BinaryIO, out: BinaryIO, explain: bool = False,
                    workers: int | None = None) -> int:
    """Classify every line of `stream` into `out`; returns how many lines were errors. `workers`: the
    processes for the batches after the first (default: one per usable CPU)."""
    global _worker_engine
    workers = usable_cpus() if workers is None else workers
    lines = _lines(stream)
    batches = iter(lambda: list(islice(lines, BATCH_LINES)), [])

    def write(output: tuple[bytes, int]) -> int:
        out.write(output[0])
        out.flush()
        return output[1]

    first = next(batches, None)
    if first is None:
        return 0
    errors = write(classify_batch(rules_engine, first, explain))
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return errors + sum(write(classify_batch(rules_engine, batch, explain)) for batch in batches)
    _worker_engine = rules_engine
    # a worker that dies (killed from outside) breaks the pool: the run ends with an error, never waits
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        pending: deque[Future] = deque()
        for batch in batches:
            pending.append(pool.submit(_worker_batch, batch, explain))
            if len(pending) >= 2 * workers:
                errors += write(pending.popleft().result())
        while pending:
            errors += write(pending.popleft().result())
    return errors


def load_rules_engine(seeds_dir: Path, companies: str | None) -> RulesEngine:
    """The rules_engine from the seeds directory, with `--companies` replacing the registry."""
    companies_path = Path(companies) if companies else None
    if companies_path is not None and not companies_path.is_file():
        raise UsageError(f"--companies {companies}: no such file")
    return RulesEngine.load(seeds_dir, companies_path)


def run(args, settings) -> int:
    rules_engine = load_rules_engine(settings.seeds_path, args.companies)
    gc.freeze()  # the registry and rules live as long as the run: keep them out of every collection
    path, explain = getattr(args, "path", "-") or "-", args.explain
    workers = settings.classify_workers or None  # 0: one per usable CPU
    if path == "-":
        errors = classify_stream(rules_engine, sys.stdin.buffer, sys.stdout.buffer, explain, workers)
    else:
        try:
            stream = open(path, "rb")
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        with stream:
            errors = classify_stream(rules_engine, stream, sys.stdout.buffer, explain, workers)
    if errors:
        print(f"vendorwatch classify: {errors} line(s) could not be classified", file=sys.stderr)
    return 1 if errors else 0
