"""The address guard, with real resolution (literal addresses and localhost), and the pinned transport."""

from __future__ import annotations

import httpx
import pytest

from watchers.feeds.address_guard import RefusedURL, UnresolvableHost, check_feed_url, is_public_address, parse_address
from watchers.errors import UsageError
from watchers.feeds.pinned_network import PinnedTransport, pinned_addresses

LOOPBACK_SPELLINGS = [
    "http://127.0.0.1/feed", "http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://0x7f000001/",
    "http://017700000001/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
    "http://localhost/", "http://LOCALHOST./", "http://127.0.0.1./", "http://[0:0:0:0:0:0:0:1]/",
]
PRIVATE = [
    "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1:8080/rss", "http://100.64.0.1/",
    "http://100.127.255.254/", "http://169.254.1.1/", "http://0.0.0.0/", "http://[::]/", "http://224.0.0.1/",
    "http://239.255.255.250/", "http://240.0.0.1/", "http://255.255.255.255/", "http://198.18.0.1/",
    "http://192.0.2.1/", "http://[fc00::1]/", "http://[fe80::1]/", "http://[ff02::1]/",
    "http://[2002:7f00:1::]/", "http://[2002:c0a8:101::]/", "http://[64:ff9b::a00:1]/", "http://[64:ff9b::7f00:1]/",
    "http://[::127.0.0.1]/", "http://[2001:0:4136:e378:8000:63bf:3f57:fefe]/",
]
METADATA = ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://metadata.google.internal/",
            "http://metadata.google.internal./computeMetadata/v1/", "http://[::ffff:169.254.169.254]/",
            "http://2852039166/", "http://0xa9.0xfe.0xa9.0xfe/"]
MALFORMED = ["ftp://8.8.8.8/feed", "file:///etc/passwd", "javascript:alert(1)", "gopher://8.8.8.8/",
             "http://user:pw@8.8.8.8/", "http://user@8.8.8.8/", "http:///nohost", "http://8.8.8.8:99999/",
             "not a url", "", "http://8.8.8.8/\r\nHost: evil", "//8.8.8.8/feed", "data:text/xml,<rss/>"]


@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS + PRIVATE)
async def test_non_public_addresses_are_refused_in_every_spelling(url: str) -> None:
    with pytest.raises(RefusedURL) as refused:
        await check_feed_url(url, allow_private=False)
    assert "ALLOW_PRIVATE_FEED_URLS" in str(refused.value)
    assert isinstance(refused.value, UsageError)


@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS + PRIVATE)
async def test_allow_private_lets_them_through(url: str) -> None:
    addresses = await check_feed_url(url, allow_private=True)
    assert addresses


@pytest.mark.parametrize("url", METADATA)
@pytest.mark.parametrize("allow_private", [False, True])
async def test_cloud_metadata_is_refused_even_when_private_urls_are_allowed(url: str, allow_private: bool) -> None:
    with pytest.raises(RefusedURL, match="metadata"):
        await check_feed_url(url, allow_private=allow_private)


@pytest.mark.parametrize("url", MALFORMED)
@pytest.mark.parametrize("allow_private", [False, True])
async def test_wrong_scheme_userinfo_and_garbage_are_refused(url: str, allow_private: bool) -> None:
    with pytest.raises(RefusedURL):
        await check_feed_url(url, allow_private=allow_private)


@pytest.mark.parametrize("url, expected", [
    ("http://8.8.8.8/feed", ["8.8.8.8"]), ("https://1.1.1.1:8443/rss", ["1.1.1.1"]),
    ("http://[2606:4700:4700::1111]/", ["2606:4700:4700::1111"]), ("http://134744072/", ["8.8.8.8"]),
    ("http://[2002:808:808::]/", ["2002:808:808::"]),
])
async def test_public_addresses_pass_and_are_returned(url: str, expected: list[str]) -> None:
    assert await check_feed_url(url, allow_private=False) == expected


