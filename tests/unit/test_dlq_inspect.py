"""The inspect summary: counts, paths, time range, and samples that never show PII."""

from __future__ import annotations

from pathlib import Path

import orjson

from streamprocs.contracts.compiler import Limits
from streamprocs.contracts.loader import load_contract_set
from streamprocs.contracts.pii import REDACTED
from streamprocs.contracts.verdict import Verdict, Violation
from streamprocs.dlq.filters import Filters
from streamprocs.dlq.inspect import Summary, pii_paths_for, shown_value
from streamprocs.dlq.record import DeadLetter
from streamprocs.enforcer import envelope as env

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
CONTRACT_SET = load_contract_set(CONTRACTS)
ORDER = (CONTRACTS / "checkout/order_created/examples/v2.valid.jsonl").read_bytes().splitlines()[0]
PII_VALUES = ("sophie.tremblay@example.ca", "Sophie Tremblay", "+15145550162", "198.51.100.23")


def dead(
    *violations: tuple[str, str, str],
    value: bytes = ORDER,
    contract: str | None = "checkout.order_created",
    version: int | None = 2,
    source: str = "checkout.events",
    ts: int = 1_000,
    offset: int = 0,
) -> DeadLetter:
    verdict = Verdict(tuple(Violation(r, rule, path, "m") for r, rule, path in violations))  # type: ignore[arg-type]
    headers = env.envelope(
        [("event-type", b"order_created")],
        verdict,
        env.Source(source, 0, offset, ts),
        contract_id=contract,
        version=version,
        revision="rev1",
        processor="p",
    )
    return DeadLetter.of("checkout.events.dlq", 0, offset, b"ORD-1", value, headers, ts)


ENUM = ("schema", "schema.enum", "/currency")
TOTAL = ("rule", "total_matches_components", "")
LINES = ("rule", "line_totals_match_quantity_and_price", "")


def test_counts_by_every_dimension() -> None:
    """Reason, contract, contract@version, rule, team, source topic and revision."""
    s = Summary("checkout.events.dlq", CONTRACT_SET)
    for record in (
        dead(ENUM),
        dead(ENUM, version=1),
        dead(TOTAL, LINES),
        dead(("unknown_contract", "unknown_contract", ""), contract=None, version=None),
    ):
        s.add(record)
    d = s.as_dict()
    assert d["records"] == 4
    assert d["by_reason"] == {"rule": 1, "schema": 2, "unknown_contract": 1}
    assert d["by_contract"] == {"checkout.order_created": 3, "unknown": 1}
    assert d["by_version"] == {
        "checkout.order_created@2": 2,
        "checkout.order_created@1": 1,
        "unknown@unknown": 1,
    }
    assert d["by_rule"] == {
        "schema.enum": 2,
        "total_matches_components": 1,
        "line_totals_match_quantity_and_price": 1,
        "unknown_contract": 1,
    }
    assert d["by_team"] == {"checkout": 3, "unknown": 1}
    assert d["by_source_topic"] == {"checkout.events": 4}
    assert d["by_revision"] == {"rev1": 4}
    assert list(d["by_reason"]) == ["schema", "rule", "unknown_contract"], "most frequent first"


def test_a_record_counts_once_per_rule_even_when_it_broke_it_twice() -> None:
    """Two enum violations of one record are one record for schema.enum, two for paths."""
    s = Summary("t", CONTRACT_SET)
    s.add(dead(ENUM, ("schema", "schema.enum", "/channel")))
    assert s.as_dict()["by_rule"] == {"schema.enum": 1}
    assert {(p["path"], p["count"]) for p in s.top_paths()} == {("/currency", 1), ("/channel", 1)}


def test_top_paths_are_ordered_by_frequency_and_limited() -> None:
    s = Summary("t", CONTRACT_SET, top_limit=2)
    for _ in range(3):
        s.add(dead(ENUM))
    s.add(dead(TOTAL))
    s.add(dead(("schema", "schema.required", "/customer/email")))
    top = s.top_paths()
    assert len(top) == 2
    assert top[0] == {
        "contract": "checkout.order_created",
        "rule": "schema.enum",
        "path": "/currency",
        "count": 3,
    }


