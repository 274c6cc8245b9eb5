"""HypoFuzz fuzzes the machines of ``rules.fuzz`` (issue 11 item 5); skipped without hypofuzz.

Collection is checked in process (quick): the three machines are fuzz
targets, and a store option keeps only that store's machines. The campaign
itself (``slow``: about a minute on two busy cores) aims ``hypothesis fuzz``
at a planted sink, as a user aims it at a backend, and checks that the
failure it saves in ``GOSSIP_HYPOTHESIS_DB`` replays with plain pytest under
``gossip-replay`` (nothing generated), showing the field that differs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gossip_model.pytest_plugin import DATABASE_ENV, READONLY_DATABASE_ENV

collection = pytest.importorskip("hypofuzz.collection", reason="hypofuzz is not installed")

ROOT = Path(__file__).resolve().parents[2]
FUZZ = ["--no-cov", "-p", "no:cacheprovider", "--pyargs", "gossip_model.rules.fuzz"]
PLANTED_SINK = "--gossip-sink=tests.fuzz.planted_stores:make_merge_drops_location"
TIMEOUT = 900


@pytest.fixture
def no_database_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (DATABASE_ENV, READONLY_DATABASE_ENV, "CI"):
        monkeypatch.delenv(name, raising=False)


def fuzzed(*options: str) -> tuple[set[str], dict[str, str]]:
    """Class names of the tests HypoFuzz would fuzz, and the skip status of the others."""
    result = collection.collect_tests([*FUZZ, *options])
    names = {target.nodeid.split("::")[1] for target in result.fuzz_targets}
    skipped = {n.split("::")[1]: r["status_reason"] for n, r in result.not_collected.items()}
    return names, skipped


@pytest.mark.usefixtures("no_database_variables")
def test_hypofuzz_collects_the_three_machines() -> None:
    names, skipped = fuzzed()
    assert names == {"TestFuzzDoneLedger", "TestFuzzPlainLedger", "TestFuzzFindingsSink"}
    assert skipped == {}


@pytest.mark.usefixtures("no_database_variables")
def test_a_store_option_keeps_only_that_stores_machines() -> None:
    names, skipped = fuzzed(PLANTED_SINK)
    assert names == {"TestFuzzFindingsSink"}
    assert skipped == {"TestFuzzDoneLedger": "skipif", "TestFuzzPlainLedger": "skipif"}
    names, _ = fuzzed("--gossip-ledger=tests.fuzz.planted_stores:make_apply_streams_records")
    assert names == {"TestFuzzDoneLedger", "TestFuzzPlainLedger"}


@pytest.mark.slow
def test_a_campaign_finds_a_planted_sink_and_pytest_replays_it(tmp_path: Path) -> None:
    """HypoFuzz stops once every target has failed; the saved failure then replays."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "PYTEST_"))}
    env.pop("CI", None)
    env[DATABASE_ENV] = str(tmp_path / "db")
    cli = [sys.executable, "-c", "from hypothesis.extra.cli import main; main()"]
    campaign = subprocess.run(
        [*cli, "fuzz", "-n", "1", "--no-dashboard", "--", *FUZZ, PLANTED_SINK],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert "Found a failing input for every test!" in campaign.stderr, campaign.stderr[-3000:]
    assert any((tmp_path / "db").iterdir())

    replay = subprocess.run(
        [sys.executable, "-m", "pytest", *FUZZ, PLANTED_SINK,
         "--hypothesis-profile=gossip-replay"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert replay.returncode == 1, replay.stdout[-3000:]
    assert "1 failed, 2 skipped" in replay.stdout
    assert "store and model disagree at [0].location" in replay.stdout
