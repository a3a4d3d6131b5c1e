"""What a replay run did: per-batch tallies, the run's report and its audit record. Pure.

The report is what ``dce dlq replay --json`` prints and what the audit record
carries, so scripts and auditors read one shape (docs/dlq.md lists it).
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from streamprocs.dlq.decision import Action, Judgement, rule_keys, verdict_keys
from streamprocs.dlq.filters import Filters, iso
from streamprocs.dlq.record import DeadLetter

AUDIT_EVENT = "dce.replay.audit"


@dataclass
class Tally:
    """Counts of one batch; merged into the run's totals only when the batch commits."""

    actions: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    skipped_by: Counter[str] = field(default_factory=Counter)
    replayed_by_rule: Counter[str] = field(default_factory=Counter)
    still_invalid_by_rule: Counter[str] = field(default_factory=Counter)
    destinations: Counter[str] = field(default_factory=Counter)
    parked: int = 0
    read: int = 0

    def add(
        self, record: DeadLetter, judgement: Judgement, destination: str | None, parked: bool
    ) -> None:
        self.read += 1
        self.actions[judgement.action.value] += 1
        if judgement.skip is not None:
            self.skipped_by[judgement.skip.value] += 1
        decision = judgement.decision
        if decision is not None:
            self.outcomes[decision.outcome.value] += 1
        if judgement.action is Action.REPLAY:
            # What no longer applies: the rules the record was dead-lettered for.
            self.replayed_by_rule.update(rule_keys(record))
        elif judgement.action is Action.STILL_INVALID and decision is not None:
            self.still_invalid_by_rule.update(verdict_keys(decision))
        if destination is not None:
            self.destinations[destination] += 1
        if parked:
            self.parked += 1

    def merge(self, other: Tally) -> None:
        self.actions.update(other.actions)
        self.outcomes.update(other.outcomes)
        self.skipped_by.update(other.skipped_by)
        self.replayed_by_rule.update(other.replayed_by_rule)
        self.still_invalid_by_rule.update(other.still_invalid_by_rule)
        self.destinations.update(other.destinations)
        self.parked += other.parked
        self.read += other.read


def _sorted(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def new_replay_id(now: datetime | None = None) -> str:
    """Sortable by time and unique: ``20240702T101112Z-3f9a1c2b``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{os.urandom(4).hex()}"


@dataclass
class ReplayReport:
    replay_id: str
    topic: str
    group: str
    filters: Filters
    dry_run: bool
    contracts_revision: str
    to: str | None = None
    park: str | None = None
    max_records: int | None = None
    rate: float | None = None
    max_replays: int = 3
    from_beginning: bool = False
    started_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    finished_ms: int | None = None
    # running, completed (end of topic or --max reached), interrupted, failed
    status: str = "running"
    error: str | None = None
    transactions: int = 0
    aborted_transactions: int = 0
    # Records sent without their value whose event was read back from its source topic.
    values_from_source: int = 0
    totals: Tally = field(default_factory=Tally)

    def as_dict(self) -> dict[str, Any]:
        t = self.totals
        return {
            "replay_id": self.replay_id,
            "topic": self.topic,
            "group": self.group,
            "dry_run": self.dry_run,
            "status": self.status,
            "error": self.error,
            "started_at": iso(self.started_ms),
            "finished_at": iso(self.finished_ms),
            "contracts_revision": self.contracts_revision,
            "filters": self.filters.describe(),
            "options": {
                "to": self.to,
                "park": self.park,
                "max": self.max_records,
                "rate": self.rate,
                "max_replays": self.max_replays,
                "from_beginning": self.from_beginning,
            },
            "counts": {
                "read": t.read,
                "filtered": t.actions[Action.FILTERED.value],
                "replayed": t.actions[Action.REPLAY.value],
                "still_invalid": t.actions[Action.STILL_INVALID.value],
                "parked": t.parked,
                "skipped": t.actions[Action.SKIP.value],
            },
            "by_outcome": _sorted(t.outcomes),
            "skipped_by": _sorted(t.skipped_by),
            "replayed_by_rule": _sorted(t.replayed_by_rule),
            "still_invalid_by_rule": _sorted(t.still_invalid_by_rule),
            "destinations": _sorted(t.destinations),
            "transactions": {"committed": self.transactions, "aborted": self.aborted_transactions},
            "values_from_source": self.values_from_source,
        }


def who() -> tuple[str, str]:
    """(user, host) of whoever runs the replay: ``$USER`` (or the login name) and hostname."""
    user = os.environ.get("USER")
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            # No login name and no passwd entry (a container running a bare uid).
            user = f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return user, socket.gethostname()


def audit_record(report: ReplayReport) -> dict[str, Any]:
    user, host = who()
    return {"event": AUDIT_EVENT, "user": user, "host": host, **report.as_dict()}


def emit(record: dict[str, Any], stream: TextIO | None = None) -> None:
    """The audit record as one JSON line on stderr, whatever the log format.

    Always JSON (not the console renderer on a TTY), so that the line can be
    grepped out of a terminal session log and parsed as it is.
    """
    line = orjson.dumps(
        {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "info",
            **record,
        }
    )
    out = stream or sys.stderr
    out.write(line.decode() + "\n")
    out.flush()
