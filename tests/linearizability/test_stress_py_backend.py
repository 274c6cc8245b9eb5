"""``gossip-sim stress --backend py:MODULE:FACTORY`` on a user's store (issue 14 item 6).

Each test writes a user module into a temporary directory, makes it the
current directory (as a user would run the command beside their module) and
runs the command in-process.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gossip_model.linearizability.targets import PyFactoryTarget
from gossip_model.sim.backends import BackendSetupError
from gossip_model.sim.cli import main

PLAIN = '''
from gossip_model.inmemory import InMemoryDoneLedger


class PlainLedger:
    """Only the DoneLedger protocol's four operations: no snapshot, no clone, no controls."""

    def __init__(self):
        self._inner = InMemoryDoneLedger()

    def batch_get(self, tenant_id, policy_hash, ovid_hashes):
        return self._inner.batch_get(tenant_id, policy_hash, ovid_hashes)

    def batch_upsert(self, records):
        return self._inner.batch_upsert(records)

    def list_done_hashes(self, tenant_id, policy_hash):
        return self._inner.list_done_hashes(tenant_id, policy_hash)

    def count_done_hashes(self, tenant_id, policy_hash):
        return self._inner.count_done_hashes(tenant_id, policy_hash)


def make_ledger():
    return PlainLedger()
'''

RACY = '''
import time

from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    ReadyCommitHandle,
    fold_records,
)


class RacyLedger:
    """Planted: upsert reads the row, yields the GIL, writes the merge back, no lock."""

    def __init__(self):
        self._rows = {}

    def batch_upsert(self, records):
        folded = fold_records(list(records))
        for key, record in folded.items():
            prior = self._rows.get(key)
            time.sleep(0)  # the bug: another client may write this row meanwhile
            self._rows[key] = record if prior is None else prior.merge(record)
        return ReadyCommitHandle.ok(DoneLedgerCommitReceipt.for_folded(folded.values()))

    def batch_get(self, tenant_id, policy_hash, ovid_hashes):
        return [self._rows.get(DoneLedgerKey(tenant_id, policy_hash, o)) for o in ovid_hashes]

    def list_done_hashes(self, tenant_id, policy_hash):
        rows = list(self._rows.items())
        hashes = [
            k.ovid_hash
            for k, r in rows
            if k.tenant_id == tenant_id and k.policy_hash == policy_hash and r.status.is_terminal()
        ]
        return sorted(hashes, key=lambda o: o.raw)

    def count_done_hashes(self, tenant_id, policy_hash):
        return len(self.list_done_hashes(tenant_id, policy_hash))


def make_ledger():
    return RacyLedger()
'''

BAD = '''
from gossip_model.inmemory import InMemoryDoneLedger, InMemoryFindingsSink

CLOSED = []


def broken():
    raise RuntimeError("database password expired")


def not_a_ledger():
    return object()


not_callable = 42


class Counted:
    """A clone-capable ledger that records how often each handle is closed."""

    def __init__(self, inner=None):
        self._inner = inner if inner is not None else InMemoryDoneLedger()

    def clone(self):
        return Counted(self._inner.clone())

    def close(self):
        CLOSED.append(id(self))

    def __getattr__(self, name):
        return getattr(self._inner, name)


def sink():
    return InMemoryFindingsSink()


class FlakyListing(Counted):
    """Listings fail with an error outside the contract (a driver bug, say)."""

    def clone(self):
        return FlakyListing(self._inner.clone())

    def list_done_hashes(self, tenant_id, policy_hash):
        raise RuntimeError("listing cursor lost")


def flaky():
    return FlakyListing()
