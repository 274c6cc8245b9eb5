"""Parallel programs: a sequential prefix, then 2-4 client programs (issue 14 item 3).

Commands are small frozen values over the hot slots of
:mod:`gossip_model.linearizability.workload`; ``cmd.run(client)`` performs
one call (and, for writes, its ``wait``) on a recording wrapper. The command
vocabulary follows the machines' rules: writes (replays and conflicting
writes happen because slots are few), point reads, listings and snapshots.
In delayed mode a program also holds the control rules of
:mod:`gossip_model.linearizability.control` (``submit`` without a wait,
``wait_handle``, ``release_next`` / ``release_pending`` / ``release_all``,
``arm``, ``set_auto_complete``), printed under the machines' rule names; the
reads below serve both modes. :data:`Command` is the union of both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gossip_model.linearizability.control import (
    Arm,
    ReleaseAll,
    ReleaseNext,
    ReleasePending,
    SetAutoComplete,
    Upsert,
    UpsertFindings,
    WaitHandle,
)
from gossip_model.linearizability.workload import (
    POLICY,
    TENANT,
    TENANTS,
    done_record,
    finding_batch,
    finding_of,
    hot_key,
    hot_ovid,
    observation_of,
)

#: Seconds a client waits for a commit handle before the write becomes "maybe".
WAIT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Write:
    """``batch_upsert`` of ``(slot, status, nbytes, run)`` records, then ``wait``."""

    records: tuple[tuple[int, int, int, int], ...]

    def run(self, client: Any) -> None:
        client.batch_upsert([done_record(*spec) for spec in self.records]).wait(WAIT_TIMEOUT)

    def __str__(self) -> str:
        return f"Write({', '.join(f'slot{s}:st{st}:b{b}:r{r}' for s, st, b, r in self.records)})"


@dataclass(frozen=True, slots=True)
class Read:
    """``batch_get`` of the given slots."""

    slots: tuple[int, ...]

    def run(self, client: Any) -> None:
        client.batch_get(TENANT, POLICY, [hot_ovid(s) for s in self.slots])

    def __str__(self) -> str:
        return f"Read({', '.join(f'slot{s}' for s in self.slots)})"


@dataclass(frozen=True, slots=True)
class GetRecord:
    slot: int

    def run(self, client: Any) -> None:
        client.get_record(hot_key(self.slot))

    def __str__(self) -> str:
        return f"GetRecord(slot{self.slot})"


@dataclass(frozen=True, slots=True)
class ListDone:
    def run(self, client: Any) -> None:
        client.list_done_hashes(TENANT, POLICY)

    def __str__(self) -> str:
        return "ListDone()"


@dataclass(frozen=True, slots=True)
class Snapshot:
    def run(self, client: Any) -> None:
        client.snapshot()

    def __str__(self) -> str:
        return "Snapshot()"


@dataclass(frozen=True, slots=True)
class Submit:
    """``upsert_batch`` of :func:`finding_batch` (tenant, slot, variant, depth, seen_at)."""

    tenant: int
    slot: int
    variant: int
    depth: int
    seen_at: int

    def run(self, client: Any) -> None:
        batch = finding_batch(self.tenant, self.slot, self.variant, self.depth, self.seen_at)
        client.upsert_batch(batch).wait(WAIT_TIMEOUT)

    def __str__(self) -> str:
        return (
            f"Submit(t{self.tenant}, slot{self.slot}, variant{self.variant}, "
            f"depth{self.depth}, seen{self.seen_at})"
        )


@dataclass(frozen=True, slots=True)
class GetFinding:
    tenant: int
    slot: int

    def run(self, client: Any) -> None:
        client.get_finding(TENANTS[self.tenant], finding_of(self.tenant, self.slot).finding_id)

    def __str__(self) -> str:
        return f"GetFinding(t{self.tenant}, slot{self.slot})"


@dataclass(frozen=True, slots=True)
class GetObservation:
    tenant: int
    slot: int

    def run(self, client: Any) -> None:
        observation = observation_of(self.tenant, self.slot, 0)
        client.get_observation(TENANTS[self.tenant], observation.observation_id)

    def __str__(self) -> str:
        return f"GetObservation(t{self.tenant}, slot{self.slot})"


@dataclass(frozen=True, slots=True)
class FindingsSnapshot:
    def run(self, client: Any) -> None:
        client.findings_snapshot()

    def __str__(self) -> str:
        return "FindingsSnapshot()"


Command = (
    Write
    | Read
    | GetRecord
    | ListDone
    | Snapshot
    | Submit
    | GetFinding
    | GetObservation
    | FindingsSnapshot
    | Upsert
    | UpsertFindings
    | WaitHandle
    | ReleaseNext
    | ReleasePending
    | ReleaseAll
    | Arm
    | SetAutoComplete
)


@dataclass(frozen=True, slots=True)
class ParallelProgram:
    """A prefix run by client 0 alone, then ``clients[i]`` run by client ``i + 1`` at once."""

    prefix: tuple[Command, ...]
    clients: tuple[tuple[Command, ...], ...]

    def render(self) -> str:
        lines = ["prefix (client 0): " + ("; ".join(map(str, self.prefix)) or "(empty)")]
        for index, commands in enumerate(self.clients, start=1):
            lines.append(f"client {index}: " + ("; ".join(map(str, commands)) or "(empty)"))
        return "\n".join(lines)

    def size(self) -> int:
        return len(self.prefix) + sum(len(c) for c in self.clients)


__all__ = [
    "Command",
    "FindingsSnapshot",
    "GetFinding",
    "GetObservation",
    "GetRecord",
    "ListDone",
    "ParallelProgram",
    "Read",
    "Snapshot",
    "Submit",
    "Write",
]
