"""`vendorwatch demo` end to end, and the sample feed server it runs on."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import httpx
import pytest

from bot.demo.feed_server import SampleFeedServer, feed_as_of, load_sample_set
from watchers.errors import ConfigError
from tests.shared_data import VENDORWATCH
from watchers.settings import default_seeds_dir

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = default_seeds_dir() / "sample"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def titles(body: bytes) -> list[str]:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.bozo_exception
    return [entry.title for entry in parsed.entries]


# --- the sample set and its server ---------------------------------------------------------------

def test_every_sample_feed_parses_and_every_wave_is_in_order() -> None:
    samples = load_sample_set(SAMPLE_DIR)
    assert len(samples.feeds) >= 6
    assert [w.at for w in samples.waves] == sorted(w.at for w in samples.waves)
    assert sum(w.digest for w in samples.waves) == 1
    for feed in samples.feeds:
        assert titles((SAMPLE_DIR / feed.file).read_bytes())


def test_rss_items_appear_once_published() -> None:
    body = (SAMPLE_DIR / "reuters-technology.xml").read_bytes()
    assert titles(feed_as_of(body, at("2025-06-10T00:00:00"))) == []
    shown = titles(feed_as_of(body, at("2025-06-13T06:00:00")))
    assert shown == ["Meta to invest $14.3 billion in Scale AI for a 49% stake"]
    assert len(titles(feed_as_of(body, at("2026-01-01T00:00:00")))) == 3


def test_an_updated_atom_entry_replaces_its_earlier_version() -> None:
    body = (SAMPLE_DIR / "theverge-ai.atom").read_bytes()
    before = titles(feed_as_of(body, at("2025-06-13T06:00:00")))
    after = titles(feed_as_of(body, at("2025-06-14T12:00:00")))
    assert before == ["Scale AI CEO Alexandr Wang is leaving for Meta"]
    assert after == ["Meta invests $14.3 billion in Scale AI as Alexandr Wang leaves to join Meta"]


async def test_server_answers_304_while_the_feed_is_unchanged() -> None:
    samples = load_sample_set(SAMPLE_DIR)
    server = SampleFeedServer(samples, samples.waves[0].at)
    await server.start()
    try:
        async with httpx.AsyncClient() as client:
            url = server.url("reuters-technology.xml")
            first = await client.get(url)
            assert first.status_code == 200 and "rss" in first.headers["content-type"]
            again = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
            assert again.status_code == 304
            server.now = samples.waves[-1].at
            changed = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
            assert changed.status_code == 200 and len(titles(changed.content)) == 3
            missing = await client.get(f"http://127.0.0.1:{server.port}/feeds/nothing.xml")
            assert missing.status_code == 404
    finally:
        await server.close()


@pytest.mark.parametrize("manifest, reason", [
    (None, "file not found"),
    ("[[feed\n", "sample.toml"),
    ('[[feed]]\nfile = "missing.xml"\n[[wave]]\nat = 2025-06-10T00:00:00Z\n', "missing"),
    ('[[feed]]\nfile = "a.xml"\n[[wave]]\nat = 2025-06-10T00:00:00\n', "UTC offset"),
    ('[[feed]]\nfile = "a.xml"\n', "at least one"),
])
def test_a_bad_sample_manifest_is_a_config_error(tmp_path: Path, manifest: str | None, reason: str) -> None:
    (tmp_path / "a.xml").write_bytes((SAMPLE_DIR / "reuters-technology.xml").read_bytes())
    if manifest is not None:
        (tmp_path / "sample.toml").write_text(manifest)
    with pytest.raises(ConfigError, match=reason):
        load_sample_set(tmp_path)


# --- the demo as a user runs it ------------------------------------------------------------------

DISTRACTORS = ("surge in demand", "AI at scale", "Meta-analysis", "Turing test", "Apple pie", "handshake deal")


def parse_console(stdout: str) -> tuple[dict[str, str], dict[str, list[str]], dict[str, list[str]]]:
    """Parents by id, and thread replies and edits by parent id, as the console platform prints them."""
    parents: dict[str, str] = {}
    threads: dict[str, dict[str, list[str]]] = {"reply": {}, "edit": {}}
    current: tuple[str, str] | None = None
    for line in stdout.splitlines():
        header = re.fullmatch(r"#(\d+) \[demo\]", line)
        reply = re.fullmatch(r"\s+\u21b3 in the thread of #(\d+):", line)
        edit = re.fullmatch(r"\s+\(updated #(\d+)\)", line)
        if header:
            parents[header.group(1)] = ""
            current = (header.group(1), "parent")
        elif reply or edit:
            kind, match = ("reply", reply) if reply else ("edit", edit)
            threads[kind].setdefault(match.group(1), []).append("")
            current = (match.group(1), kind)
        elif line.startswith(("\u2500", "-" * 20, "[", ">", "Summary", "Done")) or not line.strip():
            current = None
        elif current is not None:
            key, kind = current
            if kind == "parent":
                parents[key] += line.strip() + "\n"
            else:
                threads[kind][key][-1] += line.strip() + "\n"
    return parents, threads["reply"], threads["edit"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("demo") / "charts"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_URL", "SEED"))}
    result = subprocess.run([str(VENDORWATCH), "demo", "--output-dir", str(out)], cwd=out.parent, env=env,
                            capture_output=True, text=True, timeout=120)
    return result, out


def test_demo_exits_zero_and_writes_the_digest_chart(demo_run) -> None:
    result, out = demo_run
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    charts = list(out.glob("*.png"))
    assert len(charts) == 1
    assert charts[0].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"chart written to {charts[0]}" in result.stdout


def test_demo_shows_the_commands_and_their_replies(demo_run) -> None:
    stdout = demo_run[0].stdout
    assert "> /vendorwatch watch scale-ai" in stdout
    assert "Now watching Scale AI (scale-ai)" in stdout
    assert "Did you mean Scale AI (scale-ai)" in stdout


def test_the_meta_scale_story_is_one_parent_with_follow_ups_in_its_thread(demo_run) -> None:
    parents, replies, edits = parse_console(demo_run[0].stdout)
    meta_deal = [key for key, text in parents.items()
                 if "Scale AI" in text and "Funding" in text and "Meta" in text]
    assert len(meta_deal) == 1, parents
    key = meta_deal[0]
    follow_ups = [text for text in replies.get(key, []) if "More coverage" in text or "new event type" in text]
    # the outlets of one poll arrive within THREAD_BATCH_SECONDS: in one reply, but for an article
    # that brings a new event type to the story, announced in a flagged reply of its own
    assert any("More coverage" in text for text in follow_ups), follow_ups
    assert all(any(outlet in text for text in follow_ups) for outlet in ("Reuters", "CNBC", "The Verge")), follow_ups
    assert edits.get(key), "the parent is updated as coverage grows"
    assert "14.3" in edits[key][-1]
    # later chapters of the story are their own alerts, each once
    for chapter in ("Scale AI loses Google as a customer", "Scale AI loses OpenAI as a customer", "Layoffs at Scale AI",
                    "Funding of Surge AI", "Anthropic loses OpenAI as a customer", "Funding of Mercor"):
        assert sum(chapter in text for text in parents.values()) == 1, chapter


def test_old_items_on_a_first_poll_are_history_and_never_alerted(demo_run) -> None:
    stdout = demo_run[0].stdout
    assert "kept as history" in stdout
    assert "Series B" not in stdout and "Series C" in stdout


def test_look_alike_words_never_alert(demo_run) -> None:
    stdout = demo_run[0].stdout
    for phrase in DISTRACTORS:
        assert phrase.lower() not in stdout.lower(), phrase


def test_the_weekly_digest_covers_the_week_of_the_deal(demo_run) -> None:
    stdout = demo_run[0].stdout
    assert "Weekly digest: Jun 9 to Jun 15, 2025" in stdout
    assert "raised $14.3B" in stdout


def test_an_output_dir_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("not a directory")
    result = subprocess.run([str(VENDORWATCH), "demo", "--output-dir", str(target)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"vendorwatch: --output-dir {target} is a file, not a directory"]


def masked(stdout: str, out_dir: Path) -> list[str]:
    """The demo's output without what may differ between runs: timings and the --output-dir path."""
    text = stdout.replace(str(out_dir), "OUT")
    return [re.sub(r"\d+(\.\d+)? s\b", "N s", line) for line in text.splitlines()]


