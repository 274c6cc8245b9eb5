"""The shared example database (issue 11 item 5): ``GOSSIP_HYPOTHESIS_DB`` and its read-only layer.

A failure saved by one run (a fuzz worker, CI) replays in a later plain
``pytest`` run that points at the same directory. The replay runs use the
plugin's ``gossip-replay`` profile, which generates nothing, so a failure there
can only come from the database; an empty database is the control (nothing
runs: the test is skipped).
Each run is a small pytest subprocess in a temporary directory, on a planted
ledger that rejects ``started_at == finished_at`` (DL-21); the failing run
is made once, with ``CI=true`` as in CI, and copied for each test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

from gossip_model.pytest_plugin import (
    DATABASE_ENV,
    READONLY_DATABASE_ENV,
    configure_example_database,
    example_database_from_env,
)

PLANTED_TEST = '''\
import dataclasses

from hypothesis import given, strategies as st

from gossip_model.identity import LogicalTime
from rules.planted import make_planted_ledger_bug
from rules.strategies import pool_record_at


@given(gap=st.integers(0, 1000))
def test_planted_ledger_commits_every_ordered_record(gap):
    """DL-21 on the planted ledger: only gap == 0 (equal timestamps) fails."""
    record = pool_record_at(1)
    provenance = dataclasses.replace(
        record.provenance, started_at=LogicalTime(1000 - gap), finished_at=LogicalTime(1000)
    )
    ledger = make_planted_ledger_bug("rejects_equal_timestamps")
    ledger.batch_upsert([dataclasses.replace(record, provenance=provenance)]).wait(timeout=0)
'''
CONFTEST = """\
from hypothesis import Phase, settings

