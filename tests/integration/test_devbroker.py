"""The dev broker is a real Kafka: records, headers and transactions behave as in production.

Each test checks something that a fake or half-started broker would get wrong, so each can
fail: byte-exact records and headers, read_committed hiding an aborted transaction (while
read_uncommitted shows it), status and idempotent `up` reporting the one process we started.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import (
    OFFSET_BEGINNING,
    TIMESTAMP_CREATE_TIME,
    Consumer,
    KafkaError,
    Message,
    Producer,
    TopicPartition,
)
from typer.testing import CliRunner

from streamprocs.cli.dev import dev_app
from streamprocs.devkafka import DevBroker, DevKafkaConfigError
from streamprocs.devkafka.process import is_alive

#: Reading back a few hundred records from a local broker takes well under a second; the
#: bound turns a lost record into a failure with a message instead of a hang.
READ_TIMEOUT_S = 30.0

#: Delivery of a few hundred records on loopback is immediate; same reasoning as above.
FLUSH_TIMEOUT_S = 30.0

#: InitProducerId waits for the transaction coordinator to load __transaction_state: a
#: second or so on a fresh broker.
TXN_TIMEOUT_S = 30.0

#: A second broker for the stop/restart test, beside the session's one.
RESTART_PORT = int(os.environ.get("DCE_TEST_KAFKA_RESTART_PORT", "19094"))
RESTART_CONTROLLER_PORT = int(os.environ.get("DCE_TEST_KAFKA_RESTART_CONTROLLER_PORT", "19095"))

Header = tuple[str, str | bytes | None]
Record = tuple[bytes | None, bytes | None, list[Header], int]


def produce_all(bootstrap: str, topic: str, records: list[Record], **conf: str | int) -> None:
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            errors.append(err)

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, **conf})
    for key, value, headers, timestamp in records:
        producer.produce(
            topic,
            value=value,
            key=key,
            headers=headers,
            timestamp=timestamp,
            on_delivery=on_delivery,
        )
    assert producer.flush(FLUSH_TIMEOUT_S) == 0, "records still undelivered"
    assert errors == []


def read_topic(
    bootstrap: str, topic: str, stop: Callable[[list[Message]], bool], isolation: str
) -> list[Message]:
    """Read partition 0 from the start until `stop(messages)` holds; fail at the deadline."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",  # never committed: assign() below
            "enable.auto.commit": False,
            "isolation.level": isolation,
        }
    )
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    messages: list[Message] = []
    deadline = time.monotonic() + READ_TIMEOUT_S
    try:
        while not stop(messages):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"read {len(messages)} records from {topic}, then nothing more")
            for msg in consumer.consume(num_messages=500, timeout=min(remaining, 0.25)):
                assert msg.error() is None, msg.error()
                messages.append(msg)
    finally:
        consumer.close()
    return messages


def test_records_with_headers_come_back_byte_identical(
    kafka_bootstrap: str, create_topic: Callable[..., str]
) -> None:
    """Keys, values, headers (repeated, binary, null) and create timestamps survive exactly."""
    topic = create_topic()
    base_ts = 1_700_000_000_000
    records: list[Record] = []
    for i in range(300):
        key = None if i % 10 == 0 else f"key-{i}".encode()
        value = None if i % 37 == 0 else bytes((i + j) % 256 for j in range(i % 50)) + b"\xff\x00"
        headers: list[Header] = [
            ("dce.source.offset", str(i).encode()),
            ("bin", bytes([0, 255, i % 256])),
            ("dup", b"first"),
            ("dup", b"second"),  # repeated header names keep order and both values
            ("null", None),
        ]
        records.append((key, value, headers, base_ts + i))
    produce_all(kafka_bootstrap, topic, records, **{"linger.ms": 5})

    got = read_topic(kafka_bootstrap, topic, lambda ms: len(ms) >= len(records), "read_committed")

    assert len(got) == len(records)
    for offset, (msg, (key, value, headers, ts)) in enumerate(zip(got, records, strict=True)):
        assert msg.offset() == offset
        assert msg.key() == key
        assert msg.value() == value
        assert msg.headers() == headers
        assert msg.timestamp() == (TIMESTAMP_CREATE_TIME, ts)


