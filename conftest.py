"""Hypothesis profiles shared by every test (sim.md HYP-12).

Profiles: Hypothesis selects its built-in ``ci`` profile by itself when the
``CI`` environment variable is set; we register only ``dev`` and ``thorough``
and never load a default over the built-in choice. Pick one with
``--hypothesis-profile=NAME``.

* ``dev``, the quick local loop (``python -m pytest -n auto --no-cov
  --hypothesis-profile=dev``): 10 examples per property, no deadline. Tests
  with a fixed budget (the planted-bug power tests and the HYP-16 depth
  measurements) keep their own explicit settings, so ``dev`` still catches
  every planted bug. Under ``dev`` the seed sweeps run their first chunk only,
  and the shown commands (README, docs, backend guide) and the tests marked
  ``@pytest.mark.processes`` (each starts Python or pytest processes, whose
  work does not depend on the profile) are skipped; the default run and CI
  run them (issue 11 item 4).
* ``thorough``, for nightly or scale-out runs: ``max_examples=1_000`` (the
  HYP-12 figure). Hypothesis keeps a tree of every choice sequence it tried,
  so memory grows with the example count: issue 11 measured one process past
  1.5 GB at 2,000 examples.

Example database (issue 11 item 5): the pytest plugin
(:func:`gossip_model.pytest_plugin.configure_example_database`, loaded in
every run) gives the active profile, whichever it is, the database that
``GOSSIP_HYPOTHESIS_DB=DIR`` names (shared by pytest, xdist and HypoFuzz
workers) plus the read-only layers of ``GOSSIP_HYPOTHESIS_DB_READONLY``; an
explicit database also wins in CI, where it turns the ``ci`` profile's
``derandomize`` off. Unset, Hypothesis's default applies (``.hypothesis/``
locally, none in CI). ``--hypothesis-profile=gossip-replay`` replays the
database only. Nothing is configured here, so the battery a user runs gets
the same behaviour.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import coverage
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=1_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


QUICK_LOOP_PROFILE = "dev"


def is_long(item: pytest.Item) -> bool:
    """Marked ``untraced`` (chosen for being slow) or ``processes`` (starts processes)."""
    return bool(item.get_closest_marker("untraced") or item.get_closest_marker("processes"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long tests first; ``@pytest.mark.processes`` skipped under the quick-loop profile.

    Order (issue 11 item 4): the tests marked as long run before the rest, each
    group in collection order. Under ``-n`` the workers then end on short tests,
    which ``--dist worksteal`` spreads evenly, instead of one core finishing a
    long test alone (longest first is the classic rule for a short makespan).
    Measured on two idle cores, default run with coverage: 188 s -> 160 s.
    """
    items.sort(key=lambda item: not is_long(item))
    if settings.get_current_profile_name() != QUICK_LOOP_PROFILE:
        return
    skip = pytest.mark.skip(
        reason="dev profile: starts processes; the default run and CI run it (issue 11 item 4)"
    )
    for item in items:
        if item.get_closest_marker("processes"):
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """``@pytest.mark.untraced``: coverage tracing paused for the test's call (issue 11 item 4).

    For tests that repeat, on other seeds or many more examples, code the rest
    of the suite already covers (each use says how that was checked): the
    tracer multiplies their CPU time four- to fivefold and adds nothing to the
    report. The test still runs and asserts in full. pytest-cov's own
    ``no_cover`` marker is not used: under ``--no-cov`` with ``-n`` it fails
    every marked test ('NoneType' object has no attribute 'pause').
    """
    running = coverage.Coverage.current() if item.get_closest_marker("untraced") else None
    if running is None:
        return (yield)
    # ``Coverage.stop()`` removes only the tracers of the thread that started
    # coverage; under pytest-xdist that is not the thread running the test, so
    # the test thread's own tracer is taken off (and put back) directly.
    tracer = sys.gettrace()
    sys.settrace(None)
    try:
        return (yield)
    finally:
        sys.settrace(tracer)
