"""HTTP plumbing shared by the fake's REST handlers: responses, error bodies, request bodies.

discord.py parses a body as JSON only when Content-Type is exactly `application/json` (no
charset), and retries a 429 only when the response has a `Via` header; `json_response` does
both. Success responses carry constant X-RateLimit-* headers of a roomy bucket (no real
per-bucket accounting).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

KNOWN_ERRORS = {
    0: "General error",
    10003: "Unknown Channel",
    10008: "Unknown Message",
    10062: "Unknown interaction",
    10063: "Unknown application command",
    40060: "Interaction has already been acknowledged.",
    50001: "Missing Access",
    50006: "Cannot send an empty message",
    50008: "Cannot send messages in a non-text channel",
    50013: "Missing Permissions",
    50035: "Invalid Form Body",
    160004: "A thread has already been created for this message",
}

BUCKET_HEADERS = {
    "X-RateLimit-Limit": "50",
    "X-RateLimit-Remaining": "49",
    "X-RateLimit-Reset-After": "1.000",
    "X-RateLimit-Bucket": "fakebucket0000000000000000000000",
}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    merged = {"Content-Type": "application/json", "Via": "1.1 google",
              "X-RateLimit-Reset": f"{time.time() + 1:.3f}", **BUCKET_HEADERS, **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=merged)


def no_content() -> web.Response:
    return web.Response(status=204, headers={"Via": "1.1 google"})


def error_response(status: int, code: int, message: str | None = None,
                   errors: dict[str, Any] | None = None) -> web.Response:
    """Discord's error body: {"message", "code"} plus "errors" for form errors."""
    body: dict[str, Any] = {"message": message or KNOWN_ERRORS.get(code, f"{status} error"), "code": code}
    if errors:
        body["errors"] = errors
    return json_response(body, status)


class ApiError(Exception):
    """Raised by the fake's handlers and state; the server answers it as Discord would."""

    def __init__(self, status: int, code: int, message: str | None = None,
                 errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message or KNOWN_ERRORS.get(code, '')}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self) -> web.Response:
        return error_response(self.status, self.code, self.message, self.errors)


def unauthorized() -> web.Response:
    return error_response(401, 0, "401: Unauthorized")


def invalid_form(errors: dict[str, Any]) -> web.Response:
    return error_response(400, 50035, errors=errors)


def rate_limited(retry_after: float, global_: bool, scope: str | None = None) -> web.Response:
    """A 429 as Discord sends it: body, Retry-After, X-RateLimit-*, Via."""
    scope = scope or ("global" if global_ else "user")
    headers = {
        "Retry-After": str(math.ceil(retry_after)),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Scope": scope,
    }
    if global_:
        headers["X-RateLimit-Global"] = "true"
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": global_}
    return json_response(body, 429, headers)


def server_error(status: int) -> web.Response:
    """5xx: Discord's 500 is JSON; the 502/504 of the edge are an HTML page."""
    if status == 500:
        return error_response(500, 0, "500: Internal Server Error")
    return web.Response(status=status, text=f"<html><body>{status} Bad Gateway</body></html>",
                        content_type="text/html")


@dataclass
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RequestBody:
    """A request's JSON payload (from the body or from multipart `payload_json`) and its files."""

    payload: Any = None
    files: list[UploadedFile] = field(default_factory=list)

    def file_by_index(self, index: int) -> UploadedFile | None:
        wanted = f"files[{index}]"
        return next((f for f in self.files if f.field == wanted), None)


BODY = web.RequestKey("discord_body", RequestBody)


async def read_body(request: web.Request) -> RequestBody:
    if request.content_type.startswith("multipart/"):
        body = RequestBody()
        form = await request.post()
        for name, value in form.items():
            if name == "payload_json":
                body.payload = json.loads(str(value))
            elif isinstance(value, web.FileField):
                body.files.append(UploadedFile(name, value.filename, value.content_type, value.file.read()))
        return body
    raw = await request.read()
    try:
        return RequestBody(payload=json.loads(raw) if raw else None)
    except ValueError:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
