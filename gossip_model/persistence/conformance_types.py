"""Types of the conformance harness: report, probe protocol, errors (inmemory.md CONF-1..CONF-4).

``RedactionLeak``'s message shows at most the first 8 characters of the leaked
fragment (CONF-4 open point); the full output and fragment are kept only as
attributes. ``find_leak`` is the RED-5 reveal test.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gossip_model.persistence.counts import DurableFindingsCounts


@runtime_checkable
class FindingsConformanceProbe(Protocol):
    """CONF-2: test-only view of durable row counts, reflecting every acknowledged write."""

    def durable_counts(self) -> DurableFindingsCounts: ...


@dataclass(slots=True)
class PersistenceConformanceReport:
    """CONF-3: how many checks of each family passed."""

    done_ledger_checks: int = 0
    findings_checks: int = 0
    redaction_checks: int = 0

    def total_checks(self) -> int:
        return self.done_ledger_checks + self.findings_checks + self.redaction_checks

    def __str__(self) -> str:
        return (
            f"persistence conformance: {self.done_ledger_checks} done-ledger, "
            f"{self.findings_checks} findings, {self.redaction_checks} redaction "
            f"({self.total_checks()} total)"
        )


class PersistenceConformanceError(Exception):
    """CONF-4: a failed check; ``case`` is the ``suite/test:phase`` label."""

    def __init__(self, case: str, message: str) -> None:
        super().__init__(message)
        self.case = case


class _Operational(PersistenceConformanceError):
    """The backend raised: ``source`` is its exception, also set as ``__cause__``."""

    _template = "{case}: {source}"

    def __init__(self, case: str, source: BaseException) -> None:
        super().__init__(case, self._template.format(case=case, source=source))
        self.source = source
        self.__cause__ = source


class FixtureConstruction(_Operational):
    _template = "fixture construction failed for {case}: {source}"


class DoneLedgerSubmit(_Operational):
    _template = "done-ledger submission failed in {case}: {source}"


class DoneLedgerWait(_Operational):
    _template = "done-ledger wait failed in {case}: {source}"


class DoneLedgerGet(_Operational):
    _template = "done-ledger lookup failed in {case}: {source}"


class FindingsSubmit(_Operational):
    _template = "findings submission failed in {case}: {source}"


class FindingsWait(_Operational):
    _template = "findings wait failed in {case}: {source}"


class Probe(_Operational):
    _template = "findings probe failed in {case}: {source}"


class _Invariant(PersistenceConformanceError):
    """The backend answered, but wrongly: ``message`` says how."""

    _template = "{case}: {message}"

    def __init__(self, case: str, message: str) -> None:
        super().__init__(case, self._template.format(case=case, message=message))
        self.message = message


class DoneLedgerInvariant(_Invariant):
    _template = "done-ledger invariant failed in {case}: {message}"


class FindingsInvariant(_Invariant):
    _template = "findings invariant failed in {case}: {message}"


class RedactionLeak(PersistenceConformanceError):
    """A rendering revealed sensitive bytes; the message never repeats them in full."""

    def __init__(self, case: str, debug_output: str, leaked_fragment: str) -> None:
        shown = leaked_fragment[:8] + ("..." if len(leaked_fragment) > 8 else "")
        super().__init__(
            case, f"sensitive Debug output leaked raw bytes in {case} (fragment {shown})"
        )
        self.debug_output = debug_output
        self.leaked_fragment = leaked_fragment

    def __repr__(self) -> str:
        return f"RedactionLeak(case={self.case!r})"


def find_leak(rendering: str, raw: bytes) -> str | None:
    """RED-5: the fragment of ``raw`` that ``rendering`` reveals, or ``None``.

    Checks the full lowercase hex, the 8-byte hex prefix, then the unpadded
    standard base64 (case-sensitive, only when at least 4 characters long).
    """
    lowered = rendering.lower()
    for fragment in (raw.hex(), raw[:8].hex()):
        if fragment in lowered:
            return fragment
    encoded = base64.b64encode(raw).decode("ascii").rstrip("=")
    if len(encoded) >= 4 and encoded in rendering:
        return encoded
    return None
