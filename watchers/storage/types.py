"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import JSON, DateTime
from sqlalchemy.types import TypeDecorator

from watchers.models import Event


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class EventList(TypeDecorator):
    """list[Event] in, list[Event] out, stored as a JSON list of Event.to_json() objects.

    The JSON is what the columns held before they were typed, so no migration was needed and
    rows of older versions load (Event.from_json ignores what it does not know). Like any JSON
    column, an event changed in place is not seen by the session: assign a new list of new events.
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: list[Event] | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        for event in value:
            if not isinstance(event, Event):
                raise TypeError(f"an events column holds Event objects, not {type(event).__name__}")
        return [event.to_json() for event in value]

    def process_result_value(self, value: list[Any] | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        return [Event.from_json(data) for data in value if isinstance(data, Mapping)]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


JSONList = JSON
JSONDict = JSON
