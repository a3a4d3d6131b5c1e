"""``dce bench`` rows: the fixed JSON schema, medians, ratios to the ceiling and the targets."""

from __future__ import annotations

import json

import pytest

from streamprocs.benchmarks.results import (
    ROW_FIELDS,
    LatencyResult,
    Row,
    RunResult,
    build_rows,
    check_targets,
    rates_by_round,
)
from streamprocs.benchmarks.scenarios import (
    CEILING,
    DCE_ALO,
    DCE_EOS,
    FAUST,
    NAIVE,
    RATIO_TARGETS,
    SCENARIOS,
)


def run(name: str, round_: int, per_s: float, rss: float = 50.0) -> RunResult:
    # events / seconds == per_s exactly
    return RunResult(name, round_, 100_000, 100_000 / per_s, rss)


def failed(name: str, round_: int) -> RunResult:
    return RunResult(name, round_, 0, 0.0, 0.0, error="worker exited with 1")


def test_json_row_has_exactly_the_fields_of_the_interface() -> None:
    """shared/notes/interfaces.md fixes {name, events_per_s, ratio_to_ceiling, p50_ms, p99_ms,
    peak_rss_mb}: no more, no fewer, in that order."""
    row = Row("ceiling", 123456.789, 1.0, 101.25, 204.0, 77.77, runs=3)
    data = row.to_json()
    assert (
        tuple(data)
        == ROW_FIELDS
        == (
            "name",
            "events_per_s",
            "ratio_to_ceiling",
            "p50_ms",
            "p99_ms",
            "peak_rss_mb",
        )
    )
    assert data == {
        "name": "ceiling",
        "events_per_s": 123457.0,
        "ratio_to_ceiling": 1.0,
        "p50_ms": 101.2,
        "p99_ms": 204.0,
        "peak_rss_mb": 77.8,
    }
    assert json.loads(json.dumps(data)) == data


def test_json_row_keeps_unmeasured_values_as_null() -> None:
    data = Row("faust", None, None, None, None, None).to_json()
    assert data["events_per_s"] is None and data["p99_ms"] is None
    assert json.dumps(data).count("null") == 5


def test_rows_take_the_median_rate_and_the_paired_ratio() -> None:
    runs = [
        run(CEILING.name, 0, 100_000),
        run(CEILING.name, 1, 50_000),  # a slow round for everyone
        run(CEILING.name, 2, 120_000),
        run(DCE_ALO.name, 0, 80_000),
        run(DCE_ALO.name, 1, 40_000),
        run(DCE_ALO.name, 2, 96_000),
    ]
    rows = build_rows([CEILING, DCE_ALO], runs, {}, rounds=3)
    ceiling, alo = rows
    assert ceiling.events_per_s == 100_000
    assert ceiling.ratio_to_ceiling == 1.0
    assert alo.events_per_s == 80_000
    assert alo.ratio_to_ceiling == pytest.approx(0.8)
    assert alo.runs == 3 and alo.errors == ()


def test_rows_report_latency_and_the_largest_peak_rss() -> None:
    runs = [run(CEILING.name, 0, 100_000, rss=40.0), run(DCE_ALO.name, 0, 60_000, rss=90.0)]
    latency = {
        DCE_ALO.name: LatencyResult(DCE_ALO.name, tuple(float(i) for i in range(1, 101)), 120.0)
    }
    _, alo = build_rows([CEILING, DCE_ALO], runs, latency, rounds=1)
    assert alo.p50_ms == pytest.approx(50.5)
    assert alo.p99_ms == pytest.approx(99.01)
    assert alo.peak_rss_mb == 120.0  # the paced phase's worker peaked higher


def test_failed_runs_are_left_out_and_reported() -> None:
    runs = [
        run(CEILING.name, 0, 100_000),
        run(CEILING.name, 1, 100_000),
        run(NAIVE.name, 0, 5_000),
        failed(NAIVE.name, 1),
    ]
    _, naive = build_rows([CEILING, NAIVE], runs, {}, rounds=2)
    assert naive.events_per_s == 5_000
    assert naive.ratio_to_ceiling == pytest.approx(0.05)
    assert naive.runs == 1
    assert naive.errors == ("round 2: worker exited with 1",)


def test_a_scenario_without_a_successful_run_has_no_figures() -> None:
    rows = build_rows([CEILING, FAUST], [run(CEILING.name, 0, 1.0), failed(FAUST.name, 0)], {}, 1)
    assert rows[1].events_per_s is None
    assert rows[1].ratio_to_ceiling is None
    assert rows[1].peak_rss_mb is None


def test_rates_by_round_has_one_slot_per_round() -> None:
    runs = [run(DCE_EOS.name, 1, 10.0)]
    assert rates_by_round(runs, DCE_EOS.name, 3) == [None, 10.0, None]


