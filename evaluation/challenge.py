"""The behavioral challenge set (evaluation/challenge.toml): failure rate per capability group.

A case passes when the engine's (type, subject) pairs are exactly the expected ones and every
expected counterparty ("" for none) is among the engine's events of that pair. `--failures`
prints the failing cases with what the engine found.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from watchers.rules.classify import RulesEngine
from watchers.settings import default_seeds_dir

CHALLENGE = Path(__file__).resolve().parent / "challenge.toml"


@dataclass(frozen=True, slots=True)
class ExpectedEvent:
    type: str
    subject: str
    counterparty: str | None = None  # None: not checked; "": must be null


@dataclass(frozen=True, slots=True)
class Case:
    group: str
    title: str
    summary: str
    events: tuple[ExpectedEvent, ...]
    note: str = ""


@dataclass(slots=True)
class CaseResult:
    case: Case
    passed: bool
    found: list[tuple[str, str, str | None]] = field(default_factory=list)


def load_cases(path: Path = CHALLENGE) -> list[Case]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Case(raw["group"], raw["title"], raw.get("summary", ""),
                 tuple(ExpectedEvent(e["type"], e["subject"], e.get("counterparty")) for e in raw["events"]),
                 raw.get("note", "")) for raw in data["case"]]


def run_case(engine: RulesEngine, case: Case) -> CaseResult:
    events = engine.classify(case.title, case.summary).events
    found = [(e.type, e.subject, e.counterparty) for e in events]
    pairs_right = {(t, s) for t, s, _ in found} == {(e.type, e.subject) for e in case.events}
    counterparties_right = all(
        any(t == e.type and s == e.subject and (c or "") == e.counterparty for t, s, c in found)
        for e in case.events if e.counterparty is not None)
    return CaseResult(case, pairs_right and counterparties_right, found)


def run(engine: RulesEngine, cases: list[Case]) -> dict[str, list[CaseResult]]:
    """Each group's results, in the file's order of groups."""
    by_group: dict[str, list[CaseResult]] = {}
    for case in cases:
        by_group.setdefault(case.group, []).append(run_case(engine, case))
    return by_group


def failure_rates(by_group: dict[str, list[CaseResult]]) -> dict[str, float]:
    return {group: sum(not r.passed for r in results) / len(results) for group, results in by_group.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--failures", action="store_true", help="print the failing cases")
    args = parser.parse_args()
    engine = RulesEngine.load(default_seeds_dir())
    by_group = run(engine, load_cases())
    print("| group | cases | negatives | failed | failure rate |")
    print("| --- | --- | --- | --- | --- |")
    for group, results in by_group.items():
        failed = sum(not r.passed for r in results)
        negatives = sum(not r.case.events for r in results)
        print(f"| {group} | {len(results)} | {negatives} | {failed} | {failed / len(results):.2f} |")
    total = [r for results in by_group.values() for r in results]
    failed = sum(not r.passed for r in total)
    print(f"| all | {len(total)} | {sum(not r.case.events for r in total)} | {failed} | {failed / len(total):.2f} |")
    if args.failures:
        for group, results in by_group.items():
            for result in results:
                if not result.passed:
                    expected = [(e.type, e.subject, e.counterparty) for e in result.case.events]
                    print(f"[{group}] {result.case.title!r}\n    expected {expected}\n    found    {result.found}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
