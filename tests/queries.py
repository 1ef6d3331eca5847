"""Counting the SQL statements a request runs, with SQLAlchemy's engine events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

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
