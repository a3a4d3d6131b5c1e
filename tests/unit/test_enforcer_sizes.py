"""Record sizes against a topic's max.message.bytes, and what a too-large record becomes."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.router import Outcome, Router
from streamprocs.enforcer import sizes

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
ORDER = (CONTRACTS / "checkout/order_created/examples/v2.valid.jsonl").read_bytes().splitlines()[0]


def test_record_bytes_bounds_the_v2_batch_of_one_record_from_above() -> None:
    """Batch header 61, fixed record fields at their widest varints, each header's name
    (UTF-8) and value with two length varints: never less than the broker counts."""
    base = sizes.BATCH_OVERHEAD + sizes.RECORD_OVERHEAD
    assert sizes.record_bytes(None, None, None) == base
    assert sizes.record_bytes(b"k" * 3, b"v" * 100, None) == base + 103
    headers = [("é", b"12"), ("n", None)]
    assert sizes.record_bytes(None, b"", headers) == base + (10 + 2 + 2) + (10 + 1)
    # The exact v2 size of a one-record batch with a 100-byte value, 3-byte key, no
    # headers: 61 + (1 length + 1 attributes + 1 + 1 deltas + 1 + 3 key + 1 + 100 value + 1).
    assert sizes.record_bytes(b"kkk", b"v" * 100, None) >= 61 + 1 + 1 + 1 + 1 + 1 + 3 + 1 + 100 + 1


def test_batch_size_stays_librdkafkas_unless_a_topic_takes_less() -> None:
    assert sizes.batch_bytes([]) is None
    assert sizes.batch_bytes([1_048_588, 5_000_000]) is None
    assert sizes.batch_bytes([1_048_588, 4_000]) == 4_000 - sizes.BATCH_OVERHEAD


def test_the_guard_checks_no_record_without_limits_and_every_record_under_small_ones() -> None:
    assert sizes.value_guard([]) > 10**15
    assert sizes.value_guard([1_048_588]) == 1_048_588 - sizes.VALUE_SLACK
    assert sizes.value_guard([4_000]) < 0  # len(value or b"") > guard holds for every record


def test_a_diverted_record_goes_to_its_dead_letter_topic_as_too_large() -> None:
    router = Router(load_contract_set(CONTRACTS))
    headers = [("event-type", b"order_created"), ("contract-version", b"2")]
    valid = router.route("checkout.events", headers, ORDER)
    assert valid.outcome is Outcome.VALID
    moved = sizes.diverted(valid, 5_000, 4_000)
    assert moved.outcome is Outcome.INVALID
    assert moved.topic == "checkout.events.dlq"
    assert (moved.target, moved.version) == (valid.target, valid.version)
    (violation,) = moved.verdict.violations
    assert violation.reason == violation.rule == "too_large"
    assert "checkout.events.valid takes at most 4000" in violation.message


def test_a_value_left_out_keeps_the_verdicts_reason_and_adds_why() -> None:
    router = Router(load_contract_set(CONTRACTS))
    broken = router.route("checkout.events", [("event-type", b"order_created")], b"{nope")
    assert broken.verdict.reason == "decode"
    left = sizes.value_left_out(broken, 20_001, 16_000)
    assert left.verdict.reason == "decode"
    assert left.topic == broken.topic and left.outcome is Outcome.INVALID
    assert left.verdict.violations[:-1] == broken.verdict.violations
    note = left.verdict.violations[-1]
    assert note.rule == "too_large" and "20001 bytes left out" in note.message


@pytest.mark.parametrize("limit", [0, 1])
def test_batch_size_is_never_below_one(limit: int) -> None:
    assert sizes.batch_bytes([limit]) == 1
