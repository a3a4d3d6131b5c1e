"""The confluent-kafka consume -> produce loop of the ceiling and the naive enforcer.

It is the enforcer's loop without the enforcer: the same client settings where
they matter (idempotent producer, ``linger.ms`` 5, ``read_committed``), batches
of ``batch_size`` from one ``consume()`` call, every record produced, one
``flush()`` and one synchronous offset commit per batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, Producer, TopicPartition

from streamprocs.benchmarks.spec import WorkerSpec
from streamprocs.enforcer.fetching import prefetch_settings
from streamprocs.enforcer.runtime import tune_gc

if TYPE_CHECKING:
    from streamprocs.benchmarks.worker import Protocol

# Where a record goes: (source topic, headers, value) in, (output topic, headers) out.
Route = Callable[[str, Any, bytes | None], tuple[str, Any]]

# Acknowledgement of one batch by a local broker takes milliseconds; a minute
# (the enforcer's TXN_TIMEOUT_S) turns a wedged broker into an error, not a hang.
FLUSH_TIMEOUT_S = 60.0
# librdkafka's local queue is full: give its threads this long to drain it
# (the enforcer's QUEUE_FULL_BACKOFF_S).
QUEUE_FULL_BACKOFF_S = 0.05


def consumer_config(spec: WorkerSpec) -> dict[str, Any]:
    return {
        "bootstrap.servers": spec.bootstrap,
        "group.id": spec.group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        # The enforcer's prefetch: with librdkafka's defaults the ceiling waited on
        # its 1 s fetch backoff, 80-90k events/s against 100-118k with these.
        **prefetch_settings(),
    }


def producer_config(spec: WorkerSpec, on_delivery: Callable[[Any, Any], None]) -> dict[str, Any]:
    return {
        "bootstrap.servers": spec.bootstrap,
        "enable.idempotence": True,
        "linger.ms": 5,
        "message.max.bytes": 100_000_000,
        # As in the enforcer: a Python call per failed record only, so the
        # ceiling does not pay for callbacks the enforcer never makes.
        "delivery.report.only.error": True,
        "on_delivery": on_delivery,
    }


def consume_produce(spec: WorkerSpec, protocol: Protocol, topics: list[str], route: Route) -> None:
    """Move ``spec.expected`` records from ``topics`` to wherever ``route`` says, then return."""
    tune_gc()  # the enforcer's interpreter settings, so that only the work differs
    # ``Any``: the client's stubs type every accessor of a message as optional,
    # which holds only for error events, and those are skipped.
    consumer: Any = Consumer(consumer_config(spec))
    failures: list[str] = []

    def on_delivery(err: Any, msg: Any) -> None:
        if err is not None:
            failures.append(f"{msg.topic()}: {err.str()}")

    producer: Any = Producer(producer_config(spec, on_delivery))

    def on_assign(_consumer: Any, _partitions: Any) -> None:
        protocol.ready()

    consumed = 0
    consumer.subscribe(topics, on_assign=on_assign)
    try:
        while consumed < spec.expected:
            messages = consumer.consume(num_messages=spec.batch_size, timeout=spec.batch_timeout_s)
            if not messages:
                continue
            protocol.consumed_first()
            next_offsets: dict[tuple[str, int], int] = {}
            for msg in messages:
                error = msg.error()
                if error is not None:
                    if error.fatal():
                        raise RuntimeError(f"consumer: {error.str()}")
                    continue
                topic = msg.topic()
                value = msg.value()
                headers = msg.headers()
                out_topic, out_headers = route(topic, headers, value)
                ts_type, ts = msg.timestamp()
                _produce(
                    producer,
                    out_topic,
                    value,
                    msg.key(),
                    out_headers,
                    ts if ts_type != TIMESTAMP_NOT_AVAILABLE else 0,
                )
                next_offsets[(topic, msg.partition())] = msg.offset() + 1
                consumed += 1
            remaining = producer.flush(FLUSH_TIMEOUT_S)
            if remaining or failures:
                raise RuntimeError(
                    f"batch not acknowledged: {remaining} queued, errors {failures[:3]}"
                )
            consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in next_offsets.items()],
                asynchronous=False,
            )
            protocol.consumed_so_far(consumed)
    finally:
        consumer.close()
    protocol.done(consumed)


def _produce(
    producer: Any,
    topic: str,
    value: bytes | None,
    key: bytes | None,
    headers: Any,
    timestamp: int,
) -> None:
    while True:
        try:
            producer.produce(
                topic,
                value=value,
                key=key,
                headers=headers,
                timestamp=timestamp,
            )
            return
        except BufferError:
            producer.poll(QUEUE_FULL_BACKOFF_S)


def passthrough(spec: WorkerSpec, protocol: Protocol) -> None:
    """(a) the ceiling: every record to its topic's output, untouched."""
    routes = spec.routes

    def route(topic: str, headers: Any, _value: bytes | None) -> tuple[str, Any]:
        return routes[topic], headers

    consume_produce(spec, protocol, sorted(routes), route)
