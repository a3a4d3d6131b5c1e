"""The Prometheus metrics of ../docs: names and labels are a public interface.

Dashboards and alerts are built on these names, so they are defined here once.
Each enforcer owns its own registry, so several can run in one process (tests).
Counters are updated once per batch from per-batch tallies, not per event.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

from streamprocs import __version__
from streamprocs.contracts.loader import ContractSet

EventKey = tuple[str, str, str, str, str]  # topic, contract, version, team, outcome
ViolationKey = tuple[str, str, str, str, str]  # contract, version, team, reason, rule
DlqKey = tuple[str, str]  # dlq_topic, reason


# ``*_created`` series double the exposition size and no dashboard reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "dce_events",
            "Events judged, by outcome.",
            ["topic", "contract", "version", "team", "outcome"],
            registry=r,
        )
        self.violations = Counter(
            "dce_violations",
            "Violations found, by rule.",
            ["contract", "version", "team", "reason", "rule"],
            registry=r,
        )
        self.dlq_records = Counter(
            "dce_dlq_records",
            "Records written to dead-letter topics.",
            ["dlq_topic", "reason"],
            registry=r,
        )
        self.dlq_errors = Counter(
            "dce_dlq_errors",
            "Dead-letter records that could not be produced.",
            ["dlq_topic"],
            registry=r,
        )
        self.batch_duration = Histogram(
            "dce_batch_duration_seconds",
            "Time spent judging, producing and committing one batch (waits for records excluded).",
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.consumer_lag = Gauge(
            "dce_consumer_lag",
            "Messages behind the end of each partition.",
            ["topic", "partition"],
            registry=r,
        )
        self.last_event = Gauge(
            "dce_last_event_timestamp_seconds",
            "Timestamp of the newest event seen.",
            ["topic", "contract"],
            registry=r,
        )
        self.contracts_loaded = Gauge(
            "dce_contracts_loaded",
            "Contract versions loaded (1 each).",
            ["contract", "version", "status"],
            registry=r,
        )
        self.reloads = Counter(
            "dce_contracts_reload",
            "Contract set reloads, by result.",
            ["result"],
            registry=r,
        )
        self.revision_info = Gauge(
            "dce_contracts_revision_info",
            "Revision of the contract set in use.",
            ["revision"],
            registry=r,
        )
        self.transactions = Counter(
            "dce_transactions",
            "Kafka transactions, by result.",
            ["result"],
            registry=r,
        )
        self.replay_records = Counter(
            "dce_replay_records",
            "Dead-letter records replayed, by result.",
            ["result"],
            registry=r,
        )
        self.build_info = Gauge("dce_build_info", "dce build.", ["version"], registry=r)
        self.build_info.labels(__version__).set(1)
        for result in ("ok", "error"):
            self.reloads.labels(result)
        for result in ("committed", "aborted"):
            self.transactions.labels(result)

    def contracts_changed(self, contract_set: ContractSet) -> None:
        self.contracts_loaded.clear()
        for contract in contract_set.contracts.values():
            for number, version in contract.versions.items():
                self.contracts_loaded.labels(contract.id, str(number), version.status.value).set(1)
        self.revision_info.clear()
        self.revision_info.labels(contract_set.revision).set(1)

    def add_batch(
        self,
        events: Mapping[EventKey, int],
        violations: Mapping[ViolationKey, int],
        dlq: Mapping[DlqKey, int],
        last_seen: Mapping[tuple[str, str], float],
    ) -> None:
        for key, n in events.items():
            self.events.labels(*key).inc(n)
        for vkey, n in violations.items():
            self.violations.labels(*vkey).inc(n)
        for dkey, n in dlq.items():
            self.dlq_records.labels(*dkey).inc(n)
        for (topic, contract), ts in last_seen.items():
            self.last_event.labels(topic, contract).set(ts)


__all__ = ["EventKey", "Metrics", "Tally"]
