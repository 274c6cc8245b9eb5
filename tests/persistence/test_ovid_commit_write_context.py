"""OVID (ID-14, ID-20 .. ID-24), commit handles and receipts (CM-1 .. CM-4), the
interface Protocols (DL-40 .. DL-43, FS-30) and WriteContext (WC-1 .. WC-3).

Ports the §12.4 tests of ``ovid.rs``, ``commit.rs`` and ``write_context.rs``.
The Hypothesis property uses the active settings profile.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence

import blake3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gossip_model.identity import (
    ConnectorInstanceIdHash,
    ConnectorTag,
    FenceEpoch,
    ItemIdentityKey,
    LogicalTime,
    ObjectVersionId,
    OccurrenceId,
    OvidHash,
    PolicyHash,
    RunId,
    ShardId,
    StableItemId,
    TenantId,
)
from gossip_model.persistence import (
    CommitHandle,
    DoneLedger,
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
    FindingsCommitReceipt,
    FindingsSink,
    FindingsUpsertBatch,
    ObservationRecord,
    OvidHashInputs,
    ReadyCommitHandle,
    VersionId,
    WriteContext,
    derive_ovid_hash,
)
from gossip_model.persistence.errors import InconsistentTenant, KeyMismatch
from tests.builders import fill

OVID_CONTEXT = "gossip/persistence/v1/ovid"


def expected_ovid(item: bytes, strong: bool, version: bytes) -> bytes:
    """ID-21 / ID-22: derive-key(ovid context, item(32) || strength(1) || version(32))."""
    material = item + (b"\x00" if strong else b"\x01") + version
    assert len(material) == 65
    return blake3.blake3(material, derive_key_context=OVID_CONTEXT).digest()


# ---------------------------------------------------------------------------
# ID-14: VersionId
# ---------------------------------------------------------------------------


def test_id14_version_id_strength_and_payload() -> None:
    """ID-14: strong/weak carry an ObjectVersionId; is_strong only for strong."""
    v = ObjectVersionId(fill(0x0B))
    strong = VersionId.strong(v)
    weak = VersionId.weak(v)
    assert strong.is_strong()
    assert not weak.is_strong()
    assert strong.object_version_id == v
    assert weak.object_version_id == v


def test_id14_version_id_equality_includes_variant() -> None:
    """ID-14: VersionId.strong(x) != VersionId.weak(x); hashing includes the variant."""
    v = ObjectVersionId(fill(0x0B))
    assert VersionId.strong(v) != VersionId.weak(v)
    assert VersionId.strong(v) == VersionId.strong(ObjectVersionId(fill(0x0B)))
    assert hash(VersionId.weak(v)) == hash(VersionId.weak(ObjectVersionId(fill(0x0B))))
    assert len({VersionId.strong(v), VersionId.weak(v), VersionId.strong(v)}) == 2
    assert VersionId.strong(v) != VersionId.strong(ObjectVersionId(fill(0x0C)))


def test_red4_version_id_renders_its_fields() -> None:
    """RED-4: field-by-field rendering using the id rendering of RED-1."""
    text = repr(VersionId.weak(ObjectVersionId(fill(0x0B))))
    assert "ObjectVersionId(0b0b0b0b..)" in text
    assert fill(0x0B).hex() not in text


# ---------------------------------------------------------------------------
# ovid.rs (ID-20 .. ID-24)
# ---------------------------------------------------------------------------


def test_ovid_hash_is_deterministic_for_same_inputs() -> None:
    """§12.4 ovid.rs, ID-22 / ID-24."""
    inputs = OvidHashInputs(StableItemId(fill(7)), VersionId.strong(ObjectVersionId(fill(11))))
    again = OvidHashInputs(StableItemId(fill(7)), VersionId.strong(ObjectVersionId(fill(11))))
    assert inputs == again
    assert derive_ovid_hash(inputs) == derive_ovid_hash(again)
    assert isinstance(derive_ovid_hash(inputs), OvidHash)


def test_strong_and_weak_versions_hash_differ() -> None:
    """§12.4 ovid.rs, ID-23."""
    item = StableItemId(fill(7))
    v = ObjectVersionId(fill(11))
    strong = derive_ovid_hash(OvidHashInputs(item, VersionId.strong(v)))
    weak = derive_ovid_hash(OvidHashInputs(item, VersionId.weak(v)))
    assert strong != weak


def test_ovid_hash_inputs_canonical_digest_is_stable() -> None:
    """§12.4 ovid.rs, ID-21 / ID-22 / §2.9: pinned OvidHash vectors."""
    item = StableItemId(fill(0x07))
    v = ObjectVersionId(fill(0x0B))
    strong = derive_ovid_hash(OvidHashInputs(stable_item_id=item, version=VersionId.strong(v)))
    weak = derive_ovid_hash(OvidHashInputs(stable_item_id=item, version=VersionId.weak(v)))
    assert bytes(strong).hex() == (
        "dea50d63749a13a30bf6eb6556fd9eaf244fed258bb2bfa26f33ecd26e6a6c37"
    )
    assert bytes(weak).hex() == (
        "7f1749a112be31cdacbc90c7f353617e117c239383fe9d78bdd54328f66d2492"
    )
    assert bytes(strong) == expected_ovid(fill(0x07), True, fill(0x0B))
    assert bytes(weak) == expected_ovid(fill(0x07), False, fill(0x0B))


def test_ovid_golden_from_golden_item_and_version() -> None:
    """§2.9: OvidHash (strong) of the golden StableItemId and ObjectVersionId."""
    instance = ConnectorInstanceIdHash.from_instance_id_bytes(b"github-installation-1")
    item = ItemIdentityKey(
        ConnectorTag.from_ascii("github"), instance, b"org/repo\x00src/main.rs"
    ).stable_id()
    version = ObjectVersionId.from_version_bytes(b"abc123def456")
    ovid = derive_ovid_hash(OvidHashInputs(item, VersionId.strong(version)))
    assert bytes(ovid).hex() == (
        "fbf938aa5a8599477fac8cc00a8114f998d8e7e2dd5fcd2ba6faf2a791a411b8"
    )


@given(
    item=st.binary(min_size=32, max_size=32),
    version=st.binary(min_size=32, max_size=32),
    strong=st.booleans(),
)
def test_ovid_hash_is_deterministic_for_random_inputs(
    item: bytes, version: bytes, strong: bool
) -> None:
    """§12.4 ovid.rs, ID-24 / ID-22 / ID-23: pure, matches the formula, strength matters."""
    make = VersionId.strong if strong else VersionId.weak
    other = VersionId.weak if strong else VersionId.strong
    inputs = OvidHashInputs(StableItemId(item), make(ObjectVersionId(version)))
    first = derive_ovid_hash(inputs)
    assert derive_ovid_hash(inputs) == first
    assert bytes(first) == expected_ovid(item, strong, version)
    assert derive_ovid_hash(
        OvidHashInputs(StableItemId(item), other(ObjectVersionId(version)))
    ) != (first)


def test_id20_ovid_inputs_fields() -> None:
    """ID-20: OvidHashInputs(stable_item_id, version)."""
    item = StableItemId(fill(1))
    version = VersionId.weak(ObjectVersionId(fill(2)))
    inputs = OvidHashInputs(stable_item_id=item, version=version)
    assert inputs.stable_item_id == item
    assert inputs.version == version


# ---------------------------------------------------------------------------
# commit.rs (CM-1 .. CM-4)
# ---------------------------------------------------------------------------


def test_ready_commit_handle_wait_returns_receipt() -> None:
    """§12.4 commit.rs, CM-3 / CH-2: ok(receipt).wait() returns the receipt; timeout ignored."""
    receipt = FindingsCommitReceipt(1, 2, 3)
    assert ReadyCommitHandle.ok(receipt).wait() is receipt
    assert ReadyCommitHandle.ok(receipt).wait(timeout=0) is receipt
    assert ReadyCommitHandle.ok(receipt).wait(0.0) == FindingsCommitReceipt(1, 2, 3)
    dl = DoneLedgerCommitReceipt(1, 1, 1)
    assert ReadyCommitHandle.ok(dl).wait(timeout=None) == dl


def test_ready_commit_handle_wait_returns_error() -> None:
    """§12.4 commit.rs, CM-3 / CH-2: err(error).wait() raises that error immediately."""
    error = InconsistentTenant()
    handle = ReadyCommitHandle.err(error)
    with pytest.raises(InconsistentTenant) as info:
        handle.wait(timeout=0)
    assert info.value is error


def test_cm3_err_handle_raises_any_exception_instance() -> None:
    """CM-3: the error is an exception instance, raised as is."""
    error = KeyMismatch(
        existing=DoneLedgerKey(TenantId(fill(1)), PolicyHash(fill(2)), OvidHash(fill(3))),
        incoming=DoneLedgerKey(TenantId(fill(4)), PolicyHash(fill(5)), OvidHash(fill(6))),
    )
    with pytest.raises(KeyMismatch) as info:
        ReadyCommitHandle.err(error).wait()
    assert info.value is error
    boom = OSError("disk gone")
    with pytest.raises(OSError, match="disk gone"):
        ReadyCommitHandle.err(boom).wait()


def test_cm2_second_wait_raises_runtime_error() -> None:
    """CM-2: a handle is waited on successfully at most once; then RuntimeError."""
    handle = ReadyCommitHandle.ok(FindingsCommitReceipt(0, 0, 0))
    assert handle.wait() == FindingsCommitReceipt(0, 0, 0)
    with pytest.raises(RuntimeError, match=r"^commit handle already consumed$"):
        handle.wait()
    with pytest.raises(RuntimeError, match="already consumed"):
        handle.wait(timeout=1.0)


def test_cm2_commit_handle_protocol_is_runtime_checkable() -> None:
    """CM-2: CommitHandle is a runtime-checkable Protocol with wait(timeout=None)."""

    class Handle:
        def wait(self, timeout: float | None = None) -> object:
            return None

    assert isinstance(ReadyCommitHandle.ok(FindingsCommitReceipt(0, 0, 0)), CommitHandle)
    assert isinstance(ReadyCommitHandle.err(InconsistentTenant()), CommitHandle)
    assert isinstance(Handle(), CommitHandle)
    assert not isinstance(object(), CommitHandle)


def test_cm1_receipts_are_immutable_copyable_values() -> None:
    """CM-1 / CM-4 / RED-4: receipts are frozen values that copy, render and share."""
    for receipt in (DoneLedgerCommitReceipt(3, 2, 1), FindingsCommitReceipt(4, 5, 6)):
        assert copy.copy(receipt) == receipt
        assert copy.deepcopy(receipt) == receipt
        assert hash(copy.deepcopy(receipt)) == hash(receipt)
        with pytest.raises((AttributeError, TypeError)):
            receipt.extra = 1  # type: ignore[union-attr]
        text = repr(receipt)
        assert type(receipt).__name__ in text
    assert "record_count=3" in repr(DoneLedgerCommitReceipt(3, 2, 1))
    assert "observation_count=6" in repr(FindingsCommitReceipt(4, 5, 6))

    seen: list[object] = []
    receipt = FindingsCommitReceipt(7, 8, 9)
    worker = threading.Thread(target=lambda: seen.append(receipt))
    worker.start()
    worker.join()
    assert seen == [FindingsCommitReceipt(7, 8, 9)]


def test_cm2_ready_handle_single_success_under_threads() -> None:
    """CM-2: even with concurrent waiters, exactly one wait succeeds."""
    handle = ReadyCommitHandle.ok(FindingsCommitReceipt(1, 1, 1))
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def waiter() -> None:
        barrier.wait()
        try:
            handle.wait()
        except RuntimeError:
            result = "consumed"
        else:
            result = "ok"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=waiter) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["consumed"] * 7 + ["ok"]


# ---------------------------------------------------------------------------
# Interface Protocols (DL-40 .. DL-43, FS-30, FS-40)
# ---------------------------------------------------------------------------


class _MinimalLedger:
    """Satisfies DL-40 .. DL-43 structurally (never called)."""

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Sequence[OvidHash]
    ) -> list[DoneLedgerRecord | None]:
        return [None for _ in ovid_hashes]

    def batch_upsert(self, records: Sequence[DoneLedgerRecord]) -> CommitHandle:
        return ReadyCommitHandle.ok(DoneLedgerCommitReceipt(0, 0, 0))

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]:
        return []

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int | None:
        return 0


def test_dl40_dl43_done_ledger_protocol_is_runtime_checkable() -> None:
    """DL-40 .. DL-43: DoneLedger is a runtime-checkable Protocol of four methods."""
    assert isinstance(_MinimalLedger(), DoneLedger)

    class MissingCount:
        def batch_get(self, *args: object) -> list[object]:
            return []

        def batch_upsert(self, *args: object) -> object:
            return None

        def list_done_hashes(self, *args: object) -> list[object]:
            return []

    assert not isinstance(MissingCount(), DoneLedger)
    assert not isinstance(object(), DoneLedger)


def test_dl42_explicit_subclass_gets_none_count_by_default() -> None:
    """DL-42: count_done_hashes may return None; the Protocol's default body does."""

    class Explicit(DoneLedger):
        def batch_get(
            self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Sequence[OvidHash]
        ) -> list[DoneLedgerRecord | None]:
            return [None for _ in ovid_hashes]

        def batch_upsert(self, records: Sequence[DoneLedgerRecord]) -> CommitHandle:
            return ReadyCommitHandle.ok(DoneLedgerCommitReceipt(0, 0, 0))

        def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]:
            return []

    ledger = Explicit()
    assert ledger.count_done_hashes(TenantId(fill(1)), PolicyHash(fill(2))) is None
    assert isinstance(ledger, DoneLedger)
    assert ledger.batch_get(TenantId(fill(1)), PolicyHash(fill(2)), [OvidHash(fill(3))]) == [None]


