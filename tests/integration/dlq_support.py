"""Helpers for the dead-letter tests: topics, crafted dead letters, offsets, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import OFFSET_INVALID, Consumer, Producer, TopicPartition

from streamprocs.contracts.verdict import Verdict, Violation
from streamprocs.enforcer.envelope import Source, envelope
from tests.integration.support import REPO

# librdkafka answers metadata and offset look-ups in milliseconds from the local
# broker; the bound turns a wedged broker into a failure rather than a hang.
LOOKUP_TIMEOUT_S = 10.0
# A CLI run in these tests handles a few hundred records in a second or two;
# the bound only keeps a hung run from hanging the suite.
CLI_TIMEOUT_S = 120.0
CHECKOUT_EXAMPLE = REPO / "contracts/checkout/order_created/examples/v2.valid.jsonl"


def with_version(contracts: Path, dest: Path, currency_added: str) -> Path:
    """A copy of ``contracts`` where checkout.order_created gains v3: v2 plus a currency.

    The copy names the same topics, so it judges the same stream.
    """
    root = dest / "contracts-next"
    shutil.copytree(contracts, root)
    folder = root / "checkout/order_created"
    v2 = (folder / "v2.yaml").read_text()
    old = "enum: [USD, EUR, GBP, CAD, AUD]"
    assert old in v2, "the v2 currency enum changed; update this helper"
    v3 = v2.replace("version: 2", "version: 3", 1).replace(
        old, f"enum: [USD, EUR, GBP, CAD, AUD, {currency_added}]"
    )
    (folder / "v3.yaml").write_text(v3)
    return root


def write_config(path: Path, bootstrap: str, contracts: Path) -> Path:
    path.write_text(
        json.dumps(  # JSON is YAML
            {
                "kafka": {"bootstrap.servers": bootstrap},
                "contracts_dir": str(contracts),
                "log": {"format": "json", "level": "warning"},
            }
        )
    )
    return path


def _dce_command() -> list[str]:
    """``python -m streamprocs dlq`` once the group is wired into ``dce``, else the module."""
    from streamprocs.cli.main import app

    if any(group.name == "dlq" for group in app.registered_groups):
        return [sys.executable, "-m", "streamprocs", "dlq"]
    return [sys.executable, "-m", "streamprocs.cli.dlq"]


def dlq_argv(*args: str) -> list[str]:
    return [*_dce_command(), *args]


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def audit(self) -> dict[str, Any]:
        """The audit line the run wrote on stderr."""
        for line in self.stderr.splitlines():
            if line.startswith("{") and '"dce.replay.audit"' in line:
                data: dict[str, Any] = json.loads(line)
                return data
        raise AssertionError(f"no audit line on stderr:\n{self.stderr}")


def dlq(*args: str) -> CliRun:
    """Run ``dce dlq ARGS`` in its own process, as an operator would."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        dlq_argv(*args),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        cwd=REPO,
        env=env,
        check=False,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def end_offsets(bootstrap: str, names: Iterable[str]) -> dict[tuple[str, int], int]:
    """High watermark of every partition of ``names``."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"probe-{uuid.uuid4()}"})
    try:
        out = {}
        metadata = consumer.list_topics(timeout=LOOKUP_TIMEOUT_S)
        for name in names:
            for p in metadata.topics[name].partitions:
                _low, high = consumer.get_watermark_offsets(
                    TopicPartition(name, p), timeout=LOOKUP_TIMEOUT_S, cached=False
                )
                out[(name, p)] = high
        return out
    finally:
        consumer.close()


def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int | None]:
    """The group's committed offset per partition of ``topic`` (None: nothing committed)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "isolation.level": "read_committed"}
    )
    try:
        metadata = consumer.list_topics(topic, timeout=LOOKUP_TIMEOUT_S)
        partitions = [TopicPartition(topic, p) for p in metadata.topics[topic].partitions]
        return {
            tp.partition: (None if tp.offset == OFFSET_INVALID else tp.offset)
            for tp in consumer.committed(partitions, timeout=LOOKUP_TIMEOUT_S)
        }
    finally:
        consumer.close()


@dataclass(frozen=True)
class Raw:
    """A record to produce as it is: where, key, value, headers, timestamp."""

    topic: str
    value: bytes
    headers: list[tuple[str, bytes]]
    key: bytes | None = None
    partition: int | None = None
    timestamp: int | None = None


def produce_raw(bootstrap: str, records: Iterable[Raw]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    failures: list[str] = []

    def on_delivery(err: Any, _msg: Any) -> None:
        if err is not None:
            failures.append(str(err))

    for r in records:
        kwargs: dict[str, Any] = {"key": r.key, "headers": r.headers, "on_delivery": on_delivery}
        if r.partition is not None:
            kwargs["partition"] = r.partition
        if r.timestamp is not None:
            kwargs["timestamp"] = r.timestamp
        producer.produce(r.topic, r.value, **kwargs)
    assert producer.flush(LOOKUP_TIMEOUT_S) == 0
    assert not failures, failures


def checkout_order(seq: int, **changes: Any) -> bytes:
    """A valid checkout.order_created v2 event (first example) with fresh ids and ``changes``."""
    event = orjson.loads(CHECKOUT_EXAMPLE.read_text().splitlines()[0])
    event["event_id"] = str(uuid.UUID(int=seq + 1, version=4))
    event["order_id"] = f"ORD-{seq:010d}"
    event.update(changes)
    return orjson.dumps(event)


def dead_letter(
    dlq_topic: str,
    source: str,
    value: bytes,
    headers: list[tuple[str, bytes]],
    *,
    partition: int,
    offset: int,
    timestamp: int,
    extra: list[tuple[str, bytes]] | None = None,
    rule: str = "schema.enum",
) -> Raw:
    """A record as the enforcer dead-letters it (here: rejected by an older revision)."""
    verdict = Verdict((Violation("schema", rule, "/currency", "not allowed by the old revision"),))
    out = envelope(
        [*headers, *(extra or [])],
        verdict,
        Source(source, partition, offset, timestamp),
        contract_id="checkout.order_created",
        version=2,
        revision="oldrevision1",
        processor="test-enforcer",
    )
    return Raw(
        dlq_topic,
        value,
        [(k, v if v is not None else b"") for k, v in out],
        key=b"k%d" % offset,
        partition=partition,
        timestamp=timestamp,
    )


def header(headers: list[tuple[str, bytes | None]], name: str) -> str | None:
    for key, value in headers:
        if key == name and value is not None:
            return value.decode()
    return None


def count_where(predicate: Callable[[Any], bool]) -> Callable[[list[Any]], int]:
    return lambda records: sum(1 for r in records if predicate(r))
