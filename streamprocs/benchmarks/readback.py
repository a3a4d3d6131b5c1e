"""Reading a run's output and dead-letter topics: back after a run (how many, until
when), and live during a paced phase (how late each record became visible).

A run's end is the broker's LogAppendTime of the last record it wrote (its
output topics are created with ``message.timestamp.type=LogAppendTime``), and
the count proves the scenario moved every event. Read with ``read_committed``,
so records of an aborted transaction never count.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    TIMESTAMP_LOG_APPEND_TIME,
    Consumer,
    KafkaError,
    TopicPartition,
)

from streamprocs.traffic import SEQ_HEADER

# Metadata of a handful of topics on a local broker comes back in milliseconds.
METADATA_TIMEOUT_S = 10.0
# Reading a run's records back takes about a second per 500k records here; the
# bound turns a broker that stops answering into an error, not a hang.
READ_TIMEOUT_S = 300.0
# One consume() call: large batches keep the read-back short.
READ_BATCH = 10_000
READ_POLL_S = 0.5


@dataclass
class Readback:
    count: int = 0
    last_append_ms: int | None = None


def read_outputs(bootstrap: str, topics: Iterable[str]) -> Readback:
    """Every committed record of ``topics``: how many, and the latest LogAppendTime."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"dce-bench-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            # An end-of-partition event per partition says when everything was read,
            # even when a transaction's commit marker is the partition's last offset.
            "enable.partition.eof": True,
        }
    )
    result = Readback()
    try:
        metadata = consumer.list_topics(timeout=METADATA_TIMEOUT_S)
        assignment = []
        for topic in topics:
            meta = metadata.topics.get(topic)
            if meta is None or meta.error is not None:
                raise RuntimeError(f"output topic {topic} does not exist")
            assignment += [TopicPartition(topic, p, 0) for p in meta.partitions]
        consumer.assign(assignment)
        pending = {(tp.topic, tp.partition) for tp in assignment}
        deadline = time.monotonic() + READ_TIMEOUT_S
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"read-back timed out; {len(pending)} partitions unread")
            for msg in consumer.consume(num_messages=READ_BATCH, timeout=READ_POLL_S):
                _take(msg, result, pending)
    finally:
        consumer.close()
    return result


def _take(msg: Any, result: Readback, pending: set[tuple[str, int]]) -> None:
    error = msg.error()
    if error is not None:
        if error.code() == KafkaError._PARTITION_EOF:
            pending.discard((msg.topic(), msg.partition()))
            return
        raise RuntimeError(f"reading back {msg.topic()}: {error.str()}")
    ts_type, ts = msg.timestamp()
    if ts_type != TIMESTAMP_LOG_APPEND_TIME:
        raise RuntimeError(
            f"{msg.topic()} does not use LogAppendTime; the benchmark creates its output "
            "topics itself and cannot time records on this one"
        )
    result.count += 1
    if result.last_append_ms is None or ts > result.last_append_ms:
        result.last_append_ms = ts


# The live reader's wait per poll: a record is seen at most this long after it is readable.
LIVE_POLL_S = 0.001


class LiveReader:
    """Reads ``topics`` with ``read_committed`` while a paced phase runs, noting when each
    record (by its ``dce-sample-seq``) became visible, in wall-clock ms.

    That is the latency a downstream consumer sees: under exactly-once a record
    is visible only once its transaction commits, which its LogAppendTime (the
    time it was written, before the commit) does not show.
    """

    def __init__(self, bootstrap: str, topics: Iterable[str]) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"dce-bench-live-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                # Answer a fetch as soon as one byte is there, as a real-time consumer would.
                "fetch.wait.max.ms": 10,
            }
        )
        metadata = self._consumer.list_topics(timeout=METADATA_TIMEOUT_S)
        assignment = []
        for topic in topics:
            meta = metadata.topics.get(topic)
            if meta is None or meta.error is not None:
                self._consumer.close()
                raise RuntimeError(f"output topic {topic} does not exist")
            assignment += [TopicPartition(topic, p, 0) for p in meta.partitions]
        self._consumer.assign(assignment)
        self.seen_at: dict[int, int] = {}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dce-bench-live", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                # ``Any``: the stubs type a message's accessors as optional.
                msg: Any = self._consumer.poll(LIVE_POLL_S)
                if msg is None:
                    continue
                seen = int(time.time() * 1000)
                error = msg.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        self.errors.append(error.str())
                    continue
                for name, value in msg.headers() or ():
                    if name == SEQ_HEADER and value is not None:
                        self.seen_at.setdefault(int(value), seen)
                        break
        finally:
            self._consumer.close()

    def wait_for(self, seqs: Iterable[int], timeout: float) -> None:
        """Until every seq was seen or ``timeout`` passed; then the reader stops."""
        wanted = set(seqs)
        deadline = time.monotonic() + timeout
        while not wanted <= self.seen_at.keys() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        self._thread.join(timeout=METADATA_TIMEOUT_S)
