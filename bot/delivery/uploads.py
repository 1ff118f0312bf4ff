"""Attachments sent apart from their message: outbox rows of their own, kind "upload".

Where a platform declares `uploads_separately` (Slack: a file goes up through calls of its own,
after the message, and no single call makes message and file atomic), the sender posts the
message without its attachments and, in the transaction that records the post as sent, queues
one row per attachment: parent = the post's row, idempotency key `<post key>:file:<n>`, payload
the attachment and the thread it goes into (the post's own thread, or the thread the post is a
reply in). Such a row is claimed, paced, retried with backoff and looked up with `find_sent`
before a re-send like any other row, so that a digest's chart whose upload fails (a 5xx, a 429,
a timeout) after the digest went out arrives later, in the digest's thread, exactly once; and
as it is queued only once its post has an id, it always goes after its post.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from bot.messages import Attachment
from watchers.storage.delivery import Outbox

UPLOAD_KIND = "upload"


def upload_key(post_key: str, index: int) -> str:
    return f"{post_key}:file:{index}"


def upload_thread(payload: dict[str, Any], parent_message_id: str | None) -> str | None:
    """The thread an upload row's file goes into: the one recorded with it, else its post's."""
    return payload.get("thread") or parent_message_id


def upload_attachment(payload: dict[str, Any]) -> Attachment:
    return Attachment.from_dict(payload["attachment"])


def upload_rows(*, post_row_id: int, post_key: str, channel_pk: int, post_payload: dict[str, Any],
                thread: str, now: datetime) -> list[dict[str, Any]]:
    """The upload rows of a post just sent: one per attachment of its message, in order."""
    attachments = (post_payload.get("message") or {}).get("attachments") or []
    return [{"idempotency_key": upload_key(post_key, index), "channel_pk": channel_pk, "kind": UPLOAD_KIND,
             "parent_outbox_id": post_row_id, "payload": {"attachment": attachment, "thread": thread},
             "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
            for index, attachment in enumerate(attachments)]


async def queue_uploads(session, rows: list[dict[str, Any]]) -> None:  # noqa: ANN001
    """Insert the rows, skipping any already queued (a post recorded twice by two replicas)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.exec(insert(Outbox).values(rows).on_conflict_do_nothing(index_elements=["idempotency_key"]))
