"""Column types whose values keep their meaning on every database we drive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, stored in UTC and always read back time-zone aware, in UTC.

    PostgreSQL keeps `timestamptz` and hands back aware values; SQLite has no
    time zones and hands back naive ones, which every row we ever wrote holds
    in UTC (`utcnow()`, `CURRENT_TIMESTAMP`). So a naive value read is UTC,
    and a value written is converted to UTC first; writing a naive value is
    a programming error (`ValueError`), since its zone cannot be known.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a naive datetime cannot be stored: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
