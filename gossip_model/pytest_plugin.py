"""The gossip-model pytest plugin (API.md "Additions"; entry point group ``pytest11``).

Installed with the package, it adds:

* options ``--gossip-ledger=MODULE:FACTORY`` and ``--gossip-sink=MODULE:FACTORY``
  (either or both): a factory is a callable with no arguments returning a
  fresh, empty store (auto-complete on, no armed faults);
* fixtures ``gossip_ledger_factory`` / ``gossip_sink_factory`` returning those
  factories (the test is skipped when the option was not given), for users
  who write their own tests;
* the battery, collected with ``pytest --pyargs gossip_model.suite
  --gossip-ledger mypkg.stores:make_ledger``: standard conformance, extended
  conformance, the state machine(s), a differential run against the
  in-memory reference and a short stormy simulation sweep, each an ordinary
  pytest item (``-n auto``, ``-k``, ``-x``, ``--hypothesis-seed`` work);
* Hypothesis profiles ``gossip-dev`` (quick), ``gossip-thorough`` (long) and
  ``gossip-replay`` (only the examples of the database, nothing generated),
  named so they cannot clash with a project's own profiles;
* assertion rewriting for the machines' modules, so a failing check shows
  the compared values;
* a shared Hypothesis example database chosen by environment variables
  (:func:`example_database_from_env`), so a failure found by a fuzz worker or
  by CI replays with plain ``pytest`` on a laptop:
  ``GOSSIP_HYPOTHESIS_DB=DIR`` stores examples in ``DIR`` (read and written),
  ``GOSSIP_HYPOTHESIS_DB_READONLY=DIR[:DIR...]`` replays the examples of other
  directories (a downloaded CI artifact) without ever writing to them.

Choices: the battery's sizes are small by default (a minute on two cores for
the in-memory stores); ``--hypothesis-profile=gossip-thorough`` runs the
machines with that profile's example count and ``--gossip-scale=N``
multiplies the sweep, differential and machine sizes. A factory that cannot
be imported is a usage error naming the module, the attribute and the fix.
The database variables win over the active profile's ``database`` and turn
off its ``derandomize`` (Hypothesis forbids a database with
``derandomize=True``, which its ``ci`` profile sets): asking for a database
is asking for examples to be saved and replayed, in CI too.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from hypothesis.database import ExampleDatabase

# Before the machines are imported anywhere: rewrite their asserts (pytest docs).
pytest.register_assert_rewrite("rules", "gossip_model.rules", "gossip_model.suite")

LEDGER_OPTION = "--gossip-ledger"
SINK_OPTION = "--gossip-sink"
SCALE_OPTION = "--gossip-scale"
DATABASE_ENV = "GOSSIP_HYPOTHESIS_DB"
READONLY_DATABASE_ENV = "GOSSIP_HYPOTHESIS_DB_READONLY"

Factory = Callable[[], Any]


def _register_profiles() -> None:
    try:
        from hypothesis import HealthCheck, Phase, settings
    except ImportError:  # pragma: no cover - hypothesis is a dependency of the battery
        return
    quiet = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
    settings.register_profile(
        "gossip-dev", max_examples=10, deadline=None, suppress_health_check=quiet
    )
    settings.register_profile(
        "gossip-thorough", max_examples=1000, deadline=None, suppress_health_check=quiet
    )
    # Replays what the example database holds and generates nothing: a failure it
    # shows came from the database (a fuzz campaign's or CI's), not from this run.
    settings.register_profile(
        "gossip-replay",
        phases=[Phase.explicit, Phase.reuse, Phase.shrink],
        deadline=None,
        suppress_health_check=quiet,
    )


_register_profiles()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gossip", "gossip-model backend battery")
    group.addoption(
        LEDGER_OPTION,
        metavar="MODULE:FACTORY",
        default=None,
        help="factory of a fresh, empty DoneLedger to check (e.g. mypkg.stores:make_ledger)",
    )
    group.addoption(
        SINK_OPTION,
        metavar="MODULE:FACTORY",
        default=None,
        help="factory of a fresh, empty FindingsSink to check (e.g. mypkg.stores:make_sink)",
    )
    group.addoption(
        SCALE_OPTION,
        metavar="N",
        type=float,
        default=1.0,
        help="multiply the battery's sweep, differential and machine sizes (default 1)",
    )


def load_factory(spec: str, option: str = LEDGER_OPTION) -> Factory:
    """Resolve ``MODULE:FACTORY`` (``FACTORY`` may be dotted); ``pytest.UsageError`` if not."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise pytest.UsageError(
            f"{option}={spec!r}: expected MODULE:FACTORY, e.g. mypkg.stores:make_ledger"
        )
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise pytest.UsageError(
            f"{option}={spec!r}: cannot import module {module_name!r} ({error}); install the "
            "package or run pytest from the directory that holds it"
        ) from error
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise pytest.UsageError(
                f"{option}={spec!r}: module {module_name!r} has no attribute {attribute!r}"
            ) from None
    if not callable(target):
        raise pytest.UsageError(
            f"{option}={spec!r}: {attribute!r} is a {type(target).__name__}, not a callable "
            "that returns a fresh store"
        )
    factory: Factory = target
    return factory


