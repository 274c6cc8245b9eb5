"""Command line of the simulation: ``python -m gossip_model.sim`` / ``gossip-sim``.

Commands::

    sweep  [--fault-level L] [--seeds N] [--ops M] [--start-seed S] [--swizzle B]
           [--liveness-ops K] [--jobs J] [--shard I/N] [--json FILE|-] [--backend B]
    replay --seed N [--fault-level L] [--ops M] [--swizzle B] [--liveness-ops K] [--trace]
           [--backend B]
    --version

``sweep`` runs seeds ``S .. S+N-1`` (or the contiguous chunk ``I`` of ``N``
chunks with ``--shard I/N``, 1-based) in ``J`` worker processes (default: all
cores). It prints what runs (level, ops, seeds, jobs, backend) first, shows a
progress bar with rate and ETA when stderr is a terminal, then the verdict
(PASS with the commit rate, flagged as shallow below 10%; FAIL with the
invariants), seeds, ops (generated steps plus drain steps), violations by
invariant, the converged count, the event histogram with a text bar chart,
the depth section (``gossip_model.sim.depth``) and the throughput. ``--json FILE``
also writes the ``gossip-sim-sweep/1`` document; its destination is opened
before the first seed runs (an unwritable one is a usage error), and
``--json -`` writes the document to stdout, the human-readable report then
going to stderr so that stdout stays parseable.

Exit statuses (``sweep`` and ``replay``): 0 every seed clean; 1 a seed has a
violation, does not converge or raises (each failing seed's exact ``replay``
command is printed); 2 bad arguments (usage); 3 setup error: the backend
cannot be used at all (``gossip_model.sim.backends.preflight``, run once
before any seed): one message on stderr naming the backend, the cause and a
fix, and no per-seed output.

``replay`` reruns one seed deterministically (RUN-10); ``--trace`` prints the
op-by-op trace with events and violations. It prints the SWARM profile of the
seed, and, when the run fails, the step number and op of the first violation
(even without ``--trace``) and the records involved; exit 1 when the run
fails, 0 when it is clean.

``--ledger planted:NAME`` (hidden from ``--help``) is a test aid: it runs the
simulation against a planted-bug ledger of ``gossip_model.sim.planted`` so a
test can show that sweeps catch it and that ``replay`` reproduces it.

The command line is a thin shell (section 5): for the same seed, level and
counts it produces the same report as ``DoneLedgerSim.run`` or
``run_swizzle_clog``. Only the throughput figure and the progress bar read the
wall clock. ``planted:NAME`` also accepts the deep planted bugs and the
invariant probes of ``gossip_model.sim.planted`` (``sweep.open_sim_ledger``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from typing import IO, Any, NoReturn

from gossip_model import __version__
from gossip_model.audit import cli as audit_cli
from gossip_model.inmemory import PendingWriteId
from gossip_model.linearizability.cli import add_parser as stress_parser
from gossip_model.linearizability.cli import run as stress
from gossip_model.persistence import DoneLedgerCommitReceipt, DoneLedgerKey
from gossip_model.sim.backends import (
    DEFAULT_LEDGER,
    BackendSetupError,
    backend_label,
    is_shared,
)
from gossip_model.sim.context import SimContext
from gossip_model.sim.events import DoneLedgerSimEvent, GetOk
from gossip_model.sim.faults import FaultLevel
from gossip_model.sim.ledger import SimLedger
from gossip_model.sim.report import (
    SeedResult,
    SweepOutcome,
    render_histogram,
    render_summary,
    sweep_to_json,
)
from gossip_model.sim.runner import DoneLedgerSim
from gossip_model.sim.sweep import (
    SweepConfig,
    check_sim_ledger_name,
    failure_text,
    open_sim_ledger,
    preflight_sim_ledger,
)
from gossip_model.sim.trace import TraceEntry
from gossip_model.sim.violations import format_record

__all__ = ["main", "replay_command"]

PROG = "python -m gossip_model.sim"
EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_SETUP = 3


class _UsageError(Exception):
    """A bad argument detected after parsing (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises instead of exiting, so ``main`` returns 2."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.format_usage()}{self.prog}: error: {message}")


def _level(text: str) -> FaultLevel:
    try:
        return FaultLevel.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be >= 1, got 0")
    return value


def _seed(text: str) -> int:
    value = _non_negative(text)
    if value > 2**64 - 1:
        raise argparse.ArgumentTypeError(f"seed must be <= 2**64-1, got {value}")
    return value


