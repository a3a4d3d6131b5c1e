"""What a destination topic accepts: its ``max.message.bytes``, and a record's size against it.

A topic refuses a record batch over its ``max.message.bytes``. Without a check,
a record its destination refuses fails its batch, the batch is read again, and
the same record is refused again: the partition stalls. So the enforcer reads
the limits of the topics it writes when it starts, checks the records that come
near them, and keeps the producer's batches under the smallest one (librdkafka
packs up to ``batch.size`` bytes, 1 MB by default, into one batch, and the
broker refuses the whole batch when it is over the topic's limit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from streamprocs.contracts.router import Decision, Outcome
from streamprocs.contracts.verdict import Verdict, Violation, single

# librdkafka's default batch.size: the producer packs batches up to this size.
DEFAULT_BATCH_BYTES = 1_000_000
# A v2 record batch's header: what one batch adds to its records.
BATCH_OVERHEAD = 61
# One record's fixed fields at their widest varints: length, attributes,
# timestamp delta, offset delta, key length, value length, header count.
RECORD_OVERHEAD = 5 + 1 + 10 + 5 + 5 + 5 + 5
# One header's two length varints, at their widest.
HEADER_OVERHEAD = 10
# Records whose value is this far below the smallest limit skip the exact count;
# a record near a limit only because of its key or headers is caught when the
# broker refuses it (see Enforcer._on_delivery).
VALUE_SLACK = 64 * 1024
# Bounded so that a broker down at start delays it little: limits left unknown
# are read when a topic first refuses a batch.
ADMIN_TIMEOUT_S = 10.0


def record_bytes(
    key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]] | None
) -> int:
    """An upper bound of the bytes a record batch holding only this record takes."""
    size = BATCH_OVERHEAD + RECORD_OVERHEAD
    if key is not None:
        size += len(key)
    if value is not None:
        size += len(value)
    for name, header in headers or ():
        size += HEADER_OVERHEAD + len(name.encode()) + (len(header) if header is not None else 0)
    return size


def batch_bytes(limits: Iterable[int]) -> int | None:
    """The producer's ``batch.size`` that keeps every batch under every limit, or
    ``None`` when librdkafka's default already does."""
    smallest = min(limits, default=None)
    if smallest is None or smallest > DEFAULT_BATCH_BYTES:
        return None
    # batch.size counts the records' bytes; the batch header comes on top.
    return max(smallest - BATCH_OVERHEAD, 1)


def value_guard(limits: Iterable[int]) -> int:
    """Records whose value is longer than this get the exact size check (none when no
    limit is known). The hot loop compares ``len(value or b"")``, so a negative guard
    checks every record, tombstones included."""
    smallest = min(limits, default=None)
    if smallest is None:
        return 1 << 62
    return smallest - VALUE_SLACK


def read_limits(admin: Any, topics: Iterable[str]) -> tuple[dict[str, int], list[str]]:
    """Each topic's ``max.message.bytes`` as the broker applies it, and a line per topic
    whose limit could not be read (missing topic, no DescribeConfigs permission)."""
    from confluent_kafka.admin import ConfigResource, ResourceType  # type: ignore[attr-defined]

    resources = [ConfigResource(ResourceType.TOPIC, topic) for topic in sorted(set(topics))]
    if not resources:
        return {}, []
    limits: dict[str, int] = {}
    problems: list[str] = []
    for resource, future in admin.describe_configs(
        resources, request_timeout=ADMIN_TIMEOUT_S
    ).items():
        try:
            entry = future.result(timeout=ADMIN_TIMEOUT_S).get("max.message.bytes")
            if entry is None or entry.value is None:
                problems.append(f"{resource.name}: no max.message.bytes in its configuration")
            else:
                limits[resource.name] = int(entry.value)
        except Exception as exc:  # noqa: BLE001 - any failure leaves that limit unknown
            problems.append(f"{resource.name}: {exc}")
    return limits, problems


def diverted(decision: Decision, size: int, limit: int) -> Decision:
    """A record its output topic cannot take: to the dead-letter topic, as ``too_large``."""
    target = decision.target
    assert target is not None  # only a contract's records go to an output topic
    verdict = single(
        "too_large",
        f"record is about {size} bytes; {decision.topic} takes at most {limit}"
        " (its max.message.bytes)",
    )
    return Decision(
        target.binding.dead_letter,
        Outcome.INVALID,
        verdict,
        target,
        decision.version,
        decision.deprecated,
    )


def value_left_out(decision: Decision, size: int, limit: int) -> Decision:
    """A dead-letter record whose topic cannot take its value: the same verdict, plus why
    the value is missing (the reason header stays the verdict's own)."""
    note = Violation(
        reason="too_large",
        rule="too_large",
        path="",
        message=f"value of {size} bytes left out: {decision.topic} takes at most {limit}"
        " (its max.message.bytes); the record stays at its dce.source coordinates",
    )
    return replace(decision, verdict=Verdict((*decision.verdict.violations, note)))
