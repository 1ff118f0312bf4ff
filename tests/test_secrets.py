"""Tokens and secrets never appear in logs, errors, /healthz or /metrics.

`vendorwatch run` runs as a subprocess with known secret values; every byte it printed (stdout,
stderr, at DEBUG) and served (/healthz, /metrics) is scanned for them. With fake tokens the
platforms may fail to start: that output counts too.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.shared_data import VENDORWATCH
from tests.test_run import free_port, run_env

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-1111-SEKRIT-slack-bot-token-7f3a",
    "SLACK_SIGNING_SECRET": "SEKRIT-signing-9c2e41d",
    "DISCORD_BOT_TOKEN": "MTA-SEKRIT-discord-token.Gh7.x1",
}
DB_PASSWORD = "SEKRIT-db-pw-5b8d"


def refusing_url() -> str:
    """A loopback address where nothing listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/"


def served(port: int, path: str) -> bytes:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        return exc.read()
    except (urllib.error.URLError, OSError):
        return b""


def run_and_collect(tmp_path: Path, env: dict[str, str], port: int) -> bytes:
    """Start `run`, scrape it while it lives (up to 20 s), stop it; everything it said and served."""
    proc = subprocess.Popen([str(VENDORWATCH), "run"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    seen = b""
    try:
        deadline = time.monotonic() + 20
        answered = False
        while time.monotonic() < deadline and proc.poll() is None:
            health = served(port, "/healthz")
            if health:
                seen += health + served(port, "/metrics") + served(port, "/nowhere")
                answered = True
                break
            time.sleep(0.2)
        if answered:
            time.sleep(2)  # a few ticks of polling and delivery
            seen += served(port, "/healthz") + served(port, "/metrics")
        if proc.poll() is None:
            proc.terminate()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return seen + out + err


def assert_no_secret(blob: bytes, secrets: list[str]) -> None:
    for secret in secrets:
        for needle in {secret, secret[-12:]}:
            assert needle.encode() not in blob, f"a secret ({needle[:6]}...) was printed or served"


def test_platform_tokens_never_printed_even_when_the_platforms_fail_to_start(tmp_path: Path) -> None:
    port = free_port()
    env = run_env(tmp_path, port)
    env.update(SECRETS, LOG_LEVEL="DEBUG", SLACK_API_URL=refusing_url(), DISCORD_API_URL=refusing_url())
    blob = run_and_collect(tmp_path, env, port)
    assert blob, "the run printed nothing at all"
    assert_no_secret(blob, list(SECRETS.values()))


@pytest.mark.postgres
def test_the_database_password_is_never_printed_or_served(tmp_path: Path, postgres_server_url: str) -> None:
    port = free_port()
    env = run_env(tmp_path, port)
    url = make_url(postgres_server_url).set(password=DB_PASSWORD)  # trust auth on loopback ignores it
    env.update(DATABASE_URL=url.render_as_string(hide_password=False), LOG_LEVEL="DEBUG")
    blob = run_and_collect(tmp_path, env, port)
    assert b"vendorwatch_database_up" in blob and b'"db"' in blob  # it did serve both
    assert_no_secret(blob, [DB_PASSWORD])


def test_a_bad_database_url_error_does_not_show_its_password(tmp_path: Path) -> None:
    port = free_port()
    env = run_env(tmp_path, port)
    env.update(DATABASE_URL=f"postgresql+psycopg://vw:{DB_PASSWORD}@127.0.0.1:{free_port()}/vw", LOG_LEVEL="DEBUG")
    blob = run_and_collect(tmp_path, env, port)
    assert blob
    assert_no_secret(blob, [DB_PASSWORD])
