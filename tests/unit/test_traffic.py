"""The sample traffic generator: deterministic, complete, and labelled with the truth.

The labels are checked here without the generator's own judge: each record's
version is read from its headers/body as the contract format describes, and
its value is re-checked with the contract's compiled validator.
"""

from __future__ import annotations

import shutil
import sys
import types
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from streamprocs.contracts.compiler import Limits, nesting_depth_exceeds
from streamprocs.contracts.loader import Contract, ContractSet, load_contract_set
from streamprocs.contracts.model import Binding, Enforcement, Status
from streamprocs.contracts.registry import parse_version, read_pointer
from streamprocs.traffic import (
    REASONS,
    SEQ_HEADER,
    ProduceError,
    SampleRecord,
    generate_mix,
    main,
    produce,
)

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"


@pytest.fixture(scope="module")
def contract_set() -> ContractSet:
    return load_contract_set(CONTRACTS)


@pytest.fixture(scope="module")
def mix(contract_set: ContractSet) -> list[SampleRecord]:
    return generate_mix(contract_set, 500, invalid_share=0.3, seed=1)


def headers_of(record: SampleRecord) -> dict[str, bytes]:
    return dict(record.headers)


def binding_for(contract: Contract, topic: str) -> Binding:
    return next(b for b in contract.spec.bindings if b.topic == topic)


def body(record: SampleRecord) -> Any:
    try:
        return orjson.loads(record.value)
    except orjson.JSONDecodeError:
        return None


def named_version(contract: Contract, record: SampleRecord) -> str | None:
    """The version the record names, read as docs/contract-format.md says."""
    source = contract.spec.version_source
    if source.header is not None:
        raw = headers_of(record).get(source.header)
        return raw.decode() if raw is not None else None
    assert source.pointer is not None
    found = read_pointer(body(record), source.pointer)
    return None if found is None else str(found)


def test_same_seed_same_records(contract_set: ContractSet) -> None:
    """A seed fixes the mix; another seed gives another one."""
    first = generate_mix(contract_set, 300, invalid_share=0.2, seed=42)
    again = generate_mix(contract_set, 300, invalid_share=0.2, seed=42)
    other = generate_mix(contract_set, 300, invalid_share=0.2, seed=43)
    assert first == again
    assert [r.value for r in first] != [r.value for r in other]


def test_every_reason_appears(mix: list[SampleRecord]) -> None:
    """500 records with 30 % invalid cover every dead-letter reason, and valid ones."""
    reasons = Counter(r.expected_reason for r in mix)
    assert set(REASONS) <= set(reasons)
    assert reasons[None] > 0
    # The reasons take turns, so none is starved.
    counts = [reasons[r] for r in REASONS]
    assert max(counts) - min(counts) <= 1


@pytest.mark.parametrize(("count", "share"), [(1000, 0.03), (2000, 0.05), (500, 0.3)])
def test_invalid_share_is_respected(contract_set: ContractSet, count: int, share: float) -> None:
    records = generate_mix(contract_set, count, invalid_share=share, seed=3)
    assert len(records) == count
    invalid = sum(r.expected == "invalid" for r in records)
    assert abs(invalid / count - share) <= 0.01
    assert all((r.expected == "valid") == (r.expected_reason is None) for r in records)


def test_sequence_header_numbers_the_records(mix: list[SampleRecord]) -> None:
    for n, record in enumerate(mix):
        assert headers_of(record)[SEQ_HEADER] == str(n).encode("ascii")
        assert record.seq == n


def test_labels_agree_with_the_compiled_validator(
    contract_set: ContractSet, mix: list[SampleRecord]
) -> None:
    """Where a version judges the record, the validator's verdict is the label."""
    checked = Counter[str]()
    for record in mix:
        if record.contract_id is None:
            continue
        contract = contract_set.contracts[record.contract_id]
        named = named_version(contract, record)
        reason = record.expected_reason
        if reason == "unknown_version":
            assert named is not None
            assert parse_version(named) not in contract.compiled
            assert record.version is None
            checked[str(reason)] += 1
            continue
        if reason == "retired_version":
            assert named is not None and parse_version(named) == record.version
            assert record.version is not None
            assert contract.versions[record.version].status is Status.RETIRED
            checked[str(reason)] += 1
            continue
        if reason in ("decode", "too_large", "too_deep"):
            # Found before any version is picked: every version says the same.
            for compiled in contract.compiled.values():
                assert compiled.check(record.value).reason == reason
            checked[str(reason)] += 1
            continue
        assert record.version is not None
        if named is None:
            assert record.version == contract.default_version()
        else:
            assert parse_version(named) == record.version
        verdict = contract.compiled[record.version].check(record.value)
        assert verdict.reason == reason, (record.contract_id, record.version, record.seq)
        assert record.expected == ("valid" if verdict.valid else "invalid")
        assert contract.versions[record.version].status is not Status.RETIRED
        checked[reason or "valid"] += 1
    assert set(checked) == {"valid"} | set(REASONS) - {"unknown_contract"}