def test_the_demo_says_the_same_thing_on_every_run(demo_run, tmp_path: Path) -> None:
    first, first_out = demo_run
    out = tmp_path / "charts"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_URL", "SEED", "LOG_LEVEL"))}
    # what made runs differ: many feeds fetched at once, finishing in any order
    env["FEED_CONCURRENCY"] = "64"
    second = subprocess.run([str(VENDORWATCH), "demo", "--output-dir", str(out)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert masked(second.stdout, out) == masked(first.stdout, first_out)


def test_the_demo_prints_no_log_lines_unless_asked(demo_run) -> None:
    result = demo_run[0]
    assert "level=" not in result.stdout + result.stderr
    assert "127.0.0.1:" not in result.stdout  # the server's port changes from run to run


def readme_demo_excerpt() -> list[str]:
    """The lines of the README's opening excerpt of `make demo` (`...` marks a cut)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^```\n(.*?)^```\n\(lines from `make demo`", readme, flags=re.M | re.S)
    assert found, "the README's demo excerpt is gone"
    lines = [line for line in found.group(1).splitlines() if line.strip() not in ("", "...")]
    assert len(lines) >= 10, lines
    return lines


def test_the_readme_s_demo_excerpt_is_the_demo_s_output(demo_run) -> None:
    output = {line.rstrip() for line in demo_run[0].stdout.splitlines()}
    missing = [line for line in readme_demo_excerpt() if line.rstrip() not in output]
    assert not missing, "README lines not in `vendorwatch demo`'s output:\n" + "\n".join(missing)


def test_verbose_shows_the_bot_s_log_lines_and_the_same_output(demo_run, tmp_path: Path) -> None:
    from bot.cli.main import build_parser

    assert build_parser().parse_args(["demo"]).verbose is False
    assert build_parser().parse_args(["demo", "-v"]).verbose is True
    quiet, quiet_out = demo_run
    out = tmp_path / "charts"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_URL", "SEED", "LOG_LEVEL"))}
    result = subprocess.run([str(VENDORWATCH), "demo", "--verbose", "--output-dir", str(out)], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert any("level=debug" in line and "logger=vendorwatch.poll" in line for line in lines), lines[:20]
    assert all(line.startswith("ts=") for line in lines if line and not line.startswith(" ")), lines[:20]
    # the bot's own lines, not thousands of aiosqlite or matplotlib debug lines
    assert not [line for line in lines if "level=debug" in line and "logger=aiosqlite" in line]
    assert len(lines) < 1000, len(lines)
    assert "level=" not in result.stdout  # the log goes to standard error; the demo's output is unchanged
    assert masked(result.stdout, out) == masked(quiet.stdout, quiet_out)
