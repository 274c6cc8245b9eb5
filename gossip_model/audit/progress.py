"""A one-line progress bar on stderr, shown only when stderr is a terminal.

Totals are estimates (PostgreSQL's ``reltuples``), so the bar is clamped to
100% and the final line prints the true row count.
"""

from __future__ import annotations

from typing import IO

#: Redraw at most once per this many rows (keeps the per-row cost negligible).
STEP = 20_000
WIDTH = 30


class Progress:
    """``start(table, total)``, ``advance(rows)``, ``finish()`` per scanned table."""

    def __init__(self, stream: IO[str], *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.table = ""
        self.total = 0
        self.done = 0
        self._next = STEP

    def start(self, table: str, total: int) -> None:
        self.table, self.total, self.done, self._next = table, total, 0, STEP
        self._draw()

    def advance(self, rows: int) -> None:
        self.done += rows
        if self.done >= self._next:
            self._next = self.done + STEP
            self._draw()

    def finish(self) -> None:
        if self.enabled:
            self.total = self.done
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        if not self.enabled:
            return
        total = max(self.total, self.done, 1)
        filled = WIDTH * self.done // total
        self.stream.write(
            f"\r{self.table:<20} [{'#' * filled}{'.' * (WIDTH - filled)}] {self.done} rows"
        )
        self.stream.flush()


__all__ = ["STEP", "Progress"]
