"""The replay's transactional producer: one transaction open at a time, begun lazily.

Kafka calls raise ``KafkaFailure`` with a message an operator can act on;
an abortable commit failure is not raised but reported, so that the engine
can rewind and read the batch again (as the enforcer does).
"""

from __future__ import annotations

from typing import Any

import structlog
from confluent_kafka import KafkaError, KafkaException, Producer

from streamprocs.dlq.reader import DlqError, KafkaFailure
from streamprocs.enforcer.loop import TXN_TIMEOUT_S

log = structlog.get_logger("dce.dlq.replay")

# librdkafka's local queue is full: give its threads this long to drain it.
QUEUE_FULL_BACKOFF_S = 0.05
# commit_transaction() may fail with a retriable error (a coordinator moving);
# the client documents retrying the call. More failures than this are real.
COMMIT_ATTEMPTS = 3

_FENCED = frozenset(
    {KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH}
)


def explain(exc: KafkaException, what: str) -> str:
    error = exc.args[0] if exc.args else None
    if isinstance(error, KafkaError) and error.code() in _FENCED:
        return (
            f"{what}: another replay with the same group (and so the same transactional.id) "
            "took over; this run stopped, its open batch was not committed"
        )
    return f"{what}: {exc}"


class Transactions:
    def __init__(self, config: dict[str, Any]) -> None:
        try:
            self.producer: Any = Producer(config)
        except KafkaException as exc:
            raise DlqError(f"bad Kafka producer settings: {exc}") from exc
        self.open = False
        self.delivery_errors: list[str] = []

    def _call(self, what: str, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except KafkaException as exc:
            raise KafkaFailure(explain(exc, what)) from exc

    def init(self) -> None:
        """Fence any earlier producer with this transactional.id; abort its open transaction."""
        self._call("init", self.producer.init_transactions, TXN_TIMEOUT_S)

    def begin(self) -> None:
        if not self.open:
            self._call("begin", self.producer.begin_transaction)
            self.open = True
            self.delivery_errors = []

    def produce(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: Any,
        timestamp: int | None = None,
        partition: int | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {
            "key": key,
            "value": value,
            "headers": headers,
            "on_delivery": self._on_delivery,
        }
        if timestamp is not None:
            kwargs["timestamp"] = timestamp
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                self.producer.produce(topic, **kwargs)
                return
            except BufferError:
                self.producer.poll(QUEUE_FULL_BACKOFF_S)
            except KafkaException as exc:
                raise KafkaFailure(explain(exc, f"produce to {topic!r}")) from exc

    def _on_delivery(self, err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            self.delivery_errors.append(f"{msg.topic()}: {err.str()}")

    def commit(self, offsets: list[Any], group_metadata: Any) -> str | None:
        """Commit the records and ``offsets`` together: None, or why the batch was aborted."""
        try:
            self.producer.send_offsets_to_transaction(offsets, group_metadata, TXN_TIMEOUT_S)
            for attempt in range(1, COMMIT_ATTEMPTS + 1):
                try:
                    self.producer.commit_transaction(TXN_TIMEOUT_S)
                    break
                except KafkaException as exc:
                    error = exc.args[0]
                    retriable = isinstance(error, KafkaError) and error.retriable()
                    if attempt < COMMIT_ATTEMPTS and retriable:
                        continue
                    raise
        except KafkaException as exc:
            error = exc.args[0]
            if isinstance(error, KafkaError) and error.txn_requires_abort():
                self._call("abort", self.producer.abort_transaction, TXN_TIMEOUT_S)
                self.open = False
                return error.str()
            raise KafkaFailure(explain(exc, "commit")) from exc
        self.open = False
        return None

    def abort_quietly(self) -> None:
        """Abort an open transaction on the way out, so read_committed readers of the
        destinations are not held back until the broker's transaction timeout."""
        if not self.open:
            return
        try:
            self.producer.abort_transaction(TXN_TIMEOUT_S)
        except KafkaException as exc:
            log.warning("could not abort the open transaction", error=str(exc))
        self.open = False

    def write_one(self, topic: str, key: bytes, value: bytes) -> None:
        """One record in a transaction of its own (the audit record)."""
        self.begin()
        self.produce(topic, key=key, value=value, headers=None)
        self._call(f"write to {topic!r}", self.producer.commit_transaction, TXN_TIMEOUT_S)
        self.open = False

    def close(self) -> None:
        self.producer.flush(TXN_TIMEOUT_S)
