"""Which feed URLs we may fetch: http(s) only, and only to public addresses (no SSRF).

`check_feed_url` resolves the host with the event loop's getaddrinfo, the same resolver the
operating system would use to connect, so every spelling of an address ("2130706433",
"0177.0.0.1", "0x7f.1", "127.1", "[::ffff:127.0.0.1]", "localhost.") ends up as the address it
really is, and that address is checked. It returns the checked addresses; the fetcher connects to
exactly those (watchers/feeds/pinned_network.py), so a DNS answer that changes between the check and the
connection (rebinding) cannot reach anything else.

Refused unless `allow_private`: every address that is not globally routable (loopback, private,
link-local, multicast, reserved, unspecified, CGNAT 100.64/10, benchmark, documentation ranges),
also when embedded in IPv6 (IPv4-mapped, IPv4-compatible, 6to4, NAT64, Teredo). Cloud metadata
endpoints are refused always, even with `allow_private`: they are never a feed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx

from watchers.errors import UsageError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "metadata.goog", "instance-data",
                            "instance-data.ec2.internal", "metadata.azure.internal"})
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.169.253", "fd00:ec2::254", "fd00:ec2::23", "100.100.100.200"))

# Belt and braces beside `is_global`, whose tables have changed between Python releases.
_NOT_PUBLIC = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/127", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10",
    "fec0::/10", "ff00::/8"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")


class RefusedURL(UsageError):
    """A feed URL we will not fetch, with the reason in one sentence."""


class UnresolvableHost(RefusedURL):
    """The host has no address (DNS failure): a usage error for `feeds add`, kind "dns" for a fetch."""


def url_host(url: str) -> str:
    """The host exactly as the HTTP client will connect to it (IDNA ASCII, lower case, no brackets)."""
    return normalize_host(httpx.URL(url).raw_host.decode("ascii"))


def normalize_host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses carried inside an IPv6 one (mapped, compatible, 6to4, NAT64, Teredo)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = []
    if address.ipv4_mapped:
        found.append(address.ipv4_mapped)
    if address.sixtofour:
        found.append(address.sixtofour)
    if address.teredo:
        found.extend(address.teredo)
    if address in _NAT64 or (address in _V4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_metadata_address(address: IPAddress) -> bool:
    return address in METADATA_ADDRESSES or any(v4 in METADATA_ADDRESSES for v4 in embedded_ipv4(address))


def is_public_address(address: IPAddress) -> bool:
    """Globally routable, and so is every IPv4 address embedded in it."""
    if not address.is_global or address.is_multicast or any(address in net for net in _NOT_PUBLIC
                                                             if net.version == address.version):
        return False
    return all(is_public_address(v4) for v4 in embedded_ipv4(address))


def parse_address(text: str) -> IPAddress | None:
    """A literal address in any spelling the C resolver accepts, else None (a name)."""
    text = normalize_host(text).split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if not text or not all(c in "0123456789abcdefx." for c in text) or not text[0].isdigit():
        return None
    try:  # inet_aton: decimal "2130706433", octal "0177.0.0.1", hex "0x7f.1", short "127.1"
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def _split_url(url: str) -> tuple[str, int]:
    """Host and port of a URL we may fetch at all; RefusedURL for the wrong scheme or userinfo."""
    if not isinstance(url, str) or len(url) > 4096 or any(c in url for c in "\r\n\t\x00 "):
        raise RefusedURL(f"{str(url)[:200]!r} is not a valid feed URL.")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise RefusedURL(f"{url[:200]!r} is not a valid URL.") from None
    if parsed.scheme not in ("http", "https"):
        raise RefusedURL(f"{url[:200]} is refused: feed URLs must start with http:// or https://.")
    if parsed.userinfo:
        raise RefusedURL(f"{url[:200]} is refused: a feed URL may not carry a user name or password.")
    host = normalize_host(parsed.raw_host.decode("ascii"))
    if not host:
        raise RefusedURL(f"{url[:200]} is refused: it names no host.")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if not 0 < port < 65536:
        raise RefusedURL(f"{url[:200]} is refused: port {port} does not exist.")
    return host, port


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, through the event loop's (threaded) getaddrinfo."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def check_feed_url(url: str, *, allow_private: bool) -> list[str]:
    """The addresses `url`'s host resolves to, all of them allowed; else RefusedURL.

    A DNS failure is UnresolvableHost, a RefusedURL (the fetcher reports it as kind "dns")."""
    host, port = _split_url(url)
    if host in METADATA_HOSTS:
        raise RefusedURL(f"{url[:200]} is refused: {host} is a cloud metadata service, not a feed.")
    literal = parse_address(host)
    try:
        addresses = [literal] if literal is not None else await resolve(host, port)
    except socket.gaierror as exc:
        raise UnresolvableHost(f"{url[:200]} is refused: {host} cannot be resolved ({exc.strerror or exc}).") from None
    except (UnicodeError, ValueError):
        raise RefusedURL(f"{url[:200]} is refused: {host[:100]} is not a valid host name.") from None
    if not addresses:
        raise RefusedURL(f"{url[:200]} is refused: {host} resolves to no address.")
    for address in addresses:
        if is_metadata_address(address):
            raise RefusedURL(f"{url[:200]} is refused: {address} is a cloud metadata address, not a feed.")
        if not allow_private and not is_public_address(address):
            raise RefusedURL(f"{url[:200]} is refused: {host} is a private or reserved address ({address}); "
                             "set ALLOW_PRIVATE_FEED_URLS=1 to allow it.")
    return [str(a) for a in addresses]
