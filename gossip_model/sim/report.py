"""Run reports (RUN-8, SWZ-9) and sweep rendering: summary, histogram, JSON.

``DoneLedgerSimReport`` is the frozen result of one run. The sweep types
(``SeedResult``, ``SweepOutcome``) are plain data that survive a process
pool; the rendering functions turn them into the command line's text summary
(with a text bar chart of the event histogram) and its JSON document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gossip_model.sim.depth import DepthStats
from gossip_model.sim.events import DoneLedgerSimEventKind
from gossip_model.sim.violations import INVARIANT_NAMES, DoneLedgerViolation

__all__ = [
    "JSON_SCHEMA_ID",
    "DoneLedgerSimReport",
    "SeedResult",
    "SweepOutcome",
    "render_histogram",
    "render_summary",
    "render_verdict",
    "sweep_to_json",
]

JSON_SCHEMA_ID = "gossip-sim-sweep/1"
"""The ``schema`` field of ``sweep --json`` output; bumped on incompatible changes."""


@dataclass(frozen=True, slots=True)
class DoneLedgerSimReport:
    """Result of one ``run`` or ``run_swizzle_clog`` (RUN-8).

    ``event_counts`` has its keys in declaration order, absent kinds missing;
    ``violations`` holds every phase's violations in order; ``converged`` is
    true iff the final I6 check found nothing. ``depth`` (project addition,
    issue 12) says how deep the run went (``gossip_model.sim.depth``).
    """

    seed: int
    ops_executed: int
    violations: tuple[DoneLedgerViolation, ...]
    event_counts: dict[DoneLedgerSimEventKind, int]
    converged: bool
    depth: DepthStats = field(default_factory=DepthStats, compare=False)

    def is_clean(self) -> bool:
        """No violation and converged: what a sweep counts as a pass (TST-1)."""
        return not self.violations and self.converged

    def violated_invariants(self) -> list[str]:
        """Distinct invariant ids that fired, in invariant order (``["I1", "I6"]``)."""
        seen = {v.invariant for v in self.violations}
        return [inv for inv in INVARIANT_NAMES if inv in seen]


@dataclass(frozen=True, slots=True)
class SeedResult:
    """One seed of a sweep, reduced to picklable plain data.

    ``failure`` is None for a clean seed, else the TST-1 failure text
    (``"EXCEPTION: <type name>: <message>"`` for a run that raised, open
    point 12).
    """

    seed: int
    ops_executed: int
    converged: bool
    event_counts: dict[DoneLedgerSimEventKind, int]
    invariants: tuple[str, ...]
    failure: str | None
    depth: DepthStats = field(default_factory=DepthStats)


@dataclass(slots=True)
class SweepOutcome:
    """Aggregate of a seed sweep (TST-1); ``elapsed`` is diagnostic only."""

    seed_count: int
    failures: list[tuple[int, str]]
    aggregate_counts: dict[DoneLedgerSimEventKind, int]
    elapsed: float
    ops_executed: int = 0
    converged_count: int = 0
    exception_count: int = 0
    violations_by_invariant: dict[str, int] = field(default_factory=dict)
    failed_invariants: dict[int, tuple[str, ...]] = field(default_factory=dict)
    depth: DepthStats = field(default_factory=DepthStats)

    @classmethod
    def from_results(cls, results: list[SeedResult], elapsed: float) -> SweepOutcome:
        """Fold per-seed results in seed order into one outcome."""
        outcome = cls(seed_count=0, failures=[], aggregate_counts={}, elapsed=elapsed)
        counts = dict.fromkeys(DoneLedgerSimEventKind.ALL, 0)
        by_invariant = dict.fromkeys(INVARIANT_NAMES, 0)
        for result in sorted(results, key=lambda r: r.seed):
            outcome.seed_count += 1
            outcome.ops_executed += result.ops_executed
            outcome.converged_count += result.converged
            for kind, n in result.event_counts.items():
                counts[kind] += n
            for invariant in result.invariants:
                by_invariant[invariant] += 1
            if result.failure is not None:
                outcome.failures.append((result.seed, result.failure))
                outcome.failed_invariants[result.seed] = tuple(sorted(set(result.invariants)))
                outcome.exception_count += result.failure.startswith("EXCEPTION: ")
        outcome.depth = DepthStats.total(result.depth for result in results)
        outcome.aggregate_counts = {kind: n for kind, n in counts.items() if n}
        outcome.violations_by_invariant = by_invariant
        return outcome

    @property
    def ok(self) -> bool:
        """True iff no seed failed."""
        return not self.failures

    def ops_per_second(self) -> float:
        """Throughput in simulation ops per wall-clock second (diagnostic)."""
        return self.ops_executed / self.elapsed if self.elapsed > 0 else 0.0


def render_histogram(counts: Mapping[DoneLedgerSimEventKind, int], width: int = 40) -> str:
    """The event histogram as a table with a text bar chart, all ten kinds listed."""
    total = sum(counts.values())
    peak = max(counts.values(), default=0)
    name_width = max(len(kind.variant_name) for kind in DoneLedgerSimEventKind.ALL)
    lines = [f"{'event':<{name_width}}  {'count':>10}  {'share':>6}  "]
    for kind in DoneLedgerSimEventKind.ALL:
        n = counts.get(kind, 0)
        share = 100.0 * n / total if total else 0.0
        bar = "#" * (round(width * n / peak) if peak else 0)
        if n and not bar:
            bar = "."
        lines.append(f"{kind.variant_name:<{name_width}}  {n:>10}  {share:5.1f}%  {bar}")
    lines.append(f"{'total':<{name_width}}  {total:>10}")
    return "\n".join(line.rstrip() for line in lines)


SHALLOW_COMMIT_RATE = 0.10
"""Below this commit rate a clean sweep is called shallow in the verdict (issue 12)."""


def render_verdict(outcome: SweepOutcome) -> str:
    """One line that says whether the sweep passed and how much it exercised.

    A pass where few writes committed is flagged as shallow (the upstream
    fault levels fail most writes), pointing at ``--fault-level swarm``.
    """
    depth = outcome.depth
    if outcome.failures:
        failed = {inv for invs in outcome.failed_invariants.values() for inv in invs}
        named = ", ".join(inv for inv in INVARIANT_NAMES if inv in failed)
        aborted = f", {outcome.exception_count} aborted" if outcome.exception_count else ""
        return (
            f"verdict    FAIL: {len(outcome.failures)} of {outcome.seed_count} seed(s) failed"
            f"{aborted}" + (f" (invariants {named})" if named else "") + "; replay commands below"
        )
    text = (
        f"verdict    PASS: {outcome.seed_count} seed(s) clean and converged; "
        f"{depth.commit_rate:.1%} of {depth.write_attempts} write attempts committed"
    )
    if depth.write_attempts and depth.commit_rate < SHALLOW_COMMIT_RATE:
        text += " (shallow: try --fault-level swarm)"
    return text


def render_summary(outcome: SweepOutcome, header: str) -> str:
    """The sweep summary: verdict, seeds, ops, violations, convergence, events, depth, speed.

    ``header`` (what ran) is printed first unless empty (the command line
    prints it before the progress bar instead).
    """
    lines = [header, ""] if header else []
    lines.append(render_verdict(outcome))
    lines.append("")
    lines.append(f"seeds      {outcome.seed_count} ({len(outcome.failures)} failed)")
    drain = outcome.depth.drain_steps
    lines.append(
        f"ops        {outcome.ops_executed} ({outcome.ops_executed - drain} generated steps"
        f" + {drain} drain steps)"
    )
    if drain:
        lines.append(
            "           a drain step releases one write still delayed when a phase ended"
            " (oldest first) and checks it (RUN-4)"
        )
    lines.append(f"converged  {outcome.converged_count}/{outcome.seed_count}")
    if outcome.exception_count:
        lines.append(f"aborted    {outcome.exception_count} (exception raised)")
    total_violations = sum(outcome.violations_by_invariant.values())
    lines.append(f"violations {total_violations}")
    for invariant, name in INVARIANT_NAMES.items():
        n = outcome.violations_by_invariant.get(invariant, 0)
        if n:
            lines.append(f"  {invariant:<4} {name:<22} {n}")
    lines.append("")
    lines.append(render_histogram(outcome.aggregate_counts))
    lines.append("")
    lines.append(outcome.depth.render())
    lines.append("")
    lines.append(
        f"throughput {outcome.ops_per_second():,.0f} ops/s "
        f"({outcome.elapsed:.2f} s wall, "
        f"{outcome.seed_count / outcome.elapsed if outcome.elapsed > 0 else 0.0:.1f} seeds/s)"
    )
    return "\n".join(lines)


def sweep_to_json(
    outcome: SweepOutcome, parameters: Mapping[str, Any], replay: Mapping[int, str]
) -> dict[str, Any]:
    """The ``sweep --json`` document (schema ``gossip-sim-sweep/1``).

    Keys: ``schema``, ``parameters`` (as given), ``ok``, ``seed_count``,
    ``ops_executed``, ``converged``, ``aborted``, ``violations_by_invariant``
    (all ids, zeros included), ``event_counts`` (all ten CamelCase names,
    zeros included), ``failures`` (``seed``, ``invariants``, ``message``,
    ``replay``), ``elapsed_seconds``, ``ops_per_second``, and ``depth``
    (``DepthStats.to_json``: commit rate, reordered commits, retries that
    committed after a failure, max pending, merges-per-key buckets, status
    transitions seen and missing; added in issue 12, a compatible addition).
    """
    return {
        "schema": JSON_SCHEMA_ID,
        "parameters": dict(parameters),
        "ok": outcome.ok,
        "seed_count": outcome.seed_count,
        "ops_executed": outcome.ops_executed,
        "converged": outcome.converged_count,
        "aborted": outcome.exception_count,
        "violations_by_invariant": dict(outcome.violations_by_invariant),
        "event_counts": {
            kind.variant_name: outcome.aggregate_counts.get(kind, 0)
            for kind in DoneLedgerSimEventKind.ALL
        },
        "failures": [
            {
                "seed": seed,
                "invariants": list(outcome.failed_invariants.get(seed, ())),
                "message": text,
                "replay": replay.get(seed, ""),
            }
            for seed, text in outcome.failures
        ],
        "depth": outcome.depth.to_json(),
        "elapsed_seconds": outcome.elapsed,
        "ops_per_second": outcome.ops_per_second(),
    }
