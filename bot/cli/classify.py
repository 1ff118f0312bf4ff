"""`vendorwatch classify [PATH|-] [--companies PATH] [--explain]`: JSONL news items in, results out.

Each input line is `{"title": str, "summary": str?, "source": str?, "link": str?, ...}`; each
output line, in input order, is `{"companies": [...], "events": [...]}`, or `{"error": "..."}`
for a line that is not a JSON object with a string title (the run goes on; exit status 1 at the
end). Input is read as a stream and output written one flush per batch, so a long file or a
pipe costs constant memory. `--explain` prints, for a person, why each event was found.
A malformed rules or companies file is a usage error (exit 2) naming file, line and reason.
"""

from __future__ import annotations

import gc
import json
import sys
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


def classify_stream(rules_engine: RulesEngine, stream: BinaryIO, out: BinaryIO, explain: bool = False) -> int:
    """Classify every line of `stream` into `out`; returns how many lines were errors."""
    errors = 0
    lines = _lines(stream)
    while batch := list(islice(lines, BATCH_LINES)):
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
        out.write(b"\n".join(chunk) + b"\n")
        out.flush()
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
    if path == "-":
        errors = classify_stream(rules_engine, sys.stdin.buffer, sys.stdout.buffer, explain)
    else:
        try:
            stream = open(path, "rb")
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        with stream:
            errors = classify_stream(rules_engine, stream, sys.stdout.buffer, explain)
    if errors:
        print(f"vendorwatch classify: {errors} line(s) could not be classified", file=sys.stderr)
    return 1 if errors else 0
