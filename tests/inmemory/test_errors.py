"""Errors and supporting types: ERR-1..ERR-8 of inmemory.md (P-6)."""

from __future__ import annotations

import pickle

import pytest

from gossip_model.identity import FindingId, ObservationId, OccurrenceId
from gossip_model.inmemory import (
    BatchValidation,
    CompletionOrder,
    FindingConflict,
    InjectedCommitFailure,
    InjectedSubmissionFailure,
    InMemoryDoneLedger,
    InMemoryFindingsSink,
    InMemoryPersistenceError,
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
    PendingWriteId,
    Poisoned,
    UnknownOperation,
)
from gossip_model.persistence import (
    Empty,
    FindingsUpsertBatch,
    InconsistentFindingsCount,
    InconsistentTenant,
    InvalidByte,
    KeyMismatch,
    MissingErrorCode,
    ObservationIdMismatch,
    OrphanedReference,
    PersistenceInputError,
    ProvenanceOrdering,
    TooLarge,
    UnexpectedErrorCode,
    ZeroSpanLength,
)
from tests.builders import (
    FR,
    SC,
    SWF,
    done_record,
    fill,
    finding_record,
    full_batch,
    key,
    tenant,
)

DL = InMemoryStoreKind.DONE_LEDGER
F = InMemoryStoreKind.FINDINGS
T = tenant(0xAB)
FID = FindingId(fill(0x01))
OCC = OccurrenceId(fill(0x02))
OBS = ObservationId(fill(0x03))


def test_err1_store_kind_renders_as_store_name() -> None:
    """ERR-1."""
    assert [str(k) for k in InMemoryStoreKind] == ["done-ledger", "findings"]


def test_err2_completion_order_members() -> None:
    """ERR-2."""
    assert [o.name for o in CompletionOrder] == ["OLDEST_FIRST", "NEWEST_FIRST"]


def test_err3_pending_write_id_is_a_u64_value() -> None:
    """ERR-3: range, int(), ordering, hashing, rendering, ZERO."""
    assert int(PendingWriteId(2**64 - 1)) == 2**64 - 1
    with pytest.raises(ValueError, match="2\\*\\*64-1"):
        PendingWriteId(2**64)
    with pytest.raises(ValueError, match="-1"):
        PendingWriteId(-1)
    for bad in (1.0, "1", True):
        with pytest.raises(TypeError, match=r"^PendingWriteId: value must be an int"):
            PendingWriteId(bad)  # type: ignore[arg-type]
    assert repr(PendingWriteId(7)) == str(PendingWriteId(7)) == "PendingWriteId(7)"
    assert PendingWriteId(1) < PendingWriteId(2)
    assert PendingWriteId(3) == PendingWriteId(3)
    assert len({PendingWriteId(3), PendingWriteId(3)}) == 1
    assert PendingWriteId(0) == PendingWriteId.ZERO
    assert [10, 11, 12][PendingWriteId(1)] == 11  # __index__


ERR4_CASES: list[tuple[InMemoryPersistenceError, str]] = [
    (InjectedSubmissionFailure(DL), "in-memory done-ledger submission failed via fault injection"),
    (InjectedCommitFailure(F), "in-memory findings commit failed via fault injection"),
    (Poisoned(DL), "in-memory done-ledger state lock poisoned"),
    (
        UnknownOperation(F, PendingWriteId(9)),
        "unknown in-memory findings operation PendingWriteId(9)",
    ),
    (
        MissingFinding(T, FID, OCC),
        "occurrence OccurrenceId(02020202..) for tenant TenantId(abababab..) "
        "references missing finding FindingId(01010101..)",
    ),
    (
        MissingOccurrence(T, OCC, OBS),
        "observation ObservationId(03030303..) for tenant TenantId(abababab..) "
        "references missing occurrence OccurrenceId(02020202..)",
    ),
    (
        FindingConflict(T, FID),
        "finding conflict for tenant TenantId(abababab..), finding FindingId(01010101..)",
    ),
    (
        OccurrenceConflict(T, OCC),
        "occurrence conflict for tenant TenantId(abababab..), occurrence OccurrenceId(02020202..)",
    ),
    (
        ObservationConflict(T, OBS),
        "observation conflict for tenant TenantId(abababab..), "
        "observation ObservationId(03030303..)",
    ),
]

ERR7_CASES: list[tuple[PersistenceInputError, str]] = [
    (Empty("DoneLedgerErrorCode"), "DoneLedgerErrorCode must not be empty"),
    (TooLarge("Location.url", 5000, 4096), "Location.url too large (5000 bytes, max 4096)"),
    (
        InvalidByte("DoneLedgerErrorCode", 2, 0x2A),
        "DoneLedgerErrorCode contains invalid byte 0x2A at index 2",
    ),
    (ZeroSpanLength(), "OccurrenceRecord.byte_length must be non-zero"),
    (
        ObservationIdMismatch(OBS, ObservationId(fill(4))),
        "observation_id does not match canonical derivation "
        "(expected ObservationId(03030303..), got ObservationId(04040404..))",
    ),
    (
        InconsistentFindingsCount(SWF, 0),
        "findings_count 0 is inconsistent with status ScannedWithFindings",
    ),
    (MissingErrorCode(FR), "status FailedRetryable requires an error code, but none was provided"),
    (UnexpectedErrorCode(SC), "status ScannedClean must not carry an error code"),
    (
        OrphanedReference("OccurrenceRecord", "FindingRecord"),
        "OccurrenceRecord references a FindingRecord not present in the batch",
    ),
    (InconsistentTenant(), "records in the batch belong to different tenants"),
    (ProvenanceOrdering(9, 8), "provenance started_at (9) must not exceed finished_at (8)"),
]


