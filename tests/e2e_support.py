"""What the end-to-end tests of `vendorwatch run` share: the subprocess on its own PORT, its feeds,
waiting on a condition, and feed items.

    bot = RunProcess(tmp_path, feed_server, poll_seconds=1, SLACK_BOT_TOKEN=..., ...)
    await bot.add_feeds(["wire"])        # served empty by the feed server, stored in the bot's database
    health = await bot.start()            # /healthz answered (fails the test if the run exits first)
    code, err = await bot.stop()          # SIGTERM; exit status and standard error

The platform tests (test_slack_e2e, test_discord_e2e) subclass it with their commands;
test_replicas runs several against one PostgreSQL database (`log_dir`: output to files, since
nobody reads the pipes while a replica runs).
"""

from __future__ import annotations

import asyncio
import json
import signal
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import aiohttp
import pytest

from tests.fakes.slack_signing import block_actions_body, signed_headers, slash_command_body
from tests.shared_data import VENDORWATCH
from tests.test_run import STARTUP_LIMIT_SECONDS, free_port, run_env


async def until(condition: Any, timeout: float, what: str, *, interval: float = 0.05) -> Any:
    """The first truthy value of `condition()` within `timeout` seconds; fails the test otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return found
        await asyncio.sleep(interval)
    pytest.fail(f"timed out waiting for {what}")


def item(guid: str, title: str, outlet: str) -> tuple:
    """An RSS item for tests.feed_fixtures.rss: published now, at https://{outlet}.example/{guid}."""
    return (guid, title, datetime.now(timezone.utc), "", f"https://{outlet}.example/{guid}")


class RunProcess:
    """One `vendorwatch run` subprocess, its environment and the feed server it polls.

    `env` overrides the environment (platform credentials, DATABASE_URL...); `log_dir` sends its
    standard output and error to files there instead of pipes."""

    def __init__(self, tmp_path: Path, feeds: Any, poll_seconds: int, *, log_dir: Path | None = None,
                 **env: str) -> None:
        self.tmp_path, self.feeds = tmp_path, feeds
        self.port = free_port()
        self.env = run_env(tmp_path, self.port)
        self.env.update(POLL_INTERVAL_SECONDS=str(poll_seconds), ALLOW_PRIVATE_FEED_URLS="1",
                        FIRST_POLL_MAX_AGE_HOURS="1000", THREAD_BATCH_SECONDS="0", SEED_FEEDS="0")
        self.env.update(env)
        self.log_dir = log_dir
        self.proc: asyncio.subprocess.Process | None = None
        self._outputs: list[Any] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def add_feeds(self, names: list[str]) -> None:
        """Serve each name empty at /{name}.xml and store it as a feed of the bot's database."""
        from watchers.feeds.sources import add_user_feed
        from watchers.settings import load_settings
        from watchers.storage.db import make_engine, session_scope, upgrade

        settings = load_settings(self.env, dotenv_path=None)
        await upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            async with session_scope(engine) as session:
                for name in names:
                    self.feeds.serve(f"/{name}.xml", rss_of([], name))
                    await add_user_feed(session, self.feeds.url(f"/{name}.xml"), name, None, settings)
        finally:
            await engine.dispose()

    async def start(self, *, wait: bool = True) -> dict[str, Any]:
        """Start the process; with `wait`, until /healthz answers (its JSON and "http_status")."""
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            number = sum(1 for _ in self.log_dir.glob(f"run-{self.port}-*.err"))
            out = open(self.log_dir / f"run-{self.port}-{number}.out", "wb")  # noqa: SIM115 - closed in _wait
            err = open(self.log_dir / f"run-{self.port}-{number}.err", "wb")  # noqa: SIM115
            self._outputs = [out, err]
            self.stderr_path = Path(err.name)
            stdout, stderr = out, err
        else:
            stdout = stderr = asyncio.subprocess.PIPE
        self.proc = await asyncio.create_subprocess_exec(str(VENDORWATCH), "run", cwd=self.tmp_path, env=self.env,
                                                         stdout=stdout, stderr=stderr)
        return await self.wait_healthy() if wait else {}

    async def wait_healthy(self) -> dict[str, Any]:
        assert self.proc is not None
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    code = await self._wait()
                    pytest.fail(f"vendorwatch run exited with {code}: {self.stderr()}")
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        return {**(await response.json()), "http_status": response.status}
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
        pytest.fail("vendorwatch run did not answer /healthz")

    async def health(self) -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{self.url}/healthz") as response:
                return {**(await response.json()), "http_status": response.status}

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{self.url}/metrics") as response:
                return await response.text()

    async def _wait(self) -> int:
        assert self.proc is not None
        if self.log_dir is None:
            _, err = await self.proc.communicate()
            self._err = err.decode()
        else:
            await self.proc.wait()
            for output in self._outputs:
                output.close()
        return self.proc.returncode

    def stderr(self) -> str:
        if self.log_dir is not None:
            return self.stderr_path.read_text(errors="replace")
        return getattr(self, "_err", "")

    async def stop(self) -> tuple[int, str]:
        """SIGTERM; the exit status and standard error (within 10 s, as `run` promises)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            code = await self._wait()
        return code, self.stderr()

    async def kill(self) -> None:
        """SIGKILL if still running (a crash: nothing is handed back)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self._wait()


