"""Portable column types: one code path for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class PortableJSON(TypeDecorator[Any]):
    """JSONB on PostgreSQL (indexable, compact); plain JSON text elsewhere. The PostgreSQL
    dialect is imported only when PostgreSQL is used: a SQLite command never pays for it."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        loads = json.loads
        scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # C scanner, public

        # Most list columns (urls, mentions, edit history...) hold "[]": a year's report reads
        # some 120,000 of them, and skipping the JSON parser for those halves the cost. The
        # others are short lists SQLAlchemy wrote itself: the C scanner reads one five times
        # faster than json.loads (no Python layers around it); anything else (spaces around
        # the value, a malformed one) goes to json.loads, with its errors.
        def process(value: Any) -> Any:
            if value is None:
                return None
            if value == "[]":
                return []
            try:
                parsed, end = scan(value, 0)
            except (StopIteration, TypeError):
                return loads(value)
            return parsed if end == len(value) else loads(value)

        return process


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes everywhere.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so values are stored as naive UTC
    and given back their UTC zone when read. Naive values are refused on the way in, so a local
    time can never be stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store only accepts aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # SQLite gives back the text SQLAlchemy wrote ("2025-03-04 12:34:56.000000", naive
        # UTC). Parsing it with its zone appended is one C call: the generic path (parse, then
        # datetime.replace) costs six times as much, and a year's report reads 20,000 of them.
        fallback = super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str) and len(value) == 26:
                try:
                    return parse(value + "+00:00")
                except ValueError:
                    pass
            return fallback(value) if fallback else self.process_result_value(value, dialect)

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