def test_unknown_contract_records_match_no_binding(
    contract_set: ContractSet, mix: list[SampleRecord]
) -> None:
    unknown = [r for r in mix if r.expected_reason == "unknown_contract"]
    assert unknown
    for record in unknown:
        assert record.contract_id is None and record.version is None
        for contract in contract_set.contracts.values():
            for binding in contract.spec.bindings:
                if binding.topic != record.topic:
                    continue
                disc = binding.discriminator
                assert disc is not None
                if disc.header is not None:
                    seen = headers_of(record).get(disc.header)
                    assert seen != disc.value.encode()
                else:
                    assert disc.pointer is not None
                    assert read_pointer(body(record), disc.pointer) != disc.value
    # Both flavours on a header-discriminated topic: an unknown event type and none at all.
    checkout = [headers_of(r).get("event-type") for r in unknown if r.topic == "checkout.events"]
    assert b"order_cancelled" in checkout and None in checkout


def test_decode_samples_are_truncated_or_not_utf8(mix: list[SampleRecord]) -> None:
    """Both kinds of undecodable value reach every topic that gets decode samples."""
    kinds: dict[str, set[str]] = {}
    for record in mix:
        if record.expected_reason == "decode":
            try:
                record.value.decode("utf-8")
            except UnicodeDecodeError:
                kind = "not utf-8"
            else:
                kind = "truncated"
            kinds.setdefault(record.topic, set()).add(kind)
    assert kinds
    assert all(found == {"not utf-8", "truncated"} for found in kinds.values()), kinds


def test_records_carry_their_routing_headers(
    contract_set: ContractSet, mix: list[SampleRecord]
) -> None:
    for record in mix:
        if record.contract_id is None:
            continue
        contract = contract_set.contracts[record.contract_id]
        binding = binding_for(contract, record.topic)
        disc = binding.discriminator
        if disc is not None and disc.header is not None:
            assert headers_of(record)[disc.header] == disc.value.encode()
        if record.expected_reason in ("decode", "too_large", "too_deep"):
            continue
        if disc is not None and disc.pointer is not None:
            assert read_pointer(body(record), disc.pointer) == disc.value
    payments = [r for r in mix if r.contract_id == "payments.payment_captured" and r.version]
    assert payments
    for record in payments:
        if record.expected_reason not in ("decode", "too_large", "too_deep"):
            assert body(record)["schema_version"] == record.version


def test_destination_follows_binding_and_enforcement(
    contract_set: ContractSet, mix: list[SampleRecord]
) -> None:
    shadow_invalid = 0
    for record in mix:
        if record.contract_id is None:
            first = min(
                (c.id, b.dead_letter)
                for c in contract_set.contracts.values()
                for b in c.spec.bindings
                if b.topic == record.topic
            )
            assert record.destination == first[1]
            continue
        contract = contract_set.contracts[record.contract_id]
        binding = binding_for(contract, record.topic)
        shadow = contract.spec.enforcement is Enforcement.SHADOW
        if record.expected == "valid" or shadow:
            assert record.destination == binding.output
            shadow_invalid += shadow and record.expected == "invalid"
        else:
            assert record.destination == binding.dead_letter
    assert shadow_invalid > 0  # identity.user_signed_up is in shadow mode


def test_valid_records_differ(mix: list[SampleRecord]) -> None:
    """Fresh event ids, so that the same example is not sent twice."""
    valid = [body(r) for r in mix if r.expected == "valid"]
    event_ids = [event["event_id"] for event in valid]
    assert len(set(event_ids)) == len(event_ids)
    assert all(r.key for r in mix if r.expected == "valid")


def test_size_and_depth_samples_sit_just_past_the_limits(tmp_path: Path) -> None:
    limits = Limits(max_bytes=4096, max_depth=8)
    small = load_contract_set(CONTRACTS, limits)
    records = generate_mix(
        small,
        200,
        invalid_share=0.5,
        seed=5,
        reasons=["too_large", "too_deep"],
        max_event_bytes=limits.max_bytes,
        max_depth=limits.max_depth,
    )
    large = [r for r in records if r.expected_reason == "too_large"]
    deep = [r for r in records if r.expected_reason == "too_deep"]
    assert len(large) == len(deep) == 50
    for record in large:
        assert len(record.value) == limits.max_bytes + 1
        assert isinstance(orjson.loads(record.value), dict)
    for record in deep:
        assert nesting_depth_exceeds(record.value, limits.max_depth)
        assert not nesting_depth_exceeds(record.value, limits.max_depth + 1)
        assert isinstance(orjson.loads(record.value), dict)
    # The default limit is 1 MiB: a too_large sample is one byte over it.
    default = generate_mix(load_contract_set(CONTRACTS), 4, 0.25, reasons=["too_large"])
    assert [len(r.value) for r in default if r.expected_reason] == [1024 * 1024 + 1]


