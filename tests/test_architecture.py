"""House rules a test can see: one direction of imports, SDKs only in their adapters, small files."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDKS = ("slack_bolt", "slack_sdk", "discord")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_watchers_never_imports_bot() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in _sources("watchers")
                 if any(n == "bot" or n.startswith("bot.") for n in _imports(p))]
    assert offenders == []


def test_platform_sdks_only_in_their_adapters() -> None:
    offenders = []
    for path in _sources("bot") + _sources("watchers"):
        rel = str(path.relative_to(ROOT))
        for name in _imports(path):
            root = name.split(".")[0]
            if root in SDKS and "slack" not in rel and "discord" not in rel:
                offenders.append(f"{rel}: {name}")
    assert offenders == []


def test_source_files_stay_small() -> None:
    big = [f"{p.relative_to(ROOT)} ({n} lines)" for p in _sources("bot") + _sources("watchers")
           if "migrations" not in p.parts and (n := len(p.read_text().splitlines())) > 450]
    assert big == []
