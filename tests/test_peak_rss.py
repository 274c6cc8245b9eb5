"""``benchmarks/peak_rss.py``: the opt-in peak memory per pytest process (issue 11 item 4).

The README's ``thorough`` command loads it under xdist (``tests/test_readme_commands.py``
runs that command on a small selection); this test pins what it prints for the one
process of a run without workers.
"""

from __future__ import annotations

import os
import re
import resource

import pytest

pytest_plugins = ["pytester"]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def test_peak_rss_names_the_process_and_its_peak(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="def test_one():\n    assert sum(range(10)) == 45\n")
    # The plugins the project's own runs leave out (pyproject addopts), and xdist, whose
    # worker this test may be running in.
    quiet = ("-p", "no:cacheprovider", "-p", "no:benchmark", "-p", "no:xdist")
    before = _peak_mib()
    result = pytester.runpytest_inprocess("-p", "benchmarks.peak_rss", *quiet)
    after = _peak_mib()
    result.assert_outcomes(passed=1)
    text = result.stdout.str()
    assert "peak RSS per process (benchmarks/peak_rss.py)" in text
    line = re.search(r"^main \(pid (\d+)\): (\d+) MB", text, re.MULTILINE)
    assert line is not None, text
    assert int(line.group(1)) == os.getpid()  # in process: this worker's own figure
    # The peak is monotone: what it printed lies between the peaks around the run.
    assert round(before) <= int(line.group(2)) <= round(after)
