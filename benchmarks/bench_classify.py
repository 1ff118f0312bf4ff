"""Classify throughput through the CLI, JSON in and out: `python -m benchmarks.bench_classify`.

Measures `vendorwatch classify` as a user runs it (a subprocess reading a JSONL file), with
the bundled registry and with a generated registry of 10,000 companies (written to a temp
file and passed with --companies):
- items per second, whole run (start-up included) and net of start-up (an empty run subtracted);
- start-up and registry load time; peak RSS of the process (from wait4).

Two inputs: "dense" is the dev set's items (every one names a tracked company, most carry
events: the worst case), "mixed" adds three general-news headlines per dev item (closer to a
real feed, where most items name no tracked company).
Options: --items N (default 50000), --json (figures as one JSON object).

How to run it, from the checkout with the venv installed (`.venv/bin/vendorwatch` is what runs):

    .venv/bin/python -m benchmarks.bench_classify                 # about a minute on 2 cores
    .venv/bin/python -m benchmarks.bench_classify --items 20000 --json

Run it on a quiet machine, three times, and take the best of each figure: other processes on
the same cores easily cost 40%. Floors (issue 11), on the dense input with start-up included:
bundled registry >= 5,000 items/s; a 10,000-company registry >= 3,000 items/s, loaded in under
2 s, under 400 MB peak RSS. Last figures (README.md, "Benchmarks"; 2026-12-06 evening, --items
20000, two CPUs, the CLI's worker pool): bundled dense 6,548 items/s, 10,000 companies dense 5,951;
with CLASSIFY_WORKERS=1 (one process) bundled dense 3,531, 10,000 companies 3,487; later that night, a slower
machine, default --items: bundled dense 5,285, 10,000 companies 5,031. The peak RSS is the CLI process's own; each
forked worker shares its pages copy-on-write.
To see where the time goes, profile a loop of `RulesEngine.load(Path("seeds")).classify(...)`
over the dev items with cProfile: profiling this module only sees the driver, as the CLI runs
in subprocesses.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = Path(os.environ.get("VW_SHARED_DIR") or ROOT.parent / "shared") / "eval" / "dev.jsonl"
COMMAND = [str(Path(sys.executable).with_name("vendorwatch"))]  # the console script of this interpreter
FALLBACK_ITEMS = [
    {"title": "Scale AI raises $1 billion at $13.8 billion valuation", "summary": "Accel led the Series F."},
    {"title": "OpenAI cuts ties with Scale AI after Meta deal", "summary": "The lab is winding down work."},
    {"title": "Appen CEO steps down; COO takes the top job", "summary": ""},
]
_SYLLABLES = ["zen", "tri", "vox", "lum", "ka", "dor", "mi", "nex", "ra", "qua", "sol", "ter", "vi", "by", "ion",
              "pha", "gry", "lo", "fen", "ark", "ul", "tro", "syn", "cor"]
_WORDS = ["city", "council", "weather", "market", "storm", "river", "school", "festival", "election", "court",
          "prices", "team", "season", "bridge", "museum", "report", "budget", "harbor", "rail", "energy"]
_TEMPLATES = ["Local {0} approves new {1} plan", "{0} {1} raises questions for residents",
              "Startup {2} raises $20 million for {1} software", "{2} cuts 40 jobs as {0} demand slows",
              "Regional {0} and {1} officials sign agreement", "{2} names new chief executive"]


def dev_items() -> list[dict]:
    if not DEV.is_file():
        return FALLBACK_ITEMS
    keep = ("title", "summary", "source")
    return [{k: v for k, v in json.loads(line).items() if k in keep} for line in DEV.read_text().splitlines()]


def general_items(count: int, rng: random.Random) -> list[dict]:
    items = []
    for _ in range(count):
        name = "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()
        title = rng.choice(_TEMPLATES).format(rng.choice(_WORDS), rng.choice(_WORDS), name)
        items.append({"title": title, "summary": f"The {rng.choice(_WORDS)} {rng.choice(_WORDS)} said on Monday."})
    return items


def write_inputs(folder: Path, count: int) -> dict[str, Path]:
    rng = random.Random(7)
    dense = dev_items()
    mixed = dense + general_items(3 * len(dense), rng)
    rng.shuffle(mixed)
    paths = {}
    for name, pool in (("dense", dense), ("mixed", mixed)):
        path = folder / f"{name}.jsonl"
        with path.open("w") as out:
            for n in range(count):
                out.write(json.dumps(pool[n % len(pool)]) + "\n")
        paths[name] = path
    return paths


def _plain_entry(fields: dict) -> str:
    return "\n[[company]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in fields.items() if v not in (None, [], ()))


def write_registry(path: Path, total: int = 10_000) -> None:
    """The bundled companies plus generated ones up to `total`, one line per key (as a script writes it)."""
    from watchers.rules.registry import load_registry

    rng = random.Random(11)
    bundled = load_registry(ROOT / "seeds" / "companies.toml")
    parts = []
    for c in bundled:
        parts.append(_plain_entry({"slug": c.slug, "name": c.name, "kind": c.kind, "aliases": list(c.aliases),
                                   "context_aliases": list(c.context_aliases), "veto": list(c.veto),
                                   "domains": list(c.domains), "people": list(c.people), "exact_case": c.exact_case}))
    seen: set[str] = set()
    while len(seen) < total - len(bundled):
        stem = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if stem in seen:
            continue
        seen.add(stem)
        name = stem.capitalize() + rng.choice(["", " AI", " Labs", " Data", " Systems"])
        parts.append(_plain_entry({"slug": f"{stem}-{len(seen)}", "name": name, "kind": "vendor",
                                   "aliases": [name, stem.capitalize() + "HQ"], "veto": [f"{stem} test"]}))
    path.write_text("".join(parts))


def run_cli(args: list[str], input_path: Path | None) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in KB and exit status of one `vendorwatch classify` run."""
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    env.pop("SEEDS_DIR", None)
    stdin = input_path.open("rb") if input_path else subprocess.DEVNULL
    start = time.perf_counter()
    process = subprocess.Popen([*COMMAND, "classify", *args], stdin=stdin, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if input_path:
        stdin.close()
    return elapsed, usage.ru_maxrss, process.returncode


def measure(label: str, args: list[str], inputs: dict[str, Path], count: int) -> dict:
    """Start-up (best of three empty runs), then each input."""
    startup = min(run_cli(args, None)[0] for _ in range(3))
    result = {"registry": label, "startup_s": round(startup, 3)}
    for name, path in inputs.items():
        elapsed, rss_kb, code = run_cli(args, path)
        assert code == 0, f"classify exited {code}"
        result[name] = {"items": count, "seconds": round(elapsed, 2), "items_per_s": round(count / elapsed),
                        "items_per_s_net_of_startup": round(count / max(1e-9, elapsed - startup)),
                        "peak_rss_mb": round(rss_kb / 1024, 1)}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        inputs = write_inputs(Path(folder), options.items)
        sys.path.insert(0, str(ROOT))
        from watchers.rules.classify import RulesEngine

        registry = Path(folder) / "companies-10k.toml"
        write_registry(registry)
        start = time.perf_counter()
        rules_engine = RulesEngine.load(ROOT / "seeds", registry)
        load_seconds = time.perf_counter() - start
        figures = [measure("bundled", [], inputs, options.items),
                   measure(f"generated {len(rules_engine.registry)}", ["--companies", str(registry)], inputs, options.items)]
        figures[1]["registry_load_s_in_process"] = round(load_seconds, 3)
    if options.json:
        print(json.dumps(figures))
        return 0
    for figure in figures:
        print(f"registry {figure['registry']}: start-up {figure['startup_s']} s"
              + (f", load in process {figure['registry_load_s_in_process']} s" if "registry_load_s_in_process" in figure
                 else ""))
        for name in inputs:
            f = figure[name]
            print(f"  {name:5}: {f['items_per_s']:>6} items/s ({f['items_per_s_net_of_startup']} net of start-up), "
                  f"{f['items']} items in {f['seconds']} s, peak RSS {f['peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
