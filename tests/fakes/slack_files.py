"""File uploads of FakeSlack: the three steps slack-sdk's `files_upload_v2` takes.

1. files.getUploadURLExternal(filename, length) answers a `file_id` and an `upload_url` on the
   fake itself (`/upload/v1/<token>`; the URL is the credential, as at files.slack.com).
2. The client POSTs the bytes there (raw or multipart); the answer is text/plain "OK - <size>".
3. files.completeUploadExternal(files=[{id, title}], channel_id | channels, thread_ts,
   initial_comment) shares the files: a message with `files` (each with the `name` given in
   step 1) and `upload: true` appears in the channel (or the thread) at once; with
   `fake.share_delay` > 0 it appears that many seconds later and the answer's files carry no
   `shares` yet, as when Slack shares asynchronously.

Not modelled: file downloads, files.info,
a declared `length` that differs from the bytes sent (recorded, not refused), size limits,
snippets, file comments and deletion.
"""

from __future__ import annotations

import asyncio
import mimetypes
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.slack_methods import Handler, Params, writable
from tests.fakes.slack_state import Channel, SlackError

if TYPE_CHECKING:
    from tests.fakes.slack_api import FakeSlack


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    token: str
    data: bytes | None = None
    title: str | None = None
    channels: list[str] = field(default_factory=list)
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False
    created: int = field(default_factory=lambda: int(time.time()))

    def as_file(self, fake: FakeSlack, shares: dict[str, Any] | None = None) -> dict[str, Any]:
        mimetype = mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        answer = {"id": self.file_id, "created": self.created, "timestamp": self.created, "name": self.filename,
                  "title": self.title or self.filename, "mimetype": mimetype,
                  "filetype": self.filename.rsplit(".", 1)[-1] if "." in self.filename else "binary",
                  "user": fake.workspace.bot_user_id, "size": len(self.data or b""), "mode": "hosted",
                  "is_external": False, "is_public": bool(shares and shares.get("public")),
                  "url_private": f"{fake.root_url}/files-pri/{self.file_id}/{self.filename}",
                  "channels": list(self.channels)}
        if shares is not None:
            answer["shares"] = shares
        return answer


def get_upload_url(fake: FakeSlack, params: Params) -> dict[str, Any]:
    try:
        length = int(params.get("length", ""))
    except ValueError:
        raise SlackError("invalid_arguments") from None
    if not params.get("filename") or length < 1:
        raise SlackError("invalid_arguments")
    upload = Upload(file_id=f"F{secrets.token_hex(5).upper()}", filename=str(params["filename"]),
                    length=length, token=secrets.token_urlsafe(16))
    fake.uploads.append(upload)
    return {"upload_url": f"{fake.root_url}/upload/v1/{upload.token}", "file_id": upload.file_id}


async def receive_upload(fake: FakeSlack, request: web.Request) -> web.Response:
    upload = next((u for u in fake.uploads if u.token == request.match_info["token"]), None)
    if upload is None or upload.completed:
        return web.Response(status=404, text="not_found", content_type="text/plain")
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        part = next((v for v in form.values() if isinstance(v, web.FileField)), None)
        upload.data = part.file.read() if part else b""
    else:
        upload.data = await request.read()
    return web.Response(text=f"OK - {len(upload.data)}", content_type="text/plain")


def complete_upload(fake: FakeSlack, params: Params) -> dict[str, Any]:
    wanted = params.get("files")
    if not isinstance(wanted, list) or not wanted or not all(isinstance(f, dict) and f.get("id") for f in wanted):
        raise SlackError("invalid_arguments")
    by_id = {u.file_id: u for u in fake.uploads}
    uploads = [by_id.get(f["id"]) for f in wanted]
    if any(u is None or u.data is None or u.completed for u in uploads):
        raise SlackError("file_not_found")
    refs = [params["channel_id"]] if params.get("channel_id") else str(params.get("channels") or "").split(",")
    channels = [writable(fake, ref) for ref in refs if ref]
    thread_ts = params.get("thread_ts") or None
    if thread_ts and not channels:
        raise SlackError("invalid_arguments")
    for channel in channels:
        if thread_ts:
            fake.workspace.thread(channel, thread_ts)
    for upload, asked in zip(uploads, wanted):
        upload.title, upload.completed = asked.get("title") or upload.filename, True
        upload.channels, upload.thread_ts = [c.id for c in channels], thread_ts
        upload.initial_comment = params.get("initial_comment")
    comment = params.get("initial_comment") or ""
    if fake.share_delay > 0:
        asyncio.get_running_loop().call_later(fake.share_delay, share, fake, channels, uploads, thread_ts, comment)
        return {"files": [u.as_file(fake) for u in uploads]}
    shares = share(fake, channels, uploads, thread_ts, comment)
    return {"files": [u.as_file(fake, shares) for u in uploads]}


def share(fake: FakeSlack, channels: list[Channel], uploads: list[Upload], thread_ts: str | None,
          comment: str) -> dict[str, Any]:
    """Post the file message in each channel (or thread); returns the files' `shares`."""
    shares: dict[str, Any] = {}
    for channel in channels:
        message = fake.workspace.post(
            channel, {"text": comment, "upload": True, "display_as_bot": False,
                      "files": [u.as_file(fake) for u in uploads]}, thread_ts=thread_ts)
        entry = {"ts": message["ts"], **({"thread_ts": message["thread_ts"]} if thread_ts else {})}
        shares.setdefault("private" if channel.private else "public", {})[channel.id] = [entry]
    return shares


METHODS: dict[str, Handler] = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}
