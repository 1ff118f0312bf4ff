"""A loopback WebSub hub for tests (aiohttp, on the test's event loop).

    hub = await LoopbackHub().start()
    feed_server.serve("/f.xml", rss_with_hub(entries, hub.url, topic))
    ... the subscriber sends its request: hub.requests[-1] is the form it posted
    status, text = await hub.verify(hub.requests[-1])         # the hub's GET with hub.challenge
    status = await hub.publish(hub.requests[-1], body)        # a signed content POST

With `auto_verify`, the hub verifies each request by itself right after it answered 202, as
a real hub does (section 5.3 of the spec), and records the answers in `verified`.
"""

from __future__ import annotations

import asyncio
import secrets

import aiohttp
from aiohttp import web

from tests.feed_fixtures import rss
from watchers.feeds.websub import sign


def rss_with_hub(entries: list[tuple], hub: str, topic: str, title: str = "Pushed feed") -> bytes:
    """An RSS document naming `hub` and `topic` with atom:link, as WordPress and FeedBurner feeds do."""
    links = (f'<atom:link rel="hub" href="{hub}"/>'
             f'<atom:link rel="self" href="{topic}" type="application/rss+xml"/>')
    return rss(entries, title=title).replace(
        b'<rss version="2.0"><channel>',
        b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>' + links.encode(), 1)


class LoopbackHub:
    def __init__(self, *, auto_verify: bool = False, answer_status: int = 202) -> None:
        self.auto_verify, self.answer_status = auto_verify, answer_status
        self.requests: list[dict[str, str]] = []
        self.verified: list[tuple[int, str]] = []
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task] = set()
        self.url = ""

    async def start(self) -> "LoopbackHub":
        app = web.Application()
        app.router.add_post("/hub", self._subscribe)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hub"
        return self

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    async def _subscribe(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.requests.append(form)
        if self.auto_verify and self.answer_status == 202:
            task = asyncio.get_running_loop().create_task(self._verify_later(form))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.Response(status=self.answer_status, text="accepted" if self.answer_status == 202 else "no")

    async def _verify_later(self, form: dict[str, str]) -> None:
        await asyncio.sleep(0.05)
        self.verified.append(await self.verify(form))

    async def verify(self, form: dict[str, str], *, challenge: str | None = None, lease_seconds: int | None = 600,
                     topic: str | None = None, mode: str | None = None) -> tuple[int, str]:
        """The verification GET of the spec for a request this hub received: (status, body)."""
        params = {"hub.mode": mode or form["hub.mode"], "hub.topic": topic or form["hub.topic"],
                  "hub.challenge": challenge or secrets.token_hex(8)}
        if lease_seconds is not None and params["hub.mode"] == "subscribe":
            params["hub.lease_seconds"] = str(lease_seconds)
        async with aiohttp.ClientSession() as session:
            async with session.get(form["hub.callback"], params=params) as response:
                return response.status, await response.text()

    async def publish(self, form: dict[str, str], body: bytes, *, method: str = "sha256", signature: str | None = None,
                      secret: str | None = None, callback: str | None = None) -> int:
        """A content distribution POST signed with the subscription's secret (or `signature` as given)."""
        headers = {"Content-Type": "application/rss+xml",
                   "Link": f'<{self.url}>; rel="hub", <{form["hub.topic"]}>; rel="self"'}
        if signature is None:
            signature = sign(secret or form["hub.secret"], body, method)
        if signature:
            headers["X-Hub-Signature"] = signature
        async with aiohttp.ClientSession() as session:
            async with session.post(callback or form["hub.callback"], data=body, headers=headers) as response:
                return response.status
