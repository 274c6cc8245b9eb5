"""Opening a fresh file from several connections at once (DT-7 / MIG-4, SQ-5).

SQLite answers ``PRAGMA journal_mode=WAL`` with ``SQLITE_BUSY`` without calling
the busy handler, so ``SqliteDatabase`` retries that one statement on
``SQLITE_BUSY`` until its busy timeout has passed, and re-raises anything else.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gossip_model.inmemory.errors import InMemoryStoreKind
from gossip_model.sqlite.connection import SqliteDatabase


class ScriptedConnection:
    """Answers ``execute`` from a script: an exception to raise, or a row to return."""

    def __init__(self, script: list[BaseException | tuple[str]]) -> None:
        self.script = script
        self.calls = 0

    def execute(self, sql: str) -> ScriptedConnection:
        assert sql == "PRAGMA journal_mode=WAL"
        self.calls += 1
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        self.row = step
        return self

    def fetchone(self) -> tuple[str]:
        return self.row


def operational(code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


def database(tmp_path: Path, timeout: float) -> SqliteDatabase:
    path = str(tmp_path / "wal.db")
    return SqliteDatabase(InMemoryStoreKind.DONE_LEDGER, path, timeout=timeout, synchronous="FULL")


def test_busy_switches_are_retried_until_one_succeeds(tmp_path: Path) -> None:
    db = database(tmp_path, timeout=5.0)
    real = db.connection
    scripted = ScriptedConnection(
        [operational(sqlite3.SQLITE_BUSY), operational(sqlite3.SQLITE_BUSY), ("wal",)]
    )
    db.connection = scripted  # type: ignore[assignment]
    try:
        assert db._switch_to_wal() == "wal"
        assert scripted.calls == 3
    finally:
        db.connection = real
        real.close()


def test_a_busy_switch_past_the_timeout_is_raised(tmp_path: Path) -> None:
    db = database(tmp_path, timeout=0.0)
    real = db.connection
    db.connection = ScriptedConnection([operational(sqlite3.SQLITE_BUSY)])  # type: ignore[assignment]
    try:
        with pytest.raises(sqlite3.OperationalError):
            db._switch_to_wal()
    finally:
        db.connection = real
        real.close()


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    db = database(tmp_path, timeout=5.0)
    real = db.connection
    scripted = ScriptedConnection([operational(sqlite3.SQLITE_IOERR), ("wal",)])
    db.connection = scripted  # type: ignore[assignment]
    try:
        with pytest.raises(sqlite3.OperationalError):
            db._switch_to_wal()
        assert scripted.calls == 1
    finally:
        db.connection = real
        real.close()
