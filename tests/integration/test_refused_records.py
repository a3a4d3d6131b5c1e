"""Records the broker refuses for their size: dead-lettered once, and the stream goes on.

A topic's ``max.message.bytes`` can be lower than what its source topic took:
an output topic left on defaults behind a source configured for big records,
or a dead-letter topic smaller than the ``too_large`` records it must take.
Before, the refused record failed its batch, the batch was re-read, and the
same record was refused again: the partition stalled for good.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from streamprocs.cli.run import ensure_topics
from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Router
from streamprocs.enforcer import envelope
from streamprocs.enforcer.loop import Enforcer, FatalError
from streamprocs.enforcer.sizes import read_limits
from streamprocs.enforcer.topics import ENVELOPE_ROOM_BYTES
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
)

OUTPUT_LIMIT = 4_000
DEAD_LETTER_LIMIT = 16_000


def _limit(bootstrap: str, limits: dict[str, int]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resources = [
        ConfigResource(
            ResourceType.TOPIC,
            topic,
            incremental_configs=[
                ConfigEntry(
                    "max.message.bytes",
                    str(limit),
                    incremental_operation=AlterConfigOpType.SET,
                )
            ],
        )
        for topic, limit in limits.items()
    ]
    for future in admin.incremental_alter_configs(resources).values():
        future.result(timeout=30)


def _big(sample: SampleRecord, seq_no: int, value: bytes) -> SampleRecord:
    """``sample`` with another value and sequence number."""
    headers = [(k, v) for k, v in sample.headers if k != "dce-sample-seq"]
    return dataclasses.replace(
        sample, value=value, headers=[*headers, ("dce-sample-seq", str(seq_no).encode())]
    )


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
def test_records_refused_as_too_large_are_dead_lettered_and_the_stream_goes_on(
    kafka_bootstrap: str, tmp_path: Path, guarantee: str
) -> None:
    """A valid event its output topic refuses goes to the dead-letter topic whole
    (reason too_large); a dead-letter record its topic refuses goes there without its
    value, saying so; every other record lands as usual, and the offsets move past both."""
    contracts, prefix = isolated_contracts(tmp_path)
    router = create_topics(kafka_bootstrap, contracts, partitions=1)
    output, dead_letter = f"{prefix}checkout.events.valid", f"{prefix}checkout.events.dlq"
    _limit(kafka_bootstrap, {output: OUTPUT_LIMIT, dead_letter: DEAD_LETTER_LIMIT})

    samples = generate_mix(load_contract_set(contracts), 120, invalid_share=0.0, seed=5)
    checkout = next(
        s for s in samples if s.contract_id == "checkout.order_created" and s.expected == "valid"
    )
    event = orjson.loads(checkout.value)
    event["gift_note"] = "x" * 8_000  # the schema allows more properties
    big_valid = _big(checkout, 10_001, orjson.dumps(event))
    big_broken = _big(checkout, 10_002, b"{" + b"y" * 20_000)  # not JSON: decode
    # The big ones in the middle, so that records after them must get through too.
    middle = len(samples) // 2
    stream = [*samples[:middle], big_valid, big_broken, *samples[middle:]]
    produce(stream, kafka_bootstrap)

    settings = settings_for(kafka_bootstrap, contracts, processing_guarantee=guarantee)
    with running(Enforcer(settings)) as enforcer:
        landed = read_topics(
            kafka_bootstrap,
            all_topics(router),
            until=lambda r: (
                {10_001, 10_002} <= {seq(x) for x in r} and len({seq(x) for x in r}) >= len(stream)
            ),
            settle_s=1.0 if guarantee == "exactly_once" else 0.0,
        )
    by_seq: dict[int, list] = {}
    for record in landed:
        by_seq.setdefault(seq(record), []).append(record)
    assert set(by_seq) == {int(dict(s.headers)["dce-sample-seq"]) for s in stream}
    for sample in samples:
        records = by_seq[int(dict(sample.headers)["dce-sample-seq"])]
        assert {r.topic for r in records} == {sample.destination}
        if guarantee == "exactly_once":
            assert len(records) == 1

    (valid_dl,) = by_seq[10_001] if guarantee == "exactly_once" else by_seq[10_001][:1]
    assert valid_dl.topic == dead_letter
    assert valid_dl.value == big_valid.value
    assert valid_dl.header(envelope.REASON) == "too_large"
    assert output in (valid_dl.header(envelope.DETAIL) or "")
    assert valid_dl.header(envelope.VALUE_OMITTED) is None

    (broken_dl,) = by_seq[10_002] if guarantee == "exactly_once" else by_seq[10_002][:1]
    assert broken_dl.topic == dead_letter
    assert broken_dl.value is None
    assert broken_dl.header(envelope.REASON) == "decode"
    assert broken_dl.header(envelope.VALUE_OMITTED) == str(len(big_broken.value))
    detail = orjson.loads(broken_dl.header(envelope.DETAIL) or "[]")
    assert any(d["rule"] == "too_large" for d in detail), detail
    assert broken_dl.header(envelope.SOURCE_TOPIC) == checkout.topic
    assert broken_dl.header(envelope.SOURCE_OFFSET) is not None

    assert metric_total(enforcer, "dce_dlq_records_total", reason="too_large") >= 1
    # The value left out counts as a dead-letter error: the topic is too small.
    assert metric_total(enforcer, "dce_dlq_errors_total", dlq_topic=dead_letter) >= 1


def _poll(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_a_limit_lowered_while_running_dead_letters_the_refused_record(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The limits read at start no longer hold: the broker's refusal makes the enforcer
    read them again and re-read the batch checking every record, and it goes on."""
    contracts, prefix = isolated_contracts(tmp_path)
    router = create_topics(kafka_bootstrap, contracts, partitions=1)
    output, dead_letter = f"{prefix}checkout.events.valid", f"{prefix}checkout.events.dlq"
    samples = generate_mix(load_contract_set(contracts), 30, invalid_share=0.0, seed=8)
    checkout = next(
        s for s in samples if s.contract_id == "checkout.order_created" and s.expected == "valid"
    )
    event = orjson.loads(checkout.value)
    event["gift_note"] = "x" * 8_000
    big = _big(checkout, 10_001, orjson.dumps(event))
    produce(samples, kafka_bootstrap)
    settings = settings_for(kafka_bootstrap, contracts, processing_guarantee="exactly_once")
    with running(Enforcer(settings)):
        read_topics(kafka_bootstrap, all_topics(router), until=lambda r: len(r) >= len(samples))
        _limit(kafka_bootstrap, {output: OUTPUT_LIMIT})
        produce([big], kafka_bootstrap)
        landed = read_topics(
            kafka_bootstrap, [output, dead_letter], until=lambda r: 10_001 in {seq(x) for x in r}
        )
    (record,) = [r for r in landed if seq(r) == 10_001]
    assert record.topic == dead_letter
    assert record.header(envelope.REASON) == "too_large"
    assert record.value == big.value


