"""`vendorwatch chat`: one /vendorwatch command from the terminal, then `run` prints the alerts.

The commands run in this process through `bot.cli.main.main` (on SQLite and PostgreSQL), and the
path a newcomer takes (watch from the terminal, add a feed, run the bot, see the alert) through
the real console script of the interpreter under test.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.shared_data import VENDORWATCH

STARTUP_LIMIT_SECONDS = 60


@pytest.fixture
def chat(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`vendorwatch chat ARGS...` in this process: (exit status, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith(("SLACK_", "DISCORD_", "SEED"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SEED_FEEDS", "0")

    def run(*argv: str) -> tuple[int, str, str]:
        status = main(["chat", *argv])
        out, err = capsys.readouterr()
        return status, out, err

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield run
    finally:  # main() points logging at this test's captured stderr: give the next tests theirs
        root.handlers[:], root.level = handlers, level


def test_watch_then_list_in_the_default_console_channel(chat) -> None:  # noqa: ANN001
    status, out, err = chat("watch", "Scale", "AI", "funding")
    assert (status, err) == (0, "")
    assert out == "Now watching Scale AI (scale-ai) in this channel: funding.\n"
    status, out, _ = chat("--user", "ana", "/vendorwatch", "list")  # the command name itself is forgiven
    assert status == 0 and "- Scale AI (scale-ai): funding" in out
    status, out, _ = chat("--channel", "console:other", "list")
    assert status == 0 and "scale-ai" not in out  # another channel, its own subscriptions


def test_a_failed_command_is_one_line_on_stderr_and_exit_1(chat) -> None:  # noqa: ANN001
    status, out, err = chat("watch", "scael")
    assert status == 1 and out == ""
    assert err.startswith("vendorwatch: I don't track \u201cscael\u201d. Did you mean Scale AI (scale-ai)")
    assert err.count("\n") == 1
    status, out, err = chat("unwatch", "scale-ai")
    assert status == 1 and err.count("\n") == 1


def test_bad_arguments_are_usage_errors(chat) -> None:  # noqa: ANN001
    status, _, err = chat("--channel", "irc:#ops", "list")
    assert status == 2 and err.startswith("vendorwatch: --channel 'irc:#ops' must be PLATFORM:CHANNEL_ID")
    status, _, err = chat("/vendorwatch")
    assert status == 2 and "chat needs a command" in err


def test_help_and_lookup_print_the_reply_as_the_console_renders_it(chat) -> None:  # noqa: ANN001
    status, out, _ = chat("help")
    assert status == 0 and "watch COMPANY [TYPES...]" in out
    status, out, _ = chat("lookup", "meta")
    assert status == 0 and out.startswith("Meta: the last 90 days")


def readme_alert_excerpt() -> list[str]:
    """The lines of the alert the README's quick start shows (`...` marks a cut)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### From the terminal to an alert", 1)[1]
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", section, flags=re.M | re.S)
    block = next(body for language, body in blocks if not language)  # the commands are ```sh, the alert plain
    lines = [line for line in block.splitlines() if line.strip() != "..."]
    assert len(lines) >= 4, lines
    return lines


async def test_watch_from_the_terminal_then_run_prints_the_alert(tmp_path: Path) -> None:
    """The README's quick start: chat watch, feeds add, run -> the alert of console:local on stdout."""
    from bot.demo.feed_server import SampleFeedServer, load_sample_set
    from watchers.settings import default_seeds_dir

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_URL", "SEED",
                                                                     "PORT"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'vw.db'}", SEED_FEEDS="0", PORT="0", PYTHONUNBUFFERED="1",
               ALLOW_PRIVATE_FEED_URLS="1", FIRST_POLL_MAX_AGE_HOURS="1000000", THREAD_BATCH_SECONDS="0")
    samples = load_sample_set(default_seeds_dir() / "sample")
    server = SampleFeedServer(samples, samples.waves[1].at)
    await server.start()

    async def vendorwatch(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(str(VENDORWATCH), *args, cwd=tmp_path, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        return proc.returncode, out.decode(), err.decode()

    proc = None
    try:
        status, out, err = await vendorwatch("chat", "watch", "scale-ai")
        assert status == 0 and "Now watching Scale AI" in out, err
        status, _, err = await vendorwatch("feeds", "add", server.url("reuters-technology.xml"), "--name", "Reuters")
        assert status == 0, err
        proc = await asyncio.create_subprocess_exec(str(VENDORWATCH), "run", cwd=tmp_path, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        wanted, seen = readme_alert_excerpt(), []
        async with asyncio.timeout(STARTUP_LIMIT_SECONDS):
            while not set(wanted) <= set(seen):
                line = await proc.stdout.readline()
                assert line, f"vendorwatch run ended its output early; missing {set(wanted) - set(seen)}"
                seen.append(line.decode().rstrip("\n"))
        assert "#1 [local]" in seen  # posted to the channel `chat` subscribed: console:local
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            _, err_bytes = await proc.communicate()
        assert proc.returncode == 0, err_bytes.decode()
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        await server.close()
