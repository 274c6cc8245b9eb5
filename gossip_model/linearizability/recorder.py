"""Recording wrappers: any done ledger or findings sink, one wrapper per client (item 1).

``Recorder`` owns one :class:`HistoryBuilder`; ``recorder.done_ledger(store,
client)`` and ``recorder.findings_sink(store, client)`` wrap a store handle
(or connection) used by one client. Every call logs its invocation before it
reaches the store and its response after: a write spans from ``batch_upsert``
/ ``upsert_batch`` to the end of the handle's ``wait()`` (its durability point,
CM-2); an error raised by either is classified by :func:`classify_error`.

Choices:

* ``wait(timeout)`` raising ``TimeoutError`` leaves the operation open (the
  handle stays usable, ST-23); a write never waited on successfully ends as
  :class:`Maybe` when :meth:`Recorder.history` is taken.
* Optional reads (``get_record``, ``snapshot``, ``count_done_hashes``, the
  findings point reads and snapshots) are forwarded only when the store has
  them: a plain ``DoneLedger`` with the protocol's three methods works.
* ``pause`` (default: nothing) is called before every invocation, after every
  response and between a write's submission and its ``wait()``: the seeded scheduler's yield points
  (:mod:`gossip_model.linearizability.scheduler`), with no change to the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from gossip_model.identity import (
    FindingId,
    ObservationId,
    OccurrenceId,
    OvidHash,
    PolicyHash,
    TenantId,
)
from gossip_model.linearizability.history import History, HistoryBuilder
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
)
from gossip_model.persistence.commit import CommitHandle

R = TypeVar("R")
T = TypeVar("T")


def _no_pause() -> None:
    return None


class RecordedHandle(Generic[R]):
    """A commit handle whose ``wait`` closes the recorded operation."""

    __slots__ = ("_builder", "_done", "_handle", "_pause", "_token")

    def __init__(
        self,
        builder: HistoryBuilder,
        token: int,
        handle: CommitHandle[R],
        pause: Callable[[], None],
    ) -> None:
        self._builder = builder
        self._token = token
        self._handle = handle
        self._pause = pause
        self._done = False

    @property
    def op_id(self) -> Any:
        """The wrapped handle's ``op_id`` (``AttributeError`` if it has none)."""
        return self._handle.op_id  # type: ignore[attr-defined]

    def wait(self, timeout: float | None = None) -> R:
        try:
            receipt = self._handle.wait(timeout)
        except TimeoutError:
            raise  # still pending: the operation stays open (ST-23)
        except BaseException as error:
            if not self._done:
                self._done = True
                self._builder.raised(self._token, error)
            self._pause()
            raise
        if not self._done:
            self._done = True
            self._builder.returned(self._token, receipt)
        self._pause()
        return receipt


class _Recording:
    __slots__ = ("_builder", "_client", "_inner", "_pause")

    def __init__(
        self, builder: HistoryBuilder, inner: Any, client: int, pause: Callable[[], None]
    ) -> None:
        self._builder = builder
        self._inner = inner
        self._client = client
        self._pause = pause

    def _read(self, kind: str, args: Sequence[object], call: Callable[[], T]) -> T:
        self._pause()
        token = self._builder.invoke(self._client, kind, args)
        try:
            value = call()
        except BaseException as error:
            self._builder.raised(token, error)
            self._pause()
            raise
        self._builder.returned(token, value)
        self._pause()
        return value

    def _write(
        self, kind: str, payload: object, submit: Callable[[], CommitHandle[R]]
    ) -> RecordedHandle[R]:
        self._pause()
        token = self._builder.invoke(self._client, kind, (payload,))
        try:
            handle = submit()
        except BaseException as error:
            self._builder.raised(token, error)
            self._pause()
            raise
        self._pause()  # between submission and wait(): others may run (delayed completion)
        return RecordedHandle(self._builder, token, handle, self._pause)

    def _optional(self, name: str) -> Callable[..., Any]:
        method = getattr(self._inner, name, None)
        if method is None:
            raise AttributeError(
                f"{type(self._inner).__name__} has no {name}(); the recorder forwards only "
                "methods the wrapped store provides"
            )
        return method  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client={self._client}, store={self._inner!r})"


class RecordingDoneLedger(_Recording):
    """A ``DoneLedger`` that logs every call of one client."""

    __slots__ = ()

    def batch_upsert(
        self, records: Sequence[DoneLedgerRecord]
    ) -> RecordedHandle[DoneLedgerCommitReceipt]:
        batch = tuple(records)
        return self._write("batch_upsert", batch, lambda: self._inner.batch_upsert(batch))

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Sequence[OvidHash]
    ) -> list[DoneLedgerRecord | None]:
        ovids = tuple(ovid_hashes)
        return self._read(
            "batch_get",
            (tenant_id, policy_hash, ovids),
            lambda: list(self._inner.batch_get(tenant_id, policy_hash, ovids)),
        )

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]:
        return self._read(
            "list_done_hashes",
            (tenant_id, policy_hash),
            lambda: list(self._inner.list_done_hashes(tenant_id, policy_hash)),
        )

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int | None:
        method = self._optional("count_done_hashes")
        count: int | None = self._read(
            "count_done_hashes", (tenant_id, policy_hash), lambda: method(tenant_id, policy_hash)
        )
        return count

    def get_record(self, key: DoneLedgerKey) -> DoneLedgerRecord | None:
        method = self._optional("get_record")
        record: DoneLedgerRecord | None = self._read("get_record", (key,), lambda: method(key))
        return record

    def snapshot(self) -> list[DoneLedgerRecord]:
        method = self._optional("snapshot")
        return self._read("snapshot", (), lambda: list(method()))


class RecordingFindingsSink(_Recording):
    """A ``FindingsSink`` (plus the optional reads) that logs every call of one client."""

    __slots__ = ()

    def upsert_batch(self, batch: FindingsUpsertBatch) -> RecordedHandle[FindingsCommitReceipt]:
        return self._write("upsert_batch", batch, lambda: self._inner.upsert_batch(batch))

    def get_finding(self, tenant_id: TenantId, finding_id: FindingId) -> object:
        method = self._optional("get_finding")
        return self._read(
            "get_finding", (tenant_id, finding_id), lambda: method(tenant_id, finding_id)
        )

    def get_occurrence(self, tenant_id: TenantId, occurrence_id: OccurrenceId) -> object:
        method = self._optional("get_occurrence")
        return self._read(
            "get_occurrence", (tenant_id, occurrence_id), lambda: method(tenant_id, occurrence_id)
        )

    def get_observation(self, tenant_id: TenantId, observation_id: ObservationId) -> object:
        method = self._optional("get_observation")
        return self._read(
            "get_observation",
            (tenant_id, observation_id),
            lambda: method(tenant_id, observation_id),
        )

    def findings_snapshot(self) -> list[object]:
        method = self._optional("findings_snapshot")
        return self._read("findings_snapshot", (), lambda: list(method()))


class Recorder:
    """One history shared by every client's wrapper."""

    def __init__(self, pause: Callable[[], None] = _no_pause) -> None:
        self.builder = HistoryBuilder()
        self._pause = pause

    def done_ledger(self, store: Any, client: int) -> RecordingDoneLedger:
        return RecordingDoneLedger(self.builder, store, client, self._pause)

    def findings_sink(self, store: Any, client: int) -> RecordingFindingsSink:
        return RecordingFindingsSink(self.builder, store, client, self._pause)

    def history(self) -> History:
        return self.builder.history()


__all__ = ["RecordedHandle", "Recorder", "RecordingDoneLedger", "RecordingFindingsSink"]
