"""Run every benchmark in turn (`make bench`, or `python -m benchmarks`).

Each one is also a module of its own with options (`python -m benchmarks.bench_poll --help`).
Run them on a quiet machine: they measure the machine as much as the code.
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ("bench_classify", "bench_parse", "bench_poll", "bench_outbox", "bench_platform_channels",
              "bench_commands", "bench_million", "bench_e2e")


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        print(f"== benchmarks.{name}", flush=True)
        if subprocess.call([sys.executable, "-m", f"benchmarks.{name}"]) != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
