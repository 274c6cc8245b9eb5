"""Run every audit check over one database and fill an :class:`AuditReport` (issue 13).

Order: the migration history (whose checksums are classified, not judged:
the stores verify structure when they adopt a database), then every row of
every data table present (``ROW_SCANS``), then the relations whose tables
are present (``RELATION_SCANS``). All reads go through the reader's single
read-only snapshot.
"""

from __future__ import annotations

from gossip_model.audit.checks import RELATION_SCANS, ROW_SCANS
from gossip_model.audit.progress import Progress
from gossip_model.audit.reader import AuditSetupError, Reader
from gossip_model.audit.report import AuditReport
from gossip_model.db.migrations import Migration, load_migrations
from gossip_model.db.upstream import upstream_source

DATA_TABLES = ("done_ledger_entries", "findings", "occurrences", "observations")
HISTORY_TABLES = ("done_ledger_schema_migrations", "findings_schema_migrations")


def _ours(engine: str) -> dict[str, bytes]:
    migrations: tuple[Migration, ...] = load_migrations(f"gossip_model.{engine}")
    return {m.version: m.checksum for m in migrations}


def classify_history(reader: Reader, tables: frozenset[str], report: AuditReport) -> None:
    """Name the origin of each history row: ours, a known upstream text, or unknown."""
    ours = _ours(reader.engine)
    for table in HISTORY_TABLES:
        if table not in tables:
            continue
        for version, checksum in reader.stream(f"SELECT version, checksum FROM {table}"):
            digest = bytes(checksum)
            source = upstream_source(str(version), digest)
            if ours.get(str(version)) == digest:
                origin = "this package's migration"
            elif source is not None:
                origin = f"upstream {source.crate} at {source.commit[:12]} ({source.structure})"
            else:
                origin = f"UNKNOWN checksum {digest.hex()} (the stores will refuse it)"
            report.history[f"{table} {version}"] = origin


def run_audit(reader: Reader, report: AuditReport, progress: Progress) -> AuditReport:
    """Check every row and relation; raise ``AuditSetupError`` when there is nothing to audit."""
    tables = reader.tables()
    if not tables & set(DATA_TABLES):
        raise AuditSetupError(
            "no done_ledger_entries, findings, occurrences or observations table here "
            "(wrong database, or a search_path that hides them?)"
        )
    classify_history(reader, tables, report)
    for table, query, check in ROW_SCANS:
        if table not in tables:
            report.skipped.append(f"table {table} is absent")
            continue
        progress.start(table, reader.estimate(table))
        rows = 0
        for batch in reader.batches(query):
            for row in batch:
                check(row, report)
            rows += len(batch)
            progress.advance(len(batch))
        progress.finish()
        report.count_rows(table, rows)
    for needed, query, add in RELATION_SCANS:
        if not needed <= tables:
            report.skipped.append(
                f"relation check over {', '.join(sorted(needed))}: a table is absent"
            )
            continue
        for row in reader.stream(query):
            add(row, report)
    return report


__all__ = ["DATA_TABLES", "HISTORY_TABLES", "classify_history", "run_audit"]
