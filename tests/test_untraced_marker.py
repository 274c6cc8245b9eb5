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


def test_long_tests_are_ordered_first(request: pytest.FixtureRequest) -> None:
    """Root ``conftest.py``: ``untraced`` and ``processes`` tests move to the front, and
    each group keeps its collection order."""
    from conftest import pytest_collection_modifyitems

    def item(name: str, *marks: pytest.MarkDecorator) -> pytest.Item:
        made = pytest.Function.from_parent(request.node.parent, name=name, callobj=lambda: None)
        for mark in marks:
            made.add_marker(mark)
        return made

    items = [
        item("short_1"),
        item("slow_1", pytest.mark.untraced),
        item("short_2"),
        item("spawns", pytest.mark.processes),
        item("slow_2", pytest.mark.untraced),
    ]
    pytest_collection_modifyitems(request.config, items)
    assert [i.name for i in items] == ["slow_1", "spawns", "slow_2", "short_1", "short_2"]