def _shard(text: str) -> tuple[int, int]:
    index, sep, total = text.partition("/")
    try:
        if not sep:
            raise ValueError
        i, n = int(index), int(total)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N (e.g. 1/4), got {text!r}") from None
    if not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"shard index must be in 1..{n}, got {text!r}")
    return i, n


def _ledger(text: str) -> str:
    try:
        check_sim_ledger_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fault-level",
        type=_level,
        default=FaultLevel.STORMY,
        metavar="LEVEL",
        help="sunny-day, stormy (default), radioactive or swarm (per-seed op mix, issue 12)",
    )
    parser.add_argument(
        "--ops", type=_non_negative, default=500, help="safety-phase ops per seed (default 500)"
    )
    parser.add_argument(
        "--liveness-ops",
        type=_non_negative,
        default=0,
        metavar="K",
        help="liveness-phase ops per seed (default 0)",
    )
    parser.add_argument(
        "--swizzle",
        type=_positive,
        default=None,
        metavar="BATCHES",
        help="run the swizzle-clog runner with BATCHES batches instead of the two-phase run",
    )
    parser.add_argument(
        "--backend",
        dest="ledger",
        type=_ledger,
        default=DEFAULT_LEDGER,
        metavar="BACKEND",
        help="inmemory (default), sqlite (:memory:), sqlite:PATH, postgres:DSN or "
        "py:MODULE:FACTORY (FACTORY() returns a fresh, empty done ledger with the control "
        "surface); a file or database backend is emptied before each seed and runs one seed "
        "at a time, as does a factory unless FACTORY.gossip_independent is True",
    )
    parser.add_argument("--ledger", dest="ledger", type=_ledger, help=argparse.SUPPRESS)


def _build_parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Deterministic simulation of the done ledger (sim.md).",
    )
    parser.add_argument("--version", action="version", version=f"gossip-sim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    sweep = commands.add_parser("sweep", help="run many seeds and summarise")
    _add_run_options(sweep)
    sweep.add_argument(
        "--seeds", type=_positive, default=100, help="number of seeds (default 100)"
    )
    sweep.add_argument("--start-seed", type=_seed, default=0, metavar="S", help="first seed")
    sweep.add_argument(
        "--jobs",
        type=_positive,
        default=None,
        metavar="N",
        help="worker processes (default: cores)",
    )
    sweep.add_argument(
        "--shard", type=_shard, default=None, metavar="I/N", help="run chunk I of N (1-based)"
    )
    sweep.add_argument(
        "--json",
        default=None,
        metavar="FILE",
        help="also write a JSON report to FILE ('-': stdout, the text report going to stderr)",
    )
    replay = commands.add_parser("replay", help="rerun one seed deterministically")
    replay.add_argument("--seed", type=_seed, required=True, help="the seed to replay")
    _add_run_options(replay)
    replay.add_argument("--trace", action="store_true", help="print the op-by-op trace")
    audit_cli.add_parser(commands)
    stress_parser(commands)
    return parser


def replay_command(seed: int, config: SweepConfig) -> str:
    """The exact ``replay`` command line for one seed of a sweep (a DSN's password masked)."""
    parts = [
        PROG,
        "replay",
        f"--seed {seed}",
        f"--fault-level {config.fault_level.cli_name}",
        f"--ops {config.ops}",
    ]
    if config.liveness_ops:
        parts.append(f"--liveness-ops {config.liveness_ops}")
    if config.swizzle_batches is not None:
        parts.append(f"--swizzle {config.swizzle_batches}")
    if config.ledger.startswith("planted:"):
        parts.append(f"--ledger {config.ledger}")
    elif config.ledger != DEFAULT_LEDGER:
        # A DSN's password is masked: supply it through PGPASSWORD or ~/.pgpass.
        parts.append(f"--backend {shlex.quote(backend_label(config.ledger))}")
    return " ".join(parts)


def _config(args: argparse.Namespace) -> SweepConfig:
    return SweepConfig(
        fault_level=args.fault_level,
        ops=args.ops,
        liveness_ops=args.liveness_ops,
        swizzle_batches=args.swizzle,
        ledger=args.ledger,
    )


def shard_seeds(start: int, count: int, shard: tuple[int, int] | None) -> range:
    """Seeds ``start .. start+count-1``, or the contiguous chunk ``I`` of ``N`` (1-based)."""
    if shard is None:
        return range(start, start + count)
    index, total = shard
    lo = start + (index - 1) * count // total
    hi = start + index * count // total
    return range(lo, hi)


def _progress(done: int, total: int, stream: IO[str], elapsed: float) -> None:
    """The progress bar with the rate so far and the time left at that rate (display only)."""
    width = 30
    filled = width * done // total if total else width
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = f"{(total - done) / rate:.0f}s" if rate > 0 else "?"
    stream.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} seeds"
        f"  {rate:.1f} seeds/s  ETA {eta} "
    )
    if done == total:
        stream.write("\n")
    stream.flush()


