"""Issue 10: packaging. Extras, one version, ``py.typed``, and the machines as
``gossip_model.rules`` next to a user's own ``rules`` package.

The installed layout is built the way a wheel is filled for a pure-Python
project: setuptools' ``build_py`` over a copy of the sources (packages,
``package-dir`` mapping and package data from ``pyproject.toml``), which needs
no network and no ``wheel`` package. A user project with its own ``rules/``
then runs pytest against that layout in a subprocess.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import gossip_model

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def requirement_names(extra: str) -> set[str]:
    names = set()
    for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
        names.add(requirement.split(">")[0].split("[")[0].strip())
        if requirement.startswith("gossip-model["):  # an extra including others
            for inner in requirement[len("gossip-model[") : -1].split(","):
                names |= requirement_names(inner)
    return names


def test_extras_hold_what_each_audience_needs() -> None:
    """hypothesis: the machines and plugin only; test: the whole suite; dev includes test."""
    assert requirement_names("hypothesis") == {"hypothesis", "pytest"}
    assert requirement_names("postgres") == {"psycopg"}
    suite = requirement_names("test")
    assert {"hypothesis", "pytest", "psycopg", "pytest-xdist", "pytest-cov"} <= suite
    assert suite <= requirement_names("dev")
    assert "ruff" not in requirement_names("hypothesis")  # the machines pull no linters


def test_version_has_one_source() -> None:
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert SETUPTOOLS["dynamic"]["version"] == {"attr": "gossip_model.__version__"}
    assert importlib.metadata.version("gossip-model") == gossip_model.__version__, (
        "installed metadata is stale: reinstall (pip install -e '.[test]')"
    )


def test_every_package_folder_is_listed() -> None:
    """The package list is explicit (for the rules mapping): a new folder must join it."""
    found = {
        ".".join(path.relative_to(ROOT).parts)
        for path in (ROOT / "gossip_model").rglob("*")
        if path.is_dir()
        and path.name != "__pycache__"
        and any(p.suffix in (".py", ".sql") for p in path.iterdir())
    }
    found |= {"gossip_model", "gossip_model.rules", "rules"}
    assert set(SETUPTOOLS["packages"]) == found


def test_every_installed_package_is_typed() -> None:
    for top in ("gossip_model", "rules"):
        assert (ROOT / top / "py.typed").is_file()
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    for package in ("gossip_model", "gossip_model.rules", "rules"):
        assert "py.typed" in data[package]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files a wheel of this checkout would install (``build_py`` of a source copy)."""
    pytest.importorskip("setuptools")
    base = tmp_path_factory.mktemp("install")
    source = base / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("gossip_model", "rules"):
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    site = base / "site"
    build = ["-c", "from setuptools import setup; setup()", "-q", "build_py"]
    result = subprocess.run(
        [sys.executable, *build, "--build-lib", str(site)],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return site


@pytest.mark.processes
def test_installed_layout(installed: Path) -> None:
    for package in ("gossip_model", "gossip_model/rules", "rules"):
        assert (installed / package / "py.typed").is_file(), package
    assert (installed / "gossip_model/rules/done_ledger.py").is_file()
    assert sorted(p.name for p in (installed / "gossip_model/sqlite/migrations").iterdir())
    assert list((installed / "gossip_model/postgres/migrations").glob("*.sql"))


@pytest.mark.processes
def test_user_project_with_its_own_rules_package(installed: Path, tmp_path: Path) -> None:
    """Issue 10: a project's own ``rules`` does not shadow the machines (gossip_model.rules)."""
    project = tmp_path / "project"
    (project / "rules").mkdir(parents=True)
    (project / "rules" / "__init__.py").write_text('OWNER = "the user"\n')
    (project / "rules" / "done_ledger.py").write_text("raise ImportError('the user file')\n")
    (project / "test_mine.py").write_text(
        textwrap.dedent(
            f"""
            import rules
            from hypothesis import settings

            import gossip_model
            from gossip_model.inmemory import InMemoryDoneLedger
            from gossip_model.rules.done_ledger import DoneLedgerMachine
            from gossip_model.rules.findings import FindingsSinkMachine


            def test_layout():
                assert rules.OWNER == "the user"
                assert gossip_model.__file__.startswith({str(installed)!r})
                assert DoneLedgerMachine.__module__ == "gossip_model.rules.done_ledger"
                assert FindingsSinkMachine.__module__ == "gossip_model.rules.findings"


            class MyLedgerMachine(DoneLedgerMachine):
                def make_ledger(self):
                    return InMemoryDoneLedger()


            TestMyLedger = MyLedgerMachine.TestCase
            TestMyLedger.settings = settings(
                max_examples=5, stateful_step_count=10, deadline=None, database=None
            )
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(installed)}
    env.pop("COV_CORE_SOURCE", None)  # not measured: a copy of the sources
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mine.py"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