def test_transactions_commit_and_abort(
    kafka_bootstrap: str, create_topic: Callable[..., str]
) -> None:
    """read_committed sees committed records only; read_uncommitted proves the aborted ones
    were really written, so the filtering is the broker's transaction support at work."""
    topic = create_topic()
    producer = Producer(
        {"bootstrap.servers": kafka_bootstrap, "transactional.id": f"txn-{uuid.uuid4().hex}"}
    )
    producer.init_transactions(TXN_TIMEOUT_S)
    for label, finish in (
        ("committed", producer.commit_transaction),
        ("aborted", producer.abort_transaction),
        ("sentinel", producer.commit_transaction),
    ):
        producer.begin_transaction()
        count = 1 if label == "sentinel" else 3
        for i in range(count):
            producer.produce(topic, value=f"{label}-{i}".encode())
        # Deliver before finishing: librdkafka's abort purges records still queued locally,
        # and then the broker would never have seen (nor had to hide) the aborted ones.
        assert producer.flush(FLUSH_TIMEOUT_S) == 0
        finish(TXN_TIMEOUT_S)

    def saw_sentinel(msgs: list[Message]) -> bool:
        return any(m.value() == b"sentinel-0" for m in msgs)

    committed = read_topic(kafka_bootstrap, topic, saw_sentinel, "read_committed")
    assert [m.value() for m in committed] == [
        b"committed-0",
        b"committed-1",
        b"committed-2",
        b"sentinel-0",
    ]
    everything = read_topic(kafka_bootstrap, topic, saw_sentinel, "read_uncommitted")
    assert [m.value() for m in everything] == [
        b"committed-0",
        b"committed-1",
        b"committed-2",
        b"aborted-0",
        b"aborted-1",
        b"aborted-2",
        b"sentinel-0",
    ]


def test_status_reports_the_running_broker(dev_broker: DevBroker, kafka_bootstrap: str) -> None:
    """Python API and `dce dev status --json` agree: running, answering, our pid and ports."""
    report = dev_broker.status()
    assert report.running and report.ready
    assert report.bootstrap == kafka_bootstrap == f"127.0.0.1:{dev_broker.port}"
    assert report.pid is not None and is_alive(report.pid)
    assert report.data_dir == dev_broker.home / "data"
    assert (report.data_dir / "meta.properties").is_file()

    result = CliRunner().invoke(dev_app, ["status", "--json", "--home", str(dev_broker.home)])
    assert result.exit_code == 0, result.output
    cli_report = json.loads(result.stdout)
    assert cli_report["running"] is True and cli_report["ready"] is True
    assert cli_report["pid"] == report.pid
    assert cli_report["bootstrap"] == kafka_bootstrap


def test_up_twice_is_idempotent(dev_broker: DevBroker, kafka_bootstrap: str) -> None:
    """A second `up` on the same home adopts the running broker: same pid, no restart."""
    pid_before = dev_broker.status().pid
    again = DevBroker(dev_broker.home, dev_broker.port, dev_broker.controller_port)
    assert again.up(timeout=30) == kafka_bootstrap
    assert again.status().pid == pid_before

    # Other ports for the same home are refused rather than silently ignored.
    moved = DevBroker(dev_broker.home, dev_broker.port + 1000, dev_broker.controller_port + 1000)
    with pytest.raises(DevKafkaConfigError, match="already runs"):
        moved.up(timeout=5)
    assert dev_broker.status().pid == pid_before


def test_down_stops_it_and_up_restarts_on_the_same_data(tmp_path: Path) -> None:
    """`down` ends the very process `up` started; the next `up` keeps the topics' data."""
    broker = DevBroker(tmp_path / "home", RESTART_PORT, RESTART_CONTROLLER_PORT)
    try:
        bootstrap = broker.up(timeout=120)
        produce_all(bootstrap, "kept", [(b"k", b"survives a restart", [], 1_700_000_000_000)])
        pid = broker.status().pid
        assert pid is not None

        assert broker.down() is True
        assert not is_alive(pid)
        assert broker.status().running is False
        assert broker.down() is False  # idempotent

        assert broker.up(timeout=120) == bootstrap
        assert broker.status().pid != pid
        got = read_topic(bootstrap, "kept", lambda ms: len(ms) >= 1, "read_committed")
        assert [m.value() for m in got] == [b"survives a restart"]
    finally:
        broker.down()
