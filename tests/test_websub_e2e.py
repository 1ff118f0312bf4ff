"""WebSub through `vendorwatch run`: the bot subscribes to the hub its feed names, and a signed push
reaches the console channel as an alert within a second or two, far inside the poll interval."""

from __future__ import annotations

import asyncio
import subprocess
import time
from datetime import datetime, timezone

from tests.e2e_support import RunProcess, until
from tests.shared_data import VENDORWATCH
from tests.websub_hub import LoopbackHub, rss_with_hub

TOPIC = "https://wire.example/feed.xml"


async def test_a_signed_push_is_alerted_within_seconds_and_a_forged_one_never(tmp_path, feed_server):
    hub = await LoopbackHub(auto_verify=True).start()
    bot = RunProcess(tmp_path, feed_server, poll_seconds=300)
    bot.env.update(WEBSUB_CALLBACK_URL=bot.url)
    entries: list[tuple] = []
    try:
        await bot.add_feeds(["wire"])
        feed_server.serve("/wire.xml", rss_with_hub(entries, hub.url, TOPIC, "wire"))
        for slug in ("scale-ai", "openai"):
            subprocess.run([str(VENDORWATCH), "chat", "watch", slug], cwd=tmp_path, env=bot.env, check=True,
                           capture_output=True, timeout=60)
        await bot.start()
        assert bot.proc is not None and bot.proc.stdout is not None
        await until(lambda: any(status == 200 for status, _ in hub.verified), 30, "the hub's verification")
        form = hub.requests[-1]

        lines: list[tuple[float, str]] = []

        async def read() -> None:
            while line := await bot.proc.stdout.readline():
                lines.append((time.monotonic(), line.decode(errors="replace")))

        reader = asyncio.create_task(read())
        forged = [("f1", "OpenAI raises $40 billion in funding round", datetime.now(timezone.utc))]
        assert await hub.publish(form, rss_with_hub(forged, hub.url, TOPIC, "wire"), secret="guessed") == 202
        entries.append(("p1", "Scale AI raises $1 billion in Series F funding", datetime.now(timezone.utc)))
        pushed_at = time.monotonic()
        assert await hub.publish(form, rss_with_hub(entries, hub.url, TOPIC, "wire")) == 202
        arrived = await until(lambda: next((at for at, text in lines if "$1B" in text or "$1 billion" in text), None),
                              10, "the pushed alert")
        assert arrived - pushed_at < 2.0, f"push to alert took {arrived - pushed_at:.2f} s"
        await asyncio.sleep(1.0)
        assert not any("40 billion" in text or "$40B" in text for _, text in lines)
        reader.cancel()
        code, _err = await bot.stop()
        assert code == 0
    finally:
        await bot.kill()
        await hub.close()
