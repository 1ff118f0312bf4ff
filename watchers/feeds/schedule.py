"""When to poll a feed next: pure functions of what the last poll said.

Healthy feeds are polled every `base` seconds (POLL_INTERVAL_SECONDS) exactly, counted from the
start of the last fetch, unless the feed itself asks for longer (RSS `<ttl>`, Cache-Control
`max-age`, `Retry-After`), which is honoured up to `MAX_REQUESTED_SECONDS`. No random stretch is
added: the contract forbids polling sooner than `base` and the latency goal (an item reaches its
channel within one interval plus a few seconds) forbids polling later, so the only room left for
jitter is none. Feeds due at the same moment are spread by the poller's worker pool instead.

Failing feeds back off exponentially with jitter, from `base` up to FEED_MAX_BACKOFF_SECONDS;
a 429 or 503 with Retry-After waits at least that long (also bounded by the maximum backoff).
"""

from __future__ import annotations

import random as _random
from datetime import datetime, timedelta
from typing import Callable

HEALTHY_MAX_INTERVALS = 4
MAX_REQUESTED_SECONDS = 24 * 3600  # a feed asking for a week is still polled daily
BACKOFF_JITTER = 0.25

Random = Callable[[], float]  # returns a float in [0, 1)


def requested_seconds(*, ttl_minutes: int | None = None, max_age_seconds: float | None = None,
                      retry_after_seconds: float | None = None) -> float:
    """The longest wait the feed itself asked for (0 when it asked nothing)."""
    asked = [0.0]
    if ttl_minutes is not None and ttl_minutes > 0:
        asked.append(ttl_minutes * 60.0)
    if max_age_seconds is not None and max_age_seconds > 0:
        asked.append(float(max_age_seconds))
    if retry_after_seconds is not None and retry_after_seconds > 0:
        asked.append(float(retry_after_seconds))
    return max(asked)


def healthy_interval(base: float, *, ttl_minutes: int | None = None, max_age_seconds: float | None = None,
                     retry_after_seconds: float | None = None) -> float:
    """Seconds until the next poll of a feed that answered (200 or 304)."""
    base = max(1.0, float(base))
    asked = requested_seconds(ttl_minutes=ttl_minutes, max_age_seconds=max_age_seconds,
                              retry_after_seconds=retry_after_seconds)
    return max(base, min(asked, max(MAX_REQUESTED_SECONDS, base * HEALTHY_MAX_INTERVALS)))


def backoff_interval(error_count: int, base: float, max_backoff: float, *,
                     retry_after_seconds: float | None = None, random: Random = _random.random) -> float:
    """Seconds until the retry of a feed that failed `error_count` times in a row (>= 1).

    Doubles from `base` with each error, stretched by up to 25 % of jitter, bounded by
    `max_backoff`; never sooner than `base`, nor than a Retry-After within `max_backoff`.
    """
    base = max(1.0, float(base))
    ceiling = max(base, float(max_backoff))
    exponent = min(max(error_count, 1) - 1, 60)
    delay = min(base * (2.0 ** exponent), ceiling)
    delay = min(delay * (1.0 + BACKOFF_JITTER * random()), ceiling)
    if retry_after_seconds is not None and retry_after_seconds > delay:
        delay = min(float(retry_after_seconds), ceiling)
    return max(delay, base)


def next_check_after_success(fetch_started: datetime, base: float, *, ttl_minutes: int | None = None,
                             max_age_seconds: float | None = None,
                             retry_after_seconds: float | None = None, pushed: bool = False) -> datetime:
    """When to poll again: from the start of the fetch, so that neither its duration nor the parse
    and filing after it push the next poll later than one interval after the feed was read.

    A feed whose hub pushes its items (an active WebSub subscription) is polled only as the
    fallback, every HEALTHY_MAX_INTERVALS intervals: the most the contract allows a healthy feed."""
    if pushed:
        base = max(1.0, float(base)) * HEALTHY_MAX_INTERVALS
    return fetch_started + timedelta(seconds=healthy_interval(base, ttl_minutes=ttl_minutes,
                                                              max_age_seconds=max_age_seconds,
                                                              retry_after_seconds=retry_after_seconds))


def next_check_after_error(now: datetime, error_count: int, base: float, max_backoff: float, *,
                           retry_after_seconds: float | None = None, random: Random = _random.random) -> datetime:
    return now + timedelta(seconds=backoff_interval(error_count, base, max_backoff,
                                                    retry_after_seconds=retry_after_seconds, random=random))
