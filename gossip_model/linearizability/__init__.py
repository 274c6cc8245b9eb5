"""Linearizability of concurrent clients (issue 14): histories, models, checker.

* :mod:`~gossip_model.linearizability.history`: operations, outcomes, ``History``;
* :mod:`~gossip_model.linearizability.recorder`: wrappers that record a history;
* :mod:`~gossip_model.linearizability.done_ledger_model` and
  :mod:`~gossip_model.linearizability.findings_model`: the sequential
  specifications (``DONE_LEDGER``, ``FINDINGS``), partitioned per key / tenant;
* :mod:`~gossip_model.linearizability.wgl` and
  :mod:`~gossip_model.linearizability.checker`: Wing-Gong-Lowe search and
  ``check(history, model) -> LinearizabilityResult`` (``.ok``, ``.explanation``);
* :mod:`~gossip_model.linearizability.programs` and
  :mod:`~gossip_model.linearizability.control`: parallel programs, in
  auto-complete mode and in delayed mode (the control surface driven
  concurrently; how the checker treats control operations);
  :mod:`~gossip_model.linearizability.runner` runs and checks them.

The package never imports ``rules/``; the stores it drives are passed in.
"""

from __future__ import annotations

from gossip_model.linearizability.checker import LinearizabilityResult, Violation, check
from gossip_model.linearizability.done_ledger_model import DONE_LEDGER, DoneLedgerModel
from gossip_model.linearizability.findings_model import FINDINGS, FindingsModel
from gossip_model.linearizability.history import (
    Failed,
    History,
    HistoryBuilder,
    Maybe,
    Operation,
    Raised,
    Returned,
)
from gossip_model.linearizability.recorder import Recorder

__all__ = [
    "DONE_LEDGER",
    "FINDINGS",
    "DoneLedgerModel",
    "Failed",
    "FindingsModel",
    "History",
    "HistoryBuilder",
    "LinearizabilityResult",
    "Maybe",
    "Operation",
    "Raised",
    "Recorder",
    "Returned",
    "Violation",
    "check",
]
