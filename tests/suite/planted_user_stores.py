"""Planted-bug stores a user could write by mistake, built on the guide's ``mystores``.

Copied into a temporary user package by ``test_backend_guide.py`` (never
imported from the repository): each factory returns a store with exactly one
bug, and the battery must fail it.
"""

import mystores

from gossip_model.backend import CompletionOrder, ControlledDoneLedger, ControlledFindingsSink
from gossip_model.persistence import DoneLedgerCommitReceipt, DoneLedgerRecord


def _row_key(record):
    return (record.key.tenant_id.raw, record.key.policy_hash.raw, record.key.ovid_hash.raw)


class ProvenanceLastWriterWins(mystores.DictLedgerBackend):
    def apply(self, rows, counters, records):
        receipt = super().apply(rows, counters, records)
        for record in records:
            s = rows[_row_key(record)]
            rows[_row_key(record)] = DoneLedgerRecord(
                s.key, s.status, s.bytes_scanned, s.findings_count, record.provenance, s.error_code
            )
        return receipt


class ListsRetryable(mystores.DictLedgerBackend):
    def list_done_hashes(self, rows, tenant_id, policy_hash):
        return [
            r.key.ovid_hash
            for r in rows.values()
            if r.key.tenant_id == tenant_id and r.key.policy_hash == policy_hash
        ]


class CommitFaultApplied(mystores.DictLedgerBackend):
    def apply(self, rows, counters, records):
        armed = counters.fail_commit_remaining > 0
        counters.fail_commit_remaining = 0
        receipt = super().apply(rows, counters, records)
        if armed:
            counters.fail_commit_remaining = 1
            counters.check_commit_fault()
        return receipt


class CompactedBatchGet(mystores.DictLedgerBackend):
    def batch_get(self, rows, tenant_id, policy_hash, ovid_hashes):
        found = [r for r in super().batch_get(rows, tenant_id, policy_hash, ovid_hashes) if r]
        return found + [None] * (len(ovid_hashes) - len(found))


class ReceiptCountsRaw(mystores.DictLedgerBackend):
    def apply(self, rows, counters, records):
        super().apply(rows, counters, records)
        return DoneLedgerCommitReceipt.for_folded(records)


class ReleaseOrderIgnored(ControlledDoneLedger):
    def release_next(self, order):
        return super().release_next(CompletionOrder.OLDEST_FIRST)


class MergeDropsLocation(mystores.DictSinkBackend):
    def apply(self, state, counters, batch):
        before = dict(state["observations"])
        receipt = super().apply(state, counters, batch)
        for observation in batch.observations:
            key = (observation.tenant_id, observation.observation_id)
            if key in before and observation.seen_at > before[key].seen_at:
                state["observations"][key] = state["observations"][key].with_location(
                    observation.location
                )
        return receipt


class AbortKeepsFindings(mystores.DictSinkBackend):
    def apply(self, state, counters, batch):
        for finding in batch.findings:  # written before the checks: not atomic
            state["findings"][(finding.tenant_id, finding.finding_id)] = finding
        return super().apply(state, counters, batch)


def make_provenance_lww():
    return ControlledDoneLedger(ProvenanceLastWriterWins())


def make_lists_retryable():
    return ControlledDoneLedger(ListsRetryable())


def make_commit_fault_applied():
    return ControlledDoneLedger(CommitFaultApplied())


def make_compacted_batch_get():
    return ControlledDoneLedger(CompactedBatchGet())


def make_receipt_counts_raw():
    return ControlledDoneLedger(ReceiptCountsRaw())


def make_release_order_ignored():
    return ReleaseOrderIgnored(mystores.DictLedgerBackend())


def make_merge_drops_location():
    return ControlledFindingsSink(MergeDropsLocation())


def make_abort_keeps_findings():
    return ControlledFindingsSink(AbortKeepsFindings())
