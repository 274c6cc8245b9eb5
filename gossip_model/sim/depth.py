"""How deep a run went: commit rate, merges per key, reordering, retries (issue 12).

Project addition. A sweep that reports no violation says little if almost
no write committed; these figures say which states the run actually reached.
:class:`RunTracker` is fed by the runner (and by the oracle, for merges) and
never draws from the rng or influences a decision except the SWARM
generator's fault book and retry choices (``gossip_model.sim.swarm``).
:class:`DepthStats` is its picklable summary; sweeps add them up.

Definitions (choices, documented here):

* a *write attempt* is one executed ``BatchUpsert`` (whatever its outcome);
  a *commit* is one batch applied successfully (``UpsertCommitted`` or
  ``Released``, drains included); the *commit rate* is commits / attempts;
* a *merge* is a committed key that already had a committed record (the
  oracle's view, ORA-3); ``merges_per_key`` maps a merge count to the number
  of keys that reached it (keys committed at least once);
* a commit *after reordering* is a commit made by ``ReleaseNewest``,
  ``ReleaseAll(NEWEST_FIRST)`` or ``ReleaseSpecific`` while two or more
  writes were pending (so it could overtake an older write);
* a *retry that commits after an earlier failure* is a commit of a payload
  (identified by its records' run ids, unique per built record, SIM-11)
  whose submission or commit failed before;
* ``max_pending`` is the largest number of tracked delayed batches;
* ``drain_steps`` counts the batches still delayed when a phase ended, which
  the drain (RUN-4) released oldest-first and checked one by one; each adds 1
  to ``ops_executed`` (RUN-8);
* ``transitions`` are the distinct (status rank before, status rank after)
  pairs of merges, out of the 15 pairs the lattice allows (after >= before,
  LED-12).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gossip_model.persistence import DoneLedgerKey, DoneLedgerRecord, DoneLedgerStatus

__all__ = [
    "LATTICE_TRANSITIONS",
    "MERGE_BUCKETS",
    "DepthStats",
    "RunTracker",
    "merge_bucket",
]

LATTICE_TRANSITIONS: tuple[tuple[int, int], ...] = tuple(
    (before.rank, after.rank)
    for before in DoneLedgerStatus.ALL
    for after in DoneLedgerStatus.ALL
    if after.rank >= before.rank
)
"""The 15 (rank before, rank after) pairs a merge can produce (status = higher rank)."""

MERGE_BUCKETS: tuple[str, ...] = ("0", "1", "2", "3", "4-7", "8-15", "16+")
"""Buckets of the merges-per-key histogram, in display order."""


def merge_bucket(merges: int) -> str:
    """The :data:`MERGE_BUCKETS` label of a per-key merge count."""
    if merges <= 3:
        return str(merges)
    if merges <= 7:
        return "4-7"
    if merges <= 15:
        return "8-15"
    return "16+"


_STATUS_NAMES = {status.rank: status.variant_name for status in DoneLedgerStatus.ALL}


@dataclass(frozen=True, slots=True)
class DepthStats:
    """Depth figures of one run or of a whole sweep (sums; ``max_pending`` is a max)."""

    write_attempts: int = 0
    commits: int = 0
    reordered_commits: int = 0
    retry_commits: int = 0
    max_pending: int = 0
    merges_per_key: Mapping[str, int] = field(default_factory=dict)
    transitions: frozenset[tuple[int, int]] = frozenset()
    drain_steps: int = 0

    @property
    def commit_rate(self) -> float:
        """Commits per write attempt (0.0 without attempts)."""
        return self.commits / self.write_attempts if self.write_attempts else 0.0

    @property
    def reordered_share(self) -> float:
        """Share of commits made after reordering (0.0 without commits)."""
        return self.reordered_commits / self.commits if self.commits else 0.0

    @property
    def transition_coverage(self) -> float:
        """Seen status transitions out of the lattice's 15."""
        return len(self.transitions) / len(LATTICE_TRANSITIONS)

    def keys_with_merges(self, at_least: int) -> int:
        """Number of keys that were merged into at least ``at_least`` times."""
        floor = {"4-7": 4, "8-15": 8, "16+": 16}
        return sum(
            n
            for bucket, n in self.merges_per_key.items()
            if floor.get(bucket, int(bucket) if bucket.isdigit() else 0) >= at_least
        )

    def __add__(self, other: DepthStats) -> DepthStats:
        merges = dict.fromkeys(MERGE_BUCKETS, 0)
        for source in (self.merges_per_key, other.merges_per_key):
            for bucket, n in source.items():
                merges[bucket] += n
        return DepthStats(
            write_attempts=self.write_attempts + other.write_attempts,
            commits=self.commits + other.commits,
            reordered_commits=self.reordered_commits + other.reordered_commits,
            retry_commits=self.retry_commits + other.retry_commits,
            max_pending=max(self.max_pending, other.max_pending),
            merges_per_key={b: n for b, n in merges.items() if n},
            transitions=self.transitions | other.transitions,
            drain_steps=self.drain_steps + other.drain_steps,
        )

    @classmethod
    def total(cls, stats: Iterable[DepthStats]) -> DepthStats:
        """The sum of many (an empty sum is all zeros)."""
        out = cls()
        for item in stats:
            out = out + item
        return out

    def missing_transitions(self) -> list[str]:
        """The lattice transitions never seen, as ``Before->After`` names."""
        return [
            f"{_STATUS_NAMES[a]}->{_STATUS_NAMES[b]}"
            for a, b in LATTICE_TRANSITIONS
            if (a, b) not in self.transitions
        ]

    def to_json(self) -> dict[str, Any]:
        """The ``depth`` section of ``sweep --json``."""
        return {
            "write_attempts": self.write_attempts,
            "commits": self.commits,
            "commit_rate": round(self.commit_rate, 4),
            "reordered_commits": self.reordered_commits,
            "reordered_share": round(self.reordered_share, 4),
            "retry_commits_after_failure": self.retry_commits,
            "max_pending": self.max_pending,
            "drain_steps": self.drain_steps,
            "merges_per_key": {b: self.merges_per_key.get(b, 0) for b in MERGE_BUCKETS},
            "status_transitions_seen": len(self.transitions),
            "status_transitions_possible": len(LATTICE_TRANSITIONS),
            "status_transitions_missing": self.missing_transitions(),
        }

    def render(self) -> str:
        """The ``depth`` block of the text summary."""
        merges = "  ".join(f"{b}:{self.merges_per_key.get(b, 0)}" for b in MERGE_BUCKETS)
        lines = [
            "depth",
            f"  commit rate        {self.commit_rate:6.1%}  "
            f"({self.commits} of {self.write_attempts} write attempts committed)",
            f"  after reordering   {self.reordered_share:6.1%}  "
            f"({self.reordered_commits} commits by a NEWEST_FIRST or specific release "
            "with >= 2 pending)",
            f"  retries committed  {self.retry_commits:>6}  (payloads that had failed before)",
            f"  max pending        {self.max_pending:>6}  (largest delayed-write queue)",
            f"  merges per key     {merges}  (keys by merge count)",
            f"  status transitions {len(self.transitions):>3}/{len(LATTICE_TRANSITIONS)}"
            "  (distinct before->after pairs of merges)",
        ]
        missing = self.missing_transitions()
        if missing and len(missing) <= 5:
            lines.append(f"    never seen: {', '.join(missing)}")
        return "\n".join(lines)