def test_targets_compare_paired_ratios_with_the_issue_figures() -> None:
    runs = [
        run(CEILING.name, 0, 100_000),
        run(DCE_ALO.name, 0, 70_000),  # 0.7 >= 0.6: pass
        run(DCE_EOS.name, 0, 30_000),  # 0.3 < 0.4: fail
        run(FAUST.name, 0, 2_000),  # 35x: pass
        run(NAIVE.name, 0, 10_000),  # 7x: fail
    ]
    rows = build_rows(SCENARIOS, runs, {}, rounds=1)
    checks = {c.label: c for c in check_targets(runs, rows, rounds=1)}
    assert [t.label for t in RATIO_TARGETS] == [
        "(b)/(a) >= 0.6",
        "(c)/(a) >= 0.4",
        "(b)/(d) >= 20",
        "(b)/(e) >= 10",
    ]
    assert checks["(b)/(a) >= 0.6"].passed is True
    assert checks["(b)/(a) >= 0.6"].value == pytest.approx(0.7)
    assert checks["(c)/(a) >= 0.4"].passed is False
    assert checks["(b)/(d) >= 20"].passed is True
    assert checks["(b)/(e) >= 10"].passed is False
    assert checks["peak RSS dce_at_least_once < 200 MB"].passed is True


def test_targets_of_scenarios_not_run_are_not_measured() -> None:
    runs = [run(CEILING.name, 0, 100_000), run(DCE_ALO.name, 0, 70_000, rss=250.0)]
    rows = build_rows([CEILING, DCE_ALO], runs, {}, rounds=1)
    checks = {c.label: c for c in check_targets(runs, rows, rounds=1)}
    assert checks["(b)/(d) >= 20"].passed is None
    assert checks["(b)/(d) >= 20"].value is None
    assert checks["peak RSS dce_at_least_once < 200 MB"].passed is False
    assert checks["peak RSS dce_exactly_once < 200 MB"].passed is None


def test_rss_growth_is_last_sample_minus_first() -> None:
    samples = ((100_000, 180.0), (200_000, 185.0), (1_000_000, 195.5))
    grown = RunResult(DCE_ALO.name, 0, 1_000_000, 100.0, 200.0, rss_samples=samples)
    assert grown.rss_growth_mb == pytest.approx(15.5)
    assert (
        RunResult(DCE_ALO.name, 0, 100_000, 10.0, 190.0, rss_samples=samples[:1]).rss_growth_mb
        is None
    )


def test_rss_growth_target_needs_two_samples_and_a_tolerance() -> None:
    flat = ((100_000, 180.0), (1_000_000, 184.0))
    grown = ((100_000, 180.0), (1_000_000, 230.0))
    runs = [
        run(CEILING.name, 0, 100_000),
        RunResult(DCE_ALO.name, 0, 1_000_000, 100.0, 190.0, rss_samples=flat),
        RunResult(DCE_EOS.name, 0, 1_000_000, 100.0, 240.0, rss_samples=grown),
    ]
    rows = build_rows([CEILING, DCE_ALO, DCE_EOS], runs, {}, rounds=1)
    checks = {c.label: c for c in check_targets(runs, rows, rounds=1)}
    alo = checks["RSS growth dce_at_least_once, first -> last 100k < 10 MB"]
    eos = checks["RSS growth dce_exactly_once, first -> last 100k < 10 MB"]
    assert (alo.value, alo.passed) == (4.0, True)
    assert (eos.value, eos.passed) == (50.0, False)


def test_cpu_per_event_is_the_median_over_successful_runs() -> None:
    """CPU µs/event: the worker's CPU seconds over its events, median of its runs."""
    runs = [
        RunResult(DCE_ALO.name, 0, 100_000, 2.0, 130.0, cpu_seconds=2.0),  # 20 µs
        RunResult(DCE_ALO.name, 1, 100_000, 2.0, 130.0, cpu_seconds=3.0),  # 30 µs
        RunResult(DCE_ALO.name, 2, 100_000, 2.0, 130.0, cpu_seconds=2.2),  # 22 µs
        failed(DCE_ALO.name, 3),
        RunResult(CEILING.name, 0, 100_000, 1.0, 150.0),  # an old worker: no CPU figure
    ]
    assert runs[0].cpu_us_per_event == 20.0
    assert runs[3].cpu_us_per_event is None
    rows = {r.name: r for r in build_rows([CEILING, DCE_ALO], runs, {}, 4)}
    assert rows[DCE_ALO.name].cpu_us_per_event == pytest.approx(22.0)
    assert rows[CEILING.name].cpu_us_per_event is None
    assert "cpu_us_per_event" not in rows[DCE_ALO.name].to_json()
