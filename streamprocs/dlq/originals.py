"""The event behind a dead-letter record sent without its value, read back from its source.

The enforcer leaves the value out when the dead-letter topic cannot take it
(``dce.value.omitted``, see docs/enforcer.md); the event itself is still in
its source topic at the envelope's ``dce.source.*`` coordinates for as long as
that topic keeps it. Replay reads it from there, so that such a record can be
judged and sent back like any other.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from streamprocs.dlq.record import DeadLetter
from streamprocs.enforcer import envelope as env
from streamprocs.enforcer.config import Settings

# One record from the local cluster takes milliseconds; the bound only keeps a
# partition that cannot be read from holding the replay up for long.
FETCH_TIMEOUT_S = 10.0
POLL_S = 0.2


class Originals:
    """Reads source records by their coordinates, with one consumer for the whole run."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._consumer: Any = None

    def complete(self, record: DeadLetter) -> DeadLetter | None:
        """The record with the key, value and headers of its source event, or ``None``
        when the source no longer holds it (retention) or holds another record there
        (a value of another length)."""
        size = record.value_omitted
        topic, partition, offset = (
            record.source_topic,
            record.source_partition,
            record.source_offset,
        )
        if size is None or topic is None or partition is None or offset is None:
            return None
        msg = self._fetch(topic, partition, offset)
        if msg is None or len(msg.value() or b"") != size:
            return None
        # The event's own headers, then this record's envelope less the omission mark.
        headers = [(k, v) for k, v in msg.headers() or [] if not k.startswith(env.PREFIX)]
        headers += [
            (k, v) for k, v in record.headers if k.startswith(env.PREFIX) and k != env.VALUE_OMITTED
        ]
        return DeadLetter.of(
            record.topic,
            record.partition,
            record.offset,
            msg.key(),
            msg.value(),
            headers,
            record.timestamp_ms,
        )

    def _fetch(self, topic: str, partition: int, offset: int) -> Any:
        consumer = self._open()
        consumer.assign([TopicPartition(topic, partition, offset)])
        try:
            deadline = time.monotonic() + FETCH_TIMEOUT_S
            while time.monotonic() < deadline:
                msg = consumer.poll(POLL_S)
                if msg is None:
                    continue
                error = msg.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF or error.fatal():
                        return None
                    if error.code() == KafkaError._AUTO_OFFSET_RESET:
                        return None  # the offset is gone: retention removed the event
                    continue
                # Any other offset means the one asked for is not there any more.
                return msg if msg.offset() == offset else None
            return None
        finally:
            consumer.unassign()

    def _open(self) -> Any:
        if self._consumer is None:
            self._consumer = Consumer(
                {
                    **self.settings.kafka,
                    "group.id": f"dce-originals-{uuid.uuid4().hex[:12]}",
                    "enable.auto.commit": False,
                    "isolation.level": "read_committed",
                    "enable.partition.eof": True,
                    # An offset the topic no longer has is an error, not a jump elsewhere.
                    "auto.offset.reset": "error",
                }
            )
        return self._consumer

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