_Payload = tuple[DoneLedgerRecord, ...]


def _payload_id(records: Sequence[DoneLedgerRecord]) -> tuple[int, ...]:
    return tuple(int(record.provenance.run_id) for record in records)


class RunTracker:
    """Per-run bookkeeping: the SWARM fault book and the depth counters.

    The fault book is the harness's model of the ledger's counters: armed
    minus consumed submission, commit and delay faults (each injected fault
    is consumed by exactly one later submission or apply, LED-3, LED-4).
    """

    __slots__ = (
        "armed_commit",
        "armed_delay",
        "armed_submit",
        "commits",
        "drain_steps",
        "failed_ids",
        "failed_payloads",
        "last_committed",
        "max_pending",
        "merges",
        "reordered_commits",
        "retry_commits",
        "transitions",
        "write_attempts",
    )

    def __init__(self) -> None:
        self.armed_submit = 0
        self.armed_commit = 0
        self.armed_delay = 0
        self.write_attempts = 0
        self.commits = 0
        self.reordered_commits = 0
        self.retry_commits = 0
        self.max_pending = 0
        self.drain_steps = 0
        self.merges: dict[tuple[bytes, bytes, bytes], int] = {}
        self.transitions: set[tuple[int, int]] = set()
        self.failed_payloads: list[_Payload] = []
        self.failed_ids: set[tuple[int, ...]] = set()
        self.last_committed: _Payload | None = None

    # -- fault book ----------------------------------------------------------------
    def pending_faults(self) -> int:
        """Armed, unconsumed submission plus commit faults (what ``K`` caps)."""
        return self.armed_submit + self.armed_commit

    def arm(self, submit: int = 0, commit: int = 0, delay: int = 0) -> None:
        """Record faults armed on the ledger (Inject* ops and background injection)."""
        self.armed_submit += submit
        self.armed_commit += commit
        self.armed_delay += delay

    # -- outcomes (fed by the runner) ----------------------------------------------
    def on_attempt(self) -> None:
        """One ``BatchUpsert`` executed."""
        self.write_attempts += 1

    def on_submit_failed(self, records: _Payload) -> None:
        """The submission raised: one submission fault consumed, the payload failed."""
        self.armed_submit = max(0, self.armed_submit - 1)
        self._failed(records)

    def on_pending(self, pending_now: int) -> None:
        """A submission was delayed: one delay consumed; ``pending_now`` batches tracked."""
        self.armed_delay = max(0, self.armed_delay - 1)
        self.max_pending = max(self.max_pending, pending_now)

    def on_commit_failed(self, records: _Payload, injected: bool) -> None:
        """An apply failed (an injected commit fault when ``injected``)."""
        if injected:
            self.armed_commit = max(0, self.armed_commit - 1)
        self._failed(records)

    def on_committed(self, records: _Payload, reordered: bool) -> None:
        """A batch committed; ``reordered`` per the module docstring."""
        self.commits += 1
        self.reordered_commits += reordered
        if _payload_id(records) in self.failed_ids:
            self.retry_commits += 1
        self.last_committed = records

    def on_merge(
        self, key: DoneLedgerKey, before: DoneLedgerRecord | None, after: DoneLedgerRecord
    ) -> None:
        """The oracle committed ``after`` for ``key`` over ``before`` (None: an insert)."""
        # Keyed by raw bytes: their hashes are cached, a DoneLedgerKey's are not.
        row = (key.tenant_id.raw, key.policy_hash.raw, key.ovid_hash.raw)
        merges = self.merges
        if before is None:
            merges.setdefault(row, 0)
            return
        merges[row] = merges.get(row, 0) + 1
        self.transitions.add((before.status.rank, after.status.rank))

    def _failed(self, records: _Payload) -> None:
        self.failed_payloads.append(records)
        self.failed_ids.add(_payload_id(records))

    def take_failed(self, back: int) -> _Payload | None:
        """Remove and return the failed payload ``back`` places from the newest (0: newest)."""
        if back >= len(self.failed_payloads):
            return None
        return self.failed_payloads.pop(len(self.failed_payloads) - 1 - back)

    def stats(self) -> DepthStats:
        """The run's :class:`DepthStats`."""
        merges: dict[str, int] = {}
        for count in self.merges.values():
            bucket = merge_bucket(count)
            merges[bucket] = merges.get(bucket, 0) + 1
        return DepthStats(
            write_attempts=self.write_attempts,
            commits=self.commits,
            reordered_commits=self.reordered_commits,
            retry_commits=self.retry_commits,
            max_pending=self.max_pending,
            merges_per_key={b: merges[b] for b in MERGE_BUCKETS if b in merges},
            transitions=frozenset(self.transitions),
            drain_steps=self.drain_steps,
        )
