"""The summary of a dead-letter topic, as data: counts, time range, paths, redacted samples.

Pure: fed ``DeadLetter`` records by whoever reads the topic. Samples never
show a PII-tagged value: a value is parsed and every field the contract
version tags ``x-pii`` is replaced; a value that cannot be parsed, or whose
contract is unknown so nobody says which fields are personal, is shown only
as its length.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from streamprocs.contracts.compiler import Limits, decode
from streamprocs.contracts.loader import Contract, ContractSet
from streamprocs.contracts.pii import PiiPath, redact
from streamprocs.contracts.verdict import Verdict
from streamprocs.dlq.filters import Filters, iso
from streamprocs.dlq.record import UNKNOWN, DeadLetter

DEFAULT_SAMPLES = 5
DEFAULT_TOP = 10
# Keys are shown as text for finding a record again; longer ones are cut.
MAX_KEY_CHARS = 200


def version_key(record: DeadLetter) -> str:
    """``contract@version`` (a version number alone is ambiguous across contracts)."""
    version = str(record.version) if record.version is not None else UNKNOWN
    return f"{record.contract_id or UNKNOWN}@{version}"


def _all_pii(contract: Contract) -> frozenset[PiiPath]:
    paths: set[PiiPath] = set()
    for compiled in contract.compiled.values():
        paths |= compiled.pii
    return frozenset(paths)


def pii_paths_for(
    record: DeadLetter, contract_set: ContractSet | None
) -> frozenset[PiiPath] | None:
    """The PII paths to hide in a record's value, or ``None`` when nobody can say.

    The named version's tags when the current contracts have it, else every
    version's (a superset hides more, never less); a record without a known
    contract gets the tags of every contract bound to its source topic.
    """
    if contract_set is None:
        return None
    contract = contract_set.get(record.contract_id) if record.contract_id else None
    if contract is not None:
        compiled = contract.compiled.get(record.version) if record.version is not None else None
        return compiled.pii if compiled is not None else _all_pii(contract)
    if record.source_topic is None:
        return None
    bound = [
        c
        for c in contract_set.contracts.values()
        if any(b.topic == record.source_topic for b in c.spec.bindings)
    ]
    if not bound:
        return None
    paths: set[PiiPath] = set()
    for c in bound:
        paths |= _all_pii(c)
    return frozenset(paths)


def shown_value(
    record: DeadLetter, contract_set: ContractSet | None, limits: Limits
) -> tuple[Any, str | None]:
    """(the value with PII redacted, None) or (None, why it is not shown)."""
    value = record.value
    if value is None:
        if record.value_omitted is not None:
            return None, (
                f"value of {record.value_omitted} bytes left out: the dead-letter topic could"
                " not take it; the record is at its source coordinates"
            )
        return None, "no value (a tombstone)"
    parsed = decode(value, limits)
    if isinstance(parsed, Verdict):
        return None, f"not shown ({len(value)} bytes): {parsed.reason}"
    paths = pii_paths_for(record, contract_set)
    if paths is None:
        return None, (
            f"not shown ({len(value)} bytes): no current contract says which fields are personal"
        )
    return redact(parsed, paths), None


@dataclass
class Summary:
    """Counts of the records that matched the filters, built one record at a time."""

    topic: str
    contract_set: ContractSet | None
    limits: Limits = field(default_factory=Limits)
    filters: Filters = field(default_factory=Filters)
    sample_limit: int = DEFAULT_SAMPLES
    top_limit: int = DEFAULT_TOP
    scanned: int = 0
    matched: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)
    by_contract: Counter[str] = field(default_factory=Counter)
    by_version: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    by_team: Counter[str] = field(default_factory=Counter)
    by_source_topic: Counter[str] = field(default_factory=Counter)
    by_revision: Counter[str] = field(default_factory=Counter)
    paths: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    first_ms: int | None = None
    last_ms: int | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    _sample_kinds: set[tuple[str, str, str]] = field(default_factory=set)

    def consider(self, record: DeadLetter) -> bool:
        """Count a record read from the topic; True when it matched the filters."""
        self.scanned += 1
        if not self.filters.matches(record):
            return False
        self.add(record)
        return True

    def team_of(self, contract_id: str | None) -> str:
        contract = (
            self.contract_set.get(contract_id)
            if self.contract_set is not None and contract_id
            else None
        )
        return contract.team if contract is not None else UNKNOWN

    def add(self, record: DeadLetter) -> None:
        self.matched += 1
        contract = record.contract_id or UNKNOWN
        self.by_reason[record.reason or UNKNOWN] += 1
        self.by_contract[contract] += 1
        self.by_version[version_key(record)] += 1
        # A record counts once for every rule it broke (two rules: in both rows).
        for rule in record.rules:
            self.by_rule[rule] += 1
        self.by_team[self.team_of(record.contract_id)] += 1
        self.by_source_topic[record.source_topic or UNKNOWN] += 1
        self.by_revision[record.revision or UNKNOWN] += 1
        for detail in record.details:
            self.paths[(contract, detail.rule, detail.path)] += 1
        ts = record.timestamp_ms
        if ts is not None:
            self.first_ms = ts if self.first_ms is None else min(self.first_ms, ts)
            self.last_ms = ts if self.last_ms is None else max(self.last_ms, ts)
        self._maybe_sample(record)

    def _maybe_sample(self, record: DeadLetter) -> None:
        # One sample per kind of failure, so a few samples show the variety.
        if len(self.samples) >= self.sample_limit:
            return
        rules = record.rules
        kind = (record.contract_id or UNKNOWN, record.reason or UNKNOWN, rules[0] if rules else "")
        if kind in self._sample_kinds:
            return
        self._sample_kinds.add(kind)
        self.samples.append(self.sample(record))

    def sample(self, record: DeadLetter) -> dict[str, Any]:
        value, note = shown_value(record, self.contract_set, self.limits)
        key = record.key.decode("utf-8", "replace")[:MAX_KEY_CHARS] if record.key else None
        return {
            "partition": record.partition,
            "offset": record.offset,
            "timestamp": iso(record.timestamp_ms),
            "key": key,
            "reason": record.reason,
            "contract": record.contract_id,
            "version": record.version,
            "violations": [
                {"rule": d.rule, "path": d.path, "message": d.message} for d in record.details
            ],
            "source": {
                "topic": record.source_topic,
                "partition": record.source_partition,
                "offset": record.source_offset,
            },
            "replay_count": record.replay_count,
            "value_bytes": len(record.value) if record.value is not None else None,
            "value": value,
            "value_note": note,
        }

    def top_paths(self) -> list[dict[str, Any]]:
        return [
            {"contract": contract, "rule": rule, "path": path, "count": n}
            for (contract, rule, path), n in sorted(
                self.paths.items(), key=lambda item: (-item[1], item[0])
            )[: self.top_limit]
        ]

    def as_dict(self) -> dict[str, Any]:
        """The stable ``--json`` shape (documented in docs/dlq.md)."""

        def counts(counter: Counter[str]) -> dict[str, int]:
            return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))

        return {
            "topic": self.topic,
            "filters": self.filters.describe(),
            "scanned": self.scanned,
            "records": self.matched,
            "time_range": {"first": iso(self.first_ms), "last": iso(self.last_ms)},
            "by_reason": counts(self.by_reason),
            "by_contract": counts(self.by_contract),
            "by_version": counts(self.by_version),
            "by_rule": counts(self.by_rule),
            "by_team": counts(self.by_team),
            "by_source_topic": counts(self.by_source_topic),
            "by_revision": counts(self.by_revision),
            "top_paths": self.top_paths(),
            "samples": self.samples,
            "contracts_revision": self.contract_set.revision if self.contract_set else None,
        }
