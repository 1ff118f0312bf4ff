"""`vendorwatch classify` through the real console script: the contract, bad input, bad seeds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.shared_data import VENDORWATCH

ROOT = Path(__file__).resolve().parent.parent
COMMAND = [str(VENDORWATCH)]


def classify(*args: str, stdin: bytes = b"", env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "LOG_LEVEL": "WARNING", **(env or {})}
    full_env.pop("SEEDS_DIR", None) if env is None or "SEEDS_DIR" not in env else None
    return subprocess.run([*COMMAND, "classify", *args], input=stdin, capture_output=True, timeout=60, env=full_env,
                          cwd=ROOT)


def lines(*objects) -> bytes:
    return b"".join((o if isinstance(o, bytes) else json.dumps(o).encode()) + b"\n" for o in objects)


def test_jsonl_in_jsonl_out_in_order_with_error_lines() -> None:
    stdin = lines({"title": "Scale AI raises $1 billion at $13.8 billion valuation - Reuters", "summary": "x"},
                  b"not json", [1, 2], {"title": 5}, {"summary": "no title"}, b'"just a string"',
                  {"title": "OpenAI cuts ties with Scale AI", "summary": None, "link": 7},
                  {"title": "A surge in demand for apple pie at scale"})
    done = classify("-", stdin=stdin)
    assert done.returncode == 1
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(out) == 8
    first = out[0]
    assert first["companies"] == ["scale-ai"]
    event = first["events"][0]
    assert (event["type"], event["subject"], event["counterparty"]) == ("funding", "scale-ai", None)
    assert event["amount_usd"] == 1e9 and event["valuation_usd"] == 13.8e9 and event["rule"] and event["evidence"]
    assert all(set(o) == {"error"} for o in out[1:6])
    assert "line 2" in out[1]["error"] and "title" in out[3]["error"]
    assert out[6]["events"][0]["type"] == "customer_loss"
    assert out[7] == {"companies": [], "events": []}
    assert "5 line(s)" in done.stderr.decode()


def test_reads_a_file_and_exits_zero(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(lines({"title": "Appen lays off 10% of staff"}, {"title": "Nothing here"}))
    done = classify(str(path))
    assert done.returncode == 0, done.stderr
    assert [json.loads(x)["companies"] for x in done.stdout.decode().splitlines()] == [["appen"], []]


def test_an_empty_line_is_an_error_object_so_output_stays_aligned(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(b'{"title": "Appen lays off 10% of staff"}\n\n   \n{"title": "Nothing here"}\n')
    done = classify(str(path))
    assert done.returncode == 1
    out = [json.loads(x) for x in done.stdout.decode().splitlines()]
    assert len(out) == 4
    assert out[0]["companies"] == ["appen"] and out[3]["companies"] == []
    assert "line 2: empty line" in out[1]["error"] and "line 3: empty line" in out[2]["error"]


def test_missing_input_file_is_a_usage_error(tmp_path: Path) -> None:
    done = classify(str(tmp_path / "nope.jsonl"))
    assert done.returncode == 2
    assert "cannot read" in done.stderr.decode() and "Traceback" not in done.stderr.decode()


def test_one_megabyte_title_and_summary_are_handled() -> None:
    big = "Scale AI " + "lorem ipsum dolor " * 60_000
    done = classify(stdin=lines({"title": big, "summary": "(" * 1_000_000}, {"title": "Mercor raises $100M"}))
    assert done.returncode == 0
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert out[0]["companies"] == ["scale-ai"] and out[1]["events"][0]["subject"] == "mercor"


def test_any_unicode_html_entities_zero_width_and_rtl() -> None:
    weird = {"title": "<b>Open\u200bAI</b> &amp; Anthropic&#8217;s \u202eClaude\u202c \U0001F600 \ud800 sign deal",
             "summary": "\x00\ufeff\u00a0Ελληνικά 中文 עברית"}
    done = classify(stdin=lines(weird, {"title": "Meta-analysis: the Amazon rainforest and the Turing test"}))
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert out[0]["companies"] == ["openai", "anthropic"]
    assert out[1] == {"companies": [], "events": []}


def test_invalid_utf8_line_is_an_error_line() -> None:
    done = classify(stdin=b'{"title": "\xff\xfe bad"}\n' + lines({"title": "Appen lays off staff"}))
    assert done.returncode == 1
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert "error" in out[0] and out[1]["companies"] == ["appen"]


def test_explain_prints_why_for_a_person() -> None:
    done = classify("--explain", stdin=lines({"title": "Meta takes 49% of Scale AI and hires its CEO"}))
    assert done.returncode == 0
    text = done.stdout.decode()
    assert "event: funding scale-ai <- meta" in text
    assert "rule: funding.stake" in text and 'evidence: "Meta takes 49% of Scale AI"' in text


def test_companies_option_replaces_the_registry(tmp_path: Path) -> None:
    path = tmp_path / "companies.toml"
    path.write_text('[[company]]\nslug = "acme"\nname = "Acme Robotics"\nkind = "vendor"\naliases = ["Acme"]\n')
    done = classify("--companies", str(path), stdin=lines({"title": "Acme raises $5 million; OpenAI watches"}))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["companies"] == ["acme"] and out["events"][0]["subject"] == "acme"


def test_malformed_companies_file_is_refused_with_file_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "companies.toml"
    path.write_text('[[company]]\nslug = "acme"\nname = "Acme"\n\n[[company]]\nslug = "Bad Slug"\nname = "B"\n')
    done = classify("--companies", str(path), stdin=lines({"title": "x"}))
    assert done.returncode == 2
    assert done.stderr.decode().strip() == (f"vendorwatch: {path}:6: slug 'Bad Slug' must be lowercase letters, "
                                            "digits and dashes")
    assert done.stdout == b""


def test_malformed_rules_in_seeds_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "companies.toml").write_text((ROOT / "seeds" / "companies.toml").read_text())
    (tmp_path / "rules.toml").write_text('[[rule]]\nid = "funding.x"\ntype = "funding"\nsubject = "S"\n'
                                         'triggers = ["raises"]\npatterns = ["{S} (raises"]\n')
    done = classify(stdin=lines({"title": "x"}), env={"SEEDS_DIR": str(tmp_path)})
    assert done.returncode == 2
    assert f"{tmp_path / 'rules.toml'}:6: rule funding.x: pattern" in done.stderr.decode()


def test_missing_companies_file_is_a_usage_error(tmp_path: Path) -> None:
    done = classify("--companies", str(tmp_path / "nope.toml"), stdin=b"")
    assert done.returncode == 2 and "no such file" in done.stderr.decode()


def test_json_the_fast_parser_refuses_is_still_read() -> None:
    stdin = (b'{"title": "Appen lays off staff", "id": 123456789012345678901234567890}\n'
             b'{"title": "Appen \\ud800 lays off staff"}\n'
             b'{"title": "Appen lays off staff", "score": NaN}\n'
             b'{"title": "Appen lays off staff", "summary": "caf\xc3\xa9 \xe2\x80\x94 ok"}\n')
    done = classify("-", stdin=stdin)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [o["companies"] for o in out] == [["appen"]] * 4
    assert out[1]["events"][0]["evidence"] == "Appen \ud800 lays off"


def test_a_reader_that_stops_early_ends_the_run_quietly(tmp_path: Path) -> None:
    """`vendorwatch classify big.jsonl | head -1`: no traceback, no apology."""
    source = tmp_path / "items.jsonl"
    source.write_bytes(lines(*({"title": f"Scale AI raises ${n} million"} for n in range(1, 20_001))))
    process = subprocess.Popen([*COMMAND, "classify", str(source)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "LOG_LEVEL": "WARNING"}, cwd=ROOT)
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 1
    assert json.loads(first)["companies"] == ["scale-ai"]
    assert b"Traceback" not in stderr and b"sorry" not in stderr


def test_batches_after_the_first_go_to_worker_processes_in_input_order(tmp_path: Path) -> None:
    """Three batches and a bit, with error and empty lines among them: the pool's output is the one
    process's, line for line, and so is the count of errors (the real console script, so real forks)."""
    items = [{"title": f"Scale AI raises ${n} million"} if n % 7 else b"not json" if n % 2 else b""
             for n in range(1, 3 * 512 + 40)]
    source = tmp_path / "items.jsonl"
    source.write_bytes(lines(*items))
    pooled = classify(str(source))
    alone = classify(str(source), env={"CLASSIFY_WORKERS": "1"})
    assert pooled.stdout == alone.stdout
    assert pooled.stdout.count(b"\n") == len(items)
    assert pooled.returncode == alone.returncode == 1
    assert pooled.stderr == alone.stderr and b"Traceback" not in pooled.stderr


