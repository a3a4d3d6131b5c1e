"""Read a topic from chosen start offsets up to its end offsets taken at the start.

Partitions are assigned explicitly (``assign``, never ``subscribe``), so the
reader never joins a consumer group and never triggers a rebalance; offsets
are committed only by the replay engine, in its transactions. Reading is
``read_committed`` (records of aborted enforcer transactions are not dead
letters) and stops at each partition's high watermark as it was when the
read began: records that arrive meanwhile wait for the next run, so a run
has a definite end and its progress bar a definite total.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from confluent_kafka import (
    OFFSET_INVALID,
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from streamprocs.dlq.record import DeadLetter
from streamprocs.enforcer.config import Settings

log = structlog.get_logger("dce.dlq")

# Metadata, watermark, committed-offset and timestamp look-ups answer in
# milliseconds from a healthy cluster; the bound turns an unreachable or
# misconfigured cluster (wrong bootstrap, TLS or SASL settings) into an error
# the operator sees instead of a silent hang.
METADATA_TIMEOUT_S = 30.0
# How long one consume() waits for records: short, so that a stop request
# (SIGINT/SIGTERM) and the end of the topic are noticed within half a second.
POLL_TIMEOUT_S = 0.5
# No record and no end-of-partition for this long, below the end offsets, means
# an open transaction on the topic holds read_committed readers back (an
# enforcer mid-batch, or a dead producer until the broker times its
# transaction out): say so, then keep waiting.
STALL_WARNING_S = 15.0


class DlqError(RuntimeError):
    """A problem the operator must fix before the command can run (exit 2)."""


class KafkaFailure(RuntimeError):
    """Kafka failed while the command ran (exit 1)."""


def consumer_config(settings: Settings, group_id: str) -> dict[str, Any]:
    return {
        **settings.kafka,
        "group.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        # Dead letters of an aborted enforcer batch were never dead letters.
        "isolation.level": "read_committed",
        # Tells the reader it has reached a partition's end even when the last
        # offsets are transaction markers, which are never delivered.
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
        # Never create a topic by asking about it.
        "allow.auto.create.topics": False,
        **settings.consumer,
    }


def throwaway_group() -> str:
    """A group id librdkafka insists on but that is never joined nor committed to."""
    return f"dce-dlq-inspect-{uuid.uuid4().hex[:12]}"


def open_consumer(settings: Settings, group_id: str) -> Any:
    try:
        return Consumer(consumer_config(settings, group_id))
    except KafkaException as exc:
        raise DlqError(f"bad Kafka settings: {exc}") from exc


def partition_count(consumer: Any, topic: str) -> int | None:
    """How many partitions ``topic`` has, ``None`` when it does not exist."""
    try:
        metadata = consumer.list_topics(topic=topic, timeout=METADATA_TIMEOUT_S)
    except KafkaException as exc:
        raise KafkaFailure(f"cannot read the metadata of {topic!r}: {exc}") from exc
    meta = metadata.topics.get(topic)
    if meta is None or meta.error is not None or not meta.partitions:
        return None
    return len(meta.partitions)


@dataclass
class Span:
    """What is left to read of one partition: ``next`` up to ``end`` (exclusive)."""

    partition: int
    start: int
    end: int
    next: int
    done: bool = False


class TopicReader:
    def __init__(self, consumer: Any, topic: str, spans: list[Span]) -> None:
        self.consumer = consumer
        self.topic = topic
        self.spans = {s.partition: s for s in spans}
        self._quiet_since = time.monotonic()

    @classmethod
    def plan(
        cls,
        consumer: Any,
        topic: str,
        *,
        since_ms: int | None = None,
        from_committed: bool = False,
    ) -> TopicReader:
        """Start at the beginning, or (``from_committed``) at the consumer group's
        committed offsets; never before the first record at or after ``since_ms``."""
        count = partition_count(consumer, topic)
        if count is None:
            raise DlqError(f"topic {topic!r} does not exist")
        partitions = [TopicPartition(topic, p) for p in range(count)]
        try:
            marks = {
                tp.partition: consumer.get_watermark_offsets(
                    tp, timeout=METADATA_TIMEOUT_S, cached=False
                )
                for tp in partitions
            }
            starts = {p: low for p, (low, _high) in marks.items()}
            if from_committed:
                for tp in consumer.committed(partitions, timeout=METADATA_TIMEOUT_S):
                    if tp.offset != OFFSET_INVALID and tp.offset >= 0:
                        # Below the low watermark: retention deleted what was left.
                        starts[tp.partition] = max(starts[tp.partition], tp.offset)
            if since_ms is not None:
                wanted = [TopicPartition(topic, p, since_ms) for p in range(count)]
                for tp in consumer.offsets_for_times(wanted, timeout=METADATA_TIMEOUT_S):
                    # -1: every record is older than since_ms.
                    at = tp.offset if tp.offset >= 0 else marks[tp.partition][1]
                    starts[tp.partition] = max(starts[tp.partition], at)
        except KafkaException as exc:
            raise KafkaFailure(f"cannot read the offsets of {topic!r}: {exc}") from exc
        spans = []
        for p, (_low, high) in sorted(marks.items()):
            start = min(starts[p], high)
            spans.append(Span(p, start, high, start, done=start >= high))
        return cls(consumer, topic, spans)

    @property
    def total(self) -> int:
        """Offsets left to read: an upper bound on the records (markers take offsets too)."""
        return sum(s.end - s.next for s in self.spans.values() if not s.done)

    @property
    def done(self) -> bool:
        return all(s.done for s in self.spans.values())

    def pending(self) -> list[int]:
        return [p for p, s in sorted(self.spans.items()) if not s.done]

    def start(self) -> None:
        self._assign()

    def _assign(self) -> None:
        self.consumer.assign(
            [
                TopicPartition(self.topic, s.partition, s.next)
                for s in self.spans.values()
                if not s.done
            ]
        )

    def _finish(self, span: Span) -> None:
        span.done = True
        # Stop fetching what lies past the end; it is for the next run.
        self.consumer.pause([TopicPartition(self.topic, span.partition)])

    def poll(self, max_records: int, timeout: float = POLL_TIMEOUT_S) -> list[DeadLetter]:
        """The next records (possibly none), never past a partition's end offset."""
        if self.done:
            return []
        out: list[DeadLetter] = []
        messages = self.consumer.consume(num_messages=max_records, timeout=timeout)
        if messages:
            self._quiet_since = time.monotonic()
        elif time.monotonic() - self._quiet_since > STALL_WARNING_S:
            log.warning(
                "waiting for records below the end offsets; an open transaction on the "
                "topic holds read_committed readers back",
                topic=self.topic,
                partitions=self.pending(),
            )
            self._quiet_since = time.monotonic()
        for msg in messages:
            error = msg.error()
            span = self.spans.get(msg.partition())
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    if span is not None and not span.done and msg.offset() >= span.end:
                        self._finish(span)
                    continue
                if error.fatal() or error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise KafkaFailure(f"reading {self.topic!r}: {error.str()}")
                log.warning("consumer error", topic=self.topic, error=error.str())
                continue
            if span is None or span.done:
                continue
            offset = msg.offset()
            if offset >= span.end:
                self._finish(span)
                continue
            ts_type, ts = msg.timestamp()
            out.append(
                DeadLetter.of(
                    self.topic,
                    span.partition,
                    offset,
                    msg.key(),
                    msg.value(),
                    msg.headers(),
                    ts if ts_type != TIMESTAMP_NOT_AVAILABLE else None,
                )
            )
            span.next = offset + 1
            if span.next >= span.end:
                self._finish(span)
        return out

    def rewind(self, offsets: Mapping[int, int]) -> None:
        """Read again from these offsets (partition -> offset): a failed batch's first records."""
        for partition, offset in offsets.items():
            span = self.spans[partition]
            span.next = offset
            span.done = offset >= span.end
        self._assign()
        # A partition paused at its end and now rewound must be fetched again.
        self.consumer.resume(
            [TopicPartition(self.topic, p) for p in offsets if not self.spans[p].done]
        )