def test_filters_count_what_was_scanned_and_what_matched() -> None:
    s = Summary("t", CONTRACT_SET, filters=Filters.build(reasons=["rule"]))
    assert not s.consider(dead(ENUM))
    assert s.consider(dead(TOTAL))
    d = s.as_dict()
    assert (d["scanned"], d["records"]) == (2, 1)
    assert d["filters"]["reason"] == ["rule"]


def test_time_range_spans_the_matched_records() -> None:
    s = Summary("t", CONTRACT_SET)
    for ts in (5_000, 1_000, 3_000):
        s.add(dead(ENUM, ts=ts))
    assert s.as_dict()["time_range"] == {
        "first": "1970-01-01T00:00:01.000+00:00",
        "last": "1970-01-01T00:00:05.000+00:00",
    }
    assert Summary("t", None).as_dict()["time_range"] == {"first": None, "last": None}


def test_samples_redact_every_pii_tagged_value() -> None:
    """The version's x-pii fields are replaced; the rest of the event is shown."""
    s = Summary("t", CONTRACT_SET)
    s.add(dead(ENUM))
    sample = s.samples[0]
    text = orjson.dumps(sample).decode()
    assert not [v for v in PII_VALUES if v in text]
    assert sample["value"]["customer"]["email"] == REDACTED
    assert sample["value"]["shipping_address"]["city"] == "Montréal"
    assert sample["violations"] == [{"rule": "schema.enum", "path": "/currency", "message": "m"}]


def test_a_value_that_does_not_parse_is_shown_only_as_its_length() -> None:
    """Half an event may hold PII that no parser can locate: never shown raw."""
    value = ORDER[: len(ORDER) // 2]
    shown, note = shown_value(dead(("decode", "decode", ""), value=value), CONTRACT_SET, Limits())
    assert shown is None and note is not None
    assert f"{len(value)} bytes" in note and "decode" in note
    too_big, note = shown_value(dead(ENUM), CONTRACT_SET, Limits(max_bytes=10))
    assert too_big is None and note is not None and "too_large" in note


def test_pii_paths_fall_back_to_a_superset_never_to_nothing() -> None:
    """Unknown version: every version's tags; unknown contract: the source topic's
    contracts'; nothing known about the topic: not shown at all."""
    v2 = CONTRACT_SET.contracts["checkout.order_created"].compiled[2].pii
    assert pii_paths_for(dead(ENUM, version=99), CONTRACT_SET) == v2
    assert pii_paths_for(dead(ENUM, contract=None, version=None), CONTRACT_SET) == v2
    stranger = dead(ENUM, contract=None, version=None, source="elsewhere")
    assert pii_paths_for(stranger, CONTRACT_SET) is None
    shown, note = shown_value(stranger, CONTRACT_SET, Limits())
    assert shown is None and note is not None and "personal" in note
    assert shown_value(stranger, None, Limits())[0] is None


def test_one_sample_per_kind_of_failure_up_to_the_limit() -> None:
    """Samples show the variety (contract, reason, first rule), not ten copies of one."""
    s = Summary("t", CONTRACT_SET, sample_limit=2)
    for offset, violation in enumerate((ENUM, ENUM, TOTAL, LINES)):
        s.add(dead(violation, offset=offset))
    assert [x["offset"] for x in s.samples] == [0, 2]
    assert Summary("t", CONTRACT_SET, sample_limit=0).samples == []


def test_a_value_left_out_for_its_size_says_so_and_where_the_record_is() -> None:
    """A dead-letter record the enforcer sent without its value (dce.value.omitted) is
    not shown as a tombstone: the note gives the length and points at the source."""
    record = dead(("decode", "decode", ""))
    headers = [*record.headers, (env.VALUE_OMITTED, b"20001")]
    omitted = DeadLetter.of("checkout.events.dlq", 0, 0, b"ORD-1", None, headers, 1_000)
    shown, note = shown_value(omitted, CONTRACT_SET, Limits())
    assert shown is None and note is not None
    assert "20001 bytes left out" in note and "source" in note
    tombstone = DeadLetter.of("checkout.events.dlq", 0, 0, None, None, record.headers, 1_000)
    assert shown_value(tombstone, CONTRACT_SET, Limits())[1] == "no value (a tombstone)"
