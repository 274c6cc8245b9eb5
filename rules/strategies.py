"""Identity pools and record strategies of the state machines (HYP-1, DLM-2, DLM-5, FSM-3).

Pools are deliberately tiny so that keys collide, replays happen and merge
tie-breaks are frequent:

* done ledger (DLM-2): tenants ``0x01``/``0x03``, policies ``0x02``/``0x04``
  and ``PROPTEST_OVID_POOL_SIZE`` ovid hashes ``0x10 + i`` (each id is 32
  copies of that byte). Open point 1 (PT-3): the pool size is 8, so at most
  2 x 2 x 8 = 32 keys exist.
* findings sink (FSM-3): tenants ``0x11``/``0x22``, items ``0x40 + i``, rules
  ``0x50 + r``, versions ``0x60 + v`` (``i, r, v`` in ``0..=3``), secret
  hashes keyed with 32 bytes of ``0x5A`` over norm digests ``0x30 + s``,
  policies ``0x70 + p`` (``p`` in ``0..=1``), ovid hashes ``0x80 + o``
  (``o`` in ``0..=2``), three locations.

Importing this module registers and loads no Hypothesis profile (HYP-1).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    NormHash,
    ObjectVersionId,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    SecretHash,
    ShardId,
    StableItemId,
    TenantId,
    TenantSecretKey,
    key_secret_hash,
)
from gossip_model.persistence import (
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
    FindingRecord,
    Location,
    ObservationRecord,
    OccurrenceRecord,
)

PROPTEST_OVID_POOL_SIZE = 8
"""Open point 1 (PT-3): 8 ovid slots; <= 50 and small, so keys collide."""


def _fill(byte: int) -> bytes:
    return bytes([byte]) * 32


# -- done ledger (DLM-2) -------------------------------------------------------

DLM_TENANTS: tuple[TenantId, ...] = (TenantId(_fill(0x01)), TenantId(_fill(0x03)))
DLM_POLICIES: tuple[PolicyHash, ...] = (PolicyHash(_fill(0x02)), PolicyHash(_fill(0x04)))
DLM_OVIDS: tuple[OvidHash, ...] = tuple(
    OvidHash(_fill(0x10 + i)) for i in range(PROPTEST_OVID_POOL_SIZE)
)
Batch = tuple[DoneLedgerRecord, ...]
"""A done-ledger payload as the machines submit it (resubmittable, DLM-3)."""

KEYS: Bundle[DoneLedgerKey] = Bundle("keys")
"""DLM-3: keys built by earlier rules, so later writes contend on them."""

PREFIX_KEY = DoneLedgerKey(DLM_TENANTS[0], DLM_POLICIES[0], DLM_OVIDS[0])
"""DLM-2: the key of the PT-7 / DLM-4 fault prefix (same tenant and policy as the sim)."""

SIM_ERROR = DoneLedgerErrorCode("SIM_ERROR")


def small_ints(low: int, high: int) -> st.SearchStrategy[int]:
    """``low..=high`` with ``st.integers``' values and shrinking (towards ``low``), drawn
    as ``sampled_from(range(...))``.

    Speed (issue 11 item 3): measured in a machine step, a ``sampled_from`` draw costs
    about 70 us, ``st.integers`` 100 us (170 us past 127 values, where it builds a
    weighted sampler per draw), ``st.booleans`` 100 us, and ``.map`` on ``st.integers``
    adds about 100 us where ``.map`` on ``sampled_from`` adds almost nothing.
    """
    return st.sampled_from(range(low, high + 1))


FLAGS: st.SearchStrategy[bool] = st.sampled_from((False, True))
"""``st.booleans()`` drawn as ``sampled_from`` (same values, shrinks to False; see
:func:`small_ints`)."""

# Pool positions are drawn as small ints (and mapped inside the rules) so that a
# printed failing program stays short and readable (HYP-11).
dl_tenants = small_ints(0, len(DLM_TENANTS) - 1)
dl_policies = small_ints(0, len(DLM_POLICIES) - 1)
dl_slots = small_ints(0, PROPTEST_OVID_POOL_SIZE - 1)


class KeyAt(NamedTuple):
    """DLM-2 pool positions of one key (tenant, policy, ovid slot), drawn as one value."""

    tenant: int
    policy: int
    slot: int


class Scope(NamedTuple):
    """DLM-2 pool positions of a (tenant, policy) pair, drawn as one value."""

    tenant: int
    policy: int


key_positions: st.SearchStrategy[KeyAt] = st.sampled_from(
    tuple(
        KeyAt(tenant, policy, slot)
        for tenant in range(len(DLM_TENANTS))
        for policy in range(len(DLM_POLICIES))
        for slot in range(PROPTEST_OVID_POOL_SIZE)
    )
)
"""DLM-5 ``new_key``'s tenant, policy and slot in one draw (issue 11 item 3: each
argument drawn costs a machine step about as much as a simple rule body)."""

scopes: st.SearchStrategy[Scope] = st.sampled_from(
    tuple(Scope(t, p) for t in range(len(DLM_TENANTS)) for p in range(len(DLM_POLICIES)))
)
"""DLM-5 ``read_batch_get`` / ``read_done_hashes``: tenant and policy in one draw."""


def _slot_list(index: int) -> list[int]:
    packed_slots, length = divmod(index, 11)
    return [
        packed_slots // PROPTEST_OVID_POOL_SIZE**i % PROPTEST_OVID_POOL_SIZE for i in range(length)
    ]


dl_slot_lists = st.sampled_from(range(11 * PROPTEST_OVID_POOL_SIZE**10)).map(_slot_list)
"""DLM-5 ``read_batch_get``: 0..=10 slots with repeats, drawn as one choice."""


@functools.cache
def pool_key(tenant: int, policy: int, slot: int) -> DoneLedgerKey:
    """The DLM-2 key at these pool positions (cached: at most 32 keys, immutable)."""
    return DoneLedgerKey(DLM_TENANTS[tenant], DLM_POLICIES[policy], DLM_OVIDS[slot])


def derived_findings(status: DoneLedgerStatus, bytes_scanned: int) -> int:
    """PT-2: findings are derived, not drawn (clean 0, with-findings 1..=5, else 0..=3)."""
    if status is DoneLedgerStatus.SCANNED_CLEAN:
        return 0
    if status is DoneLedgerStatus.SCANNED_WITH_FINDINGS:
        return bytes_scanned % 5 + 1
    return bytes_scanned % 4


U64_MAX = 2**64 - 1
I64_MAX = 2**63 - 1
"""ENC-2: the largest ``bytes_scanned``, ``fence_epoch`` and time every backend stores
(the database stores reject more with ``ValueOutOfRange``; run and shard ids keep the
full u64 range as a bit pattern)."""


class DlFields(NamedTuple):
    """Every field of a done-ledger record but its key (DLM-5), drawn as one value."""

    status: DoneLedgerStatus
    bytes_scanned: int
    run: int
    shard: int
    fence: int
    started_at: int
    duration: int


DL_FIELD_POOLS: dict[str, tuple[object, ...]] = {
    "status": DoneLedgerStatus.ALL,
    "bytes_scanned": (0, 7, 512, 4_096, I64_MAX),
    "run": (1, 2, 3, U64_MAX),
    "shard": (1, 2, U64_MAX),
    "fence": (1, 2, I64_MAX),
    "started_at": (0, 10, 11, 500, I64_MAX - 1),
    "duration": (0, 1, 5, 200),
}
"""Issue 11 item 7: small pools holding the boundary values of every numeric field
(0, equal timestamps through duration 0, the maxima every backend stores: ``I64_MAX``,
and the u64 maximum for run and shard ids, whose signed order differs, DL-34) next to
ordinary ones; small run/shard/fence/time pools make tie-breaks frequent (LED-12).
``finished_at`` is ``started_at + duration``, capped at ``I64_MAX``. Choice: the
in-memory stores' wider range (ENC-6, a deliberate divergence) is not drawn, so the
same machines run unchanged on SQLite and PostgreSQL."""


def _packed(
    pools: Sequence[Sequence[object]],
) -> tuple[int, Callable[[int], tuple[object, ...]]]:
    """One integer in ``0..size`` decoded into one value of each pool (mixed radix).

    Speed (issue 11 item 3): one choice per record instead of one per field; every
    combination stays reachable, and shrinking towards 0 shrinks every field.
    """
    size = 1
    for pool in pools:
        size *= len(pool)

    def decode(index: int) -> tuple[object, ...]:
        values = []
        for pool in pools:
            index, digit = divmod(index, len(pool))
            values.append(pool[digit])
        return tuple(values)

    return size, decode


T = TypeVar("T")


def packed(make: Callable[..., T], pools: Mapping[str, Sequence[object]]) -> st.SearchStrategy[T]:
    """``make(**fields)`` with one value of each pool, drawn as ONE integer (see
    :func:`_packed`); values are cached per index, so ``make`` must be pure."""
    size, decode = _packed(list(pools.values()))
    names = list(pools)

    @functools.cache
    def build(index: int) -> T:
        return make(**dict(zip(names, decode(index), strict=True)))

    return st.sampled_from(range(size)).map(build)


_DL_SIZE, _dl_decode = _packed(list(DL_FIELD_POOLS.values()))


@functools.cache
def dl_fields_at(index: int) -> DlFields:
    """The record fields numbered ``index`` (cached: immutable, module-wide)."""
    return DlFields(*_dl_decode(index))  # type: ignore[arg-type]


dl_fields = st.sampled_from(range(_DL_SIZE)).map(dl_fields_at)
"""DLM-5 record fields as one draw (issue 11 item 3)."""


@functools.lru_cache(maxsize=8192)
def make_dl_record(key: DoneLedgerKey, fields: DlFields) -> DoneLedgerRecord:
    """A valid record (DLM-5): derived findings, ``"SIM_ERROR"`` on failed/SKIPPED.

    Records are immutable, so the same parts give the same object (cached: about a
    third of a record-building rule's time was spent constructing records again)."""
    finished = min(fields.started_at + fields.duration, I64_MAX)
    return DoneLedgerRecord(
        key=key,
        status=fields.status,
        bytes_scanned=fields.bytes_scanned,
        findings_count=derived_findings(fields.status, fields.bytes_scanned),
        provenance=DoneLedgerProvenance(
            run_id=RunId(fields.run),
            shard_id=ShardId(fields.shard),
            fence_epoch=FenceEpoch(fields.fence),
            started_at=LogicalTime(fields.started_at),
            finished_at=LogicalTime(finished),
        ),
        error_code=None if fields.status.is_scanned() else SIM_ERROR,
    )


def keyed_fields(
    keys: st.SearchStrategy[DoneLedgerKey],
) -> st.SearchStrategy[tuple[DoneLedgerKey, DlFields]]:
    """DLM-5 ``dl_record(keys)`` as printable parts: a key from ``keys`` and the other
    fields in one draw; the rule builds the record with :func:`make_dl_record`."""
    return st.tuples(keys, dl_fields)


class DlRecordSpec(NamedTuple):
    """A record at DLM-2 pool positions, as the printed program shows it (HYP-11)."""

    tenant: int
    policy: int
    slot: int
    fields: DlFields


_KEY_COUNT = len(DLM_TENANTS) * len(DLM_POLICIES) * PROPTEST_OVID_POOL_SIZE


@functools.cache
def record_spec_at(index: int) -> DlRecordSpec:
    """The record spec numbered ``index``: a pool key and one set of fields (cached)."""
    fields, key_index = divmod(index, _KEY_COUNT)
    policy_tenant, slot = divmod(key_index, PROPTEST_OVID_POOL_SIZE)
    tenant, policy = divmod(policy_tenant, len(DLM_POLICIES))
    return DlRecordSpec(tenant, policy, slot, dl_fields_at(fields))


def spec_record(spec: DlRecordSpec) -> DoneLedgerRecord:
    """The record a :class:`DlRecordSpec` describes."""
    return make_dl_record(pool_key(spec.tenant, spec.policy, spec.slot), spec.fields)


def pool_record_at(index: int) -> DoneLedgerRecord:
    """``spec_record(record_spec_at(index))``: a fixed valid record, for tests."""
    return spec_record(record_spec_at(index))


record_specs = st.sampled_from(range(_KEY_COUNT * _DL_SIZE)).map(record_spec_at)
"""A record with its key straight from the DLM-2 pools, in ONE draw (issue 11 item 3)."""


class _IndexLists(st.SearchStrategy[list[T]]):
    """A list of ``min_size..=max_size`` items, each one integer decoded by ``item``.

    Speed (issue 11 item 3): ``st.lists`` spends a "one more?" choice, a span and a
    strategy call per element (about 1.7 ms per list of records in the done-ledger
    profile); this draws the length and then one integer per item, nothing else. A
    ``bundle`` given, each item is ``(value drawn from the bundle, item(index))``.
    Items are independent draws (not one packed integer: Hypothesis draws large
    integers mostly small, which would leave the later items at index 0).
    """

    def __init__(
        self,
        count: int,
        item: Callable[[int], object],
        min_size: int,
        max_size: int,
        bundle: Bundle[Any] | None = None,
    ) -> None:
        super().__init__()
        self.count, self.item, self.bundle = count, item, bundle
        self.min_size, self.max_size = min_size, max_size

    def __repr__(self) -> str:
        return f"index_lists({self.count}, {self.min_size}..={self.max_size})"

    def do_draw(self, data: Any) -> list[T]:
        size = data.draw_integer(self.min_size, self.max_size)
        last, item, bundle = self.count - 1, self.item, self.bundle
        if bundle is None:
            return [item(data.draw_integer(0, last)) for _ in range(size)]  # type: ignore[misc]
        # As ``Bundle.do_draw`` does, without a strategy draw per item: a position in
        # the bundle (shrinking towards its newest value), then that value.
        machine = data.draw(st.runner())
        references = machine.bundle(bundle.name)
        if size and not references:
            # As a nested draw from an empty bundle does (HYP-5): the example is discarded.
            data.mark_invalid(f"Cannot draw from empty bundle {bundle.name!r}")
        top = len(references) - 1
        drawn = []
        for _ in range(size):
            position = data.draw_integer(0, top, shrink_towards=top)
            value = machine.names_to_values[references[position].name]
            drawn.append((value, item(data.draw_integer(0, last))))
        return drawn  # type: ignore[return-value]


def dl_fields_lists(min_size: int, max_size: int) -> st.SearchStrategy[list[DlFields]]:
    """Lists of record fields (DLM-5), one integer per record (see :class:`_IndexLists`)."""
    return _IndexLists(_DL_SIZE, dl_fields_at, min_size, max_size)


def record_spec_lists(min_size: int, max_size: int) -> st.SearchStrategy[list[DlRecordSpec]]:
    """Lists of :class:`DlRecordSpec`, one integer per record (see :class:`_IndexLists`)."""
    return _IndexLists(_KEY_COUNT * _DL_SIZE, record_spec_at, min_size, max_size)


def keyed_fields_lists(
    keys: Bundle[DoneLedgerKey], max_size: int
) -> st.SearchStrategy[list[tuple[DoneLedgerKey, DlFields]]]:
    """DLM-5 ``st.lists(dl_record(keys), max_size=...)`` as printable parts: per record a
    key from ``keys`` and the other fields as one integer (see :class:`_IndexLists`).
    The rule must also take ``keys`` bare, or run after an ``@initialize`` rule that
    fills it (HYP-5): the bundle is not empty when this draws."""
    return _IndexLists(_DL_SIZE, dl_fields_at, 0, max_size, bundle=keys)


FLAWS = ("started_after_finished", "missing_error_code", "unexpected_error_code")
"""Issue 11 item 7: ways to make a valid record fail DL-3 validation at apply."""


class FlawAt(NamedTuple):
    """Where the invalid record goes in a batch (taken modulo its length + 1) and how it
    is invalid (one of :data:`FLAWS`), drawn as one value."""

    position: int
    flaw: str


flaws_at: st.SearchStrategy[FlawAt] = st.sampled_from(
    tuple(FlawAt(position, flaw) for position in range(5) for flaw in FLAWS)
)
"""Issue 11 item 7: an invalid record's position ``0..=4`` and flaw, in one draw."""


def flawed(record: DoneLedgerRecord, flaw: str) -> DoneLedgerRecord:
    """``record`` made invalid by ``flaw`` (same key): ``ProvenanceOrdering`` (DL-21),
    ``MissingErrorCode`` or ``UnexpectedErrorCode`` (DL-32)."""
    if flaw == "started_after_finished":
        finished = min(int(record.provenance.finished_at), I64_MAX - 1)
        provenance = dataclasses.replace(
            record.provenance,
            started_at=LogicalTime(finished + 1),
            finished_at=LogicalTime(finished),
        )
        return dataclasses.replace(record, provenance=provenance)
    if flaw == "missing_error_code":
        return dataclasses.replace(
            record, status=DoneLedgerStatus.FAILED_PERMANENT, error_code=None
        )
    return dataclasses.replace(
        record, status=DoneLedgerStatus.SCANNED_CLEAN, findings_count=0, error_code=SIM_ERROR
    )


# -- findings sink (FSM-3) -----------------------------------------------------

FS_TENANTS: tuple[TenantId, ...] = (TenantId(_fill(0x11)), TenantId(_fill(0x22)))
FS_ITEMS: tuple[StableItemId, ...] = tuple(StableItemId(_fill(0x40 + i)) for i in range(4))
FS_RULES: tuple[RuleFingerprint, ...] = tuple(RuleFingerprint(_fill(0x50 + r)) for r in range(4))
FS_VERSIONS: tuple[ObjectVersionId, ...] = tuple(
    ObjectVersionId(_fill(0x60 + v)) for v in range(4)
)
_SECRET_KEY = TenantSecretKey(_fill(0x5A))
FS_SECRETS: tuple[SecretHash, ...] = tuple(
    key_secret_hash(_SECRET_KEY, NormHash.from_digest(_fill(0x30 + s))) for s in range(4)
)
FS_POLICIES: tuple[PolicyHash, ...] = tuple(PolicyHash(_fill(0x70 + p)) for p in range(2))
FS_OVIDS: tuple[OvidHash, ...] = tuple(OvidHash(_fill(0x80 + o)) for o in range(3))
FS_LOCATIONS: tuple[Location | None, ...] = (
    None,
    Location("repo/a"),
    Location("repo/b", url="https://example.invalid/b"),
)


FINDINGS: Bundle[FindingRecord] = Bundle("findings")
OCCURRENCES: Bundle[OccurrenceRecord] = Bundle("occurrences")
OBSERVATIONS: Bundle[ObservationRecord] = Bundle("observations")
"""FSM-4: records built by earlier rules, so referential chains form."""


def other_tenant(tenant: TenantId) -> TenantId:
    """The other tenant of the pair (parents are tenant-scoped, FS-6/FS-7)."""
    return FS_TENANTS[1] if tenant == FS_TENANTS[0] else FS_TENANTS[0]


# Pool positions as small ints, mapped inside the rules (short printed programs).
fs_tenants = small_ints(0, len(FS_TENANTS) - 1)
fs_items = small_ints(0, len(FS_ITEMS) - 1)
fs_rules = small_ints(0, len(FS_RULES) - 1)
fs_secrets = small_ints(0, len(FS_SECRETS) - 1)
fs_policies = small_ints(0, len(FS_POLICIES) - 1)
fs_ovids = small_ints(0, len(FS_OVIDS) - 1)
fs_small = small_ints(1, 3)
fs_locations = small_ints(0, len(FS_LOCATIONS) - 1)


class FindingFields(NamedTuple):
    """FSM-6 ``new_finding``: pool positions of tenant, item, rule and secret."""

    tenant: int
    item: int
    rule: int
    secret: int


class OccurrenceFields(NamedTuple):
    """FSM-6 ``new_occurrence``: version position, byte offset and length."""

    version: int
    offset: int
    length: int


class ObservationFields(NamedTuple):
    """FSM-6 ``new_observation``: policy, ovid and location positions, provenance."""

    policy: int
    ovid: int
    run: int
    shard: int
    fence: int
    seen_at: int
    location: int


class ResendFields(NamedTuple):
    """FSM-6 ``resend_observation``: ``seen_at`` delta, run (= shard = fence), location."""

    delta: int
    run: int
    location: int


class ChainFields(NamedTuple):
    """HYP-16 one-step chains from a sub-pool (items and versions 0..=1), so merges and
    replays are frequent."""

    tenant: int
    item: int
    version: int
    policy: int
    seen_at: int
    run: int
    location: int


_ONE_TO_THREE = (1, 2, 3)
finding_fields = packed(
    FindingFields,
    {"tenant": range(2), "item": range(4), "rule": range(4), "secret": range(4)},
)
occurrence_fields = packed(
    OccurrenceFields, {"version": range(4), "offset": range(4), "length": _ONE_TO_THREE}
)
observation_fields = packed(
    ObservationFields,
    {
        "policy": range(2),
        "ovid": range(3),
        "run": _ONE_TO_THREE,
        "shard": _ONE_TO_THREE,
        "fence": _ONE_TO_THREE,
        "seen_at": range(1, 6),
        "location": range(3),
    },
)
resend_fields = packed(
    ResendFields, {"delta": (-1, 0, 1), "run": _ONE_TO_THREE, "location": range(3)}
)
chain_fields = packed(
    ChainFields,
    {
        "tenant": range(2),
        "item": range(2),
        "version": range(2),
        "policy": range(2),
        "seen_at": range(1, 6),
        "run": _ONE_TO_THREE,
        "location": range(3),
    },
)
"""FSM-3 pools, each record's fields drawn as one value (issue 11 item 3)."""

__all__ = [
    "dl_slot_lists",
    "ChainFields",
    "FindingFields",
    "ObservationFields",
    "OccurrenceFields",
    "ResendFields",
    "chain_fields",
    "finding_fields",
    "observation_fields",
    "occurrence_fields",
    "packed",
    "resend_fields",
    "FINDINGS",
    "OBSERVATIONS",
    "OCCURRENCES",
    "KEYS",
    "Batch",
    "DLM_OVIDS",
    "DLM_POLICIES",
    "DLM_TENANTS",
    "FS_ITEMS",
    "FS_LOCATIONS",
    "FS_OVIDS",
    "FS_POLICIES",
    "FS_RULES",
    "FS_SECRETS",
    "FS_TENANTS",
    "FS_VERSIONS",
    "PREFIX_KEY",
    "PROPTEST_OVID_POOL_SIZE",
    "SIM_ERROR",
    "DL_FIELD_POOLS",
    "FLAWS",
    "FlawAt",
    "flaws_at",
    "U64_MAX",
    "DlFields",
    "derived_findings",
    "dl_fields",
    "dl_fields_at",
    "flawed",
    "dl_policies",
    "keyed_fields",
    "keyed_fields_lists",
    "KeyAt",
    "Scope",
    "key_positions",
    "scopes",
    "FLAGS",
    "small_ints",
    "dl_fields_lists",
    "record_spec_lists",
    "DlRecordSpec",
    "I64_MAX",
    "record_spec_at",
    "record_specs",
    "spec_record",
    "dl_slots",
    "dl_tenants",
    "fs_items",
    "fs_locations",
    "fs_ovids",
    "fs_policies",
    "fs_rules",
    "fs_secrets",
    "fs_small",
    "fs_tenants",
    "make_dl_record",
    "other_tenant",
    "pool_key",
    "pool_record_at",
]