def test_fs30_fs40_findings_sink_protocol_is_runtime_checkable() -> None:
    """FS-30: FindingsSink is a runtime-checkable Protocol with upsert_batch.

    FS-40 (findings durable before the done-ledger rows) is a caller obligation across
    two separate interfaces: each returns its own CommitHandle to wait on.
    """

    class Sink:
        def upsert_batch(self, batch: FindingsUpsertBatch) -> CommitHandle:
            return ReadyCommitHandle.ok(FindingsCommitReceipt(0, 0, 0))

    sink = Sink()
    assert isinstance(sink, FindingsSink)
    assert not isinstance(_MinimalLedger(), FindingsSink)
    assert not isinstance(sink, DoneLedger)
    findings_handle = sink.upsert_batch(FindingsUpsertBatch())
    ledger_handle = _MinimalLedger().batch_upsert([])
    assert isinstance(findings_handle, CommitHandle)
    assert isinstance(ledger_handle, CommitHandle)
    assert findings_handle.wait() == FindingsCommitReceipt(0, 0, 0)
    assert ledger_handle.wait() == DoneLedgerCommitReceipt(0, 0, 0)


# ---------------------------------------------------------------------------
# write_context.rs (WC-1 .. WC-3)
# ---------------------------------------------------------------------------


def wc(t: int = 1, p: int = 2, run: int = 3, shard: int = 4, fence: int = 5) -> WriteContext:
    return WriteContext(
        TenantId(fill(t)), PolicyHash(fill(p)), RunId(run), ShardId(shard), FenceEpoch(fence)
    )