def test_a_topic_refusing_batches_of_records_that_each_fit_stops_the_enforcer_clearly(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Lowered below the producer's batch size after start, a limit refuses whole
    batches of small records: no record can be blamed, so the enforcer stops with an
    error saying what to do instead of re-reading the batch for ever."""
    contracts, prefix = isolated_contracts(tmp_path)
    router = create_topics(kafka_bootstrap, contracts, partitions=1)
    samples = generate_mix(load_contract_set(contracts), 60, invalid_share=0.0, seed=9)
    settings = settings_for(kafka_bootstrap, contracts, processing_guarantee="at_least_once")
    enforcer = Enforcer(settings)
    with pytest.raises(FatalError, match="restart dce"), running(enforcer):
        produce(samples[:5], kafka_bootstrap)
        read_topics(kafka_bootstrap, all_topics(router), until=lambda r: len(r) >= 5)
        # Each record (at most ~1.1 KB) fits; a batch of several does not.
        _limit(kafka_bootstrap, {f"{prefix}{t}": 2_500 for t in _outputs(router, prefix)})
        produce(samples[5:], kafka_bootstrap)
        _poll(lambda: enforcer.health.reason == "shutting down")


def _outputs(router: Router, prefix: str) -> list[str]:
    return [t.removeprefix(prefix) for t in all_topics(router) if t not in router.dead_letters]


def test_topics_ensure_sizes_destinations_for_what_their_source_takes(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """``dce topics ensure`` gives an output topic its source's max.message.bytes and a
    dead-letter topic that plus room for the envelope, so that the broker never refuses
    downstream a record it accepted upstream."""
    contracts, prefix = isolated_contracts(tmp_path)
    source = f"{prefix}checkout.events"
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    created = admin.create_topics(
        [NewTopic(source, num_partitions=1, config={"max.message.bytes": "3000000"})]
    )
    for future in created.values():
        future.result(timeout=30)
    settings = settings_for(kafka_bootstrap, contracts)
    assert ensure_topics(settings, create_sources=True, partitions=1) == 0
    limits, problems = read_limits(
        admin, [f"{prefix}checkout.events.valid", f"{prefix}checkout.events.dlq"]
    )
    assert problems == []
    assert limits == {
        f"{prefix}checkout.events.valid": 3_000_000,
        f"{prefix}checkout.events.dlq": 3_000_000 + ENVELOPE_ROOM_BYTES,
    }


def test_an_output_topic_that_does_not_exist_stops_the_enforcer_at_start(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Records sent to a missing topic would wait for it, then fail their batch over and
    over: the enforcer refuses to start and names the topic, its role and the fix."""
    contracts, prefix = isolated_contracts(tmp_path)
    create_topics(kafka_bootstrap, contracts, partitions=1)
    missing = f"{prefix}checkout.events.valid"
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    for future in admin.delete_topics([missing], operation_timeout=30).values():
        future.result(timeout=30)
    _poll(lambda: missing not in admin.list_topics(timeout=10).topics)
    enforcer = Enforcer(settings_for(kafka_bootstrap, contracts))
    failures: list[BaseException] = []

    def target() -> None:
        try:
            enforcer.run()
        except BaseException as exc:  # noqa: BLE001 - checked below
            failures.append(exc)

    # In a thread, so that an enforcer that starts anyway fails the test, not hangs it.
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=60)
    if thread.is_alive():
        enforcer.stop()
        thread.join(timeout=60)
        pytest.fail("the enforcer started although a topic it writes does not exist")
    (failure,) = failures
    assert isinstance(failure, FatalError), failure
    message = str(failure)
    assert f"{missing} (output of checkout.order_created)" in message
    assert "dce topics ensure" in message
    assert f"{prefix}checkout.events.dlq" not in message


def test_a_reload_naming_a_missing_topic_waits_for_it_then_applies(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A contract change whose binding writes a topic that does not exist is held back
    (counted as an error, the old set keeps routing) and applied once the topic exists."""
    contracts, prefix = isolated_contracts(tmp_path)
    router = create_topics(kafka_bootstrap, contracts, partitions=1)
    settings = settings_for(kafka_bootstrap, contracts, reload={"interval_s": 0.2})
    path = contracts / "checkout/order_created/contract.yaml"
    renamed = f"{prefix}checkout.events.valid2"
    with running(Enforcer(settings)) as enforcer:
        path.write_text(path.read_text().replace(f"{prefix}checkout.events.valid", renamed))
        _poll(lambda: metric_total(enforcer, "dce_contracts_reload_total", result="error") >= 1)
        assert enforcer.router.revision == router.revision
        admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
        for future in admin.create_topics([NewTopic(renamed, num_partitions=1)]).values():
            future.result(timeout=30)
        _poll(lambda: enforcer.router.revision != router.revision)
        assert metric_total(enforcer, "dce_contracts_reload_total", result="ok") == 1
        assert renamed in enforcer.router.output_topics()[f"{prefix}checkout.events"]