# No explain phase: it only slows the run down.
settings.register_profile("find", phases=[p for p in Phase if p is not Phase.explain])
"""
#: The minimal example, as pytest prints it inside the traceback ("E" margins).
ROOT = Path(__file__).resolve().parents[2]
FALSIFYING = re.compile(
    r"Falsifying example: test_planted_ledger_commits_every_ordered_record\([\sE]*gap=0,[\sE]*\)"
)
TIMEOUT = 120


def make_project(directory: Path) -> Path:
    """A throwaway project holding the planted test; Hypothesis's home is inside it."""
    (directory / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (directory / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (directory / "test_planted.py").write_text(PLANTED_TEST, encoding="utf-8")
    return directory


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


def run_pytest(
    project: Path, env: dict[str, str], profile: str = "find"
) -> subprocess.CompletedProcess[str]:
    """``pytest test_planted.py`` in ``project`` with ``env`` added to a clean environment
    (no CI, no coverage or database variables) and the ``find`` or ``gossip-replay`` profile."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COV_", "PYTEST_", "GOSSIP_HYPOTHESIS_", "HYPOTHESIS_")) and k != "CI"
    }
    clean["HYPOTHESIS_STORAGE_DIRECTORY"] = str(project / ".hypothesis")
    # Only the two plugins that matter here (Hypothesis's and ours, which reads the
    # variables): other installed plugins cost seconds of start-up per run.
    clean["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugins = ["-p", "_hypothesis_pytestplugin", "-p", "gossip_model.pytest_plugin"]
    argv = [sys.executable, "-m", "pytest", *plugins, "-p", "no:cacheprovider"]
    return subprocess.run(
        [*argv, "-q", f"--hypothesis-profile={profile}", "test_planted.py"],
        cwd=project,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def saved_files(directory: Path) -> dict[Path, bytes]:
    return {p.relative_to(directory): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def ci_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database a CI run leaves behind: CI=true loads Hypothesis's ``ci`` profile
    (database=None, derandomize=True), yet the explicit GOSSIP_HYPOTHESIS_DB gets the failure."""
    project = make_project(tmp_path_factory.mktemp("ci"))
    artifact = project / "ci-artifact"
    run = run_pytest(project, {"CI": "true", DATABASE_ENV: str(artifact)})
    assert run.returncode == 1, run.stdout + run.stderr
    assert FALSIFYING.search(run.stdout)
    assert not (project / ".hypothesis" / "examples").exists()  # the default place is unused
    assert saved_files(artifact), "the failing example was not written to the directory"
    return artifact


@pytest.mark.processes
def test_a_ci_failure_replays_from_the_directory_alone(project: Path, ci_artifact: Path) -> None:
    """A laptop run pointed at (a copy of) the CI directory, which may not generate, fails on
    the same minimal example; the same run on an empty database runs nothing."""
    shared = project / "downloaded"
    shutil.copytree(ci_artifact, shared)
    replay = run_pytest(project, {DATABASE_ENV: str(shared)}, profile="gossip-replay")
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert FALSIFYING.search(replay.stdout)

    control = run_pytest(project, {DATABASE_ENV: str(project / "empty")}, profile="gossip-replay")
    assert control.returncode == 0, control.stdout + control.stderr
    assert "1 skipped" in control.stdout  # Hypothesis: "told to run no examples"


@pytest.mark.processes
def test_a_read_only_artifact_replays_and_stays_unchanged(
    project: Path, ci_artifact: Path
) -> None:
    """GOSSIP_HYPOTHESIS_DB_READONLY replays a CI artifact into a laptop run; the artifact is
    never written (a passing replay would delete a fixed failure from a writable database),
    and the laptop's own directory gets the failure."""
    artifact = project / "downloaded"
    shutil.copytree(ci_artifact, artifact)
    before = saved_files(artifact)
    laptop = project / "laptop-db"
    env = {DATABASE_ENV: str(laptop), READONLY_DATABASE_ENV: str(artifact)}
    replay = run_pytest(project, env, profile="gossip-replay")
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert FALSIFYING.search(replay.stdout)
    assert saved_files(laptop)

    # "Fix" the bug: the replayed example now passes, and Hypothesis deletes passing
    # examples from the databases it may write to.
    fixed = PLANTED_TEST.replace('"rejects_equal_timestamps"', '"apply_streams_records"')
    (project / "test_planted.py").write_text(fixed, encoding="utf-8")
    passing = run_pytest(project, env, profile="gossip-replay")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert saved_files(artifact) == before


# --- the plugin's functions, in process -------------------------------------------------------


@pytest.fixture
def restore_profile() -> Iterator[str]:
    """The active profile, registered again as it was after the test."""
    name = settings._current_profile or "default"
    original = settings.get_profile(name)
    try:
        yield name
    finally:
        settings.register_profile(name, original)
        settings.load_profile(name)


def test_no_variable_means_no_database_change(restore_profile: str) -> None:
    before = settings.get_profile(restore_profile)
    assert example_database_from_env({}) is None
    assert configure_example_database({DATABASE_ENV: " ", READONLY_DATABASE_ENV: ""}) is None
    assert settings.get_profile(restore_profile) is before


def test_the_variable_becomes_the_active_profiles_database(
    restore_profile: str, tmp_path: Path
) -> None:
    """The profile keeps its name (the battery reads it), derandomize is off."""
    database = configure_example_database({DATABASE_ENV: str(tmp_path / "db")})
    assert database == DirectoryBasedExampleDatabase(tmp_path / "db")
    assert settings().database == database
    assert not settings().derandomize
    assert settings._current_profile == restore_profile


def test_read_only_layers_sit_behind_the_local_directory(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    environ = {
        DATABASE_ENV: str(tmp_path / "local"),
        READONLY_DATABASE_ENV: f"{first}{os.pathsep}{second}{os.pathsep}",
    }
    assert example_database_from_env(environ) == MultiplexedDatabase(
        DirectoryBasedExampleDatabase(tmp_path / "local"),
        ReadOnlyDatabase(DirectoryBasedExampleDatabase(first)),
        ReadOnlyDatabase(DirectoryBasedExampleDatabase(second)),
    )


def test_read_only_alone_writes_to_hypothesis_default_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without GOSSIP_HYPOTHESIS_DB new failures go where Hypothesis keeps them by default
    (relative paths are made absolute, so every worker process agrees)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "artifact").mkdir()
    database = example_database_from_env({READONLY_DATABASE_ENV: "artifact"})
    assert database == MultiplexedDatabase(
        DirectoryBasedExampleDatabase(tmp_path / ".hypothesis" / "examples"),
        ReadOnlyDatabase(DirectoryBasedExampleDatabase(tmp_path / "artifact")),
    )
    home = {READONLY_DATABASE_ENV: "artifact", "HYPOTHESIS_STORAGE_DIRECTORY": "elsewhere"}
    assert example_database_from_env(home) == MultiplexedDatabase(
        DirectoryBasedExampleDatabase(tmp_path / "elsewhere" / "examples"),
        ReadOnlyDatabase(DirectoryBasedExampleDatabase(tmp_path / "artifact")),
    )


def test_bad_paths_are_usage_errors_naming_the_variable(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("", encoding="utf-8")
    with pytest.raises(pytest.UsageError, match=rf"^{DATABASE_ENV}=.*is a file; give a direc"):
        example_database_from_env({DATABASE_ENV: str(a_file)})
    missing = str(tmp_path / "missing")
    with pytest.raises(
        pytest.UsageError, match=rf"^{READONLY_DATABASE_ENV}: .*missing.* is not a directory"
    ):
        example_database_from_env({DATABASE_ENV: str(tmp_path), READONLY_DATABASE_ENV: missing})


def test_the_fuzz_extra_is_optional() -> None:
    """HypoFuzz comes with the ``fuzz`` extra only: CI installs ``test``, which must not need
    it (the database above works without it)."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert any(r.startswith("hypofuzz>=") for r in extras["fuzz"])
    assert not any("hypofuzz" in r or "fuzz]" in r for r in extras["test"] + extras["dev"])
