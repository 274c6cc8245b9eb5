"""Read-only audit of a done-ledger / findings database (issue 13).

Modules, one concept each: :mod:`.rules` (what is checked, with spec rule
ids, and what is not), :mod:`.reader` (streaming read-only access:
server-side cursors on PostgreSQL, batched iteration on SQLite),
:mod:`.checks` (per-row and per-relation checks), :mod:`.report` (counts,
examples, text and JSON), :mod:`.progress` (terminal progress bar),
:mod:`.runner` (runs every check), :mod:`.cli` (``gossip-sim audit``).
"""

from __future__ import annotations

from gossip_model.audit.reader import AuditSetupError, open_reader
from gossip_model.audit.report import AuditReport
from gossip_model.audit.rules import NOT_CHECKED, RULES, AuditRule
from gossip_model.audit.runner import run_audit

__all__ = [
    "NOT_CHECKED",
    "RULES",
    "AuditReport",
    "AuditRule",
    "AuditSetupError",
    "open_reader",
    "run_audit",
]
