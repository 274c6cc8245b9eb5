"""Durable findings row counts (inmemory.md CONF-1, FS-17).

``DurableFindingsCounts`` is what a ``FindingsConformanceProbe`` reports: the
number of durable findings, occurrences and observations. It lives in its own
module so the in-memory sink (``gossip_model.inmemory``) can return it without
importing the conformance harness; ``gossip_model.persistence.conformance``
re-exports it under the API.md name.
"""

from __future__ import annotations

from dataclasses import dataclass

from gossip_model.identity import U64_MAX, check_int


@dataclass(frozen=True, slots=True)
class DurableFindingsCounts:
    """CONF-1: u64 row counts per findings layer; immutable, equal by value, default zero."""

    findings: int = 0
    occurrences: int = 0
    observations: int = 0

    def __post_init__(self) -> None:
        check_int("DurableFindingsCounts", "findings", self.findings, U64_MAX)
        check_int("DurableFindingsCounts", "occurrences", self.occurrences, U64_MAX)
        check_int("DurableFindingsCounts", "observations", self.observations, U64_MAX)

    def saturating_sub(self, base: DurableFindingsCounts) -> DurableFindingsCounts:
        """CONF-1: the per-field difference ``self - base``, clamped at 0."""
        if not isinstance(base, DurableFindingsCounts):
            raise TypeError(
                "DurableFindingsCounts.saturating_sub: base must be DurableFindingsCounts, "
                f"got {type(base).__name__}; pass the counts to subtract"
            )
        return DurableFindingsCounts(
            max(self.findings - base.findings, 0),
            max(self.occurrences - base.occurrences, 0),
            max(self.observations - base.observations, 0),
        )


__all__ = ["DurableFindingsCounts"]
