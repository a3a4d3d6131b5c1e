"""Which dead-letter records a command looks at: time window, contract, reason, rule.

Values of one filter are alternatives (``--reason schema --reason rule``:
either); different filters must all hold. Times are the records' Kafka
timestamps, which the enforcer copies from the source event, so ``--since 2h``
means "events produced in the last two hours", the window a producer bug
is usually described in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from streamprocs.contracts.model import ViolationReason
from streamprocs.contracts.registry import parse_version
from streamprocs.dlq.record import DeadLetter

REASONS: tuple[str, ...] = get_args(ViolationReason)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RELATIVE = re.compile(r"^(?:\d+[smhdw])+$")
_PART = re.compile(r"(\d+)([smhdw])")


class FilterError(ValueError):
    """A filter value that cannot be used; the message says what would be accepted."""


def parse_when(text: str, now: datetime) -> int:
    """An ISO 8601 time or a duration before ``now`` (``90s``, ``15m``, ``2h``, ``1d12h``, ``1w``)
    as epoch milliseconds. A time without a zone is UTC."""
    cleaned = text.strip().lower()
    if _RELATIVE.match(cleaned):
        seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(cleaned))
        return to_ms(now - timedelta(seconds=seconds))
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(
            f"{text!r} is neither an ISO 8601 time (2024-07-02T10:00:00Z) "
            "nor a duration ago (30m, 2h, 1d)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return to_ms(when)


def to_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class ContractRef:
    """``ID`` or ``ID@VERSION`` as given to ``--contract``."""

    contract_id: str
    version: int | None = None

    @classmethod
    def parse(cls, text: str) -> ContractRef:
        contract_id, sep, version_text = text.strip().partition("@")
        if not contract_id:
            raise FilterError(f"--contract {text!r}: give a contract id, e.g. payments.captured")
        if not sep:
            return cls(contract_id)
        version = parse_version(version_text)
        if version is None:
            raise FilterError(f"--contract {text!r}: {version_text!r} is not a version number")
        return cls(contract_id, version)

    def matches(self, record: DeadLetter) -> bool:
        if record.contract_id != self.contract_id:
            return False
        return self.version is None or record.version == self.version

    def __str__(self) -> str:
        return self.contract_id if self.version is None else f"{self.contract_id}@{self.version}"


@dataclass(frozen=True)
class Filters:
    since_ms: int | None = None  # inclusive
    until_ms: int | None = None  # exclusive
    contracts: tuple[ContractRef, ...] = ()
    reasons: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        since: str | None = None,
        until: str | None = None,
        contracts: Iterable[str] = (),
        reasons: Iterable[str] = (),
        rules: Iterable[str] = (),
        now: datetime | None = None,
    ) -> Filters:
        """Filters from command-line text; ``FilterError`` names the bad value."""
        now = now or datetime.now(UTC)
        since_ms = parse_when(since, now) if since else None
        until_ms = parse_when(until, now) if until else None
        if since_ms is not None and until_ms is not None and until_ms <= since_ms:
            raise FilterError(f"--until ({until}) must be later than --since ({since})")
        reason_set = frozenset(r.strip() for r in reasons)
        unknown = sorted(reason_set - set(REASONS))
        if unknown:
            raise FilterError(f"unknown --reason {', '.join(unknown)}; use {', '.join(REASONS)}")
        return cls(
            since_ms=since_ms,
            until_ms=until_ms,
            contracts=tuple(ContractRef.parse(c) for c in contracts),
            reasons=reason_set,
            rules=frozenset(r.strip() for r in rules),
        )

    @property
    def narrowing(self) -> bool:
        """True when some record could be left out."""
        return bool(
            self.since_ms is not None
            or self.until_ms is not None
            or self.contracts
            or self.reasons
            or self.rules
        )

    def matches(self, record: DeadLetter) -> bool:
        ts = record.timestamp_ms
        if self.since_ms is not None and (ts is None or ts < self.since_ms):
            return False
        if self.until_ms is not None and (ts is None or ts >= self.until_ms):
            return False
        if self.contracts and not any(ref.matches(record) for ref in self.contracts):
            return False
        if self.reasons and record.reason not in self.reasons:
            return False
        return not self.rules or any(rule in self.rules for rule in record.rules)

    def describe(self) -> dict[str, Any]:
        """The filters as JSON-ready data, for reports and the audit record."""
        return {
            "since": iso(self.since_ms),
            "until": iso(self.until_ms),
            "contract": sorted(str(c) for c in self.contracts),
            "reason": sorted(self.reasons),
            "rule": sorted(self.rules),
        }
