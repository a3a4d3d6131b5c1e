"""The enforcer on the real broker: routing, the envelope, guarantees, shadow mode, reload.

Each test works on its own copy of the example contracts whose topics carry a
unique prefix, with three partitions per topic, and reads results under
``read_committed``: what downstream consumers would see.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.model import REASONS
from streamprocs.contracts.router import Router
from streamprocs.enforcer.loop import Enforcer
from streamprocs.traffic import SampleRecord, generate_mix, produce
from tests.integration.support import (
    all_topics,
    create_topics,
    isolated_contracts,
    metric_total,
    read_topics,
    running,
    seq,
    settings_for,
    without_dce,
)

# A low size limit keeps too_large records small for the test broker.
SMALL_LIMIT = 64 * 1024


def source_coordinates(
    bootstrap: str, router: Router, count: int
) -> dict[int, tuple[str, int, int]]:
    """seq -> (topic, partition, offset) where the sample record landed in its source topic."""
    records = read_topics(bootstrap, router.topics, until=lambda r: len(r) >= count)
    assert len(records) == count
    return {seq(r): (r.topic, r.partition, r.offset) for r in records}


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
def test_mixed_stream_lands_once_each_where_it_belongs(
    kafka_bootstrap: str, tmp_path: Path, guarantee: str
) -> None:
    """Every valid event reaches its output topic and every invalid one its dead-letter
    topic with the right reason, rule, path and source coordinates; key, value,
    timestamp and headers are byte-identical; nothing is lost or doubled."""
    contracts, _ = isolated_contracts(tmp_path)
    router = create_topics(kafka_bootstrap, contracts)
    samples = generate_mix(
        load_contract_set(contracts), 600, invalid_share=0.3, seed=7, max_event_bytes=SMALL_LIMIT
    )
    assert {s.expected_reason for s in samples if s.expected_reason} == set(REASONS)
    assert produce(samples, kafka_bootstrap) == len(samples)
    by_seq = {int(dict(s.headers)["dce-sample-seq"]): s for s in samples}
    sources = source_coordinates(kafka_bootstrap, router, len(samples))

    settings = settings_for(
        kafka_bootstrap,
        contracts,
        processing_guarantee=guarantee,
        batch_size=97,
        max_event_bytes=SMALL_LIMIT,
    )
    with running(Enforcer(settings)) as enforcer:
        landed = read_topics(
            kafka_bootstrap,
            all_topics(router),
            until=lambda r: len(r) >= len(samples),
            settle_s=2.0,
        )
    assert Counter(seq(r) for r in landed) == Counter(list(by_seq)), "lost or duplicated records"

    for record in landed:
        sample = by_seq[seq(record)]
        assert record.topic == sample.destination, (sample.expected_reason, sample.contract_id)
        assert record.key == sample.key
        assert record.value == sample.value
        assert without_dce(record.headers) == sample.headers
        src_topic, src_partition, src_offset = sources[seq(record)]
        if sample.destination.endswith(".dlq"):
            assert record.header("dce.error.reason") == sample.expected_reason
            detail = json.loads(record.header("dce.error.detail") or "null")
            assert detail and all({"rule", "path", "message"} <= set(d) for d in detail)
            assert record.header("dce.source.topic") == src_topic
            assert record.header("dce.source.partition") == str(src_partition)
            assert record.header("dce.source.offset") == str(src_offset)
            assert record.header("dce.contracts.revision") == router.revision
            assert record.header("dce.processor") == settings.processor_id
            if sample.contract_id is not None:
                assert record.header("dce.contract.id") == sample.contract_id
            if sample.expected_reason in ("schema", "rule"):
                assert detail[0]["rule"].startswith("schema.") == (
                    sample.expected_reason == "schema"
                )
        else:
            assert record.header("dce.error.reason") is None
    # The source timestamp is kept on every record.
    source_ts = {
        seq(r): r.timestamp
        for r in read_topics(kafka_bootstrap, router.topics, until=lambda r: len(r) >= len(samples))
    }
    assert all(r.timestamp == source_ts[seq(r)] for r in landed)
    invalid = sum(1 for s in samples if s.expected == "invalid")
    counted = sum(
        metric_total(enforcer, "dce_events_total", outcome=o) for o in ("invalid", "shadow_invalid")
    )
    assert counted == invalid
    # Every event is counted once, under its contract and version.
    assert metric_total(enforcer, "dce_events_total") == len(samples)
    passed = Counter((s.contract_id, s.version) for s in samples if s.expected == "valid")
    for (contract_id, version), n in passed.items():
        assert contract_id is not None
        labels = {"contract": contract_id, "version": str(version)}
        counted_valid = sum(
            metric_total(enforcer, "dce_events_total", outcome=o, **labels)
            for o in ("valid", "warned")
        )
        assert counted_valid == n, (contract_id, version)


def test_shadow_contract_forwards_invalid_events_and_counts_them(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """``enforcement: shadow`` sends every event on, and counts what it would have rejected."""
    contracts, prefix = isolated_contracts(tmp_path)
    router = create_topics(kafka_bootstrap, contracts, partitions=1)
    contract_set = load_contract_set(contracts)
    shadow = [
        s
        for s in generate_mix(
            contract_set, 400, invalid_share=0.5, seed=3, reasons=["schema", "rule"]
        )
        if s.contract_id == "identity.user_signed_up"
    ]
    bad = [s for s in shadow if s.expected == "invalid"]
    assert bad, "the mix must hold invalid identity events"
    produce(shadow, kafka_bootstrap)
    with running(Enforcer(settings_for(kafka_bootstrap, contracts))) as enforcer:
        landed = read_topics(
            kafka_bootstrap, all_topics(router), until=lambda r: len(r) >= len(shadow)
        )
    assert {r.topic for r in landed} == {f"{prefix}identity.users.valid"}
    assert metric_total(enforcer, "dce_events_total", outcome="shadow_invalid") == len(bad)
    assert metric_total(enforcer, "dce_events_total", outcome="invalid") == 0


def _checkout_sample(samples: list[SampleRecord]) -> SampleRecord:
    return next(
        s for s in samples if s.contract_id == "checkout.order_created" and s.expected == "valid"
    )


def test_hot_reload_swaps_a_good_set_and_rejects_a_broken_one(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A broken contract change is rejected (counted, old set keeps routing); a good one
    is picked up without a restart, and dead letters say which revision judged them."""
    contracts, prefix = isolated_contracts(tmp_path)
    router = create_topics(kafka_bootstrap, contracts, partitions=1)
    base = _checkout_sample(
        generate_mix(load_contract_set(contracts), 50, invalid_share=0.0, seed=1)
    )
    v3_headers = [(k, b"3" if k == "contract-version" else v) for k, v in base.headers]
    as_v3 = SampleRecord(**{**base.__dict__, "headers": v3_headers})
    settings = settings_for(kafka_bootstrap, contracts, reload={"interval_s": 0.2})
    dlq = f"{prefix}checkout.events.dlq"
    out = f"{prefix}checkout.events.valid"
    with running(Enforcer(settings)) as enforcer:
        # Before: version 3 does not exist.
        produce([as_v3], kafka_bootstrap)
        first = read_topics(kafka_bootstrap, [dlq], until=lambda r: len(r) >= 1)
        assert first[0].header("dce.error.reason") == "unknown_version"
        assert first[0].header("dce.contracts.revision") == router.revision

        # A broken change: rejected, counted, and the old set keeps routing.
        folder = contracts / "checkout/order_created"
        (folder / "v3.yaml").write_text("version: 3\nschema: {type: object}\nrulez: []\n")
        poll_metric(enforcer, "dce_contracts_reload_total", 1, result="error")
        produce([base], kafka_bootstrap)
        read_topics(kafka_bootstrap, [out], until=lambda r: len(r) >= 1)

        # A good change: v3 now exists and the same record passes.
        (folder / "v3.yaml").write_text(
            (folder / "v2.yaml").read_text().replace("version: 2", "version: 3", 1)
        )
        poll_metric(enforcer, "dce_contracts_reload_total", 1, result="ok")
        # The loop swaps the new set in before its next consume(): wait for that.
        poll(lambda: enforcer.router.revision != router.revision)
        produce([as_v3], kafka_bootstrap)
        valid = read_topics(kafka_bootstrap, [out], until=lambda r: len(r) >= 2)
        assert [r.header("contract-version") for r in valid] == ["2", "3"]