def configured_factory(config: pytest.Config, option: str) -> Factory | None:
    """The factory given with ``option``, or ``None`` when the option was not given."""
    spec = config.getoption(option)
    return None if spec is None else load_factory(spec, option)


def example_database_from_env(environ: Mapping[str, str]) -> ExampleDatabase | None:
    """The example database the two variables ask for, or ``None`` when neither is set.

    ``GOSSIP_HYPOTHESIS_DB=DIR``: a ``DirectoryBasedExampleDatabase`` at
    ``DIR`` (created on the first save), shared by every process given the
    same path: pytest, its xdist workers and HypoFuzz workers.
    ``GOSSIP_HYPOTHESIS_DB_READONLY=DIR[:DIR...]`` (``os.pathsep``-separated):
    each directory is added behind ``ReadOnlyDatabase``, so its examples are
    replayed but a passing replay never deletes them and new failures go to
    the local directory only (``GOSSIP_HYPOTHESIS_DB``, else Hypothesis's own
    ``.hypothesis/examples``, or ``examples`` under
    ``HYPOTHESIS_STORAGE_DIRECTORY``). Paths are made absolute here, so every
    process agrees on them. A read-only directory that does not exist, or a local path
    that is a file, is a usage error naming the variable and the fix.
    """
    from hypothesis.database import (
        DirectoryBasedExampleDatabase,
        MultiplexedDatabase,
        ReadOnlyDatabase,
    )

    local_dir = environ.get(DATABASE_ENV, "").strip()
    shared_dirs = [
        part.strip()
        for part in environ.get(READONLY_DATABASE_ENV, "").split(os.pathsep)
        if part.strip()
    ]
    if not local_dir and not shared_dirs:
        return None
    # Hypothesis's own default place when no local directory is named.
    home = environ.get("HYPOTHESIS_STORAGE_DIRECTORY", "").strip() or ".hypothesis"
    local_path = Path(local_dir or Path(home, "examples")).resolve()
    if local_path.exists() and not local_path.is_dir():
        raise pytest.UsageError(
            f"{DATABASE_ENV}={local_dir!r}: {local_path} is a file; give a directory "
            "(it is created on the first save)"
        )
    local = DirectoryBasedExampleDatabase(local_path)
    if not shared_dirs:
        return local
    layers: list[ExampleDatabase] = [local]
    for shared in shared_dirs:
        shared_path = Path(shared).resolve()
        if not shared_path.is_dir():
            raise pytest.UsageError(
                f"{READONLY_DATABASE_ENV}: {shared!r} is not a directory; unpack the CI "
                "artifact there first or leave it out of the variable"
            )
        layers.append(ReadOnlyDatabase(DirectoryBasedExampleDatabase(shared_path)))
    return MultiplexedDatabase(*layers)


def configure_example_database(environ: Mapping[str, str]) -> ExampleDatabase | None:
    """Make the database of :func:`example_database_from_env` the active profile's; return it.

    Nothing changes when neither variable is set. Otherwise the active profile
    is registered again under its own name (the battery reads the name) with
    that database and ``derandomize=False``, because Hypothesis refuses a
    database next to ``derandomize=True``. Tests that pin ``database=None``
    themselves (the fixed-budget power and depth tests) keep it.
    """
    database = example_database_from_env(environ)
    if database is None:
        return None
    from hypothesis import settings

    name = settings._current_profile or "default"
    settings.register_profile(
        name, settings.get_profile(name), database=database, derandomize=False
    )
    settings.load_profile(name)
    return database


@pytest.hookimpl(trylast=True)  # after Hypothesis's plugin has loaded --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    # Fail fast, once, before collection: a bad factory is a usage error, not N failures.
    for option in (LEDGER_OPTION, SINK_OPTION):
        configured_factory(config, option)
    scale = config.getoption(SCALE_OPTION)
    if not scale > 0:
        raise pytest.UsageError(f"{SCALE_OPTION} must be a positive number, got {scale}")
    # Before collection imports any test module: a machine's TestCase settings copy the
    # profile's database when they are created.
    configure_example_database(os.environ)


@pytest.fixture(scope="session")
def gossip_ledger_factory(pytestconfig: pytest.Config) -> Factory:
    """The ``--gossip-ledger`` factory; the test is skipped when the option is absent."""
    factory = configured_factory(pytestconfig, LEDGER_OPTION)
    if factory is None:
        pytest.skip(f"no {LEDGER_OPTION}=MODULE:FACTORY given")
    return factory


@pytest.fixture(scope="session")
def gossip_sink_factory(pytestconfig: pytest.Config) -> Factory:
    """The ``--gossip-sink`` factory; the test is skipped when the option is absent."""
    factory = configured_factory(pytestconfig, SINK_OPTION)
    if factory is None:
        pytest.skip(f"no {SINK_OPTION}=MODULE:FACTORY given")
    return factory


@pytest.fixture(scope="session")
def gossip_scale(pytestconfig: pytest.Config) -> float:
    """The ``--gossip-scale`` multiplier of the battery's sizes."""
    scale: float = pytestconfig.getoption(SCALE_OPTION)
    return scale


__all__ = [
    "DATABASE_ENV",
    "LEDGER_OPTION",
    "READONLY_DATABASE_ENV",
    "SCALE_OPTION",
    "SINK_OPTION",
    "configure_example_database",
    "configured_factory",
    "example_database_from_env",
    "load_factory",
]
