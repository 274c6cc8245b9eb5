"""``gossip-sim audit postgres:DSN | sqlite:PATH``: the read-only audit's command line.

Prints the report (text, or JSON with ``--json``) on stdout, a progress bar
on stderr when it is a terminal, and exits 0 when clean, 1 on violations,
3 when the audit cannot run (connection, missing tables, a database error:
the message names the cause and the fix). Registered in
:mod:`gossip_model.sim.cli` through :func:`add_parser` and :func:`run`.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from typing import IO, Any

from gossip_model.audit.progress import Progress
from gossip_model.audit.reader import AuditSetupError, driver_errors, open_reader, primary_message
from gossip_model.audit.report import DEFAULT_EXAMPLES, AuditReport
from gossip_model.audit.runner import run_audit

EXIT_CLEAN = 0
EXIT_VIOLATIONS = 1
EXIT_SETUP = 3


def _examples(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"--examples must be >= 0, got {value}")
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``audit`` command to an ``argparse`` subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "audit",
        help="read-only audit of a database against the contract",
        description="Check every stored row and relation of a done ledger / findings "
        "database against the contract, read-only (exit 0 clean, 1 violations, 3 setup error).",
    )
    parser.add_argument("target", metavar="TARGET", help="postgres:DSN or sqlite:PATH")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--examples",
        type=_examples,
        default=DEFAULT_EXAMPLES,
        metavar="N",
        help=f"example violations kept per rule (default {DEFAULT_EXAMPLES})",
    )
    return parser


def _display_target(target: str) -> str:
    """The target without a password (a DSN may carry one)."""
    engine, _, rest = target.partition(":")
    if engine != "postgres":
        return target
    try:
        import psycopg
    except ImportError:  # the reader reports the missing driver; hide the whole DSN here
        return "postgres:<DSN>"
    try:
        params = psycopg.conninfo.conninfo_to_dict(rest)
    except psycopg.Error:
        return "postgres:<unparsable DSN>"
    params.pop("password", None)
    return "postgres:" + " ".join(f"{k}={v}" for k, v in sorted(params.items()))


def run(args: argparse.Namespace, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Run the audit for parsed ``args``; return the exit status."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    report = AuditReport(_display_target(args.target), max_examples=args.examples)
    try:
        reader = open_reader(args.target)
        try:
            run_audit(reader, report, Progress(err, enabled=err.isatty()))
        finally:
            reader.close()
    except AuditSetupError as exc:
        err.write(f"audit: {exc}\n")
        return EXIT_SETUP
    except Exception as exc:
        # psycopg's errors are known only once the reader has imported the driver.
        if not isinstance(exc, (*driver_errors(), OSError)):
            raise
        # The primary message only: a DETAIL line may quote stored values (DBE-2).
        cause = str(exc) if isinstance(exc, sqlite3.Error | OSError) else primary_message(exc)
        err.write(
            f"audit: the database failed while reading: {cause} "
            "(check the role's SELECT rights; nothing was written)\n"
        )
        return EXIT_SETUP
    out.write(report.render_json() if args.json else report.render_text())
    return EXIT_CLEAN if report.clean else EXIT_VIOLATIONS


__all__ = ["EXIT_CLEAN", "EXIT_SETUP", "EXIT_VIOLATIONS", "add_parser", "run"]