def test_explain_through_the_pool_keeps_the_line_numbers(tmp_path: Path) -> None:
    source = tmp_path / "items.jsonl"
    source.write_bytes(lines(*({"title": f"Appen lays off {n} workers"} for n in range(1, 1200))))
    done = classify(str(source), "--explain")
    numbers = [int(line.split()[2].rstrip(":")) for line in done.stdout.decode().splitlines()
               if line.startswith("# line ")]
    assert numbers == list(range(1, 1200))


def test_a_worker_killed_from_outside_ends_the_run_with_an_error(tmp_path: Path) -> None:
    """The pool breaks instead of waiting for a batch that never comes: exit 1, the apology, no hang."""
    if not Path("/proc/self/task").exists():
        pytest.skip("needs Linux /proc to find the worker processes")
    source = tmp_path / "items.jsonl"
    source.write_bytes(lines(*({"title": f"Scale AI raises ${n} million from Nvidia"} for n in range(1, 200_001))))
    process = subprocess.Popen([*COMMAND, "classify", str(source)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "LOG_LEVEL": "WARNING", "CLASSIFY_WORKERS": "2"}, cwd=ROOT)
    children: list[int] = []
    for _ in range(300):  # the pool starts with the second batch
        path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        children = [int(pid) for pid in path.read_text().split()] if path.exists() else []
        if children or process.poll() is not None:
            break
        time.sleep(0.05)
    assert children, "no worker process appeared"
    os.kill(children[0], signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert b"sorry" in stderr and b"BrokenProcessPool" in stderr
