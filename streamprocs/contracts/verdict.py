"""What a validator says about one event: a verdict made of violations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamprocs.contracts.model import Severity, ViolationReason


@dataclass(frozen=True, slots=True)
class Violation:
    """One thing wrong with an event.

    ``rule`` is bounded by the contracts (a rule id, ``schema.<keyword>`` or the
    reason itself for decoding failures) so that it can be a metric label;
    ``path`` is a JSON pointer into the event; ``message`` never quotes an
    event value, so it is safe for logs and dead-letter headers.
    """

    reason: ViolationReason
    rule: str
    path: str
    message: str
    severity: Severity = Severity.ERROR

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "rule": self.rule,
            "path": self.path,
            "message": self.message,
            "severity": self.severity.value,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    violations: tuple[Violation, ...] = ()

    @property
    def valid(self) -> bool:
        """True when nothing of severity ``error`` was found (warnings pass)."""
        return not any(v.severity is Severity.ERROR for v in self.violations)

    @property
    def errors(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity is Severity.WARN)

    @property
    def reason(self) -> ViolationReason | None:
        """The reason of the first error: what a dead-letter record is filed under."""
        errors = self.errors
        return errors[0].reason if errors else None


# Shared by every valid event without warnings, so the hot path allocates nothing.
VALID = Verdict()


def single(reason: ViolationReason, message: str, path: str = "") -> Verdict:
    """A verdict for a failure that stops validation before the schema (decode, size, depth)."""
    return Verdict((Violation(reason=reason, rule=reason, path=path, message=message),))
