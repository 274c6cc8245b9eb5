"""The parallel programs' records come from the state machines' pools (DLM-2, FSM-3).

``gossip_model.linearizability.workload`` keeps its own copy of the pools
(the library must not import the Hypothesis module ``rules.strategies``);
these tests hold the two together.
"""

from __future__ import annotations

from gossip_model.linearizability import workload
from gossip_model.persistence import DoneLedgerKey
from rules.strategies import (
    DLM_OVIDS,
    DLM_POLICIES,
    DLM_TENANTS,
    FS_ITEMS,
    FS_OVIDS,
    FS_POLICIES,
    FS_RULES,
    FS_SECRETS,
    FS_TENANTS,
    FS_VERSIONS,
)


def test_done_ledger_hot_keys_are_the_machines_pool_keys() -> None:
    """DLM-2: tenant 0, policy 0 and the eight ovid slots of the machines."""
    assert DLM_TENANTS[0] == workload.TENANT
    assert DLM_POLICIES[0] == workload.POLICY
    assert len(DLM_OVIDS) == workload.OVID_POOL
    assert [workload.hot_ovid(s) for s in range(len(DLM_OVIDS))] == list(DLM_OVIDS)
    assert workload.hot_key(3) == DoneLedgerKey(DLM_TENANTS[0], DLM_POLICIES[0], DLM_OVIDS[3])
    assert workload.done_record(5, 3, 1, 1).key.ovid_hash == DLM_OVIDS[5]


def test_slots_beyond_the_pool_get_ids_no_pool_holds() -> None:
    beyond = {workload.hot_ovid(s) for s in range(len(DLM_OVIDS), 64)}
    assert len(beyond) == 64 - len(DLM_OVIDS)
    assert not beyond & set(DLM_OVIDS)


def test_findings_records_are_built_from_the_machines_pools() -> None:
    """FSM-3: tenants, rule 0, items / versions / secrets by slot, policy 0, ovids by slot."""
    assert workload.TENANTS == FS_TENANTS
    for slot in range(len(FS_ITEMS)):
        for tenant in range(len(FS_TENANTS)):
            finding = workload.finding_of(tenant, slot)
            assert finding.tenant_id == FS_TENANTS[tenant]
            assert finding.stable_item_id == FS_ITEMS[slot]
            assert finding.rule_fingerprint == FS_RULES[0]
            assert finding.secret_hash == FS_SECRETS[slot]
            assert workload.occurrence_of(tenant, slot).object_version_id == FS_VERSIONS[slot]
    for slot in range(len(FS_OVIDS)):
        observation = workload.observation_of(0, slot, 2)
        assert observation.policy_hash == FS_POLICIES[0]
        assert observation.ovid_hash == FS_OVIDS[slot]
    other = workload.finding_of(0, 1, variant=1)
    assert other.finding_id == workload.finding_of(0, 1).finding_id
    assert other.stable_item_id not in FS_ITEMS  # a different finding under the same id (FS-5)
