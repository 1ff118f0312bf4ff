"""WebSub (W3C, https://www.w3.org/TR/websub/) for the subscriber side: discovery, signatures, hub requests.

Discovery (section 4): the hub and self (topic) links of a feed, from the HTTP Link header first,
then the document (`<link rel="hub">`, `atom:link rel="hub"`); a feed naming a hub but no self
link is subscribed under the URL it was fetched from.

Content distribution (section 7.1): a pushed body is authentic only when `X-Hub-Signature` is
`method=hex` with method sha1, sha256, sha384 or sha512 and hex the HMAC of the raw body under the
subscription's secret; compared in constant time. Anything else is ignored.

Subscribing (section 5.1): a form POST to the hub. A feed names its hub, so the hub is as hostile
as the feed: its URL goes through the same address guard as feed URLs and the connection is
pinned to the checked addresses (watchers/feeds/pinned_network.py); no redirects are followed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

import httpx

from watchers.feeds.address_guard import RefusedURL, check_feed_url, url_host
from watchers.feeds.pinned_network import PinnedTransport, pinned_addresses
from watchers.models import FetchResult, ParsedFeed
from watchers.settings import Settings

log = logging.getLogger("vendorwatch.websub")

SIGNATURE_METHODS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
                     "sha512": hashlib.sha512}
CALLBACK_PATH = "/websub/"
HUB_TIMEOUT_SECONDS = 10.0
MAX_HUB_ANSWER = 300  # characters of a refusal kept as the row's last_error


@dataclass(frozen=True, slots=True)
class WebSubLinks:
    hub: str
    topic: str


@dataclass(frozen=True, slots=True)
class HubAnswer:
    """What a hub said to a (un)subscription request: accepted (2xx) or why not."""

    accepted: bool
    detail: str = ""


def discover(fetched: FetchResult, parsed: ParsedFeed | None) -> WebSubLinks | None:
    """The hub and topic a fetched feed names, header before body; None when it names no hub."""
    hub = fetched.hub_url or (parsed.hub_url if parsed is not None else None)
    if not hub:
        return None
    topic = fetched.self_url or (parsed.self_url if parsed is not None else None) or fetched.final_url
    return WebSubLinks(hub=hub, topic=topic)


def new_token() -> str:
    """The last part of a callback URL: 192 random bits, so that a callback cannot be guessed."""
    return secrets.token_urlsafe(24)


def new_secret() -> str:
    """hub.secret: random per subscription (the spec allows up to 200 bytes)."""
    return secrets.token_hex(32)


def callback_url(base: str, token: str) -> str:
    return base.rstrip("/") + CALLBACK_PATH + token


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """An X-Hub-Signature value, as a hub computes it (tests, benchmarks)."""
    return f"{method}={hmac.new(secret.encode(), body, SIGNATURE_METHODS[method]).hexdigest()}"


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """True only for `method=hex` with a known method and the right HMAC of `body` (constant time)."""
    if not header or "=" not in header:
        return False
    method, _, given = header.strip().partition("=")
    digest = SIGNATURE_METHODS.get(method.strip().lower())
    if digest is None:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("ascii", "replace"))


class HubClient:
    """Sends subscribe and unsubscribe requests to hubs, through the address guard."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._client: httpx.AsyncClient | None = None

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(max_connections=8, max_keepalive_connections=4, keepalive_expiry=30)
            self._client = httpx.AsyncClient(
                transport=PinnedTransport(limits=limits), follow_redirects=False, trust_env=False,
                timeout=httpx.Timeout(HUB_TIMEOUT_SECONDS, connect=self._settings.feed_connect_timeout_seconds))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def request(self, hub: str, *, mode: str, topic: str, callback: str, secret: str | None = None,
                      lease_seconds: int | None = None) -> HubAnswer:
        """POST hub.mode=`mode` (subscribe or unsubscribe) for `topic`; never raises for network trouble."""
        form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
        if mode == "subscribe":
            if secret:
                form["hub.secret"] = secret
            if lease_seconds:
                form["hub.lease_seconds"] = str(lease_seconds)
        try:
            addresses = await check_feed_url(hub, allow_private=self._settings.allow_private_feed_urls)
            client = self._get_client()
            async with asyncio.timeout(HUB_TIMEOUT_SECONDS):
                with pinned_addresses(url_host(hub), addresses):
                    async with client.stream("POST", hub, data=form,
                                             headers={"User-Agent": self._settings.feed_user_agent}) as response:
                        status, said = response.status_code, await _first_bytes(response, 200)
        except RefusedURL as exc:
            return HubAnswer(False, f"hub refused: {exc}"[:MAX_HUB_ANSWER])
        except TimeoutError:
            return HubAnswer(False, f"hub gave no answer within {HUB_TIMEOUT_SECONDS:g} s")
        except httpx.HTTPError as exc:
            return HubAnswer(False, f"hub unreachable: {exc.__class__.__name__}"[:MAX_HUB_ANSWER])
        except OSError as exc:
            return HubAnswer(False, f"hub unreachable: {exc.__class__.__name__}"[:MAX_HUB_ANSWER])
        if 200 <= status < 300:
            return HubAnswer(True)
        return HubAnswer(False, f"hub answered {status}: {said}"[:MAX_HUB_ANSWER])


async def _first_bytes(response: httpx.Response, limit: int) -> str:
    """The start of a hub's answer, as text for the log: a hostile hub may send no end."""
    head = b""
    async for chunk in response.aiter_raw():
        head += chunk
        if len(head) >= limit:
            break
    return head[:limit].decode("utf-8", "replace")
