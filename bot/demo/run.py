"""`vendorwatch demo`: the real pipeline, offline, on the recorded feeds of seeds/sample/.

A loopback server (bot.demo.feed_server) serves the sample feeds as of a demo clock that moves through
the "waves" of seeds/sample/sample.toml (June to October 2025). A console channel watches a few
companies through the real command core; each wave is one poll cycle of the orchestrator
(fetch, parse, normalize, classify, cluster), then fan-out and the outbox sender deliver to the
console platform, which shows parent alerts with their thread replies and edits as a chat would.
The wave marked `digest` runs the weekly digest job; its chart is written to --output-dir.
Nothing to configure: a temporary SQLite database, no credentials, no network beyond 127.0.0.1.

The output is the same on every run, line for line, apart from the timings (and the --output-dir
path): each wave polls the feeds one at a time in the order of sample.toml, so items are filed in a
fixed order whatever the feeds' speed or the jitter of their schedules; the server's random port
is not shown. No log lines unless asked for (LOG_LEVEL set, or --verbose).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.demo.feed_server import SampleFeedServer, SampleSet, Wave, load_sample_set
from bot.messages import Message, Request
from watchers.errors import UsageError
from watchers.settings import Settings, inspect_settings
from watchers.storage.db import make_engine, session_scope, upgrade
from watchers.storage.delivery import Outbox
from watchers.storage.stories import Story
from watchers.storage.tables import Item
from watchers.storage.types import utcnow

CHANNEL = Request(platform="console", channel_id="demo", text="", user="you", channel_name="#vendor-news")
COMMANDS = ("watch scale-ai", "watch mercor", "watch surge-ai", "watch anthropic", "watch scael",
            "list")
FIRST_POLL_MAX_AGE_HOURS = 48.0  # as the default: on a feed's first poll, older items are history
RULE = "\u2500" * 78


def say(text: str = "") -> None:
    print(text, flush=True)


def demo_settings(settings: Settings, database_path: Path, samples: SampleSet) -> Settings:
    """The user's settings made safe and quick for the demo.

    The orchestrator judges "older than 48 hours on a feed's first poll" by the wall clock; the
    sample items are dated 2025, so the limit is moved by the distance from the first wave's
    demo clock to now: items 48 hours older than the first wave are history, as they would be.
    """
    shift = (utcnow() - samples.waves[0].at).total_seconds() / 3600
    return settings.replace(
        database_url=f"sqlite:///{database_path}", seed_feeds=False, allow_private_feed_urls=True,
        slack_bot_token=None, slack_signing_secret=None, slack_app_token=None,
        discord_bot_token=None, first_poll_max_age_hours=shift + FIRST_POLL_MAX_AGE_HOURS,
        feed_timeout_seconds=10.0, parse_workers=1, poll_interval_seconds=max(settings.poll_interval_seconds, 60),
        digest_weekday=0, digest_hour=9, digest_timezone="UTC")


def output_directory(args: argparse.Namespace) -> Path:
    path = Path(getattr(args, "output_dir", None) or "demo-output")
    if path.exists() and not path.is_dir():
        raise UsageError(f"--output-dir {path} is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output-dir {path}: cannot create it ({exc.strerror or exc})") from None
    return path


OWN_LOGGERS = ("vendorwatch", "watchers", "bot")  # the bot's loggers; --verbose shows their debug lines


def quiet_logs(args: argparse.Namespace) -> None:
    """The demo's terminal is for its own output: log lines only at WARNING and above, unless the
    user asked for them (LOG_LEVEL in the environment or .env, or --verbose: the bot's own debug
    lines, and the libraries' from INFO up, not aiosqlite's thousands of debug lines)."""
    if getattr(args, "verbose", False):
        logging.getLogger().setLevel(logging.INFO)
        for name in OWN_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)
        return
    asked = any(v.setting.name == "LOG_LEVEL" and v.origin != "default" for v in inspect_settings())
    if not asked:
        logging.getLogger().setLevel(logging.WARNING)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    started = time.monotonic()
    quiet_logs(args)
    out_dir = output_directory(args)
    samples = load_sample_set(settings.seeds_path / "sample")
    with tempfile.TemporaryDirectory(prefix="vendorwatch-demo-") as tmp:
        demo = Demo(demo_settings(settings, Path(tmp) / "demo.db", samples), samples, out_dir)
        code = await demo.run()
    say(f"Done in {time.monotonic() - started:.1f} s.")
    return code


class Demo:
    def __init__(self, settings: Settings, samples: SampleSet, out_dir: Path):
        self.settings = settings
        self.samples = samples
        self.out_dir = out_dir
        self.charts: list[Path] = []
        self.feed_ids: list[int] = []  # in the order of sample.toml: the order of every poll

    async def run(self) -> int:
        from bot.platforms.console import ConsolePlatform
        from bot.delivery.outbox import OutboxSender
        from watchers.orchestrator import Orchestrator
        from watchers.rules.provider import RulesProvider

        await upgrade(self.settings.database_url)
        self.engine = make_engine(self.settings.database_url)
        self.server = SampleFeedServer(self.samples, self.samples.waves[0].at)
        await self.server.start()
        rules = RulesProvider.from_settings(self.settings)
        self.orchestrator = Orchestrator(self.settings, self.engine, rules=rules)
        try:
            await self.orchestrator.refresh_sources()
            self.registry = rules.current.registry
            # The sender's clock runs one thread-batch window ahead: each wave's coverage is
            # batched into one reply as it would be after THREAD_BATCH_SECONDS, without the wait.
            ahead = timedelta(seconds=self.settings.thread_batch_seconds)
            self.sender = OutboxSender(self.engine, self.settings, {"console": ConsolePlatform()},
                                       clock=lambda: utcnow() + ahead)
            self.intro()
            await self.register_feeds()
            await self.commands()
            for wave in self.samples.waves:
                await self.wave(wave)
            await self.summary()
        finally:
            await self.orchestrator.aclose()
            await self.server.close()
            await self.engine.dispose()
        return 0

    def intro(self) -> None:
        say("Vendorwatch demo: the real pipeline on recorded feeds, offline, with a throwaway SQLite database.")
        say(f"{len(self.samples.feeds)} recorded feeds (seeds/sample/) are served on 127.0.0.1; "
            "each wave below is one poll cycle at the demo clock.")

    async def register_feeds(self) -> None:
        from watchers.feeds.sources import add_user_feed

        async with session_scope(self.engine) as session:
            for feed in self.samples.feeds:
                row = await add_user_feed(session, self.server.url(feed.file), feed.name, None, self.settings)
                self.feed_ids.append(row.id)
        say("Feeds: " + ", ".join(f.name for f in self.samples.feeds))

    async def commands(self) -> None:
        from bot.commands.core import CommandCore

        core = CommandCore(self.engine, self.settings, lambda: self.registry)
        say()
        say(RULE)
        say(f"{CHANNEL.channel_name} (console channel): setting up")
        say(RULE)
        for text in COMMANDS:
            reply = await core.handle(Request(CHANNEL.platform, CHANNEL.channel_id, text, CHANNEL.user,
                                              channel_name=CHANNEL.channel_name))
            say(f"> /vendorwatch {text}")
            say(_indent(reply.to_text(), "  "))

    async def wave(self, wave: Wave) -> None:
        from bot.delivery.fanout import fan_out

        self.server.now = wave.at
        say()
        say(RULE)
        say(f"{wave.at:%Y-%m-%d %H:%M} UTC  {wave.label}")
        say(RULE)
        outcomes = await self.poll()
        new = sum(o.new_items for o in outcomes)
        edited = sum(o.updated_items for o in outcomes)
        history = sum(o.history_items for o in outcomes)
        unchanged = sum(1 for o in outcomes if o.status == "not_modified")
        failed = [o for o in outcomes if o.status == "error"]
        line = f"[poll] {len(outcomes)} feeds: {new} new items, {edited} edited, {unchanged} unchanged (304)"
        if history:
            line += f", {history} older than 48 h kept as history (never alerted)"
        say(line)
        for outcome in failed:
            say(f"[poll] {outcome.name}: {outcome.error_kind}: {outcome.error_message}")
        if wave.digest:
            await self.digest(wave.at)
        await fan_out(self.engine, self.settings, now=utcnow(), registry=self.registry)
        await self.sender.send_due()

    async def poll(self) -> list:
        """One poll of every feed, one at a time in a fixed order: the same stories on every run."""
        outcomes = []
        for feed_id in self.feed_ids:
            outcome = await self.orchestrator.poll_feed(feed_id)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    async def digest(self, now: datetime) -> None:
        from bot.digest.job import enqueue_weekly_digests

        say("[digest] the weekly digest job runs for every watching channel")
        ids = await enqueue_weekly_digests(self.engine, self.settings, self.registry, now=now)
        async with session_scope(self.engine) as session:
            rows = [await session.get(Outbox, outbox_id) for outbox_id in ids]
        for row in rows:
            if row is None:
                continue
            for attachment in Message.from_dict(row.payload["message"]).attachments:
                path = self.out_dir / attachment.filename
                path.write_bytes(attachment.data)
                self.charts.append(path)
                say(f"[digest] chart written to {path}")

    async def summary(self) -> None:
        async with session_scope(self.engine) as session:
            items = (await session.exec(select(func.count()).select_from(Item))).one()
            stories = (await session.exec(select(func.count()).select_from(Story))).one()
            sent = (await session.exec(select(func.count()).select_from(Outbox)
                                       .where(Outbox.status == "sent"))).one()
        say()
        say(RULE)
        say(f"Summary: {self.server.requests} feed requests ({self.server.not_modified} answered 304), "
            f"{_scalar(items)} items stored, {_scalar(stories)} stories, {_scalar(sent)} messages delivered.")
        for path in self.charts:
            say(f"Digest chart: {path}")
        if not self.charts:
            print("vendorwatch demo: the digest had no chart (no events in its week)", file=sys.stderr)


def _scalar(value: object) -> object:
    """A count, whether the session hands back the number or a one-column row."""
    return value if isinstance(value, int) else value[0]  # type: ignore[index]


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())
