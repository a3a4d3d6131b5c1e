"""``dce bench`` input: padding events, per-run contract copies and topic names."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from streamprocs.benchmarks.inputs import PAD_FIELD, iter_mix, pad
from streamprocs.benchmarks.topics import Layout, Naming, rewrite_contracts
from streamprocs.contracts.loader import ContractSet, load_contract_set
from streamprocs.contracts.router import Outcome, Router
from streamprocs.traffic import SampleRecord, generate_mix

REPO = Path(__file__).resolve().parents[2]
MAX_BYTES = 16 * 1024


@pytest.fixture(scope="module")
def contract_set() -> ContractSet:
    return load_contract_set(REPO / "contracts")


def test_padding_grows_events_without_changing_any_verdict(contract_set: ContractSet) -> None:
    """The example contracts allow extra properties: a padded event is judged as before."""
    router = Router(contract_set)
    records = generate_mix(contract_set, 300, invalid_share=0.2, seed=3, max_event_bytes=MAX_BYTES)
    for record in records:
        padded = pad(record, 2048, MAX_BYTES)
        before = router.route(record.topic, record.headers, record.value)  # type: ignore[arg-type]
        after = router.route(padded.topic, padded.headers, padded.value)  # type: ignore[arg-type]
        assert (after.outcome, after.topic) == (before.outcome, before.topic), record
        if padded is not record:
            assert 2048 - 10 <= len(padded.value) <= 2048
            assert PAD_FIELD in orjson.loads(padded.value)


def test_padding_leaves_body_failures_and_large_events_alone() -> None:
    def sample(value: bytes, reason: str | None) -> SampleRecord:
        return SampleRecord("t", None, value, [], None, None, "valid", reason, "out")

    broken = sample(b"{not json", "decode")
    assert pad(broken, 4096, MAX_BYTES) is broken
    big = sample(b'{"a": "' + b"x" * 5000 + b'"}', None)
    assert pad(big, 4096, MAX_BYTES) is big
    array = sample(b"[1, 2]", "schema")
    assert pad(array, 4096, MAX_BYTES) is array


def test_padding_never_reaches_the_size_limit() -> None:
    record = SampleRecord("t", None, b'{"a": 1}', [], None, None, "valid", None, "out")
    assert len(pad(record, 5000, 1000).value) < 1000


def test_mix_comes_in_chunks_with_the_requested_share(contract_set: ContractSet) -> None:
    chunks = list(
        iter_mix(contract_set, 1000, invalid_share=0.03, seed=0, max_event_bytes=MAX_BYTES)
    )
    assert sum(len(c) for c in chunks) == 1000
    invalid = sum(1 for c in chunks for r in c if r.expected == "invalid")
    assert invalid == 30


def test_layout_lists_sources_and_every_destination(contract_set: ContractSet) -> None:
    layout = Layout.of(contract_set)
    assert layout.sources == ("checkout.events", "identity.users", "payments.captured")
    assert layout.first_output["payments.captured"] == "payments.captured.valid"
    assert "identity.users.dlq" in layout.destinations
    assert len(layout.destinations) == 6


def test_run_contracts_bind_the_run_topics(tmp_path: Path, contract_set: ContractSet) -> None:
    """The enforcer reads the session's input copy and writes to the run's own topics."""
    naming = Naming("abc123")
    inputs = {s: naming.input("full", s) for s in Layout.of(contract_set).sources}
    tag = naming.run_tag("dce_at_least_once", "r1")
    rewrite_contracts(REPO / "contracts", tmp_path / "c", inputs, tag)
    router = Router(load_contract_set(tmp_path / "c"))
    assert router.topics == sorted(inputs.values())
    outputs = {t for dests in router.output_topics().values() for t in dests}
    assert outputs == {
        f"dce-bench.abc123.dce_at_least_once.r1.{d}" for d in Layout.of(contract_set).destinations
    }
    # Versions and rules are untouched: a valid example is still valid.
    record = generate_mix(contract_set, 1, invalid_share=0.0, seed=1)[0]
    decision = router.route(inputs[record.topic], record.headers, record.value)  # type: ignore[arg-type]
    assert decision.outcome in (Outcome.VALID, Outcome.WARNED)