async def test_localhost_resolves_through_the_real_resolver() -> None:
    addresses = await check_feed_url("http://localhost:8080/feed", allow_private=True)
    assert "127.0.0.1" in addresses


async def test_unresolvable_name_is_a_usage_error_naming_the_host() -> None:
    with pytest.raises(UnresolvableHost, match="no-such-host.invalid cannot be resolved"):
        await check_feed_url("http://no-such-host.invalid/feed", allow_private=False)


@pytest.mark.parametrize("url", ["http://" + "a" * 70 + ".example/feed", "http://a..b.example/"])
async def test_invalid_host_names_are_refused(url: str) -> None:
    with pytest.raises(RefusedURL):
        await check_feed_url(url, allow_private=True)


@pytest.mark.parametrize("text, expected", [
    ("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("[::1]", "::1"), ("example.com", None), ("1.2.3.4.5", None), ("fe80::1%eth0", "fe80::1"),
])
def test_parse_address_reads_every_c_resolver_spelling(text: str, expected: str | None) -> None:
    found = parse_address(text)
    assert (str(found) if found else None) == expected


def test_embedded_private_v4_is_not_public() -> None:
    import ipaddress

    assert not is_public_address(ipaddress.ip_address("2002:a00:1::"))  # 6to4 of 10.0.0.1
    assert is_public_address(ipaddress.ip_address("2002:808:808::"))  # 6to4 of 8.8.8.8


async def test_pinned_transport_connects_to_the_checked_address_not_to_dns(feed_server) -> None:
    """A name that has no DNS record is reached at the pinned address; Host keeps the name."""
    feed_server.serve("/feed", b"<rss/>")
    async with httpx.AsyncClient(transport=PinnedTransport(limits=httpx.Limits())) as client:
        url = f"http://feeds.vendorwatch.invalid:{feed_server.port}/feed"
        with pinned_addresses("feeds.vendorwatch.invalid", ["127.0.0.1"]):
            response = await client.get(url)
    assert response.status_code == 200
    assert feed_server.requests[-1].headers["host"] == f"feeds.vendorwatch.invalid:{feed_server.port}"


async def test_pinned_transport_refuses_a_host_that_was_not_checked(feed_server) -> None:
    """localhost resolves fine, but without pinned addresses nothing is connected (fail closed)."""
    feed_server.serve("/feed", b"<rss/>")
    async with httpx.AsyncClient(transport=PinnedTransport(limits=httpx.Limits())) as client:
        with pinned_addresses("other.example", ["127.0.0.1"]):
            with pytest.raises(httpx.ConnectError, match="not checked"):
                await client.get(f"http://localhost:{feed_server.port}/feed")
    assert feed_server.requests == []


async def test_pinned_transport_tries_each_checked_address_in_turn(feed_server) -> None:
    feed_server.serve("/feed", b"<rss/>")
    async with httpx.AsyncClient(transport=PinnedTransport(limits=httpx.Limits())) as client:
        # the server listens on 127.0.0.1 only, so 127.0.0.2 refuses the connection
        with pinned_addresses("twice.invalid", ["127.0.0.2", "127.0.0.1"]):
            response = await client.get(f"http://twice.invalid:{feed_server.port}/feed")
    assert response.status_code == 200


async def test_international_names_are_checked_and_pinned_in_their_ascii_form(feed_server) -> None:
    from watchers.feeds.address_guard import url_host

    assert url_host("http://B\u00fccher.example./feed") == "xn--bcher-kva.example"
    feed_server.serve("/feed", b"<rss/>")
    async with httpx.AsyncClient(transport=PinnedTransport(limits=httpx.Limits())) as client:
        with pinned_addresses(url_host("http://b\u00fccher.invalid/"), ["127.0.0.1"]):
            response = await client.get(f"http://b\u00fccher.invalid:{feed_server.port}/feed")
    assert response.status_code == 200
