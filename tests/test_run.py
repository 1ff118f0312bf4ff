"""`vendorwatch run` as a user starts it: a real process, a real SQLite file, real HTTP and signals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from prometheus_client.parser import text_string_to_metric_families

from tests.shared_data import VENDORWATCH

ROOT = Path(__file__).resolve().parent.parent
STARTUP_LIMIT_SECONDS = 60  # a generous bound so a slow machine fails clearly instead of hanging


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_URL", "SEED", "PORT"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'vw.db'}", SEED_FEEDS="0", PORT=str(port), LOG_LEVEL="INFO",
               PYTHONUNBUFFERED="1")
    return env


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


def wait_for_health(proc: subprocess.Popen, port: int) -> tuple[int, str]:
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"vendorwatch run exited early with {proc.returncode}:\n{err}")
        try:
            status, _, body = get(f"http://127.0.0.1:{port}/healthz")
            return status, body
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    proc.kill()
    pytest.fail("vendorwatch run did not answer /healthz")


@pytest.fixture
def started(tmp_path: Path):
    port = free_port()
    proc = subprocess.Popen([str(VENDORWATCH), "run"], cwd=tmp_path, env=run_env(tmp_path, port),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_answers_health_and_stops_on_signal(started, signum: int) -> None:
    proc, port = started
    status, body = wait_for_health(proc, port)
    assert status == 200
    health = json.loads(body)
    assert health["db"] == "ok"
    assert "last_poll_at" in health
    assert list(health["platforms"]) == ["console"] and health["platforms"]["console"]["ok"]
    assert health["scheduler"] == "ok" and health["problems"] == []

    status, content_type, metrics = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    for name in ("vendorwatch_feeds_polled_total", "vendorwatch_items_stored_total",
                 "vendorwatch_messages_sent_total", "vendorwatch_errors_total", "vendorwatch_database_up 1"):
        assert name in metrics

    status, _, _ = get(f"http://127.0.0.1:{port}/nowhere")
    assert status == 404

    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("vendorwatch run did not stop within 10 s of the signal")
    assert proc.returncode == 0, err
    assert "console sink" in err
    assert "Traceback" not in err


def test_run_with_a_bad_setting_is_a_usage_error(tmp_path: Path) -> None:
    env = run_env(tmp_path, free_port())
    env["PORT"] = "not-a-port"
    proc = subprocess.run([str(VENDORWATCH), "run"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "PORT" in proc.stderr and "Traceback" not in proc.stderr


def test_run_with_its_port_taken_fails_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        env = run_env(tmp_path, taken.getsockname()[1])
        proc = subprocess.run([str(VENDORWATCH), "run"], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60)
    assert proc.returncode == 1
    assert "port" in proc.stderr.lower() and "Traceback" not in proc.stderr


def sample_values(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, parsed: (name, sorted labels) -> value."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(exposition) for sample in family.samples}


async def test_run_polls_a_feed_and_delivers_to_a_console_channel(tmp_path: Path) -> None:
    """The whole bot on one recorded feed: a console channel watching Scale AI gets the alert."""
    import asyncio

    import httpx

    from bot.commands.core import CommandCore
    from bot.demo.feed_server import SampleFeedServer, load_sample_set
    from bot.messages import Request
    from watchers.feeds.sources import add_user_feed
    from watchers.rules.registry import load_registry
    from watchers.settings import default_seeds_dir, load_settings
    from watchers.storage.db import make_engine, session_scope, upgrade

    port = free_port()
    env = run_env(tmp_path, port)
    env.update(ALLOW_PRIVATE_FEED_URLS="1", FIRST_POLL_MAX_AGE_HOURS="1000000", THREAD_BATCH_SECONDS="0")
    samples = load_sample_set(default_seeds_dir() / "sample")
    server = SampleFeedServer(samples, samples.waves[1].at)
    await server.start()
    settings = load_settings(env, dotenv_path=None)
    await upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        async with session_scope(engine) as session:
            await add_user_feed(session, server.url("reuters-technology.xml"), "Reuters", None, settings)
        core = CommandCore(engine, settings, load_registry(default_seeds_dir() / "companies.toml"))
        reply = await core.handle(Request("console", "ops", "watch scale-ai", "me"))
        assert not reply.is_error, reply.text
    finally:
        await engine.dispose()

    proc = await asyncio.create_subprocess_exec(str(VENDORWATCH), "run", cwd=tmp_path, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        seen = ""
        async with asyncio.timeout(STARTUP_LIMIT_SECONDS):
            while "Meta to invest $14.3 billion in Scale AI" not in seen:
                line = await proc.stdout.readline()
                assert line, "vendorwatch run ended its output early"
                seen += line.decode()
        async with httpx.AsyncClient() as client:
            health = (await client.get(f"http://127.0.0.1:{port}/healthz")).json()
            metrics = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        assert health["last_poll_at"] is not None
        values = sample_values(metrics)
        assert values[("vendorwatch_feeds_polled_total", (("status", "ok"),))] == 1
        assert values[("vendorwatch_items_stored_total", ())] == 1
        assert values[("vendorwatch_events_total", (("type", "funding"),))] >= 1
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await server.close()
