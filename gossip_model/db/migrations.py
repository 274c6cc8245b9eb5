"""Forward-only migrations with BLAKE3 checksums (backends.md §6, MIG-1..MIG-5).

Engines differ in locking (MIG-3 advisory lock, MIG-4 ``BEGIN IMMEDIATE``);
what to run, and when history disagrees with the files, is decided here by
one pure function, :func:`plan_migrations`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
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


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """MIG-3 step 5 with adoption: what to run, and which versions carry an upstream digest."""

    pending: tuple[Migration, ...]
    adopted: tuple[Migration, ...]


def classify_history(
    backend: str,
    migrations: Sequence[Migration],
    history: Mapping[str, bytes],
    upstream: Mapping[str, Collection[bytes]] | None = None,
) -> MigrationPlan:
    """MIG-3 step 5: split the migrations into pending, applied and adopted.

    A history row with a checksum of the wrong length raises
    ``CorruptedHistoryRecord`` (with the length found); a different checksum
    raises ``ChecksumMismatch`` (version, expected and found digests), unless
    it is one of ``upstream[version]``: then the version is *adopted*, and
    the caller must verify the structure from the catalog before using the
    database (issue 13). Never edit an applied migration; add a version.
    """
    pending: list[Migration] = []
    adopted: list[Migration] = []
    for migration in migrations:
        stored = history.get(migration.version)
        if stored is None:
            pending.append(migration)
            continue
        stored = bytes(stored)
        if len(stored) != 32:
            raise CorruptedHistoryRecord(
                backend, migration.version, "history-checksum-length", len(stored)
            )
        if stored == migration.checksum:
            continue
        if upstream is not None and stored in upstream.get(migration.version, ()):
            adopted.append(migration)
            continue
        raise ChecksumMismatch(
            backend, migration.version, "checksum", migration.checksum.hex(), stored.hex()
        )
    return MigrationPlan(tuple(pending), tuple(adopted))


def plan_migrations(
    backend: str, migrations: Sequence[Migration], history: Mapping[str, bytes]
) -> list[Migration]:
    """MIG-3 step 5 without adoption: the migrations still to run, in order."""
    return list(classify_history(backend, migrations, history).pending)


def require_applied(
    backend: str,
    migrations: Sequence[Migration],
    history: Mapping[str, bytes],
    upstream: Mapping[str, Collection[bytes]] | None = None,
) -> tuple[Migration, ...]:
    """MIG-5 (``migrate=False``): every migration is applied with a matching checksum.

    Returns the versions adopted from upstream digests (to be verified by the caller).
    """
    plan = classify_history(backend, migrations, history, upstream)
    for migration in plan.pending:
        raise SchemaMigrationError(backend, migration.version, "not-applied")
    return plan.adopted