def _results(config: SweepConfig, seeds: range, jobs: int) -> Iterator[SeedResult]:
    if jobs <= 1 or len(seeds) <= 1:
        for seed in seeds:
            yield config.evaluate(seed)
        return
    chunksize = max(1, len(seeds) // (jobs * 8))
    with multiprocessing.get_context().Pool(min(jobs, len(seeds))) as pool:
        yield from pool.imap(config.evaluate, seeds, chunksize)


def _open_json(target: str | None, out: IO[str]) -> IO[str] | None:
    """Open the ``--json`` destination before the sweep (``-``: ``out``); ``OSError`` if not."""
    if target is None:
        return None
    if target == "-":
        return out
    return open(target, "w", encoding="utf-8")  # closed by _sweep


def _setup_error(command: str, exc: BackendSetupError, err: IO[str]) -> int:
    err.write(f"{PROG} {command}: setup error: {exc}\n")
    return EXIT_SETUP


def _sweep(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    config = _config(args)
    try:
        json_handle = _open_json(args.json, out)
    except OSError as exc:
        err.write(f"{PROG} sweep: error: cannot write --json {args.json!r}: {exc}\n")
        return EXIT_USAGE
    try:
        try:
            preflight_sim_ledger(config.ledger)
        except BackendSetupError as exc:
            return _setup_error("sweep", exc, err)
        report = err if json_handle is out else out
        return _sweep_run(args, config, report, err, json_handle)
    finally:
        if json_handle is not None and json_handle is not out:
            json_handle.close()


def _sweep_run(
    args: argparse.Namespace,
    config: SweepConfig,
    out: IO[str],
    err: IO[str],
    json_handle: IO[str] | None,
) -> int:
    seeds = shard_seeds(args.start_seed, args.seeds, args.shard)
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if is_shared(config.ledger):
        jobs = 1  # seeds on one file or database must not interleave
    show_progress = err.isatty()
    mode = (
        f"swizzle-clog {config.swizzle_batches} batches"
        if config.swizzle_batches is not None
        else f"{config.ops} ops + {config.liveness_ops} liveness"
    )
    shard = f", shard {args.shard[0]}/{args.shard[1]}" if args.shard else ""
    span = f"seeds {seeds.start}..{seeds.stop - 1}" if len(seeds) else "no seeds"
    ledger = f", ledger {backend_label(config.ledger)}" if config.ledger != DEFAULT_LEDGER else ""
    header = (
        f"gossip-sim sweep: {config.fault_level.name}, {mode}, {span}{shard}, "
        f"{jobs} job(s){ledger}"
    )
    out.write(header + "\n\n")  # what runs, before the progress bar
    out.flush()
    started = time.perf_counter()
    results: list[SeedResult] = []
    for result in _results(config, seeds, jobs):
        results.append(result)
        if show_progress:
            _progress(len(results), len(seeds), err, time.perf_counter() - started)
    outcome = SweepOutcome.from_results(results, time.perf_counter() - started)
    out.write(render_summary(outcome, "") + "\n")
    replays = {seed: replay_command(seed, config) for seed, _ in outcome.failures}
    if outcome.failures:
        out.write(f"\nFAILED: {len(outcome.failures)} seed(s)\n")
        for seed, text in outcome.failures:
            out.write(f"  seed {seed}: {text}\n    replay: {replays[seed]}\n")
    else:
        out.write("\nOK: no violations, every seed converged\n")
    if json_handle is not None:
        parameters: dict[str, Any] = {
            "fault_level": config.fault_level.cli_name,
            "ops": config.ops,
            "liveness_ops": config.liveness_ops,
            "swizzle_batches": config.swizzle_batches,
            "start_seed": args.start_seed,
            "seeds": args.seeds,
            "shard": list(args.shard) if args.shard else None,
            "seed_range": [seeds.start, seeds.stop],
            "jobs": jobs,
            "ledger": backend_label(config.ledger),
        }
        document = sweep_to_json(outcome, parameters, replays)
        json.dump(document, json_handle, indent=2)
        json_handle.write("\n")
        json_handle.flush()
    return EXIT_OK if outcome.ok else EXIT_FAILURES


def describe_event(event: DoneLedgerSimEvent) -> str:
    """A compact one-line rendering of an event for traces."""
    if isinstance(event, GetOk):
        present = sum(r is not None for r in event.results)
        return f"GetOk({len(event.results)} results, {present} present)"
    parts = []
    for item in dataclasses.fields(event):  # type: ignore[arg-type]
        value = getattr(event, item.name)
        if isinstance(value, PendingWriteId):
            value = int(value)
        elif isinstance(value, DoneLedgerCommitReceipt):
            value = (value.record_count, value.scanned_count, value.findings_count)
        parts.append(f"{item.name}={value}")
    return f"{event.kind.variant_name}({', '.join(parts)})"


def _trace_line(entry: TraceEntry, out: IO[str]) -> None:
    out.write(f"[{entry.step:>5}] {entry.phase:<8} {entry.op} -> {describe_event(entry.event)}\n")
    for violation in entry.violations:
        out.write(f"        VIOLATION {violation}\n")


def _replay(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    config = _config(args)
    try:
        preflight_sim_ledger(config.ledger)
    except BackendSetupError as exc:
        return _setup_error("replay", exc, err)
    with open_sim_ledger(config.ledger) as ledger:
        return _replay_on(args, config, ledger, out)


def _replay_on(
    args: argparse.Namespace, config: SweepConfig, ledger: SimLedger | None, out: IO[str]
) -> int:
    trace: list[TraceEntry] = []
    first_bad: list[TraceEntry] = []

    def tracer(entry: TraceEntry) -> None:
        if args.trace:
            trace.append(entry)
        if entry.violations and not first_bad:
            first_bad.append(entry)

    sim = DoneLedgerSim(SimContext(args.seed, config.fault_level), ledger, tracer=tracer)
    out.write(f"gossip-sim {replay_command(args.seed, config)[len(PROG) + 1 :]}\n")
    if sim.swarm_profile is not None:
        out.write(f"swarm profile: {sim.swarm_profile.describe()}\n")
    try:
        if config.swizzle_batches is not None:
            report = sim.run_swizzle_clog(config.swizzle_batches)
        else:
            report = sim.run(config.ops, config.liveness_ops)
    except Exception as exc:
        for entry in trace:
            _trace_line(entry, out)
        out.write(f"\nFAILED: EXCEPTION: {type(exc).__name__}: {exc}\n")
        return EXIT_FAILURES
    for entry in trace:
        _trace_line(entry, out)
    out.write(
        f"\nseed {report.seed}: {report.ops_executed} ops, "
        f"{len(report.violations)} violation(s), converged={report.converged}\n"
    )
    out.write(render_histogram(report.event_counts) + "\n")
    text = failure_text(report)
    if text is None:
        out.write("\nOK: no violations, converged\n")
        return EXIT_OK
    # A failing report always has a violation: not converging means I6 violations.
    first = report.violations[0]
    out.write(f"\nFAILED: {text}\n")
    if first_bad:
        entry = first_bad[0]
        out.write(
            f"first violation at step {entry.step} ({entry.phase}): {entry.op} -> "
            f"{describe_event(entry.event)}\n"
        )
    else:
        out.write(
            f"first violation found by the final convergence check (I6) after step "
            f"{report.ops_executed}\n"
        )
    out.write(f"first violation: {first}\n")
    key = getattr(first, "key", None)
    if isinstance(key, DoneLedgerKey):
        out.write(f"  key:             {key!r}\n")
        out.write(f"  ledger at end:   {format_record(sim.ledger.get_record(key))}\n")
        out.write(f"  oracle at end:   {format_record(sim.oracle.expected_state(key))}\n")
    return EXIT_FAILURES


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gossip-sim`` and ``python -m gossip_model.sim``; returns the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    if args.command == "sweep":
        return _sweep(args, sys.stdout, sys.stderr)
    if args.command == "audit":
        return audit_cli.run(args)
    if args.command == "stress":
        return stress(args)
    return _replay(args, sys.stdout, sys.stderr)
