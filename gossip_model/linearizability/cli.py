"""``gossip-sim stress``: random concurrent clients against a backend (issue 14 item 6).

::

    gossip-sim stress [--backend B] [--clients N] [--ops M] [--seed S] [--keys K]
                      [--sink] [--deterministic] [--unpartitioned] [--delayed]

Runs ``N`` clients of ``M`` random operations each (program chosen by ``S``)
on ``K`` hot keys, one store handle or connection per client, records the
history and checks it for linearizability. Prints the verdict and, on a
violation, the minimal counter-history and the command that replays it.

Exit status: 0 linearizable, 1 violation, 2 bad arguments, 3 setup error (the
backend could not be opened).

Backends: ``inmemory`` (default), ``sqlite`` (a temporary file),
``sqlite:PATH``, ``postgres:DSN`` (emptied first), ``py:MODULE:FACTORY`` (a
user's store: :class:`~gossip_model.linearizability.targets.PyFactoryTarget`),
and ``planted:NAME`` for the planted concurrency bugs of
:mod:`gossip_model.linearizability.planted`. :func:`load_target` is the one
place that turns a name into a store.

``--delayed`` runs delayed mode (:mod:`gossip_model.linearizability.control`):
auto-complete off, clients submit, wait, release (next in both orders,
specific ids, all) and arm faults concurrently, then a final drain. It needs
the store's control surface (the in-memory, SQLite and PostgreSQL stores,
``planted:release-all-not-atomic``, a ``py:`` store built on
``gossip_model.backend``); without it ``stress`` exits 3 and names what is
missing.

A ``py:`` store needs only the protocol's operations; the optional ones it
lacks (``snapshot``, the findings reads) are left out of the program, and the
output says which (:mod:`gossip_model.linearizability.generate`).
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gossip_model.linearizability.checker import check
from gossip_model.linearizability.control import ControlsMissing
from gossip_model.linearizability.generate import (
    ALL_CAPABILITIES,
    capabilities_of,
    left_out,
    random_program,
)
from gossip_model.linearizability.planted import (
    PLANTED,
    PLANTED_DELAYED,
    PlantedTarget,
    planted_interface,
)
from gossip_model.linearizability.runner import execute, model_for
from gossip_model.linearizability.targets import (
    LEDGER,
    SINK,
    InMemoryTarget,
    PostgresTarget,
    PyFactoryTarget,
    SqliteTarget,
    Target,
)
from gossip_model.sim.backends import BackendSetupError

EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_SETUP = 3
_PLANTED = "planted:"
_PY = "py:"


def _bounded(low: int, high: int) -> type[int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in {low}..{high}, got {value}")
        return value

    return parse  # type: ignore[return-value]


def check_backend(name: str) -> str:
    """Validate a backend name without opening it (``ValueError`` names the fix)."""
    if name.startswith(_PLANTED):
        bug = name[len(_PLANTED) :]
        if bug not in PLANTED + PLANTED_DELAYED:
            known = ", ".join(PLANTED + PLANTED_DELAYED)
            raise ValueError(f"unknown planted concurrency bug {bug!r} (known: {known})")
        return name
    from gossip_model.sim.backends import check_ledger_name

    return check_ledger_name(name)


def _backend(text: str) -> str:
    try:
        return check_backend(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


@contextlib.contextmanager
def load_target(name: str, interface: str) -> Iterator[Target]:
    """The one function that maps a backend name to a :class:`Target` (and cleans up)."""
    with tempfile.TemporaryDirectory(prefix="gossip-stress-") as scratch:
        scratch_db = str(Path(scratch) / "stress.db")
        if name.startswith(_PLANTED):
            bug = name[len(_PLANTED) :]
            yield PlantedTarget(bug, scratch_db if bug.startswith("sqlite") else None)
        elif name == "inmemory":
            yield InMemoryTarget(interface)
        elif name == "sqlite":
            yield SqliteTarget(scratch_db, interface)
        elif name.startswith("sqlite:"):
            yield SqliteTarget(name[len("sqlite:") :], interface)
        elif name.startswith(_PY):
            yield PyFactoryTarget(name, interface)
        else:
            yield PostgresTarget(name[len("postgres:") :], interface)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Register ``stress`` on the ``gossip-sim`` command line."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "stress",
        help="random concurrent clients against a backend, checked for linearizability",
        description="Run random concurrent clients against a backend, one store handle or "
        "connection each, and check the recorded history for linearizability. Exit status: "
        "0 linearizable, 1 violation, 2 bad arguments, 3 setup error.",
    )
    parser.add_argument(
        "--backend",
        type=_backend,
        default="inmemory",
        help="inmemory (default), sqlite (temporary file), sqlite:PATH, postgres:DSN, "
        "py:MODULE:FACTORY (FACTORY() returns a fresh, empty store per execution; clients "
        "share it, or get store.clone() if it has one: the protocol is thread-safe) "
        "or planted:NAME (" + ", ".join(PLANTED + PLANTED_DELAYED) + ")",
    )
    parser.add_argument("--clients", type=_bounded(1, 64), default=4, help="clients (default 4)")
    parser.add_argument(
        "--ops", type=_bounded(1, 100_000), default=50, help="operations per client (default 50)"
    )
    parser.add_argument("--seed", type=_bounded(0, 2**63 - 1), default=0, help="program seed")
    parser.add_argument(
        "--keys", type=_bounded(1, 4096), default=8, help="hot keys shared by clients (default 8)"
    )
    parser.add_argument(
        "--sink", action="store_true", help="stress the findings sink instead of the done ledger"
    )
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="run clients under the seeded scheduler (exact replay) instead of real threads",
    )
    parser.add_argument(
        "--unpartitioned",
        action="store_true",
        help="check the whole history as one partition (exact for listings, slower)",
    )
    parser.add_argument(
        "--delayed",
        action="store_true",
        help="delayed mode: auto-complete off; clients submit, wait, release and arm faults "
        "concurrently through the store's control surface (exit 3 if it has none)",
    )
    return parser


def replay_command(args: argparse.Namespace) -> str:
    words = [
        "gossip-sim",
        "stress",
        "--backend",
        args.backend,
        "--clients",
        str(args.clients),
        "--ops",
        str(args.ops),
        "--seed",
        str(args.seed),
        "--keys",
        str(args.keys),
    ]
    words += [
        f"--{flag}"
        for flag in ("sink", "deterministic", "unpartitioned", "delayed")
        if getattr(args, flag, False)
    ]
    return shlex.join(words)


def run(args: argparse.Namespace, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Run ``stress`` with parsed ``args``; returns the exit status."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    interface = SINK if args.sink else LEDGER
    if args.backend.startswith(_PLANTED):
        interface = planted_interface(args.backend[len(_PLANTED) :])
    delayed = bool(getattr(args, "delayed", False))
    mode = f"seeded scheduler (seed {args.seed})" if args.deterministic else "real threads"
    if delayed:
        mode += ", delayed mode"
    out.write(
        f"stress: backend {args.backend} ({interface}), {args.clients} clients x {args.ops} ops "
        f"on {args.keys} hot keys, seed {args.seed}, {mode}\n"
    )
    try:
        with load_target(args.backend, interface) as target:
            capabilities = _capabilities(target)
            omitted = left_out(capabilities, interface)
            if omitted:
                out.write(
                    f"left out: {', '.join(omitted)} (the store has no such method; "
                    "programs use the operations it has)\n"
                )
            program = random_program(
                args.seed,
                clients=args.clients,
                ops=args.ops,
                keys=args.keys,
                findings=interface == SINK,
                capabilities=capabilities,
                delayed=delayed,
            )
            execution = execute(
                program, target, seed=args.seed if args.deterministic else None, delayed=delayed
            )
    except BackendSetupError as error:  # cause and fix already named, no traceback
        err.write(f"stress: setup error: {error}\n")
        return EXIT_SETUP
    except ControlsMissing as error:
        err.write(f"stress: setup error on backend {args.backend}: {error}\n")
        return EXIT_SETUP
    except Exception as error:  # any failure to open or drive the backend is a setup error
        err.write(
            f"stress: setup error on backend {args.backend}: {type(error).__name__}: {error}\n"
            "fix the backend name or make the database reachable, then retry\n"
        )
        return EXIT_SETUP
    result = check(execution.history, model_for(target), partitioned=not args.unpartitioned)
    out.write(
        f"history: {len(execution.history)} operations, {result.partitions} partitions, "
        f"{result.explored} search steps\n"
    )
    if execution.controls:
        out.write(f"control operations: {len(execution.controls)} (drivers, not checked)\n")
    if execution.errors:
        out.write("unexpected errors (recorded as maybe):\n")
        out.writelines(f"  {line}\n" for line in execution.errors[:10])
    if result.ok:
        out.write("verdict: linearizable\n")
        return EXIT_OK
    out.write("verdict: NOT linearizable\n")
    out.write(result.explanation + "\n")
    if execution.controls:
        events = sorted(execution.controls, key=lambda e: e.invoke)
        out.write("control operations (first 40):\n")
        out.writelines(f"  {e.describe()}\n" for e in events[:40])
    out.write(f"replay: {replay_command(args)}\n")
    return EXIT_VIOLATION


def _capabilities(target: Target) -> frozenset[str]:
    """Optional operations the programs may use: a ``py:`` store is probed, ours have all."""
    if isinstance(target, PyFactoryTarget):
        return capabilities_of(target.probe(), target.interface)
    return ALL_CAPABILITIES


__all__ = [
    "EXIT_OK",
    "EXIT_SETUP",
    "EXIT_VIOLATION",
    "add_parser",
    "check_backend",
    "load_target",
    "run",
]