@pytest.mark.parametrize(("error", "message"), ERR4_CASES, ids=lambda v: type(v).__name__)
def test_error_messages_match_templates(error: InMemoryPersistenceError, message: str) -> None:
    """Item 50 / ERR-4, P-6: message, value equality, hashing, pickling."""
    assert str(error) == message
    assert isinstance(error, InMemoryPersistenceError)
    twin = pickle.loads(pickle.dumps(error))
    assert twin == error
    assert hash(twin) == hash(error)
    assert type(error).__name__ in repr(error)


@pytest.mark.parametrize(("source", "message"), ERR7_CASES, ids=lambda v: type(v).__name__)
def test_batch_validation_wraps_each_err7_error(
    source: PersistenceInputError, message: str
) -> None:
    """Item 50 / ERR-4, ERR-7, D-6: transparent message, source and __cause__."""
    wrapped = BatchValidation(source)
    assert str(wrapped) == message == str(source)
    assert wrapped.source is source
    assert wrapped.__cause__ is source
    assert wrapped == BatchValidation(source)
    assert hash(wrapped) == hash(BatchValidation(source))


def test_batch_validation_key_mismatch_embeds_both_keys() -> None:
    """ERR-7 (KeyMismatch): only check that both renderings appear (contracts ERR-3)."""
    existing, incoming = key(1, 2, 3), key(1, 2, 4)
    text = str(BatchValidation(KeyMismatch(existing, incoming)))
    assert text.startswith("merge requires records with the same key (existing: ")
    assert repr(existing) in text
    assert repr(incoming) in text


def test_err4_equality_is_by_type_and_fields() -> None:
    """ERR-4: same fields, different type -> unequal; different field -> unequal."""
    assert InjectedCommitFailure(DL) == InjectedCommitFailure(DL)
    assert InjectedCommitFailure(DL) != InjectedCommitFailure(F)
    assert InjectedCommitFailure(DL) != InjectedSubmissionFailure(DL)
    assert InjectedCommitFailure(DL) != Poisoned(DL)
    assert UnknownOperation(DL, PendingWriteId(1)) != UnknownOperation(DL, PendingWriteId(2))
    assert BatchValidation(MissingErrorCode(FR)) != BatchValidation(UnexpectedErrorCode(SC))
    assert len({Poisoned(DL), Poisoned(DL), Poisoned(F)}) == 2
    assert not issubclass(TimeoutError, InMemoryPersistenceError)  # ERR-8
    assert (Poisoned(DL) == "x") is False


def test_err6_each_exception_comes_from_its_documented_call() -> None:
    """ERR-6: submit calls raise submission faults, argument errors and (findings sink only)
    the FS-2/FS-3 ``BatchValidation``; everything decided at apply time, done-ledger
    validation included, is raised by ``wait()``; controls and releases raise
    ``TypeError`` / ``ValueError`` for bad arguments."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    sink = InMemoryFindingsSink()
    valid = done_record(1, 2, 3, SC, 1)
    # The submit call.
    ledger.fail_next_submissions(1)
    with pytest.raises(InjectedSubmissionFailure):
        ledger.batch_upsert([valid])
    with pytest.raises(TypeError):
        ledger.batch_upsert([valid, "not a record"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        sink.upsert_batch([])  # type: ignore[arg-type]
    mixed = FindingsUpsertBatch((finding_record(tenant(1), 10), finding_record(tenant(2), 10)))
    with pytest.raises(BatchValidation) as submit_error:
        sink.upsert_batch(mixed)
    assert submit_error.value == BatchValidation(InconsistentTenant())
    # wait(): done-ledger record validation is NOT a submit error.
    invalid = ledger.batch_upsert([done_record(1, 2, 4, FR, 1)])
    with pytest.raises(TimeoutError):
        invalid.wait(0)
    assert ledger.release_specific(invalid.op_id) is True
    with pytest.raises(BatchValidation) as apply_error:
        invalid.wait(0)
    assert apply_error.value == BatchValidation(MissingErrorCode(FR))
    ledger.fail_next_commits(1)
    faulted = ledger.batch_upsert([valid])
    assert ledger.release_all(CompletionOrder.OLDEST_FIRST) == 1
    with pytest.raises(InjectedCommitFailure):
        faulted.wait(0)
    with pytest.raises(UnknownOperation) as second_wait:
        faulted.wait(0)
    assert second_wait.value == UnknownOperation(DL, faulted.op_id)
    # wait(): data-integrity errors of the findings sink.
    _, _, occurrence, observation = full_batch(tenant(1))
    orphan = sink.upsert_batch(FindingsUpsertBatch(occurrences=(occurrence,)))
    with pytest.raises(MissingFinding):
        orphan.wait(0)
    orphan = sink.upsert_batch(FindingsUpsertBatch(observations=(observation,)))
    with pytest.raises(MissingOccurrence):
        orphan.wait(0)
    # Controls and releases.
    with pytest.raises(ValueError, match="non-negative"):
        ledger.fail_next_commits(-1)
    with pytest.raises(TypeError):
        ledger.release_next("OLDEST_FIRST")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ledger.release_specific(1)  # type: ignore[arg-type]
    assert (ledger._core.poisoned, sink._core.poisoned) == (False, False)
