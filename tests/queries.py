"""Counting and capturing the SQL statements the app runs (SQLAlchemy engine
events), and asking the database how it would run one (EXPLAIN)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from quarty.db import Database


class Statements:
    """The SQL statements an engine ran, BEGINs left out (only SQLite sends one)."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def record(self, *arguments: Any) -> None:
        statement = str(arguments[2])
        if not statement.lstrip().upper().startswith("BEGIN"):
            self.sql.append(statement)

    @property
    def count(self) -> int:
        return len(self.sql)


@contextmanager
def counted(database: Database) -> Iterator[Statements]:
    statements = Statements()
    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statements.record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", statements.record)


@contextmanager
def captured(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """The statements the engine sends, with parameters, as the driver gets them."""
    seen: list[tuple[str, Any]] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any
    ) -> None:
        seen.append((statement, parameters))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def plan_of(session: AsyncSession, statement: str, parameters: Any) -> str:
    connection = await session.connection()
    prefix = (
        "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
    )
    result = await connection.exec_driver_sql(prefix + statement, parameters)
    return "\n".join(" ".join(str(cell) for cell in row) for row in result.all())
