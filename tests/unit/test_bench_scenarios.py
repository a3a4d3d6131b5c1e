"""``dce bench`` scenario selection, run order and the worker protocol."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest

from streamprocs.benchmarks.loops import consumer_config
from streamprocs.benchmarks.runner import Options, rotation
from streamprocs.benchmarks.scenarios import (
    CEILING,
    DCE_ALO,
    FAUST,
    NAIVE,
    SCENARIOS,
    Scenario,
    select,
)
from streamprocs.benchmarks.spec import WorkerSpec, message, parse_message
from streamprocs.benchmarks.worker import Protocol
from streamprocs.enforcer.fetching import prefetch_settings


def names(scenarios: Sequence[Scenario]) -> list[str]:
    return [s.name for s in scenarios]


def test_all_five_scenarios_by_default_in_the_issue_order() -> None:
    assert [s.letter for s in select(None)] == ["a", "b", "c", "d", "e"]
    assert names(select("")) == names(SCENARIOS)


def test_select_accepts_names_letters_and_aliases_and_always_keeps_the_ceiling() -> None:
    assert names(select("naive, b")) == [CEILING.name, DCE_ALO.name, NAIVE.name]
    assert names(select("eos")) == [CEILING.name, "dce_exactly_once"]
    assert names(select("FAUST")) == [CEILING.name, FAUST.name]


def test_select_names_the_unknown_scenario() -> None:
    with pytest.raises(ValueError, match=r"unknown scenario\(s\) flink"):
        select("b,flink")


def test_rounds_rotate_the_order() -> None:
    """No scenario always runs first (cold page cache) or last."""
    orders = [[s.letter for s in rotation(SCENARIOS, r)] for r in range(5)]
    assert orders[0] == ["a", "b", "c", "d", "e"]
    assert orders[1] == ["b", "c", "d", "e", "a"]
    assert {order[0] for order in orders} == {"a", "b", "c", "d", "e"}
    assert rotation((), 3) == []


def test_slow_scenarios_read_at_most_slow_events() -> None:
    options = Options(events=100_000, slow_events=10_000)
    assert options.events_for(DCE_ALO) == 100_000
    assert options.events_for(FAUST) == 10_000
    assert Options(events=500, slow_events=10_000).events_for(NAIVE) == 500


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"events": 0}, "--events"),
        ({"repeat": 0}, "--repeat"),
        ({"invalid_share": 1.5}, "--invalid-share"),
        ({"latency_rate": 0}, "--latency-rate"),
        ({"event_size": 20_000, "max_event_bytes": 16_384}, "--event-size"),
    ],
)
def test_options_refuse_unusable_values(changes: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Options(**changes).validate()  # type: ignore[arg-type]


def test_worker_spec_round_trips_through_json() -> None:
    spec = WorkerSpec(
        kind="enforcer",
        bootstrap="127.0.0.1:9092",
        group_id="g",
        expected=10,
        routes={"in": "out"},
        contracts_dir="/tmp/c",
        guarantee="exactly_once",
        transactional_id="tx",
    )
    assert WorkerSpec.from_json(spec.to_json()) == spec


def test_protocol_lines_are_recognised_and_stray_output_is_not() -> None:
    assert parse_message(message("done", consumed=3)) == {"event": "done", "consumed": 3}
    assert parse_message("%4|librdkafka warning") is None
    assert parse_message('{"no": "event"}') is None
    assert parse_message("[1, 2]") is None


def test_worker_protocol_samples_rss_once_per_100k_and_reports_it() -> None:
    stream = io.StringIO()
    protocol = Protocol(stream)
    protocol.ready()
    protocol.ready()  # sent once
    protocol.consumed_first()
    for consumed in range(5_000, 350_001, 5_000):
        protocol.consumed_so_far(consumed)
    protocol.done(350_000)
    lines = [parse_message(line) for line in stream.getvalue().splitlines()]
    assert [m["event"] for m in lines if m is not None] == ["ready", "done"]
    done = lines[-1]
    assert done is not None
    assert [n for n, _ in done["rss_samples"]] == [100_000, 200_000, 300_000]
    assert isinstance(done["first_consumed_at"], float)
    assert done["peak_rss_mb"] > 0


def test_the_ceiling_consumes_with_the_enforcers_prefetch_settings() -> None:
    """Client tuning is not validation: a ceiling on librdkafka's defaults waits on its
    1 s fetch backoff and understates the client (80-90k against 100-118k events/s)."""
    spec = WorkerSpec(
        kind="passthrough", bootstrap="127.0.0.1:9092", group_id="g", expected=1, routes={}
    )
    config = consumer_config(spec)
    assert prefetch_settings()["fetch.queue.backoff.ms"] == 10
    for key, value in prefetch_settings().items():
        assert config[key] == value, key
