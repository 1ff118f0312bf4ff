"""The next-check and backoff rules, table-driven (pure functions, fixed randomness)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from watchers.feeds.schedule import (
    MAX_REQUESTED_SECONDS,
    backoff_interval,
    healthy_interval,
    next_check_after_error,
    next_check_after_success,
    requested_seconds,
)

NO_JITTER = lambda: 0.0  # noqa: E731
FULL_JITTER = lambda: 0.999999  # noqa: E731
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("base", "asked", "expected"),
    [
        (300, {}, 300),                                   # nothing asked: the base, no jitter
        (1, {}, 1),                                       # honoured down to 1 s
        (0, {}, 1),                                       # never below 1 s
        (300, {"ttl_minutes": 1}, 300),                   # a shorter TTL never speeds polling up
        (300, {"max_age_seconds": 60}, 300),              # nor a shorter max-age
        (300, {"ttl_minutes": 60}, 3600),                 # a longer TTL is honoured
        (300, {"max_age_seconds": 900}, 900),             # a longer max-age too
        (300, {"retry_after_seconds": 7200}, 7200),       # and Retry-After
        (300, {"ttl_minutes": 30, "max_age_seconds": 2400}, 2400),  # the longest wins
        (300, {"ttl_minutes": 60 * 24 * 7}, MAX_REQUESTED_SECONDS),  # bounded by the maximum
        (60_000, {"ttl_minutes": 60 * 24 * 7}, 240_000),  # the maximum is at least 4 intervals
        (300, {"ttl_minutes": 0, "max_age_seconds": -5}, 300),  # nonsense is ignored
    ],
)
def test_healthy_interval(base, asked, expected):
    assert healthy_interval(base, **asked) == pytest.approx(expected)


@pytest.mark.parametrize("base", [1, 60, 300, 3600])
def test_healthy_feed_is_polled_every_interval_exactly(base):
    """Never sooner (the contract) and never later (an item just missed waits one interval at most)."""
    assert healthy_interval(base) == base


@pytest.mark.parametrize(
    ("errors", "base", "max_backoff", "retry_after", "random", "expected"),
    [
        (1, 300, 86400, None, NO_JITTER, 300),          # first error: one interval
        (2, 300, 86400, None, NO_JITTER, 600),          # doubles
        (3, 300, 86400, None, NO_JITTER, 1200),
        (5, 300, 86400, None, NO_JITTER, 4800),
        (2, 300, 86400, None, FULL_JITTER, 750),        # jitter adds up to 25 %
        (20, 300, 86400, None, NO_JITTER, 86400),       # bounded by the maximum backoff
        (20, 300, 86400, None, FULL_JITTER, 86400),     # jitter too
        (500, 300, 86400, None, NO_JITTER, 86400),      # huge counts do not overflow
        (0, 300, 86400, None, NO_JITTER, 300),          # a zero count is treated as the first error
        (1, 300, 86400, 3600, NO_JITTER, 3600),         # Retry-After longer than the backoff wins
        (4, 300, 86400, 60, NO_JITTER, 2400),           # a shorter Retry-After does not shorten it
        (1, 300, 1800, 7200, NO_JITTER, 1800),          # Retry-After is bounded by the maximum too
        (1, 300, 10, None, NO_JITTER, 300),             # a maximum below the base: never sooner than base
    ],
)
def test_backoff_interval(errors, base, max_backoff, retry_after, random, expected):
    got = backoff_interval(errors, base, max_backoff, retry_after_seconds=retry_after, random=random)
    assert got == pytest.approx(expected)


def test_backoff_grows_monotonically_without_jitter():
    delays = [backoff_interval(n, 60, 86400, random=NO_JITTER) for n in range(1, 15)]
    assert delays == sorted(delays)
    assert delays[-1] == 86400


@pytest.mark.parametrize(
    ("asked", "expected"),
    [({}, 0), ({"ttl_minutes": 2}, 120), ({"max_age_seconds": 10.5}, 10.5), ({"retry_after_seconds": 5}, 5),
     ({"ttl_minutes": None, "max_age_seconds": None, "retry_after_seconds": None}, 0)],
)
def test_requested_seconds(asked, expected):
    assert requested_seconds(**asked) == expected


def test_next_check_times_are_offsets_from_now():
    assert next_check_after_success(NOW, 300) == NOW + timedelta(seconds=300)
    assert next_check_after_error(NOW, 3, 300, 86400, random=NO_JITTER) == NOW + timedelta(seconds=1200)
    assert next_check_after_error(NOW, 1, 300, 86400, retry_after_seconds=900,
                                  random=NO_JITTER) == NOW + timedelta(seconds=900)
