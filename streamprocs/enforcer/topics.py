"""``dce topics ensure``: create the output and dead-letter topics the contracts name.

Each gets the source topic's partition count (so keys keep their partition
order downstream); dead-letter topics keep records longer, because an
incident is often investigated days after it happened. When the sources'
``max.message.bytes`` are known, each output topic takes what its sources
take, and each dead-letter topic that plus room for the envelope, so that no
record the sources accepted is refused downstream (docs/enforcer.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from streamprocs.contracts.router import Router

DEAD_LETTER_RETENTION_MS = 30 * 24 * 3600 * 1000
# What the dce.* envelope adds to a record: dce.error.detail is at most 4 KiB,
# the other headers a few hundred bytes.
ENVELOPE_ROOM_BYTES = 16 * 1024
ADMIN_TIMEOUT_S = 30.0
# Leader election on a healthy cluster takes milliseconds; poll often.
LEADER_POLL_S = 0.05


@dataclass(frozen=True)
class TopicPlan:
    name: str
    partitions: int
    config: dict[str, str]
    role: str  # source, output or dead_letter


def plan_topics(
    router: Router,
    existing: dict[str, int],
    *,
    create_sources: bool,
    source_partitions: int,
    dead_letter_retention_ms: int = DEAD_LETTER_RETENTION_MS,
    source_limits: dict[str, int] | None = None,
) -> tuple[list[TopicPlan], list[str]]:
    """The topics to create, and the source topics that are missing (and not created).

    ``source_limits``: the sources' ``max.message.bytes``; a destination fed by
    several sources takes the largest.
    """
    plans: dict[str, TopicPlan] = {}
    missing_sources = []
    for source, destinations in router.output_topics().items():
        partitions = existing.get(source)
        if partitions is None:
            if not create_sources:
                missing_sources.append(source)
                continue
            partitions = source_partitions
            plans[source] = TopicPlan(source, partitions, {}, "source")
        for topic in sorted(destinations):
            if topic in existing or topic in plans:
                continue
            if topic in router.dead_letters:
                config = {"retention.ms": str(dead_letter_retention_ms)}
                plans[topic] = TopicPlan(topic, partitions, config, "dead_letter")
            else:
                plans[topic] = TopicPlan(topic, partitions, {}, "output")
    needed = _limits_needed(router, source_limits or {})
    return [
        replace(p, config={**p.config, "max.message.bytes": str(needed[p.name])})
        if p.role != "source" and p.name in needed
        else p
        for p in plans.values()
    ], missing_sources


def _limits_needed(router: Router, source_limits: dict[str, int]) -> dict[str, int]:
    """Destination -> the max.message.bytes that takes every record of its sources."""
    needed: dict[str, int] = {}
    for source, destinations in router.output_topics().items():
        limit = source_limits.get(source)
        if limit is None:
            continue
        for topic in destinations:
            room = limit + ENVELOPE_ROOM_BYTES if topic in router.dead_letters else limit
            needed[topic] = max(needed.get(topic, 0), room)
    return needed


def existing_topics(admin: Any) -> dict[str, int]:
    metadata = admin.list_topics(timeout=ADMIN_TIMEOUT_S)
    return {name: len(t.partitions) for name, t in metadata.topics.items() if not t.error}


def create(admin: AdminClient, plans: list[TopicPlan], replication_factor: int = -1) -> list[str]:
    """Create the planned topics; returns error lines (empty when all went well)."""
    if not plans:
        return []
    futures = admin.create_topics(
        [
            NewTopic(
                p.name,
                num_partitions=p.partitions,
                replication_factor=replication_factor,
                config=p.config,
            )
            for p in plans
        ],
        operation_timeout=ADMIN_TIMEOUT_S,
    )
    errors = []
    for name, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            error = exc.args[0]
            if getattr(error, "name", lambda: "")() == "TOPIC_ALREADY_EXISTS":
                continue
            errors.append(f"{name}: {error}")
    if not errors:
        errors += _await_leaders(admin, [p.name for p in plans])
    return errors


def _await_leaders(admin: Any, names: list[str]) -> list[str]:
    """Wait until every partition of the new topics has a leader.

    CreateTopics returns before leaders are elected; a client that uses the
    topics at once (``dce run --ensure-topics``, the demo) would otherwise meet
    NOT_LEADER_FOR_PARTITION.
    """
    deadline = time.monotonic() + ADMIN_TIMEOUT_S
    pending = set(names)
    while pending and time.monotonic() < deadline:
        metadata = admin.list_topics(timeout=ADMIN_TIMEOUT_S)
        for name in list(pending):
            topic = metadata.topics.get(name)
            if (
                topic is not None
                and not topic.error
                and topic.partitions
                and all(p.leader >= 0 and not p.error for p in topic.partitions.values())
            ):
                pending.discard(name)
        if pending:
            time.sleep(LEADER_POLL_S)
    return [
        f"{name}: no partition leader after {ADMIN_TIMEOUT_S:.0f} s" for name in sorted(pending)
    ]


def destination_roles(router: Router) -> dict[str, list[str]]:
    """Every topic the enforcer writes -> what it is for ("output of C", "dead letter of C")."""
    roles: dict[str, set[str]] = {}
    for source, table in router.tables.items():
        roles.setdefault(table.dead_letter, set()).add(f"dead letter of {source}")
        for target in table.targets():
            contract = target.contract.id
            roles.setdefault(target.binding.output, set()).add(f"output of {contract}")
            roles.setdefault(target.binding.dead_letter, set()).add(f"dead letter of {contract}")
    return {topic: sorted(found) for topic, found in roles.items()}


def missing_destinations(admin: Any, router: Router, timeout_s: float) -> list[str] | None:
    """A line per topic the enforcer would write that does not exist; ``None`` when the
    cluster's metadata could not be read in ``timeout_s`` (nothing is known then)."""
    try:
        metadata = admin.list_topics(timeout=timeout_s)
    except KafkaException:
        return None
    return [
        f"{topic} ({', '.join(roles)})"
        for topic, roles in sorted(destination_roles(router).items())
        if topic not in metadata.topics
    ]
