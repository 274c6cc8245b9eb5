"""The ``untraced`` marker of the root ``conftest.py`` (issue 11 item 4).

Marked tests run with the coverage tracer off in the thread that runs them,
with or without pytest-xdist (under xdist, ``Coverage.stop()`` alone left the
test thread's tracer installed and the marker saved nothing); every other test
is traced whenever coverage runs.
"""

from __future__ import annotations

import sys

import coverage
import pytest
from hypothesis import settings


@pytest.mark.untraced
def test_a_marked_test_runs_without_a_tracer() -> None:
    assert sys.gettrace() is None


def test_an_unmarked_test_is_traced_when_coverage_runs() -> None:
    running = coverage.Coverage.current()
    assert (sys.gettrace() is not None) == (running is not None)


@pytest.mark.parametrize(("profile", "skipped"), [("dev", True), ("ci", False)])
def test_processes_marker_skips_only_under_the_quick_loop(
    profile: str, skipped: bool, request: pytest.FixtureRequest
) -> None:
    """``@pytest.mark.processes`` (root ``conftest.py``): skipped under ``dev``, run otherwise;
    an unmarked test is never skipped."""
    from conftest import pytest_collection_modifyitems

    marked = pytest.Function.from_parent(request.node.parent, name="marked", callobj=lambda: None)
    marked.add_marker(pytest.mark.processes)
    plain = pytest.Function.from_parent(request.node.parent, name="plain", callobj=lambda: None)
    active = settings.get_current_profile_name()
    settings.load_profile(profile)
    try:
        pytest_collection_modifyitems(request.config, [marked, plain])
    finally:
        settings.load_profile(active)
    assert (marked.get_closest_marker("skip") is not None) is skipped
    assert plain.get_closest_marker("skip") is None
