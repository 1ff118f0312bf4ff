"""Fault injection for the fake's REST API: the next matching requests fail (or are slowed).

A pattern is "METHOD /path" or "/path" (any method), relative to the API base (`/api/v10`);
a path segment written `*` or `{name}` matches any one segment, e.g. "POST /channels/*/messages".
A compiled regex is matched against "METHOD /path" instead.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Pattern

from aiohttp import web

from tests.fakes import discord_http as http

DEFAULT_CODES = {403: 50013, 404: 10003, 400: 50035}


def compile_pattern(pattern: str | Pattern[str]) -> Pattern[str]:
    if not isinstance(pattern, str):
        return pattern
    method, _, path = pattern.strip().rpartition(" ")
    segments = [r"[^/]+" if s == "*" or (s.startswith("{") and s.endswith("}")) else re.escape(s)
                for s in path.strip("/").split("/")]
    method_re = re.escape(method.upper()) if method else r"[A-Z]+"
    return re.compile(rf"{method_re} /{'/'.join(segments)}/?")


@dataclass
class Fault:
    """One armed fault; `status=None` only delays the request, which is then served normally."""

    pattern: Pattern[str]
    status: int | None
    times: int
    delay: float
    retry_after: float
    global_: bool
    code: int | None
    message: str | None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.hits < self.times and bool(self.pattern.fullmatch(f"{method} {path}"))

    def response(self) -> web.Response | None:
        if self.status is None:
            return None
        if self.status == 429:
            return http.rate_limited(self.retry_after, self.global_)
        if self.status >= 500:
            return http.server_error(self.status)
        if self.status == 401:
            return http.unauthorized()
        code = self.code if self.code is not None else DEFAULT_CODES.get(self.status, 0)
        return http.error_response(self.status, code, self.message)


class Faults:
    def __init__(self) -> None:
        self.armed: list[Fault] = []

    def add(self, pattern: str | Pattern[str], *, status: int | None, times: int, delay: float,
            retry_after: float, global_: bool, code: int | None, message: str | None) -> Fault:
        fault = Fault(compile_pattern(pattern), status, times, delay, retry_after, global_, code, message)
        self.armed.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault for this request, counted as used; spent faults are dropped."""
        fault = next((f for f in self.armed if f.matches(method, path)), None)
        if fault is not None:
            fault.hits += 1
        self.armed = [f for f in self.armed if f.hits < f.times]
        return fault

    async def apply(self, method: str, path: str) -> web.Response | None:
        """The response a fault imposes on this request, after its delay; None to serve it."""
        fault = self.take(method, path)
        if fault is None:
            return None
        if fault.delay:
            await asyncio.sleep(fault.delay)
        return fault.response()
