"""Hypothesis strategies for parallel programs over the hot slots of ``workload``.

Where they live (a choice): here, in the tests, because the library must not
import Hypothesis (``gossip-sim stress`` draws its programs from a seed with
:mod:`gossip_model.linearizability.generate` instead). Both draw the same
commands: the auto-complete vocabulary of
:mod:`gossip_model.linearizability.programs` and the machines' control rules
of :mod:`gossip_model.linearizability.control` (delayed mode).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from gossip_model.linearizability.control import (
    COUNTERS,
    Arm,
    ControlCommand,
    ReleaseAll,
    ReleaseNext,
    ReleasePending,
    SetAutoComplete,
    Upsert,
    UpsertFindings,
    WaitHandle,
)
from gossip_model.linearizability.programs import (
    Command,
    FindingsSnapshot,
    GetFinding,
    GetObservation,
    GetRecord,
    ListDone,
    ParallelProgram,
    Read,
    Snapshot,
    Submit,
    Write,
)

HOT_SLOTS = 3
slots = st.integers(0, HOT_SLOTS - 1)
record_specs = st.tuples(slots, st.integers(0, 4), st.integers(0, 3), st.integers(1, 3))
writes = st.builds(Write, st.lists(record_specs, min_size=1, max_size=3).map(tuple))

ledger_commands: st.SearchStrategy[Command] = st.one_of(
    writes,
    writes,
    st.builds(Read, st.lists(slots, min_size=1, max_size=3).map(tuple)),
    st.builds(GetRecord, slots),
    st.just(ListDone()),
    st.just(Snapshot()),
)

tenants = st.integers(0, 1)
finding_slots = st.integers(0, 1)
findings_commands: st.SearchStrategy[Command] = st.one_of(
    st.builds(
        Submit,
        tenants,
        finding_slots,
        st.sampled_from([0, 0, 0, 1]),
        st.integers(1, 3),
        st.integers(1, 4),
    ),
    st.builds(
        Submit,
        tenants,
        finding_slots,
        st.sampled_from([0, 0, 0, 1]),
        st.integers(1, 3),
        st.integers(1, 4),
    ),
    st.builds(GetFinding, tenants, finding_slots),
    st.builds(GetObservation, tenants, finding_slots),
    st.just(FindingsSnapshot()),
)


def programs(
    commands: st.SearchStrategy[Any],
    *,
    min_clients: int = 2,
    max_clients: int = 4,
    max_length: int = 4,
) -> st.SearchStrategy[ParallelProgram]:
    """A prefix of 0-3 commands, then ``min_clients..max_clients`` client programs."""
    client = st.lists(commands, min_size=1, max_size=max_length).map(tuple)
    return st.builds(
        ParallelProgram,
        st.lists(commands, max_size=3).map(tuple),
        st.lists(client, min_size=min_clients, max_size=max_clients).map(tuple),
    )


def sequential_programs(
    commands: st.SearchStrategy[Command],
) -> st.SearchStrategy[ParallelProgram]:
    """Only a prefix: one client, no concurrency."""
    return st.builds(ParallelProgram, st.lists(commands, max_size=20).map(tuple), st.just(()))


# -- delayed mode: the machines' control rules (gossip_model.linearizability.control) --------

queues = st.integers(0, 3)
orders = st.booleans()
controls: st.SearchStrategy[Command | ControlCommand] = st.one_of(
    st.builds(ReleaseNext, orders, queues),
    st.builds(ReleasePending, st.integers(0, 3), queues),
    st.builds(ReleaseAll, orders, queues),
    st.builds(ReleaseAll, orders, queues),
    st.builds(Arm, st.sampled_from(COUNTERS), st.integers(1, 2), queues),
    st.builds(SetAutoComplete, st.booleans(), queues),
)
delayed_upserts = st.builds(Upsert, st.lists(record_specs, min_size=1, max_size=3).map(tuple))
delayed_ledger_commands: st.SearchStrategy[Any] = st.one_of(
    delayed_upserts,
    delayed_upserts,
    st.just(WaitHandle()),
    st.just(WaitHandle()),
    controls,
    controls,
    st.builds(Read, st.lists(slots, min_size=1, max_size=3).map(tuple)),
    st.builds(GetRecord, slots),
    st.just(ListDone()),
)
delayed_submissions = st.builds(
    UpsertFindings,
    tenants,
    finding_slots,
    st.sampled_from([0, 0, 0, 1]),
    st.integers(1, 3),
    st.integers(1, 4),
)
delayed_findings_commands: st.SearchStrategy[Any] = st.one_of(
    delayed_submissions,
    delayed_submissions,
    st.just(WaitHandle()),
    st.just(WaitHandle()),
    controls,
    controls,
    st.builds(GetFinding, tenants, finding_slots),
    st.builds(GetObservation, tenants, finding_slots),
)
