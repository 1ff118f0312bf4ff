"""Small HTTP pieces of a fetch: caching headers, and a decompressor that cannot be bombed."""

from __future__ import annotations

import re
import zlib
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

# Longest wait a server may ask of us through Retry-After or max-age; beyond it is a typo or abuse.
MAX_HINT_SECONDS = 7 * 24 * 3600
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d{1,12})", re.I)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value[:12]), MAX_HINT_SECONDS))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return float(min(max(seconds, 0.0), MAX_HINT_SECONDS))


def parse_max_age(cache_control: str | None) -> float | None:
    """max-age of a Cache-Control header in seconds; None if absent, bad, or no-store/no-cache."""
    if not cache_control:
        return None
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return None
    found = _MAX_AGE.search(cache_control)
    if not found:
        return None
    return float(min(int(found.group(1)), MAX_HINT_SECONDS))


class TooLarge(Exception):
    """The body (on the wire or decompressed) passed the size cap."""


class UnsupportedEncoding(Exception):
    pass


class BoundedDecoder:
    """Decodes a Content-Encoding chunk by chunk, never producing more than `limit` bytes in all.

    zlib's max_length bounds every step, so a gzip bomb (1,000:1 per chunk) costs at most the cap
    in memory before it is refused. gzip (also concatenated members), deflate (zlib or raw) and
    identity; anything else (br, zstd: we never ask for them) is UnsupportedEncoding.
    """

    def __init__(self, content_encoding: str | None, limit: int):
        codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise UnsupportedEncoding(f"unsupported Content-Encoding {content_encoding!r}")
        self.coding = codings[0] if codings else None
        self.limit = limit
        self.produced = 0
        self._inflater: zlib._Decompress | None = None
        self._started = False

    def _new_inflater(self, first: bytes) -> zlib._Decompress:
        if self.coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        looks_zlib = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if looks_zlib else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        if self.coding is None:
            return self._count(data)
        out: list[bytes] = []
        while data:
            if self._inflater is None or (self._inflater.eof and self.coding != "deflate"):
                if self._inflater is not None and not data.strip(b"\x00"):
                    break  # padding after the last gzip member
                self._inflater = self._new_inflater(data)
            elif self._inflater.eof:
                break  # trailing bytes after a deflate stream
            try:
                piece = self._inflater.decompress(data, self.limit - self.produced + 1)
            except zlib.error as exc:
                raise UnsupportedEncoding(f"corrupt {self.coding} body: {exc}") from None
            out.append(self._count(piece))
            data = self._inflater.unconsumed_tail if not self._inflater.eof else self._inflater.unused_data
        return b"".join(out)

    def _count(self, piece: bytes) -> bytes:
        self.produced += len(piece)
        if self.produced > self.limit:
            raise TooLarge(f"body larger than {self.limit} bytes")
        return piece
