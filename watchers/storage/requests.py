"""Signed chat requests already answered, shared by every replica (Slack's replay window).

A validly signed Slack request stays valid for five minutes; behind a load balancer a replayed
copy may reach another replica, so the record of what was seen lives in the database. Only a
SHA-256 of the signature is kept, never the request.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from watchers.storage.types import UTCDateTime, utcnow


class SeenRequest(SQLModel, table=True):
    __tablename__ = "seen_request"

    signature_sha256: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
