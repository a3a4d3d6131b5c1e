"""Dead-letter filters: time parsing (ISO 8601 and durations ago) and record matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from streamprocs.dlq.filters import ContractRef, FilterError, Filters, iso, parse_when
from streamprocs.dlq.record import DeadLetter
from streamprocs.enforcer import envelope as env

NOW = datetime(2024, 7, 2, 12, 0, 0, tzinfo=UTC)


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def record(
    *,
    ts: int | None = 1_000,
    reason: str = "schema",
    contract: str | None = "checkout.order_created",
    version: int | None = 2,
    rules: tuple[str, ...] = ("schema.enum",),
) -> DeadLetter:
    detail = "[" + ",".join(f'{{"rule":"{r}","path":"/x","message":"m"}}' for r in rules) + "]"
    headers: list[tuple[str, bytes | None]] = [
        (env.REASON, reason.encode()),
        (env.DETAIL, detail.encode()),
    ]
    if contract is not None:
        headers.append((env.CONTRACT_ID, contract.encode()))
    if version is not None:
        headers.append((env.CONTRACT_VERSION, str(version).encode()))
    return DeadLetter.of("t.dlq", 0, 0, None, b"{}", headers, ts)


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("2H", timedelta(hours=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_durations_count_back_from_now(text: str, ago: timedelta) -> None:
    """``--since 2h`` is two hours before now (units s, m, h, d, w, combinable)."""
    assert parse_when(text, NOW) == ms(NOW - ago)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-07-02T10:00:00Z", datetime(2024, 7, 2, 10, tzinfo=UTC)),
        ("2024-07-02T12:00:00+02:00", datetime(2024, 7, 2, 10, tzinfo=UTC)),
        ("2024-07-02T10:00:00", datetime(2024, 7, 2, 10, tzinfo=UTC)),  # no zone: UTC
        ("2024-07-02", datetime(2024, 7, 2, tzinfo=UTC)),
    ],
)
def test_iso_times_are_absolute_and_utc_without_a_zone(text: str, expected: datetime) -> None:
    """ISO 8601 times are taken as they are; a time without a zone is UTC, not local."""
    assert parse_when(text, NOW) == ms(expected)


@pytest.mark.parametrize("text", ["yesterday", "2 hours", "-2h", "h", "2024-13-01", ""])
def test_unreadable_times_are_refused_with_both_forms_named(text: str) -> None:
    """A typo is an error that shows both accepted forms, never a silent 'no filter'."""
    with pytest.raises(FilterError, match="ISO 8601"):
        parse_when(text, NOW)


def test_build_refuses_an_empty_window_and_unknown_reasons() -> None:
    """--until before --since, or a reason dce never writes, is a usage error."""
    with pytest.raises(FilterError, match="later than"):
        Filters.build(since="1h", until="2h", now=NOW)
    with pytest.raises(FilterError, match="unknown --reason"):
        Filters.build(reasons=["schemaa"], now=NOW)
    with pytest.raises(FilterError, match="not a version"):
        Filters.build(contracts=["checkout.order_created@latest"], now=NOW)


def test_contract_refs_accept_the_version_spellings_of_the_contract_format() -> None:
    """``ID@3``, ``ID@v3`` and ``ID@3.0`` name version 3, as everywhere in dce."""
    for text in ("a.b@3", "a.b@v3", "a.b@3.0"):
        assert ContractRef.parse(text) == ContractRef("a.b", 3)
    assert ContractRef.parse("a.b") == ContractRef("a.b")
    assert str(ContractRef("a.b", 3)) == "a.b@3"


def test_time_window_is_inclusive_at_since_and_exclusive_at_until() -> None:
    """Adjacent windows (--until T, then --since T) never count a record twice."""
    f = Filters(since_ms=1_000, until_ms=2_000)
    assert f.matches(record(ts=1_000))
    assert f.matches(record(ts=1_999))
    assert not f.matches(record(ts=2_000))
    assert not f.matches(record(ts=999))
    assert not f.matches(record(ts=None)), "without a timestamp a record is outside any window"
    assert Filters().matches(record(ts=None))


def test_values_of_one_filter_are_alternatives_and_filters_combine() -> None:
    """--reason a --reason b: either; --reason and --contract: both."""
    f = Filters.build(reasons=["schema", "rule"], contracts=["checkout.order_created@2"], now=NOW)
    assert f.matches(record(reason="schema"))
    assert f.matches(record(reason="rule"))
    assert not f.matches(record(reason="decode"))
    assert not f.matches(record(version=1))
    assert not f.matches(record(contract="payments.payment_captured"))
    assert not f.matches(record(contract=None))
    any_version = Filters.build(contracts=["checkout.order_created"], now=NOW)
    assert any_version.matches(record(version=1)) and any_version.matches(record(version=None))


def test_rule_filter_matches_any_rule_of_the_envelope() -> None:
    """A record that broke several rules is selected by any one of them."""
    f = Filters.build(rules=["total_matches_components"], now=NOW)
    assert f.matches(record(rules=("schema.enum", "total_matches_components")))
    assert not f.matches(record(rules=("schema.enum",)))
    assert not f.matches(record(rules=()))


def test_describe_is_json_ready_and_stable() -> None:
    """The filters as the audit record and --json show them."""
    f = Filters.build(
        since="2024-07-02T10:00:00Z", reasons=["rule", "schema"], rules=["r"], now=NOW
    )
    assert f.describe() == {
        "since": "2024-07-02T10:00:00.000+00:00",
        "until": None,
        "contract": [],
        "reason": ["rule", "schema"],
        "rule": ["r"],
    }
    assert f.narrowing and not Filters().narrowing
    assert iso(None) is None
