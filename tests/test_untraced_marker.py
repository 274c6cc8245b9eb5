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


@pytest.mark.untraced
def test_a_marked_test_runs_without_a_tracer() -> None:
    assert sys.gettrace() is None


def test_an_unmarked_test_is_traced_when_coverage_runs() -> None:
    running = coverage.Coverage.current()
    assert (sys.gettrace() is not None) == (running is not None)