class SlackRun(RunProcess):
    """`vendorwatch run` in Slack's HTTP mode against a FakeSlack: signed slash commands and clicks.

    `channel` is where commands and clicks come from unless told; `user_id` who sends them."""

    def __init__(self, tmp_path: Path, fake: Any, feeds: Any, poll_seconds: int, *, secret: str, channel: str,
                 user_id: str = "U0E2EUSER1", log_dir: Path | None = None, **env: str) -> None:
        super().__init__(tmp_path, feeds, poll_seconds, log_dir=log_dir, SLACK_BOT_TOKEN=fake.bot_token,
                         SLACK_SIGNING_SECRET=secret, SLACK_API_URL=fake.base_url, SLACK_PACE_SECONDS="0", **env)
        self.fake, self.secret, self.channel, self.user_id = fake, secret, channel, user_id

    async def command(self, text: str, channel: str | None = None) -> tuple[int, dict[str, Any]]:
        body = slash_command_body("/vendorwatch", text, channel_id=channel or self.channel, user_id=self.user_id,
                                  response_url=self.fake.response_url(), channel_name="vendor-news")
        headers = {**signed_headers(body, self.secret), "Content-Type": "application/x-www-form-urlencoded"}
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{self.port}/slack/events", data=body,
                                    headers=headers) as response:
                text_ = await response.text()
                return response.status, (json.loads(text_) if text_.startswith("{") else {"raw": text_})

    async def click(self, message: dict[str, Any], kind: str) -> dict[str, Any]:
        """A signed click on the message's button of that kind; the ephemeral answer the clicker got."""
        (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
        (button,) = [e for e in actions["elements"] if e["action_id"].startswith(f"vendorwatch_{kind}")]
        url = self.fake.response_url()
        body = block_actions_body(button["action_id"], button["value"], self.channel, self.user_id,
                                  message_ts=message["ts"], response_url=url, block_id=actions["block_id"])
        headers = {**signed_headers(body, self.secret), "Content-Type": "application/x-www-form-urlencoded"}
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{self.port}/slack/events", data=body,
                                    headers=headers) as response:
                assert response.status == 200
        (answer,) = await until(lambda: self.fake.responses(url), 10, f"the answer to {kind}")
        return answer


def rss_of(entries: list[tuple], title: str) -> bytes:
    from tests.feed_fixtures import rss

    return rss(entries, title=title)


LATENCY_HEADLINES = [
    "Scale AI raises $1 billion in Series F funding", "Scale AI to cut 10% of staff in restructuring",
    "OpenAI raises $40 billion in funding round", "Anthropic raises $3.5 billion Series E",
    "Cohere raises $500 million in new funding", "Mistral AI raises $640 million Series B",
    "Scale AI CEO Alexandr Wang steps down", "OpenAI to cut 5% of staff in restructuring",
    "Anthropic to cut 8% of staff", "Cohere to cut 20 jobs"]


async def measure_latency(feed_server: Any, arrived: Callable[[], list[float]], platform: str) -> list[float]:
    """Seconds from each of LATENCY_HEADLINES appearing on feed /wire.xml to its message at the fake.

    `arrived()` lists the creation times (epoch seconds) of the alerts at the fake, oldest first.
    Items land at different points of the poll cycle; one that never arrives within 20 s is left out.
    Prints p50, p95 and max, and returns the sorted latencies.
    """
    entries: list[tuple] = []
    latencies = []
    for number, headline in enumerate(LATENCY_HEADLINES):
        before = len(arrived())
        await asyncio.sleep(0.37 * (number % 5))
        entries.append(item(f"m{number}", headline, "wire"))
        put_at = time.time()
        feed_server.serve("/wire.xml", rss_of(entries, "wire"))
        try:
            await until(lambda: len(arrived()) > before, 20, headline)
        except pytest.fail.Exception:
            continue
        latencies.append(arrived()[before] - put_at)
    latencies.sort()
    if latencies:
        p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
        print(f"\nlatency feed -> {platform} fake over {len(latencies)} items: p50 {statistics.median(latencies):.2f} s, "
              f"p95 {p95:.2f} s, max {latencies[-1]:.2f} s")
    return latencies
