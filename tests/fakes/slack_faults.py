"""Scripted failures for FakeSlack's Web API methods.

A Fault answers the next matching call(s) of a method instead of the real handler: a 429 with
`Retry-After` and {"ok": false, "error": "ratelimited"}, a 5xx, a Slack error code with HTTP
200, or only a delay before the normal answer (for client timeouts). As with the real service, a
delayed call still takes effect when its delay ends, even if the client has given up by then.

Not modelled: Slack's real rate-limit tiers (nothing is limited unless scripted), HTML error
pages from Slack's load balancers, dropped connections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    method: str
    status: int
    error: str | None
    retry_after: int | None
    delay: float
    channel: str | None
    times: int | None  # None: every matching call until cleared

    @classmethod
    def build(cls, method: str, *, status: int | None, error: str | None, retry_after: int | None,
              delay: float, channel: str | None, times: int | None) -> Fault:
        """Fill in the defaults: no status, error or delay means a rate limit; a status alone
        gets Slack's error for it; an error alone comes with HTTP 200; a delay alone only slows."""
        if status is None:
            status = 200 if (error or delay) else 429
        if status == 429:
            error = error or "ratelimited"
            retry_after = 3 if retry_after is None else retry_after
        elif status != 200:
            error = error or "internal_error"
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for every call)")
        return cls(method, status, error, retry_after, delay, channel, times)

    @property
    def fails(self) -> bool:
        return self.error is not None

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if method != self.method:
            return False
        return self.channel is None or self.channel in (params.get("channel"), params.get("channel_id"))

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error}

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


class Faults:
    """The scripted faults, applied first come, first served."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def take(self, method: str, params: dict[str, Any]) -> Fault | None:
        """The fault for this call, if any; a fault with times left is used up by one."""
        for fault in self._faults:
            if fault.matches(method, params):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                return fault
        return None
