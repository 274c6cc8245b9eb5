"""Engine-neutral pieces of the database backends (backends.md §0, §1, §5, §6).

Value encoding (ENC-*), the database errors (DBE-*) and migration
checksums/planning (MIG-1, MIG-3 step 5). No database driver is imported here.
"""

from __future__ import annotations

from gossip_model.db.errors import (
    BatchTooLarge,
    ChecksumMismatch,
    CorruptedHistoryRecord,
    CorruptRow,
    DatabaseBackendError,
    SchemaMigrationError,
    SchemaStructureMismatch,
    ValueOutOfRange,
)
from gossip_model.db.migrations import Migration, load_migrations, plan_migrations

__all__ = [
    "BatchTooLarge",
    "ChecksumMismatch",
    "CorruptRow",
    "CorruptedHistoryRecord",
    "DatabaseBackendError",
    "Migration",
    "SchemaMigrationError",
    "SchemaStructureMismatch",
    "ValueOutOfRange",
    "load_migrations",
    "plan_migrations",
]