def test_write_context_preserves_routing_and_fence_fields() -> None:
    """§12.4 write_context.rs, WC-1 / WC-2: routing (tenant, policy), fencing (run, shard,
    fence) kept as given."""
    ctx = WriteContext(
        tenant_id=TenantId(fill(1)),
        policy_hash=PolicyHash(fill(2)),
        run_id=RunId(3),
        shard_id=ShardId(4),
        fence_epoch=FenceEpoch(5),
    )
    assert ctx.tenant_id == TenantId(fill(1))
    assert ctx.policy_hash == PolicyHash(fill(2))
    assert ctx.run_id == RunId(3)
    assert ctx.shard_id == ShardId(4)
    assert ctx.fence_epoch == FenceEpoch(5)


def test_wc1_equality_and_hash_over_all_five_fields() -> None:
    """WC-1: value equality and hashing over exactly the five fields; no validation."""
    base = wc()
    assert base == wc()
    assert hash(base) == hash(wc())
    for other in (wc(t=9), wc(p=9), wc(run=9), wc(shard=9), wc(fence=9)):
        assert other != base
    unassigned = wc(fence=0)
    assert unassigned.fence_epoch == FenceEpoch.ZERO
    with pytest.raises((AttributeError, TypeError)):
        base.run_id = RunId(7)  # type: ignore[misc]


