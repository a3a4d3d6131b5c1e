"""The benchmark's input: the contracts' realistic mix, produced once, and the paced producer.

The mix is :func:`streamprocs.traffic.generate_mix` (valid events from the
contracts' examples with fresh ids, ``invalid_share`` of them invalid, cycling
through every dead-letter reason), generated in chunks with consecutive seeds
so that a large ``--events`` never holds every record in memory at once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson

from streamprocs.contracts.loader import ContractSet
from streamprocs.traffic import BODY_REASONS, SEQ_HEADER, SampleRecord, generate_mix, produce

# Records generated (and produced) at a time: bounds the runner's memory.
CHUNK = 50_000
# Name of the field that --event-size adds to pad events; the example contracts
# allow additional properties, so padding changes no verdict.
PAD_FIELD = "bench_padding"
# A paced producer flushes everything it sent within this bound; a local broker
# acknowledges in milliseconds, so the bound only turns a wedged broker into an error.
PACED_FLUSH_TIMEOUT_S = 60.0
# The client's local queue is full: give its threads this long to drain it.
QUEUE_FULL_BACKOFF_S = 0.05


def iter_mix(
    contract_set: ContractSet,
    count: int,
    *,
    invalid_share: float,
    seed: int,
    max_event_bytes: int,
    event_size: int | None = None,
) -> Iterator[list[SampleRecord]]:
    """The mix in chunks of at most :data:`CHUNK` records."""
    done = 0
    chunk_seed = seed
    while done < count:
        n = min(CHUNK, count - done)
        records = generate_mix(
            contract_set,
            n,
            invalid_share=invalid_share,
            seed=chunk_seed,
            max_event_bytes=max_event_bytes,
        )
        if event_size is not None:
            records = [pad(r, event_size, max_event_bytes) for r in records]
        yield records
        done += n
        chunk_seed += 1


def pad(record: SampleRecord, size: int, max_event_bytes: int) -> SampleRecord:
    """The record with its JSON object grown to about ``size`` bytes by one string field.

    Records whose reason is about their bytes (decode, too_large, too_deep) keep
    them, and so does a record already at or above ``size``. The padded size stays
    below ``max_event_bytes`` so that padding never turns a record into too_large.
    """
    if record.expected_reason in BODY_REASONS or len(record.value) >= size:
        return record
    try:
        event = orjson.loads(record.value)
    except orjson.JSONDecodeError:
        return record
    if not isinstance(event, dict) or PAD_FIELD in event:
        return record
    target = min(size, max_event_bytes - 1)
    # `,"bench_padding":""` is len(PAD_FIELD) + 6 bytes before the padding itself.
    room = target - len(record.value) - len(PAD_FIELD) - 6
    if room <= 0:
        return record
    event[PAD_FIELD] = "x" * room
    return dataclasses.replace(record, value=orjson.dumps(event))


def produce_to(records: Sequence[SampleRecord], bootstrap: str, topic_of: dict[str, str]) -> int:
    """Produce records to the input copy of their source topic; the number delivered."""
    renamed = (dataclasses.replace(r, topic=topic_of[r.topic]) for r in records)
    return produce(renamed, bootstrap)


def produce_paced(
    records: Sequence[SampleRecord],
    bootstrap: str,
    topic_of: dict[str, str],
    rate: float,
    *,
    clock: Callable[[], float] = time.time,
) -> dict[int, int]:
    """Produce ``rate`` records per second; the CreateTime (ms) of each record, by its seq.

    Each record's timestamp is set explicitly to the wall clock at the moment it
    is handed to the client, so the latency measured later (when a read_committed
    consumer saw the output record, minus this) is end to end: client, broker,
    scenario, broker, and under exactly-once the transaction's commit.
    ``linger.ms`` is 0 so the client adds no batching delay of its own.
    """
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    failures: list[str] = []

    def on_delivery(err: Any, _msg: Any) -> None:
        if err is not None:
            failures.append(err.str())

    sent_at: dict[int, int] = {}
    start = time.monotonic()
    for i, record in enumerate(records):
        due = start + i / rate
        while (wait := due - time.monotonic()) > 0:
            producer.poll(wait)
        seq = record.seq
        assert seq is not None, f"a sample record without {SEQ_HEADER}"
        while True:
            ts = int(clock() * 1000)
            try:
                producer.produce(
                    topic_of[record.topic],
                    value=record.value,
                    key=record.key,
                    headers=list(record.headers),
                    timestamp=ts,
                    on_delivery=on_delivery,
                )
                break
            except BufferError:
                # Only at rates far above a paced phase's: let the client drain its queue.
                producer.poll(QUEUE_FULL_BACKOFF_S)
        producer.poll(0)
        sent_at[seq] = ts
    remaining = producer.flush(PACED_FLUSH_TIMEOUT_S)
    if remaining or failures:
        raise RuntimeError(f"paced input not delivered: {remaining} queued, {failures[:3]}")
    return sent_at