def poll(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")


def poll_metric(enforcer: Enforcer, name: str, at_least: float, **labels: str) -> None:
    poll(lambda: metric_total(enforcer, name, **labels) >= at_least)


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
def test_second_instance_joining_mid_stream_loses_nothing(
    kafka_bootstrap: str, tmp_path: Path, guarantee: str
) -> None:
    """A rebalance (a second enforcer joins the group while the first works through a
    backlog) loses no record; under exactly_once none is doubled either."""
    contracts, _ = isolated_contracts(tmp_path)
    router = create_topics(kafka_bootstrap, contracts)
    samples = generate_mix(
        load_contract_set(contracts),
        8000,
        invalid_share=0.05,
        seed=5,
        reasons=["schema", "rule", "decode", "unknown_version"],
    )
    first = settings_for(kafka_bootstrap, contracts, processing_guarantee=guarantee, batch_size=100)
    second = first.model_copy(update={"transactional_id": f"{first.transactional_id}-b"})
    downstream = all_topics(router)
    # Traffic keeps flowing until the second instance has its partitions, so the
    # rebalance happens with batches in progress; the rest follows at once, so
    # the second instance has records of its own to judge whatever the timing.
    joined_ready = threading.Event()

    def feed() -> None:
        paced = 0
        while paced < len(samples) // 2 and not joined_ready.is_set():
            produce(samples[paced : paced + 50], kafka_bootstrap)
            paced += 50
        produce(samples[paced:], kafka_bootstrap)

    producer = threading.Thread(target=feed)
    with running(Enforcer(first)) as original:
        producer.start()
        poll(lambda: metric_total(original, "dce_events_total") >= 200)
        with running(Enforcer(second)) as joined:
            poll(lambda: joined.health.ready)
            joined_ready.set()
            producer.join(timeout=120)
            landed = read_topics(
                kafka_bootstrap, downstream, until=lambda r: len(r) >= len(samples), settle_s=2.0
            )
    assert metric_total(joined, "dce_events_total") > 0, "the second instance judged nothing"
    counts = Counter(seq(r) for r in landed)
    assert len(counts) == len(samples), "records lost in the rebalance"
    if guarantee == "exactly_once":
        assert max(counts.values()) == 1, "records duplicated in the rebalance"


def _committed(bootstrap: str, group_id: str, topics: list[str]) -> dict[str, int]:
    """The group's committed offset per source topic (partition 0), -1 when none."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id})
    try:
        found = consumer.committed([TopicPartition(t, 0) for t in topics], timeout=10)
        return {tp.topic: tp.offset for tp in found}
    finally:
        consumer.close()


def test_at_least_once_forwards_records_before_their_batch_commits(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Records are produced as soon as they are consumed; offsets are committed when the
    batch closes (here: at stop, as neither batch_size nor the 10 s timeout is reached)."""
    contracts, _ = isolated_contracts(tmp_path)
    router = create_topics(kafka_bootstrap, contracts, partitions=1)
    samples = generate_mix(load_contract_set(contracts), 30, invalid_share=0.0, seed=11)
    produce(samples, kafka_bootstrap)
    settings = settings_for(
        kafka_bootstrap,
        contracts,
        processing_guarantee="at_least_once",
        batch_timeout_s=10,
        batch_size=100_000,
    )
    with running(Enforcer(settings)):
        landed = read_topics(
            kafka_bootstrap, all_topics(router), until=lambda r: len(r) >= len(samples)
        )
        assert len(landed) == len(samples)
        # Forwarded, yet nothing committed: the batch is still open.
        before_stop = _committed(kafka_bootstrap, settings.group_id, router.topics)
    assert all(offset < 0 for offset in before_stop.values()), before_stop
    ends = Counter(s.topic for s in samples)
    after_stop = _committed(kafka_bootstrap, settings.group_id, router.topics)
    assert after_stop == {topic: ends[topic] for topic in router.topics}