'''


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` as the current directory, holding the user modules above."""
    for name, text in (("plain_user", PLAIN), ("racy_user", RACY), ("bad_user", BAD)):
        (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("plain_user", "racy_user", "bad_user"):
        sys.modules.pop(name, None)


def stress(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["stress", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_plain_protocol_ledger_is_linearizable_and_snapshot_is_left_out(
    user_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DoneLedger with only the protocol's operations, shared by all clients: exit 0."""
    argv = ["--backend", "py:plain_user:make_ledger", "--clients", "4", "--ops", "60"]
    status, out, err = stress([*argv, "--seed", "3", "--keys", "2"], capsys)
    assert status == 0, out + err
    assert "left out: snapshot (the store has no such method" in out
    assert "240 operations" in out
    assert "verdict: linearizable" in out
    assert err == ""


def test_planted_lost_update_in_a_plain_ledger_is_caught_with_its_history(
    user_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Read, yield the GIL, write back without a lock: exit 1 with a counter-history.

    Real threads decide whether the race window is hit; each run has hundreds
    of colliding writes on one key, and the test allows up to five seeds.
    """
    outputs = []
    for seed in range(5):
        argv = ["--backend", "py:racy_user:make_ledger", "--clients", "4", "--ops", "150"]
        status, out, _ = stress([*argv, "--keys", "1", "--seed", str(seed)], capsys)
        outputs.append(out)
        if status == 1:
            break
    assert status == 1, outputs[-1]
    assert "verdict: NOT linearizable" in out
    assert "minimal counter-history" in out
    assert "replay: gossip-sim stress --backend py:racy_user:make_ledger" in out


@pytest.mark.parametrize(
    ("factory", "cause", "fix"),
    [
        ("py:no_such_user_module:make", "cannot import module no_such_user_module", "PYTHONPATH"),
        ("py:bad_user:missing", "has no attribute missing", "define a function missing()"),
        ("py:bad_user:not_callable", "is a int, not a callable", "make not_callable a function"),
        ("py:bad_user:broken", "bad_user.broken() raised RuntimeError", "fix the factory"),
        ("py:bad_user:not_a_ledger", "lacks batch_upsert, batch_get", "--sink"),
    ],
)
def test_bad_factory_is_a_setup_error_with_one_message(
    factory: str, cause: str, fix: str, user_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 3: one message naming the cause and the fix, no traceback."""
    status, out, err = stress(["--backend", factory, "--ops", "2"], capsys)
    assert status == 3
    assert err.count("stress: setup error") == 1
    assert cause in err
    assert "fix: " in err
    assert fix in err
    assert "Traceback" not in err + out
    assert "verdict" not in out


def test_findings_sink_factory_with_every_operation(
    user_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = stress(["--backend", "py:bad_user:sink", "--sink", "--ops", "20"], capsys)
    assert status == 0
    assert "(findings)" in out
    assert "left out" not in out
    status, _, err = stress(["--backend", "py:plain_user:make_ledger", "--sink"], capsys)
    assert status == 3
    assert "lacks upsert_batch" in err


def test_clients_get_clones_when_the_store_has_clone_else_one_shared_object(
    user_dir: Path,
) -> None:
    """PyFactoryTarget: clone() per client when offered; close() once per distinct handle."""
    counted = PyFactoryTarget("py:bad_user:Counted")
    handles = counted.open(3, lambda: None)
    assert len({id(h) for h in handles}) == 3
    counted.close(handles)
    closed: list[int] = sys.modules["bad_user"].CLOSED
    assert sorted(closed) == sorted(id(h) for h in handles)
    plain = PyFactoryTarget("py:plain_user:make_ledger")
    shared = plain.open(3, lambda: None)
    assert shared[0] is shared[1] is shared[2]
    plain.close(shared)  # no close() on the store: nothing to call, nothing raised
    with pytest.raises(BackendSetupError, match=r"calling bad_user\.broken"):
        PyFactoryTarget("py:bad_user:broken").open(2, lambda: None)


def test_errors_outside_the_contract_are_listed_and_recorded_as_maybe(
    user_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14 item 2: an unexpected exception is a "maybe" operation, shown to the user."""
    argv = ["--backend", "py:bad_user:flaky", "--ops", "40", "--seed", "1", "--deterministic"]
    status, out, _ = stress(argv, capsys)
    assert status == 0
    assert "unexpected errors (recorded as maybe):" in out
    assert "ListDone(): RuntimeError: listing cursor lost" in out
    assert "left out" not in out  # Counted forwards snapshot() to the in-memory ledger
