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
* Hypothesis profiles ``gossip-dev`` (quick) and ``gossip-thorough`` (long),
  named so they cannot clash with a project's own profiles;
* assertion rewriting for the machines' modules, so a failing check shows
  the compared values.

Choices: the battery's sizes are small by default (a minute on two cores for
the in-memory stores); ``--hypothesis-profile=gossip-thorough`` runs the
machines with that profile's example count and ``--gossip-scale=N``
multiplies the sweep, differential and machine sizes. A factory that cannot
be imported is a usage error naming the module, the attribute and the fix.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest

# Before the machines are imported anywhere: rewrite their asserts (pytest docs).
pytest.register_assert_rewrite("rules", "gossip_model.rules", "gossip_model.suite")

LEDGER_OPTION = "--gossip-ledger"
SINK_OPTION = "--gossip-sink"
SCALE_OPTION = "--gossip-scale"

Factory = Callable[[], Any]


def _register_profiles() -> None:
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:  # pragma: no cover - hypothesis is a dependency of the battery
        return
    quiet = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
    settings.register_profile(
        "gossip-dev", max_examples=10, deadline=None, suppress_health_check=quiet
    )
    settings.register_profile(
        "gossip-thorough", max_examples=1000, deadline=None, suppress_health_check=quiet
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


def pytest_configure(config: pytest.Config) -> None:
    # Fail fast, once, before collection: a bad factory is a usage error, not N failures.
    for option in (LEDGER_OPTION, SINK_OPTION):
        configured_factory(config, option)
    scale = config.getoption(SCALE_OPTION)
    if not scale > 0:
        raise pytest.UsageError(f"{SCALE_OPTION} must be a positive number, got {scale}")


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
    "LEDGER_OPTION",
    "SCALE_OPTION",
    "SINK_OPTION",
    "configured_factory",
    "load_factory",
]
