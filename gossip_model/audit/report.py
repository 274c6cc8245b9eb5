"""The audit report: rows read per table, violations counted per rule, a few examples each.

Examples name rows by their key columns in hex (what an operator needs to
find the row); they never carry ``secret_hash`` nor location text. Text and
JSON renderings carry the same facts; :data:`NOT_CHECKED` is part of both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from gossip_model.audit.rules import NOT_CHECKED, RULES, AuditRule

#: Examples kept per rule unless the caller asks otherwise (``--examples``).
DEFAULT_EXAMPLES = 5

Example = Mapping[str, str]


@dataclass
class AuditReport:
    """Mutable while the audit runs; :meth:`to_json` / :meth:`render_text` when done."""

    target: str
    max_examples: int = DEFAULT_EXAMPLES
    rows: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[Example]] = field(default_factory=dict)
    history: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def add(self, rule: AuditRule, example: Example) -> None:
        """Count one violation of ``rule``; keep ``example`` if fewer than N are kept."""
        self.counts[rule.id] = self.counts.get(rule.id, 0) + 1
        kept = self.examples.setdefault(rule.id, [])
        if len(kept) < self.max_examples:
            kept.append(dict(example))

    def count_rows(self, table: str, rows: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + rows

    @property
    def violations(self) -> int:
        return sum(self.counts.values())

    @property
    def clean(self) -> bool:
        return self.violations == 0

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "clean": self.clean,
            "rows": dict(sorted(self.rows.items())),
            "violations": self.violations,
            "rules": [
                {
                    "id": rule.id,
                    "spec": rule.spec,
                    "table": rule.table,
                    "summary": rule.summary,
                    "count": self.counts.get(rule.id, 0),
                    "examples": self.examples.get(rule.id, []),
                }
                for rule in RULES
            ],
            "history": dict(sorted(self.history.items())),
            "skipped": list(self.skipped),
            "not_checked": list(NOT_CHECKED),
        }

    def render_json(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n"

    def render_text(self) -> str:
        lines = [f"audit of {self.target}"]
        for table, rows in sorted(self.rows.items()):
            lines.append(f"  {table}: {rows} rows read")
        for table, origin in sorted(self.history.items()):
            lines.append(f"  {table}: {origin}")
        lines.append("")
        width = max(len(rule.id) for rule in RULES)
        for rule in RULES:
            count = self.counts.get(rule.id, 0)
            mark = "ok " if count == 0 else "BAD"
            lines.append(f"{mark} {rule.id:<{width}} {count:>9}  {rule.summary} ({rule.spec})")
            for example in self.examples.get(rule.id, []):
                lines.append("      " + " ".join(f"{k}={v}" for k, v in example.items()))
            if count > len(self.examples.get(rule.id, [])):
                lines.append(f"      ... {count - len(self.examples[rule.id])} more")
        for reason in self.skipped:
            lines.append(f"skipped: {reason}")
        lines.append("")
        lines.append("not checked:")
        lines.extend(f"  - {item}" for item in NOT_CHECKED)
        verdict = (
            "OK: no violations"
            if self.clean
            else f"VIOLATIONS: {self.violations} in {len(self.counts)} rule(s)"
        )
        lines.append(verdict)
        return "\n".join(lines) + "\n"


__all__ = ["DEFAULT_EXAMPLES", "AuditReport", "Example"]