def test_reasons_can_be_chosen(contract_set: ContractSet) -> None:
    records = generate_mix(contract_set, 100, invalid_share=0.2, reasons=["rule"])
    assert {r.expected_reason for r in records} == {None, "rule"}
    with pytest.raises(ValueError, match="unknown reason"):
        generate_mix(contract_set, 10, reasons=["typo"])


def test_a_reason_the_contracts_cannot_give_is_refused(tmp_path: Path) -> None:
    """Without identity (the only retired version), retired_version is impossible."""
    root = tmp_path / "contracts"
    shutil.copytree(CONTRACTS / "checkout", root / "checkout")
    only_checkout = load_contract_set(root)
    with pytest.raises(ValueError, match="retired_version"):
        generate_mix(only_checkout, 10, reasons=["retired_version"])
    records = generate_mix(only_checkout, 400, invalid_share=0.5)
    assert {r.expected_reason for r in records} == {
        None,
        "schema",
        "rule",
        "decode",
        "too_large",
        "too_deep",
        "unknown_contract",
        "unknown_version",
    }


def test_cli_dry_run_prints_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--dry-run", "--count", "200", "--invalid-share", "0.2", "--contracts", str(CONTRACTS)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "checkout.events" in out and "payments.captured.dlq" in out
    assert "200" in out


def test_cli_needs_a_bootstrap_or_dry_run() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--count", "1"])
    assert exc.value.code == 2


class FakeProducer:
    """Stands in for confluent_kafka.Producer: queue of 3, delivery reports on poll/flush."""

    instances: ClassVar[list[FakeProducer]] = []
    fail_topics: ClassVar[set[str]] = set()

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.queue: list[tuple[str, Any]] = []
        self.sent: list[tuple[str, bytes | None, bytes, Any]] = []
        FakeProducer.instances.append(self)

    def produce(
        self, topic: str, *, value: bytes, key: bytes | None, headers: Any, on_delivery: Any
    ) -> None:
        if len(self.queue) >= 3:
            raise BufferError("queue full")
        self.queue.append((topic, on_delivery))
        self.sent.append((topic, key, value, headers))

    def poll(self, timeout: float = 0) -> int:
        served = len(self.queue)
        for topic, callback in self.queue:
            err = FakeError() if topic in FakeProducer.fail_topics else None
            callback(err, None)
        self.queue.clear()
        return served

    def flush(self, timeout: float = 0) -> int:
        self.poll()
        return 0


class FakeError:
    def code(self) -> int:
        return 10  # MSG_SIZE_TOO_LARGE

    def str(self) -> str:
        return "Broker: Message size too large"


class FakeKafkaException(Exception):
    pass


@pytest.fixture()
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> type[FakeProducer]:
    module = types.ModuleType("confluent_kafka")
    module.Producer = FakeProducer  # type: ignore[attr-defined]
    module.KafkaError = types.SimpleNamespace(MSG_SIZE_TOO_LARGE=10)  # type: ignore[attr-defined]
    module.KafkaException = FakeKafkaException  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "confluent_kafka", module)
    FakeProducer.instances = []
    FakeProducer.fail_topics = set()
    return FakeProducer


def test_produce_sends_everything_and_waits_out_a_full_queue(
    contract_set: ContractSet, fake_kafka: type[FakeProducer]
) -> None:
    records = generate_mix(contract_set, 20, invalid_share=0.0)
    assert produce(records, "broker:9092", extra_config={"client.id": "t"}) == 20
    producer = fake_kafka.instances[0]
    assert producer.config["linger.ms"] == 5
    assert producer.config["enable.idempotence"] is True
    assert producer.config["client.id"] == "t"
    assert [s[2] for s in producer.sent] == [r.value for r in records]
    assert [s[1] for s in producer.sent] == [r.key for r in records]
    assert list(producer.sent[0][3]) == records[0].headers


def test_produce_raises_when_a_delivery_fails(
    contract_set: ContractSet, fake_kafka: type[FakeProducer]
) -> None:
    records = generate_mix(contract_set, 30, invalid_share=0.0)
    fake_kafka.fail_topics = {"payments.captured"}
    failing = sum(r.topic == "payments.captured" for r in records)
    assert failing
    with pytest.raises(ProduceError, match=f"{failing} record") as exc:
        produce(records, "broker:9092")
    assert "message.max.bytes" in str(exc.value)
