"""Helpers for tests that run the enforcer against the real broker."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Router
from streamprocs.enforcer import topics
from streamprocs.enforcer.config import Settings, load_settings
from streamprocs.enforcer.loop import Enforcer

REPO = Path(__file__).resolve().parents[2]

# Deadline for traffic to appear downstream. A healthy run takes seconds; the
# bound turns a stuck enforcer into a failure rather than a hang.
ARRIVAL_TIMEOUT_S = 90.0


def isolated_contracts(tmp_path: Path) -> tuple[Path, str]:
    """A copy of the example contracts whose topics carry a unique prefix."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    root = tmp_path / "contracts"
    shutil.copytree(REPO / "contracts", root)
    for path in root.glob("*/*/contract.yaml"):
        data = yaml.safe_load(path.read_text())
        for binding in data.get("bindings", []):
            for key in ("topic", "output", "dead_letter"):
                binding[key] = prefix + binding[key]
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return root, prefix


def create_topics(bootstrap: str, contracts: Path, partitions: int = 3) -> Router:
    """Every source, output and dead-letter topic the contracts name."""
    router = Router(load_contract_set(contracts))
    admin = AdminClient({"bootstrap.servers": bootstrap})
    plans, missing = topics.plan_topics(
        router, topics.existing_topics(admin), create_sources=True, source_partitions=partitions
    )
    assert not missing
    assert topics.create(admin, plans) == []
    return router


def all_topics(router: Router) -> list[str]:
    """Every output and dead-letter topic of a router."""
    return sorted({t for dests in router.output_topics().values() for t in dests})


def settings_for(bootstrap: str, contracts: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "kafka": {"bootstrap.servers": bootstrap},
        "contracts_dir": str(contracts),
        "group_id": f"g-{uuid.uuid4().hex[:8]}",
        "transactional_id": f"tx-{uuid.uuid4().hex[:8]}",
        "metrics": {"enabled": False},
        "batch_timeout_s": 0.1,
    }
    return load_settings(None, **{**values, **overrides})


@contextmanager
def running(enforcer: Enforcer) -> Iterator[Enforcer]:
    """The enforcer's loop in a thread; stopped, joined and checked on exit."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            enforcer.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="enforcer", daemon=True)
    thread.start()
    try:
        yield enforcer
    finally:
        enforcer.stop()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the enforcer did not stop within 60 s"
    if failure:
        raise failure[0]


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    timestamp: int

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name and value is not None:
                return value.decode()
        return None


def read_topics(
    bootstrap: str,
    topics: list[str],
    *,
    until: Callable[[list[Record]], bool],
    timeout: float = ARRIVAL_TIMEOUT_S,
    settle_s: float = 0.0,
) -> list[Record]:
    """Every committed record of ``topics``, read from the start until ``until`` holds.

    With ``settle_s``, keeps reading that long after ``until`` held, so a test
    that asserts "nothing more" sees duplicates that would arrive late.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(timeout=10)
        assignment = []
        for topic in topics:
            meta = metadata.topics.get(topic)
            if meta is None or meta.error:
                continue
            assignment += [TopicPartition(topic, p, 0) for p in meta.partitions]
        consumer.assign(assignment)
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        satisfied_at: float | None = None
        while time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=1000, timeout=0.2):
                if msg.error():
                    continue
                records.append(
                    Record(
                        msg.topic(),
                        msg.partition(),
                        msg.offset(),
                        msg.key(),
                        msg.value(),
                        list(msg.headers() or []),
                        msg.timestamp()[1],
                    )
                )
            if satisfied_at is None and until(records):
                satisfied_at = time.monotonic()
            if satisfied_at is not None and time.monotonic() - satisfied_at >= settle_s:
                return records
        return records
    finally:
        consumer.close()


def seq(record: Record) -> int:
    value = record.header("dce-sample-seq")
    assert value is not None, f"record without dce-sample-seq: {record}"
    return int(value)


def without_dce(headers: list[tuple[str, bytes | None]]) -> list[tuple[str, bytes | None]]:
    return [(k, v) for k, v in headers if not k.startswith("dce.")]


def metric_total(enforcer: Enforcer, name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for family in enforcer.metrics.registry.collect():
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total