def test_wc3_round_trips() -> None:
    """WC-3: provenance keeps run/shard/fence; record and observation rebuild the context."""
    ctx = wc(7, 8, 2**64 - 1, 2**63, 2**64 - 1)
    p = DoneLedgerProvenance.from_write_context(ctx, LogicalTime(1), LogicalTime(2))
    assert (p.run_id, p.shard_id, p.fence_epoch) == (ctx.run_id, ctx.shard_id, ctx.fence_epoch)
    rec = DoneLedgerRecord(
        DoneLedgerKey(ctx.tenant_id, ctx.policy_hash, OvidHash(fill(9))),
        DoneLedgerStatus.SCANNED_CLEAN,
        0,
        0,
        p,
    )
    assert rec.write_context() == ctx
    obs = ObservationRecord.from_write_context(
        ctx, OccurrenceId(fill(3)), OvidHash(fill(4)), LogicalTime(5)
    )
    assert obs.write_context() == ctx


def test_red4_write_context_repr_uses_field_renderings() -> None:
    """RED-4: WriteContext renders field by field with the RED-1 / RED-3 forms."""
    text = repr(wc(0xAB, 0xCD, 42, 7, 1))
    assert "TenantId(abababab..)" in text
    assert "PolicyHash(cdcdcdcd..)" in text
    assert "RunId(42)" in text
    assert "ShardId(7)" in text
    assert "FenceEpoch(1)" in text
    assert fill(0xAB).hex() not in text
