"""WebSub push (issue 12): discovery, subscribe and verify, signed pushes filed as polls are, renewal,
unsubscription, and everything a hostile hub or caller might try, against a loopback hub."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, update

from bot.web import HttpServer
from bot.websub_routes import add_websub_routes
from tests.feed_fixtures import rss
from tests.websub_hub import LoopbackHub, rss_with_hub
from watchers.feeds.sources import add_user_feed
from watchers.feeds.websub import HubClient, sign, signature_matches
from watchers.feeds.websub_job import WebSubSubscriber
from watchers.orchestrator import FeedOutcome, Orchestrator
from watchers.rules.classify import RulesEngine
from watchers.rules.provider import RulesProvider
from watchers.settings import Settings, default_seeds_dir
from watchers.storage.db import session_scope
from watchers.storage.stories import Story
from watchers.storage.tables import Feed, Item
from watchers.storage.websub import WebSubSubscription

FUNDING = "Scale AI raises $1 billion from Meta"
LAYOFFS = "OpenAI to cut 5% of staff in restructuring"
TOPIC = "https://publisher.example/feed.xml"


def now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def rules_engine() -> RulesEngine:
    return RulesEngine.load(default_seeds_dir())


@dataclass
class Setup:
    settings: Settings
    engine: object
    orchestrator: Orchestrator
    subscriber: WebSubSubscriber
    hub: LoopbackHub
    callback_base: str
    outcomes: list[FeedOutcome] = field(default_factory=list)
    feed_id: int = 0

    async def rows(self, model, *where):  # noqa: ANN001, ANN002
        async with session_scope(self.engine) as session:
            return list((await session.exec(select(model).where(*where))).scalars().all())

    async def subscription(self) -> WebSubSubscription:
        (row,) = await self.rows(WebSubSubscription)
        return row

    async def subscribed(self) -> dict[str, str]:
        """Poll the feed, run the subscriber, verify its request: the form the hub received."""
        await self.orchestrator.poll_feed(self.feed_id)
        assert await self.subscriber.run_once() == 1
        form = self.hub.requests[-1]
        status, _ = await self.hub.verify(form, challenge="c-123")
        assert status == 200
        return form


@pytest.fixture
async def websub(settings, engine, rules_engine, feed_server):  # noqa: ANN001
    hub = await LoopbackHub().start()
    outcomes: list[FeedOutcome] = []
    settings = settings.replace(poll_interval_seconds=60, first_poll_max_age_hours=1000.0, feed_max_bytes=100_000)
    orchestrator = Orchestrator(settings, engine, rules=RulesProvider.fixed(rules_engine))
    from aiohttp import web

    app = web.Application()
    server = HttpServer(app, 0, host="127.0.0.1")
    add_websub_routes(app, engine, settings, orchestrator, on_outcome=outcomes.append)
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    settings = settings.replace(websub_callback_url=base)
    orchestrator.settings = settings
    subscriber = WebSubSubscriber(settings, engine, owner="replica-a")
    feed_server.serve("/pushed.xml", rss_with_hub([("old", "Quiet day at the office", now())], hub.url, TOPIC))
    async with session_scope(engine) as session:
        feed_id = (await add_user_feed(session, feed_server.url("/pushed.xml"), "Pushed", None, settings)).id
    yield Setup(settings, engine, orchestrator, subscriber, hub, base, outcomes, feed_id)
    await subscriber.stop()
    await server.close()
    await orchestrator.aclose()
    await hub.close()


# ---- discovery ----

async def test_the_hub_and_topic_are_found_in_the_document_and_the_link_header_first(websub, feed_server):
    await websub.orchestrator.poll_feed(websub.feed_id)
    (feed,) = await websub.rows(Feed)
    assert (feed.websub_hub, feed.websub_topic) == (websub.hub.url, TOPIC)

    feed_server.serve("/pushed.xml", rss_with_hub([], websub.hub.url, TOPIC),
                      headers={"Link": '<https://hub.example/h>; rel="hub", <https://x.example/t>; rel="self"'})
    await websub.orchestrator.poll_feed(websub.feed_id)
    (feed,) = await websub.rows(Feed)
    assert (feed.websub_hub, feed.websub_topic) == ("https://hub.example/h", "https://x.example/t")

    feed_server.serve("/pushed.xml", rss([]))  # the hub is gone: the row forgets it, nothing is subscribed
    outcome = await websub.orchestrator.poll_feed(websub.feed_id)
    (feed,) = await websub.rows(Feed)
    assert (feed.websub_hub, feed.websub_topic, outcome.new_hub) == (None, None, False)
    assert await websub.subscriber.run_once() == 0


# ---- subscribe, verify, push ----

async def test_subscribe_verify_and_a_signed_push_files_its_story_at_once(websub):
    outcome = await websub.orchestrator.poll_feed(websub.feed_id)
    assert outcome.new_hub
    assert await websub.subscriber.run_once() == 1
    form = websub.hub.requests[-1]
    assert form["hub.mode"] == "subscribe" and form["hub.topic"] == TOPIC
    assert form["hub.lease_seconds"] == str(websub.settings.websub_lease_seconds)
    token = form["hub.callback"].rsplit("/", 1)[1]
    assert form["hub.callback"] == f"{websub.callback_base}/websub/{token}" and len(token) >= 32
    assert len(form["hub.secret"]) == 64
    assert (await websub.subscription()).state == "subscribing"
    assert await websub.subscriber.run_once() == 0  # accepted: it waits for the verification

    status, text = await websub.hub.verify(form, challenge="c-123", lease_seconds=600)
    assert (status, text) == (200, "c-123")
    row = await websub.subscription()
    assert row.state == "active" and row.lease_seconds == 600
    assert timedelta(seconds=590) < row.expires_at - now() <= timedelta(seconds=600)
    assert timedelta(seconds=470) < row.next_action_at - now() <= timedelta(seconds=480)  # renewed at 80 %

    body = rss_with_hub([("p1", FUNDING, now(), "It raised money.")], websub.hub.url, TOPIC)
    started = time.monotonic()
    assert await websub.hub.publish(form, body) == 202
    elapsed = time.monotonic() - started
    (pushed,) = await websub.rows(Item, Item.title == FUNDING)
    assert pushed.events and pushed.events[0].type == "funding" and pushed.story_id is not None
    (outcome,) = websub.outcomes
    assert outcome.status == "pushed" and outcome.story_ids == (pushed.story_id,) and outcome.new_items == 1
    assert elapsed < 2.0, f"push to filed story took {elapsed:.2f} s"
    assert (await websub.subscription()).last_push_at is not None

    # The same item polled later is the same item; the feed is now polled every 4 intervals.
    websub.hub.requests.clear()
    polled = await websub.orchestrator.poll_feed(websub.feed_id)
    assert polled.new_items == 0 or FUNDING not in [i.title for i in await websub.rows(Item, Item.id != pushed.id)]
    assert timedelta(seconds=235) < polled.next_check_at - now() <= timedelta(seconds=240)
    assert len(await websub.rows(Story)) == 1


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_each_signature_method_is_checked_in_constant_time(method: str) -> None:
    body = b"<rss/>"
    good = sign("s3cret", body, method)
    assert signature_matches("s3cret", body, good) and signature_matches("s3cret", body, good.upper().replace(
        method.upper(), method))
    assert not signature_matches("other", body, good)
    assert not signature_matches("s3cret", body + b" ", good)
    for bad in (None, "", "sha256", "md5=" + good.split("=")[1], good.split("=")[1], "sha256=zz\u00e9"):
        assert not signature_matches("s3cret", body, bad)


async def test_a_bad_or_missing_signature_an_unknown_callback_or_an_oversized_body_stores_nothing(websub):
    form = await websub.subscribed()
    body = rss_with_hub([("p1", FUNDING, now())], websub.hub.url, TOPIC)
    before = len(await websub.rows(Item))
    assert await websub.hub.publish(form, body, signature="sha256=" + "0" * 64) == 202
    assert await websub.hub.publish(form, body, signature="") == 202
    assert await websub.hub.publish(form, body, secret="not-the-secret") == 202
    assert await websub.hub.publish(form, body, signature=sign(form["hub.secret"], body, "sha256").replace(
        "sha256", "md5")) == 202
    unknown = form["hub.callback"].rsplit("/", 1)[0] + "/guessed-token"
    assert await websub.hub.publish(form, body, callback=unknown) == 404
    huge = rss_with_hub([(f"h{n}", FUNDING, now(), "x" * 2000) for n in range(60)], websub.hub.url, TOPIC)
    assert len(huge) > websub.settings.feed_max_bytes
    assert await websub.hub.publish(form, huge) == 413
    assert len(await websub.rows(Item)) == before and websub.outcomes == []
    assert (await websub.subscription()).last_push_at is None


async def test_a_challenge_for_another_topic_mode_or_callback_is_refused(websub):
    await websub.orchestrator.poll_feed(websub.feed_id)
    await websub.subscriber.run_once()
    form = websub.hub.requests[-1]
    assert (await websub.hub.verify(form, topic="https://evil.example/other.xml"))[0] == 404
    assert (await websub.hub.verify(form, mode="unsubscribe"))[0] == 404
    assert (await websub.hub.verify({**form, "hub.callback": form["hub.callback"][:-4] + "abcd"}))[0] == 404
    assert (await websub.subscription()).state == "subscribing"
    assert (await websub.hub.verify(form))[0] == 200


async def test_the_lease_is_renewed_before_it_ends(websub):
    form = await websub.subscribed()
    first = await websub.subscription()
    async with session_scope(websub.engine) as session:  # 80 % of the lease has passed
        await session.exec(update(WebSubSubscription).values(next_action_at=now() - timedelta(seconds=1)))
    assert await websub.subscriber.run_once() == 1
    renewal = websub.hub.requests[-1]
    assert renewal["hub.mode"] == "subscribe" and renewal["hub.callback"] == form["hub.callback"]
    assert (await websub.subscription()).state == "active"  # pushes keep coming while the hub verifies
    status, _ = await websub.hub.verify(renewal, lease_seconds=900)
    row = await websub.subscription()
    assert status == 200 and row.lease_seconds == 900 and row.expires_at > first.expires_at
    assert await websub.subscriber.run_once() == 0


async def test_a_removed_feed_is_unsubscribed(websub):
    form = await websub.subscribed()
    async with session_scope(websub.engine) as session:
        await session.exec(delete(Feed).where(Feed.id == websub.feed_id))
    assert await websub.subscriber.run_once() == 1
    request = websub.hub.requests[-1]
    assert request["hub.mode"] == "unsubscribe" and request["hub.topic"] == TOPIC
    assert (await websub.hub.publish(form, b"<rss/>")) == 404  # no more pushes taken
    assert (await websub.hub.verify(request))[0] == 200
    assert await websub.rows(WebSubSubscription) == []


async def test_a_hub_that_refuses_is_retried_later_and_a_denial_recorded(websub):
    websub.hub.answer_status = 400
    await websub.orchestrator.poll_feed(websub.feed_id)
    assert await websub.subscriber.run_once() == 1
    row = await websub.subscription()
    assert row.state == "subscribing" and "400" in row.last_error and row.next_action_at > now()
    status, _ = await websub.hub.verify(websub.hub.requests[-1], mode="denied")
    assert status == 200 and (await websub.subscription()).state == "denied"


async def test_a_hub_on_a_private_network_is_refused_unless_private_urls_are_allowed(websub):
    await websub.orchestrator.poll_feed(websub.feed_id)
    strict = websub.settings.replace(allow_private_feed_urls=False)
    answer = await HubClient(strict).request(websub.hub.url, mode="subscribe", topic=TOPIC,
                                             callback=websub.callback_base + "/websub/x", secret="s")
    assert not answer.accepted and "private" in answer.detail
    subscriber = WebSubSubscriber(strict, websub.engine, owner="strict")
    try:
        assert await subscriber.run_once() == 1
    finally:
        await subscriber.stop()
    assert websub.hub.requests == [] and "private" in (await websub.subscription()).last_error
    metadata = await HubClient(websub.settings).request("http://169.254.169.254/hub", mode="subscribe",
                                                        topic=TOPIC, callback="http://127.0.0.1/websub/x")
    assert not metadata.accepted and "metadata" in metadata.detail


async def test_replicas_send_each_request_once(websub):
    await websub.orchestrator.poll_feed(websub.feed_id)
    other = WebSubSubscriber(websub.settings, websub.engine, owner="replica-b")
    try:
        sent = await asyncio.gather(websub.subscriber.run_once(), other.run_once())
    finally:
        await other.stop()
    assert sorted(sent) == [0, 1] and len(websub.hub.requests) == 1
    assert len(await websub.rows(WebSubSubscription)) == 1
