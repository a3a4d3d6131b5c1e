"""Sending sample records to a broker (``confluent_kafka`` imported only here)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from streamprocs.traffic.records import PRODUCER_MESSAGE_MAX_BYTES, SampleRecord


class ProduceError(RuntimeError):
    """Some records were not delivered."""


def produce(
    records: Iterable[SampleRecord],
    bootstrap: str,
    *,
    extra_config: dict[str, str] | None = None,
    rate: float | None = None,
) -> int:
    """Send ``records`` to the broker at ``bootstrap``; the number delivered.

    Idempotent producer, ``linger.ms`` 5; ``rate`` caps records per second.
    Raises ``ProduceError`` when any record was not delivered (after the others
    were flushed). ``too_large`` samples need a broker (``message.max.bytes``) or
    topic (``max.message.bytes``) limit above the enforcer's size limit.
    """
    from confluent_kafka import KafkaError, KafkaException, Producer

    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "linger.ms": 5,
        "enable.idempotence": True,
        "message.max.bytes": PRODUCER_MESSAGE_MAX_BYTES,
    }
    config.update(extra_config or {})
    producer = Producer(config)
    delivered = 0
    failed = 0
    errors: Counter[str] = Counter()
    too_large = False

    def failure(err: Any) -> None:
        nonlocal failed, too_large
        failed += 1
        errors[err.str()] += 1
        too_large = too_large or err.code() == KafkaError.MSG_SIZE_TOO_LARGE

    # Called from poll() and flush(), on this thread.
    def on_delivery(err: Any, _msg: Any) -> None:
        nonlocal delivered
        if err is None:
            delivered += 1
        else:
            failure(err)

    start = time.monotonic()
    for sent, record in enumerate(records):
        if rate is not None and rate > 0:
            due = start + sent / rate
            while (wait := due - time.monotonic()) > 0:
                producer.poll(min(wait, 0.1))
        headers: list[tuple[str, str | bytes | None]] = list(record.headers)
        while True:
            try:
                producer.produce(
                    record.topic,
                    value=record.value,
                    key=record.key,
                    headers=headers,
                    on_delivery=on_delivery,
                )
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                producer.poll(0.1)
                continue
            except KafkaException as exc:
                # Refused before queueing (e.g. over the producer's message.max.bytes).
                failure(exc.args[0])
            break
        producer.poll(0)
    remaining = producer.flush(60)
    if remaining:
        failed += remaining
        errors[f"{remaining} record(s) still queued after 60 s"] += 1
    if failed:
        detail = "; ".join(f"{message} (x{n})" for message, n in errors.most_common(5))
        hint = (
            " - too_large samples need message.max.bytes on the broker (or max.message.bytes "
            "on the topic) above the enforcer's size limit"
            if too_large
            else ""
        )
        raise ProduceError(
            f"{failed} record(s) not delivered to {bootstrap} ({delivered} delivered): "
            f"{detail}{hint}"
        )
    return delivered


# --- command line ------------------------------------------------------------------------
