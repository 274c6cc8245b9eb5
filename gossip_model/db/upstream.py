"""Known checksums of the upstream Rust migrations (issue 13: adopting upstream databases).

The public Rust reference (Gossip-rs, crates ``gossip-done-ledger-postgres``
and ``gossip-findings-postgres``) migrates PostgreSQL with the same versions,
history tables (MIG-2), advisory-lock keys and checksum algorithm (32-byte
BLAKE3 of the migration's UTF-8 text, MIG-1) as this package, but its
migration texts differ (comments, layout), so their digests differ from ours.
A database written by the real scanner therefore carries one of the digests
below in its history table.

Each entry is data with its source: the crate, the file, the commit of the
public repository it was read from, and how the value was obtained, either
``pinned`` (the upstream test ``migration_checksums_are_stable`` asserts it)
or ``hashed`` (we computed BLAKE3 of the migration file at that commit).
A known checksum does NOT mean "compatible": the stores adopt such a
database only after the catalog shows exactly the structure our migration
creates (:mod:`gossip_model.postgres.adopt`); ``structure`` records what we
know of each text's schema relative to ours.

What we found (and the issue did not expect): the done-ledger digest pinned
by upstream's test (``2c6a36c6...``) is the text at commit ``f2e6eb2b``,
whose ``findings_count`` is ``BIGINT CHECK (findings_count BETWEEN 0 AND
4294967295)`` (SCH-1's open point), not our ``INTEGER``; such a database is
refused with the differences listed. The later upstream text (commit
``4f478178``, digest ``b51c9d7e...``) has our structure and is adopted. The
findings digest pinned upstream (``0e4db3e9...``) names a text we could not
read; it is accepted or refused purely on the catalog comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

REPOSITORY = "ahrav/Gossip-rs"


@dataclass(frozen=True, slots=True)
class UpstreamChecksum:
    """One known upstream digest of a migration version, with its source."""

    version: str
    checksum_hex: str
    crate: str
    file: str
    commit: str
    obtained: str  # "pinned" (upstream golden test) or "hashed" (we hashed the file)
    structure: str  # what we know of the schema this text creates, relative to ours

    @property
    def checksum(self) -> bytes:
        return bytes.fromhex(self.checksum_hex)


_DL_CRATE = "gossip-done-ledger-postgres"
_FS_CRATE = "gossip-findings-postgres"
_DL_SQL = f"crates/{_DL_CRATE}/migrations/0001_done_ledger_entries.sql"
_FS_SQL = f"crates/{_FS_CRATE}/migrations/0001_findings_schema.sql"

UPSTREAM_CHECKSUMS: tuple[UpstreamChecksum, ...] = (
    UpstreamChecksum(
        "0001_done_ledger_entries",
        "2c6a36c62f0c6f8e66e6d7c71b00b49a13c61f3a4f02c4c384960e0a9f539dd5",
        _DL_CRATE,
        _DL_SQL,
        "f2e6eb2bf05287d5c0cc518bc1d590c4066e50fe",
        "hashed; also pinned by migration_checksums_are_stable in "
        f"crates/{_DL_CRATE}/src/migrations.rs at 1ebbfdc9c853d81ac1ee8156ed4b9c7a28a7801b",
        "differs: findings_count BIGINT CHECK (findings_count BETWEEN 0 AND 4294967295)",
    ),
    UpstreamChecksum(
        "0001_done_ledger_entries",
        "b51c9d7ebf8fb04ab13d0e1a5acf3aeb064b7dd2f4f757fc5881315553dfcf40",
        _DL_CRATE,
        _DL_SQL,
        "4f478178e982f5dafc88a4f07c117000918f72a6",
        "hashed",
        "same as ours",
    ),
    UpstreamChecksum(
        "0001_findings_schema",
        "0e4db3e9eb0d1755c5ba77931c322c9da182faedfe1957d334e6668f5db7dcdb",
        _FS_CRATE,
        f"crates/{_FS_CRATE}/src/migrations.rs",
        "2a3f377d1260e2602f37dccc0066e386111c0c1d",
        "pinned by migration_checksums_are_stable (its SQL text was not readable to us)",
        "unknown: decided by the catalog comparison",
    ),
    UpstreamChecksum(
        "0001_findings_schema",
        "520ddb36ee644e1985208f1b7cea7ba7c10eaa901e288d629a10e35b6815e160",
        _FS_CRATE,
        _FS_SQL,
        "8ccd62eaeeac5bae0954d6511b4831f881e39cd6",
        "hashed",
        "same as ours",
    ),
    UpstreamChecksum(
        "0001_findings_schema",
        "a79746057e029e8f5a7e123067e3eafd4d6ec587639f8d645234d1ceba258bb0",
        _FS_CRATE,
        _FS_SQL,
        "d0cd185b55b7224cfb11e944defed49b97c2179f",
        "hashed",
        "differs: no occurrences_span_no_overflow_ck",
    ),
)


def known_upstream_checksums() -> Mapping[str, frozenset[bytes]]:
    """Per version, the upstream digests a store may adopt after the catalog check."""
    known: dict[str, set[bytes]] = {}
    for entry in UPSTREAM_CHECKSUMS:
        known.setdefault(entry.version, set()).add(entry.checksum)
    return {version: frozenset(digests) for version, digests in known.items()}


def upstream_source(version: str, checksum: bytes) -> UpstreamChecksum | None:
    """The recorded source of ``checksum`` for ``version``, if it is a known upstream one."""
    for entry in UPSTREAM_CHECKSUMS:
        if entry.version == version and entry.checksum == checksum:
            return entry
    return None


__all__ = [
    "REPOSITORY",
    "UPSTREAM_CHECKSUMS",
    "UpstreamChecksum",
    "known_upstream_checksums",
    "upstream_source",
]
