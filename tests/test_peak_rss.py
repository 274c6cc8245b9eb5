"""``benchmarks/peak_rss.py``: the opt-in peak memory per pytest process (issue 11 item 4).

The README's ``thorough`` command loads it under xdist (``tests/test_readme_commands.py``
runs that command on a small selection); this test pins what it prints for the one
process of a run without workers.
"""

from __future__ import annotations

import os
import re

import pytest

pytest_plugins = ["pytester"]

MIB = 1024 * 1024


def test_peak_rss_names_the_process_its_peak_and_the_test_that_grew_it(
    pytester: pytest.Pytester,
) -> None:
    # Bytes actually written (a zero-filled bytearray may stay unmapped), 64 MiB of them.
    pytester.makepyfile(
        test_grow=f"""
        def test_grow():
            blob = bytes(range(256)) * ({64 * MIB} // 256)
            assert len(blob) == {64 * MIB}
        """
    )
    # The plugins the project's own runs leave out (pyproject addopts), and xdist, whose
    # worker this test may be running in.
    quiet = ("-p", "no:cacheprovider", "-p", "no:benchmark", "-p", "no:xdist")
    result = pytester.runpytest_inprocess("-p", "benchmarks.peak_rss", *quiet)
    result.assert_outcomes(passed=1)
    text = result.stdout.str()
    assert "peak RSS per process (benchmarks/peak_rss.py)" in text
    line = re.search(r"^main \(pid (\d+)\): (\d+) MB", text, re.MULTILINE)
    assert line is not None, text
    assert int(line.group(1)) == os.getpid()  # in process: this worker's own peak
    assert int(line.group(2)) >= 64
