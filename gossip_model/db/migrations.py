"""Forward-only migrations with BLAKE3 checksums (backends.md §6, MIG-1..MIG-5).

Engines differ in locking (MIG-3 advisory lock, MIG-4 ``BEGIN IMMEDIATE``);
what to run, and when history disagrees with the files, is decided here by
one pure function, :func:`plan_migrations`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import blake3

from gossip_model.db.errors import ChecksumMismatch, CorruptedHistoryRecord, SchemaMigrationError


@dataclass(frozen=True, slots=True)
class Migration:
    """MIG-1: one SQL file; ``checksum`` is the 32-byte BLAKE3 of its UTF-8 text."""

    version: str
    sql: str

    @property
    def checksum(self) -> bytes:
        return bytes(blake3.blake3(self.sql.encode("utf-8")).digest())


def load_migrations(package: str) -> tuple[Migration, ...]:
    """MIG-1: the ``*.sql`` files of ``package``'s ``migrations/`` folder, ordered by name."""
    folder = resources.files(package).joinpath("migrations")
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )
    return tuple(
        Migration(entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in files
    )


def plan_migrations(
    backend: str, migrations: Sequence[Migration], history: Mapping[str, bytes]
) -> list[Migration]:
    """MIG-3 step 5: the migrations still to run, in order.

    A history row with a checksum of the wrong length raises
    ``CorruptedHistoryRecord``, a different checksum ``ChecksumMismatch``
    (never edit an applied migration; add a version).
    """
    pending = []
    for migration in migrations:
        stored = history.get(migration.version)
        if stored is None:
            pending.append(migration)
        elif len(stored) != 32:
            raise CorruptedHistoryRecord(backend, migration.version, "history-checksum-length")
        elif bytes(stored) != migration.checksum:
            raise ChecksumMismatch(backend, migration.version, "checksum")
    return pending


def require_applied(
    backend: str, migrations: Sequence[Migration], history: Mapping[str, bytes]
) -> None:
    """MIG-5 (``migrate=False``): every migration is applied with a matching checksum."""
    for migration in plan_migrations(backend, migrations, history):
        raise SchemaMigrationError(backend, migration.version, "not-applied")
