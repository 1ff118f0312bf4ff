"""An HTTP transport that connects only to addresses the address guard checked.

The request URL keeps its host name, so the Host header, TLS SNI, certificate check and the
connection pool all work by name as usual; only the TCP connect is redirected to the checked
addresses, which the fetcher pins for the current task with `pinned_addresses(host, ips)`.
A host with no pinned addresses is not connected at all (fail closed), so nothing can reach an
address that was resolved after the check (DNS rebinding) or that was never checked.

httpx offers no public way to give its transport a network backend, so `PinnedTransport`
rebuilds the transport's httpcore pool with one; a test fails loudly if httpx changes that.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
import contextvars
import typing
from typing import Iterator

import httpcore
import httpx

from watchers.feeds.address_guard import normalize_host

_PINS: contextvars.ContextVar[dict[str, tuple[str, ...]]] = contextvars.ContextVar("pinned_addresses", default={})


@contextlib.contextmanager
def pinned_addresses(host: str, addresses: list[str]) -> Iterator[None]:
    """Within this block (and this task), connections to `host` go to `addresses` only."""
    token = _PINS.set({**_PINS.get(), normalize_host(host): tuple(addresses)})
    try:
        yield
    finally:
        _PINS.reset(token)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the pinned addresses of a host, in order, until one answers."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None):
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.AsyncNetworkStream:
        addresses = _PINS.get().get(normalize_host(host))
        if not addresses:
            raise httpcore.ConnectError(f"refusing to connect to {host}: its address was not checked")
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not feeds")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.lru_cache(maxsize=1)
def shared_ssl_context() -> ssl.SSLContext:
    """One verifying context (loading the CA bundle takes ~0.1 s), shared by every fetcher."""
    return httpx.create_ssl_context(trust_env=False)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own HTTP/1.1 transport, over a PinnedBackend, without proxies from the environment."""

    def __init__(self, *, limits: httpx.Limits) -> None:
        ssl_context = shared_ssl_context()
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=PinnedBackend(),
        )
